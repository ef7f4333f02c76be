//! The change log over HTTP: newest first, filters, pages, time windows,
//! and the log of a deleted project.

mod api_support;
mod common;

use api_support::*;
use common::{TestServer, json};
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use vexil_proto::{Environment, Project};
use vexil_server::store::{Role, WriteMeta};

fn changes_path(query: &str) -> String {
    format!("{PROJECT}/changes?{query}")
}

fn ids(page: &Value) -> Vec<u64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect()
}

/// `(resource, action, key, environment)` of each entry.
fn summary(page: &Value) -> Vec<(String, String, String, Option<String>)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["resource"].as_str().unwrap().to_owned(),
                c["action"].as_str().unwrap().to_owned(),
                c["key"].as_str().unwrap().to_owned(),
                c["environment"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn entry(
    resource: &str,
    action: &str,
    key: &str,
    environment: Option<&str>,
) -> (String, String, String, Option<String>) {
    (
        resource.into(),
        action.into(),
        key.into(),
        environment.map(str::to_owned),
    )
}

#[tokio::test]
async fn newest_first_with_filters_and_pages() {
    let server = TestServer::start().await;
    let eve = server.user("eve", Role::Editor).await;
    let viewer = server.user("val", Role::Viewer).await;

    create_flag(&server, &boolean_flag("a")).await; // admin
    let (status, _) = json(
        server
            .send(Method::POST, &flags_path(), &eve, &boolean_flag("b"))
            .await,
    )
    .await;
    assert_eq!(status, 201);
    put_config(&server, "a", "production", &serving("off", "on")).await;
    let (status, _, _) = send_with(
        &server,
        Method::POST,
        &toggle_path("b", "staging"),
        &eve,
        &[],
        &json!({"enabled": true, "reason": "try it"}),
    )
    .await;
    assert_eq!(status, 200);
    create_segment(&server, &segment("beta")).await;

    // Any logged-in principal reads the log, newest first.
    let response = server
        .request(Method::GET, &changes_path(""), Some(&viewer))
        .send()
        .await
        .unwrap();
    let (status, all) = json(response).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(
        summary(&all),
        [
            entry("segment", "created", "beta", None),
            entry("flag_config", "toggled", "b", Some("staging")),
            entry("flag_config", "updated", "a", Some("production")),
            entry("flag", "created", "b", None),
            entry("flag", "created", "a", None),
            entry("project", "created", "default", None),
        ]
    );
    let all_ids = ids(&all);
    assert!(all_ids.windows(2).all(|w| w[0] > w[1]), "{all_ids:?}");
    assert_eq!(
        (
            all["total"].clone(),
            all["page"].clone(),
            all["per_page"].clone()
        ),
        (json!(6), json!(1), json!(50))
    );
    assert_eq!(all["items"][1]["reason"], "try it");
    assert_eq!(all["items"][1]["actor"], "user:eve");

    let page = |query: &'static str| {
        let server = &server;
        async move {
            let (status, page, _) = get(server, &changes_path(query)).await;
            assert_eq!(status, 200, "{query}: {page}");
            page
        }
    };
    assert_eq!(
        summary(&page("flag=a").await),
        [
            entry("flag_config", "updated", "a", Some("production")),
            entry("flag", "created", "a", None)
        ]
    );
    assert_eq!(
        summary(&page("environment=staging").await),
        [entry("flag_config", "toggled", "b", Some("staging"))]
    );
    let by_eve = page("actor=user:eve").await;
    assert_eq!(by_eve["total"], 2);
    assert_eq!(
        summary(&by_eve),
        [
            entry("flag_config", "toggled", "b", Some("staging")),
            entry("flag", "created", "b", None)
        ]
    );
    assert_eq!(page("flag=a&environment=staging").await["total"], 0);
    assert_eq!(page("flag=nope").await["total"], 0);

    let second = page("per_page=4&page=2").await;
    assert_eq!(ids(&second), all_ids[4..]);
    assert_eq!(
        (second["total"].clone(), second["page"].clone()),
        (json!(6), json!(2))
    );

    // Time windows: since is inclusive, until exclusive, so they tile.
    let middle = all["items"][2]["at"].as_str().unwrap().to_owned();
    let since = get(&server, &format!("{PROJECT}/changes?since={middle}"))
        .await
        .1;
    let until = get(&server, &format!("{PROJECT}/changes?until={middle}"))
        .await
        .1;
    assert_eq!(ids(&since), all_ids[..3]);
    assert_eq!(ids(&until), all_ids[3..]);
    let window = get(
        &server,
        &format!(
            "{PROJECT}/changes?since={middle}&until={}",
            all["items"][0]["at"].as_str().unwrap()
        ),
    )
    .await
    .1;
    assert_eq!(ids(&window), all_ids[1..3]);
}

#[tokio::test]
async fn bad_times_and_pages_are_400() {
    let server = TestServer::start().await;
    for (query, message) in [
        (
            "since=yesterday",
            "`since` must be an RFC 3339 time such as 2026-01-31T09:30:00Z (the 'year' component could not be parsed)",
        ),
        (
            "until=2026-13-01T00:00:00Z",
            "`until` must be an RFC 3339 time such as 2026-01-31T09:30:00Z (month was not in range)",
        ),
        ("page=0", "page starts at 1"),
    ] {
        let (status, body, _) = get(&server, &changes_path(query)).await;
        assert_eq!(
            (status, body),
            (400, error("bad_request", message)),
            "{query}"
        );
    }
    let (status, body, _) = get(&server, &changes_path("per_page=ten")).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "bad_request");
}

#[tokio::test]
async fn a_deleted_projects_log_stays_readable_and_an_unknown_one_is_404() {
    let server = TestServer::start().await;
    let (status, body, _) = get(&server, "/api/v1/projects/nope/changes").await;
    assert_eq!(
        (status, body),
        (404, error("not_found", "project nope not found"))
    );

    let meta = WriteMeta {
        actor: "user:admin".into(),
        reason: Some("short-lived".into()),
        at: OffsetDateTime::now_utc(),
        expected_version: None,
    };
    let project = Project {
        key: "temp".into(),
        name: "Temp".into(),
        description: String::new(),
    };
    let environment = Environment {
        key: "production".into(),
        name: "Production".into(),
        production: true,
        version: 1,
    };
    server
        .store
        .create_project(&project, &[environment], &meta)
        .await
        .unwrap();
    server.store.delete_project("temp", &meta).await.unwrap();
    let (status, page, _) = get(&server, "/api/v1/projects/temp/changes").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        summary(&page),
        [
            entry("project", "deleted", "temp", None),
            entry("project", "created", "temp", None)
        ]
    );
}
