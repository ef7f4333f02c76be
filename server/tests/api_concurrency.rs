//! Concurrent writers over HTTP: with one `If-Match`, exactly one commits
//! and the rest get 409 without a trace in the change log; unconditional
//! toggles all commit. Either way the environment's versions stay
//! contiguous, one per committed change.

mod api_support;
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use api_support::*;
use common::{TestServer, json};
use reqwest::Method;
use serde_json::{Value, json};
use vexil_server::store::{ChangeAction, ChangeFilter, Page, ResourceKind};

const WRITERS: usize = 50;

/// `changes_since(0)` produced exactly the versions `1..=current`, each
/// by a later change than the one before; returns them with the changes.
async fn assert_contiguous(
    server: &TestServer,
    environment: &str,
) -> Vec<(u64, vexil_server::store::Change)> {
    let current = versions(server).await[environment];
    let since = server
        .store
        .changes_since("default", environment, 0)
        .await
        .unwrap();
    let produced: Vec<u64> = since.iter().map(|(v, _)| *v).collect();
    assert_eq!(produced, (1..=current).collect::<Vec<_>>());
    assert!(since.windows(2).all(|w| w[0].1.id < w[1].1.id));
    since
}

/// How many changes the log holds for `flag`'s config in `environment`.
async fn config_changes(server: &TestServer, flag: &str, environment: &str) -> u64 {
    let filter = ChangeFilter {
        flag: Some(flag.into()),
        environment: Some(environment.into()),
        page: Page {
            page: 1,
            per_page: 1,
        },
        ..ChangeFilter::default()
    };
    server
        .store
        .list_changes(Some("default"), &filter)
        .await
        .unwrap()
        .total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_if_match_many_writers_one_commit() {
    let server = Arc::new(TestServer::start().await);
    create_flag(&server, &boolean_flag("hot")).await;
    let path = config_path("hot", "production");
    let (_, _, etag) = get(&server, &path).await;
    let etag = etag.unwrap();
    let start = versions(&server).await;
    let changes = change_count(&server).await;

    let mut tasks = Vec::with_capacity(WRITERS);
    for writer in 0..WRITERS {
        let server = Arc::clone(&server);
        let (path, etag) = (path.clone(), etag.clone());
        tasks.push(tokio::spawn(async move {
            let mut config = serving("off", "on");
            config["targets"] = json!([{"variant": "on", "values": [format!("writer-{writer}")]}]);
            let response = server
                .request(Method::PUT, &path, Some(&server.admin))
                .header("if-match", etag)
                .json(&config)
                .send()
                .await
                .unwrap();
            let (status, body) = json(response).await;
            (writer, status, body)
        }));
    }
    let mut winners = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        let (writer, status, body) = task.await.unwrap();
        match status {
            200 => winners.push((writer, body)),
            409 => {
                assert_eq!(
                    body,
                    error(
                        "conflict",
                        "version conflict: If-Match was 1, the current version is 2; reload and retry"
                    )
                );
                conflicts += 1;
            }
            other => panic!("writer {writer}: {other} {body}"),
        }
    }
    assert_eq!((winners.len(), conflicts), (1, WRITERS - 1));
    let (winner, stored) = winners.pop().unwrap();
    assert_eq!(
        stored["targets"][0]["values"],
        json!([format!("writer-{winner}")])
    );
    assert_eq!(stored["version"], 2);

    // One change, the committed one, and one version more in production only.
    assert_eq!(change_count(&server).await, changes + 1);
    assert_eq!(config_changes(&server, "hot", "production").await, 1);
    assert_eq!(versions(&server).await, bumped(&start, &["production"]));
    let since = assert_contiguous(&server, "production").await;
    let (_, last) = since.last().unwrap();
    assert_eq!(
        (last.resource, last.action),
        (ResourceKind::FlagConfig, ChangeAction::Updated)
    );
    assert_eq!(last.after.as_ref().unwrap(), &stored);
    assert_eq!(get(&server, &path).await.1, stored);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_toggles_all_commit_in_order() {
    let server = Arc::new(TestServer::start().await);
    create_flag(&server, &boolean_flag("hot")).await;
    let path = toggle_path("hot", "production");
    let start = versions(&server).await["production"];
    let changes = change_count(&server).await;

    let mut tasks = Vec::with_capacity(WRITERS);
    for writer in 0..WRITERS {
        let server = Arc::clone(&server);
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"enabled": writer % 2 == 0, "reason": format!("writer {writer}")});
            let (status, body) =
                json(server.send(Method::POST, &path, &server.admin, &body).await).await;
            assert_eq!(status, 200, "writer {writer}: {body}");
            body
        }));
    }
    let mut config_versions = BTreeSet::new();
    for task in tasks {
        let body: Value = task.await.unwrap();
        config_versions.insert(body["version"].as_u64().unwrap());
    }
    // Every toggle got its own config version: 2..=51.
    assert_eq!(
        config_versions,
        (2..=1 + WRITERS as u64).collect::<BTreeSet<_>>()
    );
    assert_eq!(change_count(&server).await, changes + WRITERS as u64);
    assert_eq!(
        config_changes(&server, "hot", "production").await,
        WRITERS as u64
    );
    assert_eq!(
        versions(&server).await["production"],
        start + WRITERS as u64
    );
    let since = assert_contiguous(&server, "production").await;
    let toggles: Vec<_> = since.iter().filter(|(v, _)| *v > start).collect();
    assert_eq!(toggles.len(), WRITERS);
    let reasons: BTreeSet<String> = toggles
        .iter()
        .map(|(_, c)| {
            assert_eq!(c.action, ChangeAction::Toggled);
            c.reason.clone().unwrap()
        })
        .collect();
    assert_eq!(reasons.len(), WRITERS);
    // Each toggle's `before` is the previous one's `after`: no write was lost.
    for pair in toggles.windows(2) {
        assert_eq!(pair[0].1.after, pair[1].1.before);
    }
    // The final state is the last committed toggle's.
    let (_, last) = toggles.last().unwrap();
    let (_, current, _) = get(&server, &config_path("hot", "production")).await;
    assert_eq!(last.after.as_ref().unwrap(), &current);
}
