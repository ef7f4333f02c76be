use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::broadcast::error::TryRecvError;
use vexil_proto::{Context, Flag, FlagConfig, FlagKind, Serve, Variant};

use super::*;
use crate::store::WriteMeta;
use crate::store::fake::FakeStore;
use crate::store::sqlite::SqliteStore;

fn meta() -> WriteMeta {
    WriteMeta {
        actor: "test".into(),
        reason: None,
        at: OffsetDateTime::now_utc(),
        expected_version: None,
    }
}

/// A fresh in-memory store (the `default` project, three environments)
/// with one boolean flag `f`, enabled and on in production.
async fn store() -> Arc<dyn Store> {
    let store = SqliteStore::open_url("sqlite::memory:").await.unwrap();
    let flag = Flag {
        key: "f".into(),
        name: "F".into(),
        description: String::new(),
        tags: Vec::new(),
        owner: None,
        kind: FlagKind::Boolean,
        variants: Variant::boolean_pair(),
        temporary: false,
    };
    let config = FlagConfig::new("off", Serve::Variant("on".into()));
    store
        .create_flag("default", &flag, &[("production".into(), config)], &meta())
        .await
        .unwrap();
    Arc::new(store)
}

async fn toggle(store: &dyn Store, enabled: bool) {
    store
        .set_flag_enabled("default", "f", "production", enabled, &meta())
        .await
        .unwrap();
}

fn served(snapshot: &CachedSnapshot) -> Option<&str> {
    snapshot
        .compiled()
        .evaluate("f", &Context::new("u"))
        .variant
}

fn installs(receiver: &mut broadcast::Receiver<Installed>) -> Vec<u64> {
    let mut versions = Vec::new();
    loop {
        match receiver.try_recv() {
            Ok(installed) => versions.push(installed.version),
            Err(TryRecvError::Empty | TryRecvError::Closed) => return versions,
            Err(TryRecvError::Lagged(_)) => {}
        }
    }
}

/// A snapshot of `production` at `version` where flag `f` serves `variant`.
fn snapshot(version: u64, variant: &str) -> Snapshot {
    let config = FlagConfig::new("off", Serve::Variant(variant.into()));
    Snapshot {
        environment: "production".into(),
        version,
        flags: vec![vexil_proto::SnapshotFlag::boolean("f", config)],
        segments: Vec::new(),
    }
}

fn fake(version: u64, variant: &str) -> Arc<FakeStore> {
    let store = Arc::new(FakeStore::default());
    store.put("default", snapshot(version, variant));
    store
}

#[tokio::test]
async fn concurrent_misses_load_and_compile_once() {
    let store = fake(1, "on");
    let cache = SnapshotCache::new(store.clone());
    let mut installed = cache.subscribe();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let cache = cache.clone();
        tasks.spawn(async move { cache.get("default", "production").await.unwrap() });
    }
    let snapshots = tasks.join_all().await;
    assert!(snapshots.iter().all(|s| Arc::ptr_eq(s, &snapshots[0])));
    assert_eq!(store.reads.load(Ordering::SeqCst), 1);
    assert_eq!(installs(&mut installed), [1]);
    let again = cache.get("default", "production").await.unwrap();
    assert!(Arc::ptr_eq(&again, &snapshots[0]), "served from memory");
    assert_eq!(store.reads.load(Ordering::SeqCst), 1);
    assert_eq!(served(&again), Some("on"));
    let json: Snapshot = serde_json::from_slice(again.json()).unwrap();
    assert_eq!(json, snapshot(1, "on"));
    assert_eq!(again.project(), "default");
    assert_eq!(again.environment(), "production");
}

#[tokio::test]
async fn a_failing_store_is_covered_by_the_last_snapshot() {
    let store = fake(1, "on");
    let cache = SnapshotCache::new(store.clone());
    cache.get("default", "production").await.unwrap();
    store.failing.store(true, Ordering::SeqCst);
    cache.invalidate("default", "production");
    tokio::time::pause();
    let stale = cache.get("default", "production").await.unwrap();
    assert_eq!(stale.version(), 1, "the last snapshot, with a warning");
    let reads = store.reads.load(Ordering::SeqCst);
    // For a while, reads take it without asking the failing store again.
    for _ in 0..10 {
        cache.get("default", "production").await.unwrap();
    }
    assert_eq!(store.reads.load(Ordering::SeqCst), reads);
    tokio::time::advance(RETRY_AFTER).await;
    cache.get("default", "production").await.unwrap();
    assert_eq!(store.reads.load(Ordering::SeqCst), reads + 1, "tried again");
    assert!(cache.poll_once().await.is_err());
    assert!(matches!(
        cache.get("default", "staging").await,
        Err(StoreError::Database(_))
    ));

    store.failing.store(false, Ordering::SeqCst);
    store.put("default", snapshot(2, "off"));
    tokio::time::advance(RETRY_AFTER).await;
    let fresh = cache.get("default", "production").await.unwrap();
    assert_eq!(fresh.version(), 2, "reloaded once the store is back");
    let again = cache.get("default", "production").await.unwrap();
    assert!(Arc::ptr_eq(&fresh, &again), "and fresh from then on");
}

#[tokio::test]
async fn the_poller_picks_up_other_replicas_writes_on_its_tick() {
    let store = fake(1, "on");
    let cache = SnapshotCache::new(store.clone());
    let every = Duration::from_secs(3);
    cache.get("default", "production").await.unwrap();
    let mut installed = cache.subscribe();
    tokio::time::pause();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let poller = tokio::spawn({
        let cache = cache.clone();
        async move {
            cache
                .run_poller(every, async {
                    let _ = stopped.await;
                })
                .await;
        }
    });

    // Another replica commits; this one is not told.
    store.put("default", snapshot(2, "off"));
    tokio::time::advance(every - Duration::from_millis(1)).await;
    tokio::task::yield_now().await;
    assert_eq!(
        installs(&mut installed),
        Vec::<u64>::new(),
        "not before the tick"
    );
    let before = cache.get("default", "production").await.unwrap();
    assert_eq!(served(&before), Some("on"));

    tokio::time::advance(Duration::from_millis(1)).await;
    let next = installed.recv().await.unwrap();
    assert_eq!(
        next,
        Installed {
            project: "default".into(),
            environment: "production".into(),
            version: 2
        }
    );
    let after = cache.get("default", "production").await.unwrap();
    assert_eq!(served(&after), Some("off"));

    // The next tick finds nothing new and loads nothing.
    let reads = store.reads.load(Ordering::SeqCst);
    tokio::time::advance(every).await;
    tokio::task::yield_now().await;
    assert_eq!(store.reads.load(Ordering::SeqCst), reads);

    stop.send(()).unwrap();
    poller.await.unwrap();
}

#[tokio::test]
async fn an_invalidation_makes_the_next_read_reload() {
    let store = store().await;
    let cache = SnapshotCache::new(Arc::clone(&store));
    let before = cache.get("default", "production").await.unwrap();
    toggle(&*store, false).await;
    let cached = cache.get("default", "production").await.unwrap();
    assert!(Arc::ptr_eq(&before, &cached), "no invalidation, no reload");

    cache.invalidate("default", "production");
    let after = cache.get("default", "production").await.unwrap();
    assert_eq!(after.version(), before.version() + 1);
    assert_eq!(served(&after), Some("off"));

    // Another environment of the project is untouched by `invalidate`, and
    // reloaded after `invalidate_project`.
    let staging = cache.get("default", "staging").await.unwrap();
    cache.invalidate("default", "production");
    assert!(Arc::ptr_eq(
        &staging,
        &cache.get("default", "staging").await.unwrap()
    ));
    cache.invalidate_project("default");
    let reloaded = cache.get("default", "staging").await.unwrap();
    assert!(!Arc::ptr_eq(&staging, &reloaded));
    assert_eq!(reloaded.version(), staging.version(), "nothing had changed");
    // Invalidating what was never cached is a no-op.
    cache.invalidate("other", "production");
    cache.invalidate_project("other");
}

#[tokio::test]
async fn unknown_and_deleted_environments_are_not_found_and_forgotten() {
    let store = store().await;
    let cache = SnapshotCache::new(Arc::clone(&store));
    assert!(matches!(
        cache.get("default", "nowhere").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(cache.existing_slot("default", "nowhere").is_none());

    cache.get("default", "staging").await.unwrap();
    store
        .delete_environment("default", "staging", &meta())
        .await
        .unwrap();
    assert_eq!(cache.poll_once().await.unwrap(), 0);
    assert!(cache.existing_slot("default", "staging").is_none());
}

#[tokio::test]
async fn compile_errors_are_logged_once_per_version() {
    // A config write is validated against the environment, so a config
    // that does not compile gets there as a new flag's initial config (the
    // API validates those; the store takes them as given).
    let store = SqliteStore::open_url("sqlite::memory:").await.unwrap();
    let flag = Flag {
        key: "f".into(),
        name: "F".into(),
        description: String::new(),
        tags: Vec::new(),
        owner: None,
        kind: FlagKind::Boolean,
        variants: Variant::boolean_pair(),
        temporary: false,
    };
    let broken = FlagConfig::new("off", Serve::Variant("nope".into()));
    store
        .create_flag("default", &flag, &[("production".into(), broken)], &meta())
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let cache = SnapshotCache::new(Arc::clone(&store));
    let snapshot = cache.get("default", "production").await.unwrap();
    assert_eq!(snapshot.compiled().errors().len(), 1);
    let slot = cache.existing_slot("default", "production").unwrap();
    assert_eq!(slot.logged.load(Ordering::Acquire), snapshot.version());
    // A reload of the same version does not log again, and the flag still
    // fails closed.
    cache.invalidate("default", "production");
    let again = cache.get("default", "production").await.unwrap();
    assert_eq!(again.version(), snapshot.version());
    assert!(!cache.log_errors(&slot, &again), "logged already");
    assert_eq!(
        again
            .compiled()
            .evaluate("f", &Context::new("u"))
            .error_code,
        Some(vexil_proto::ErrorCode::ParseError)
    );
}
