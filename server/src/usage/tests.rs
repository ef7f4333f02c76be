use std::sync::Arc;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use vexil_proto::{Flag, FlagKind, Variant};

use super::*;
use crate::store::sqlite::SqliteStore;
use crate::store::{UsageBucket, WriteMeta};

const NOON: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

async fn store_with_flag() -> Arc<SqliteStore> {
    let store = SqliteStore::open_url("sqlite::memory:").await.unwrap();
    let flag = Flag {
        key: "checkout".into(),
        name: "Checkout".into(),
        description: String::new(),
        tags: Vec::new(),
        owner: None,
        kind: FlagKind::Boolean,
        variants: Variant::boolean_pair(),
        temporary: false,
    };
    let meta = WriteMeta {
        actor: "test".into(),
        reason: None,
        at: NOON,
        expected_version: None,
    };
    store
        .create_flag("default", &flag, &[], &meta)
        .await
        .unwrap();
    Arc::new(store)
}

fn evaluations<'a>(flag: &'a str, variant: Option<&'a str>, count: u64) -> Evaluations<'a> {
    Evaluations {
        flag,
        variant,
        count,
    }
}

async fn stored(store: &SqliteStore) -> Vec<UsageBucket> {
    store
        .flag_usage("default", "checkout", None, NOON, NOON + Duration::days(1))
        .await
        .unwrap()
}

#[tokio::test]
async fn sums_in_memory_and_writes_once_per_flush() {
    let store = store_with_flag().await;
    let buffer = UsageBuffer::new(store.clone());
    for minute in [1, 2, 3] {
        let at = NOON + Duration::minutes(minute);
        assert!(buffer.add(
            "default",
            "production",
            &evaluations("checkout", Some("on"), 10),
            at
        ));
    }
    assert!(buffer.add(
        "default",
        "production",
        &evaluations("checkout", None, 1),
        NOON
    ));
    assert_eq!(buffer.pending(), 2);
    assert!(
        stored(&store).await.is_empty(),
        "nothing is written before a flush"
    );

    assert_eq!(buffer.flush().await.unwrap(), 2);
    assert_eq!(buffer.pending(), 0);
    let hour = NOON;
    assert_eq!(
        stored(&store).await,
        [
            UsageBucket {
                environment: "production".into(),
                variant: None,
                hour,
                count: 1
            },
            UsageBucket {
                environment: "production".into(),
                variant: Some("on".into()),
                hour,
                count: 30
            },
        ]
    );
    let last = store
        .last_evaluated("default", &["checkout".into()])
        .await
        .unwrap();
    assert_eq!(last[0].at, NOON + Duration::minutes(3));
    assert_eq!(
        buffer.flush().await.unwrap(),
        0,
        "an empty flush writes nothing"
    );
}

#[tokio::test]
async fn a_full_buffer_refuses_new_keys_but_adds_to_held_ones() {
    let store = store_with_flag().await;
    let buffer = UsageBuffer::new(store);
    buffer.inner.pending.store(MAX_PENDING, Ordering::Relaxed);
    assert!(!buffer.add(
        "default",
        "production",
        &evaluations("checkout", Some("on"), 1),
        NOON
    ));
    assert_eq!(buffer.pending(), MAX_PENDING);
    buffer
        .inner
        .pending
        .store(MAX_PENDING - 1, Ordering::Relaxed);
    assert!(buffer.add(
        "default",
        "production",
        &evaluations("checkout", Some("on"), 1),
        NOON
    ));
    assert!(buffer.add(
        "default",
        "production",
        &evaluations("checkout", Some("on"), 1),
        NOON
    ));
    assert!(!buffer.add(
        "default",
        "production",
        &evaluations("checkout", Some("off"), 1),
        NOON
    ));
}

#[tokio::test]
async fn a_failed_flush_keeps_the_counts() {
    let dir = std::env::temp_dir().join(format!("vexil-usage-{}", uuid::Uuid::new_v4()));
    let store = SqliteStore::open(&dir.join("vexil.db")).await.unwrap();
    let buffer = UsageBuffer::new(Arc::new(store.clone()));
    assert!(buffer.add(
        "default",
        "production",
        &evaluations("checkout", Some("on"), 4),
        NOON
    ));
    store.close().await;
    assert!(buffer.flush().await.is_err());
    assert_eq!(buffer.pending(), 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_flusher_flushes_once_more_when_stopped() {
    let store = store_with_flag().await;
    let buffer = UsageBuffer::new(store.clone());
    assert!(buffer.add(
        "default",
        "staging",
        &evaluations("checkout", Some("off"), 2),
        NOON
    ));
    // An interval that never elapses during the test: only the final
    // flush can store the counts.
    buffer
        .run_flusher(std::time::Duration::from_secs(3600), async {})
        .await;
    assert_eq!(stored(&store).await.len(), 1);
    assert_eq!(buffer.pending(), 0);
}
