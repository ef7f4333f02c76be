//! Evaluation counts: added up per hour, last-evaluated times only move
//! forward, vanished flags are skipped, nothing is a change, and the
//! stale-flag filter of the flag list.

use std::sync::Arc;

use vexil_server::store::{FlagFilter, LastEvaluated, Store, UsageBucket, UsageIncrement, hour_of};

use crate::common::*;

/// `count` evaluations of `flag` serving `variant` in `environment` of the
/// default project, in the hour of `at(secs)`, last at `at(secs)`.
fn increment(
    environment: &str,
    flag: &str,
    variant: Option<&str>,
    count: u64,
    secs: i64,
) -> UsageIncrement {
    UsageIncrement {
        project: "default".into(),
        environment: environment.into(),
        flag: flag.into(),
        variant: variant.map(str::to_owned),
        hour: hour_of(at(secs)),
        count,
        last_evaluated: at(secs),
    }
}

fn bucket(environment: &str, variant: Option<&str>, secs: i64, count: u64) -> UsageBucket {
    UsageBucket {
        environment: environment.into(),
        variant: variant.map(str::to_owned),
        hour: hour_of(at(secs)),
        count,
    }
}

fn last(flag: &str, environment: &str, secs: i64) -> LastEvaluated {
    LastEvaluated {
        flag: flag.into(),
        environment: environment.into(),
        at: at(secs),
    }
}

const HOUR: i64 = 3600;

pub async fn usage_adds_up_per_hour(store: Arc<dyn Store>) {
    let store = &*store;
    add_flag(store, "default", "checkout", 1).await;
    add_flag(store, "default", "other", 1).await;
    let versions_before = versions(store, "default").await;
    let changes_before = change_count(store, Some("default")).await;

    let stored = store
        .record_usage(&[
            increment("production", "checkout", Some("on"), 5, 10),
            increment("production", "checkout", None, 1, 20),
            increment("staging", "checkout", Some("off"), 2, 30),
            increment("production", "checkout", Some("on"), 3, HOUR + 5),
            increment("production", "missing", Some("on"), 9, 10),
            increment("nowhere", "checkout", Some("on"), 9, 10),
        ])
        .await
        .unwrap();
    assert_eq!(stored, 4, "the unknown flag and environment are skipped");
    // Same hour again: added, not replaced; an earlier window does not move
    // the last-evaluated time back.
    let stored = store
        .record_usage(&[increment("production", "checkout", Some("on"), 7, 15)])
        .await
        .unwrap();
    assert_eq!(stored, 1);
    assert_eq!(store.record_usage(&[]).await.unwrap(), 0);

    let all = store
        .flag_usage("default", "checkout", None, at(0), at(2 * HOUR))
        .await
        .unwrap();
    assert_eq!(
        all,
        [
            bucket("production", None, 0, 1),
            bucket("production", Some("on"), 0, 12),
            bucket("staging", Some("off"), 0, 2),
            bucket("production", Some("on"), HOUR, 3),
        ]
    );
    let production_first_hour = store
        .flag_usage("default", "checkout", Some("production"), at(0), at(HOUR))
        .await
        .unwrap();
    assert_eq!(
        production_first_hour,
        [
            bucket("production", None, 0, 1),
            bucket("production", Some("on"), 0, 12)
        ]
    );
    assert!(
        store
            .flag_usage("default", "other", None, at(0), at(2 * HOUR))
            .await
            .unwrap()
            .is_empty()
    );

    let keys = ["checkout".to_string(), "other".into(), "missing".into()];
    assert_eq!(
        store.last_evaluated("default", &keys).await.unwrap(),
        [
            last("checkout", "production", HOUR + 5),
            last("checkout", "staging", 30)
        ]
    );
    assert!(
        store
            .last_evaluated("default", &[])
            .await
            .unwrap()
            .is_empty()
    );

    // Telemetry is not a change.
    assert_eq!(versions(store, "default").await, versions_before);
    assert_eq!(change_count(store, Some("default")).await, changes_before);
}

pub async fn usage_counts_saturate(store: Arc<dyn Store>) {
    let store = &*store;
    add_flag(store, "default", "hot", 1).await;
    let huge = increment("production", "hot", Some("on"), u64::MAX, 10);
    assert_eq!(
        store
            .record_usage(std::slice::from_ref(&huge))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.record_usage(&[huge]).await.unwrap(), 1);
    let usage = store
        .flag_usage("default", "hot", None, at(0), at(HOUR))
        .await
        .unwrap();
    assert_eq!(
        usage,
        [bucket("production", Some("on"), 0, i64::MAX as u64)]
    );
}

pub async fn usage_goes_with_its_flag(store: Arc<dyn Store>) {
    let store = &*store;
    add_flag(store, "default", "gone", 1).await;
    store
        .record_usage(&[increment("production", "gone", Some("on"), 5, 10)])
        .await
        .unwrap();
    set_archived(store, "default", "gone", true, 2).await;
    store
        .delete_flag("default", "gone", &meta("u", 3))
        .await
        .unwrap();
    add_flag(store, "default", "gone", 4).await;
    assert!(
        store
            .flag_usage("default", "gone", None, at(0), at(HOUR))
            .await
            .unwrap()
            .is_empty(),
        "a re-created flag starts without the old one's counts"
    );
    assert!(
        store
            .last_evaluated("default", &["gone".into()])
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn unevaluated_since_finds_stale_flags(store: Arc<dyn Store>) {
    let store = &*store;
    for key in ["fresh", "stale", "never"] {
        add_flag(store, "default", key, 1).await;
    }
    store
        .record_usage(&[
            increment("production", "fresh", Some("on"), 1, 10 * HOUR),
            increment("staging", "stale", Some("on"), 1, HOUR),
        ])
        .await
        .unwrap();
    let keys = |since: i64| {
        let filter = FlagFilter {
            unevaluated_since: Some(at(since)),
            ..FlagFilter::default()
        };
        async move {
            let page = store.list_flags("default", &filter).await.unwrap();
            let keys: Vec<String> = page.items.into_iter().map(|f| f.flag.key).collect();
            (keys, page.total)
        }
    };
    assert_eq!(
        keys(5 * HOUR).await,
        (vec!["never".into(), "stale".into()], 2)
    );
    assert_eq!(
        keys(HOUR).await,
        (vec!["never".into()], 1),
        "at the time counts"
    );
    assert_eq!(
        keys(11 * HOUR).await,
        (vec!["fresh".into(), "never".into(), "stale".into()], 3)
    );
}

/// Flushes and writes at once (toggles, definition updates, new flags, all
/// locking environment and flag rows): every one finishes, none deadlocks,
/// and every count arrives.
pub async fn usage_and_writes_run_together(store: Arc<dyn Store>) {
    let flags = ["a", "b", "c"];
    for key in flags {
        add_flag(&*store, "default", key, 1).await;
    }
    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..20_i64 {
        let flusher = Arc::clone(&store);
        tasks.spawn(async move {
            let increments: Vec<UsageIncrement> = ["production", "staging", "development"]
                .iter()
                .flat_map(|environment| {
                    flags
                        .iter()
                        .map(move |flag| increment(environment, flag, Some("on"), 1, round))
                })
                .collect();
            assert_eq!(flusher.record_usage(&increments).await.unwrap(), 9);
        });
        let writer = Arc::clone(&store);
        tasks.spawn(async move {
            let flag = flags[(round % 3) as usize];
            let environment = ["production", "staging"][(round % 2) as usize];
            writer
                .set_flag_enabled(
                    "default",
                    flag,
                    environment,
                    round % 2 == 0,
                    &meta("u", round),
                )
                .await
                .unwrap();
            writer
                .update_flag("default", &boolean_flag(flag), &meta("u", round))
                .await
                .unwrap();
            add_flag(&*writer, "default", &format!("new-{round}"), round).await;
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    for flag in flags {
        let usage = store
            .flag_usage("default", flag, None, at(0), at(HOUR))
            .await
            .unwrap();
        let total: u64 = usage.iter().map(|b| b.count).sum();
        assert_eq!((usage.len(), total), (3, 60), "{flag}");
    }
}
