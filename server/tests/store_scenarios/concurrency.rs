//! Concurrent writers: each either commits or gets `Conflict`, and the
//! environment's versions stay contiguous (no gap, no duplicate) with one
//! change per committed write.

use std::sync::Arc;

use vexil_proto::Target;
use vexil_server::store::{ChangeFilter, Page, Store, StoreError};

use crate::common::*;

const WRITERS: usize = 50;

/// Bounds a writer that keeps losing; far above what 50 writers need.
const MAX_ATTEMPTS: usize = 1_000;

/// The versions `changes_since(0)` reports for `environment` are exactly
/// `1..=current`, and it returns the changes after `after`.
async fn assert_contiguous(store: &dyn Store, environment: &str) -> u64 {
    let current = store
        .get_environment("default", environment)
        .await
        .unwrap()
        .environment
        .version;
    let since = store
        .changes_since("default", environment, 0)
        .await
        .unwrap();
    let produced: Vec<u64> = since.iter().map(|(v, _)| *v).collect();
    assert_eq!(produced, (1..=current).collect::<Vec<_>>());
    assert!(since.windows(2).all(|w| w[0].1.id < w[1].1.id));
    current
}

async fn config_changes(store: &dyn Store, environment: &str) -> u64 {
    let filter = ChangeFilter {
        flag: Some("hot".into()),
        environment: Some(environment.into()),
        page: Page {
            page: 1,
            per_page: 1,
        },
        ..ChangeFilter::default()
    };
    store
        .list_changes(Some("default"), &filter)
        .await
        .unwrap()
        .total
}

pub async fn concurrent_if_match_writers(store: Arc<dyn Store>) {
    add_flag(&*store, "default", "hot", 0).await;
    let start = store
        .get_environment("default", "production")
        .await
        .unwrap()
        .environment
        .version;

    // Every writer reads, writes with what it read as `If-Match`, and on
    // `Conflict` reads again, until it commits.
    let mut tasks = Vec::with_capacity(WRITERS);
    for writer in 0..WRITERS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0;
            for _ in 0..MAX_ATTEMPTS {
                let seen = store
                    .get_flag_config("default", "hot", "production")
                    .await
                    .unwrap();
                let mut config = serving_on();
                config.targets = vec![Target {
                    variant: "on".into(),
                    values: vec![format!("writer-{writer}")],
                }];
                let write = if_match(meta(&format!("user:w{writer}"), 1), seen.version);
                let result = store
                    .put_flag_config("default", "hot", "production", &config, &write)
                    .await;
                match result {
                    Ok(written) => {
                        assert_eq!(written.version, seen.version + 1);
                        return (seen.version, conflicts);
                    }
                    Err(StoreError::Conflict { expected, current }) => {
                        assert_eq!(expected, seen.version);
                        assert!(current > seen.version, "{current} > {}", seen.version);
                        conflicts += 1;
                    }
                    Err(other) => {
                        panic!("writer {writer}: neither committed nor conflicted: {other}")
                    }
                }
            }
            panic!("writer {writer} conflicted {MAX_ATTEMPTS} times");
        }));
    }
    let mut seen = Vec::with_capacity(WRITERS);
    let mut conflicts = 0;
    for task in tasks {
        let (version, lost) = task.await.unwrap();
        seen.push(version);
        conflicts += lost;
    }
    // Each commit moved the config from the version it saw to the next
    // one: no two commits saw the same version.
    seen.sort_unstable();
    assert_eq!(seen, (1..=WRITERS as u64).collect::<Vec<_>>());
    eprintln!("{WRITERS} If-Match writers committed after {conflicts} conflicts");
    let n = WRITERS as u64;

    let config = store
        .get_flag_config("default", "hot", "production")
        .await
        .unwrap();
    assert_eq!(config.version, n + 1);
    let current = assert_contiguous(&*store, "production").await;
    assert_eq!(current, start + n);
    let tail = store
        .changes_since("default", "production", start)
        .await
        .unwrap();
    assert_eq!(tail.len() as u64, n);
    // The last committed write is the config in place.
    let last = &tail.last().unwrap().1;
    assert_eq!(last.after, Some(serde_json::to_value(&config).unwrap()));
    assert_eq!(config_changes(&*store, "production").await, n);
    // Other environments did not move.
    assert_eq!(assert_contiguous(&*store, "staging").await, 2);
}

pub async fn concurrent_toggles(store: Arc<dyn Store>) {
    add_flag(&*store, "default", "hot", 0).await;
    let mut tasks = Vec::with_capacity(WRITERS);
    for writer in 0..WRITERS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let enabled = writer % 2 == 0;
            let write = meta(&format!("automation:w{writer}"), 1);
            store
                .set_flag_enabled("default", "hot", "staging", enabled, &write)
                .await
        }));
    }
    let mut versions = Vec::with_capacity(WRITERS);
    for task in tasks {
        versions.push(task.await.unwrap().unwrap().version);
    }
    versions.sort_unstable();
    assert_eq!(versions, (2..=WRITERS as u64 + 1).collect::<Vec<_>>());
    let config = store
        .get_flag_config("default", "hot", "staging")
        .await
        .unwrap();
    assert_eq!(config.version, WRITERS as u64 + 1);
    assert_eq!(
        assert_contiguous(&*store, "staging").await,
        2 + WRITERS as u64
    );
    assert_eq!(config_changes(&*store, "staging").await, WRITERS as u64);
    assert_eq!(assert_contiguous(&*store, "production").await, 2);
}
