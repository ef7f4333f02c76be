//! A report accepted just before shutdown is stored: `launch`'s flusher
//! writes once more after the last request. The flush interval is an hour,
//! so only that final flush can have stored the counts; no test sleeps.

use std::sync::Arc;

use serde_json::json;
use time::{Duration, OffsetDateTime};
use tokio::net::TcpListener;
use vexil_proto::{Flag, FlagKind, Variant};
use vexil_server::auth::AuthState;
use vexil_server::config::SecretUrl;
use vexil_server::store::{Store, TokenKind, TokenRecord, WriteMeta};
use vexil_server::{ServeConfig, launch};

use crate::fresh_db::{FreshDatabase, postgres_url};
use crate::support::{USAGE, report};

/// Creates the flag `checkout` and an SDK key for `production` in the
/// store the server is about to open; the key's JWT.
async fn prepare(store: &dyn Store) -> String {
    let now = OffsetDateTime::now_utc();
    let meta = WriteMeta {
        actor: "test".into(),
        reason: None,
        at: now,
        expected_version: None,
    };
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
    store
        .create_flag("default", &flag, &[], &meta)
        .await
        .unwrap();
    let record = TokenRecord {
        id: uuid::Uuid::new_v4().to_string(),
        kind: TokenKind::Sdk,
        name: "shutdown test".into(),
        role: None,
        project: Some("default".into()),
        environments: vec!["production".into()],
        created_by: "user:admin".into(),
        created_at: now,
        expires_at: now + Duration::days(1),
        last_used_at: None,
        revoked_at: None,
    };
    let stored = store.create_token(&record, &meta).await.unwrap();
    let keys = AuthState::load_keys(store).await.unwrap();
    keys.issue_token(&stored).unwrap()
}

/// Starts `launch` with `config`, reports once, shuts down, and checks the
/// counts reached `store` (the same database, opened by the test).
async fn report_then_shut_down(mut config: ServeConfig, store: Arc<dyn Store>) {
    config.usage_flush_interval_ms = 3_600_000;
    let sdk = prepare(&*store).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(launch(config, listener, async {
        let _ = stopped.await;
    }));

    let response = reqwest::Client::new()
        .post(format!("{base}{USAGE}"))
        .bearer_auth(&sdk)
        .json(&report(&[("checkout", Some("on"), 7)]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"accepted": 1, "dropped": 0})
    );
    let now = OffsetDateTime::now_utc();
    let range = (now - Duration::days(1), now + Duration::days(1));
    let read = || store.flag_usage("default", "checkout", None, range.0, range.1);
    assert!(
        read().await.unwrap().is_empty(),
        "not flushed before shutdown"
    );

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    let stored = read().await.unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(
        (stored[0].variant.as_deref(), stored[0].count),
        (Some("on"), 7)
    );
    let last = store
        .last_evaluated("default", &["checkout".into()])
        .await
        .unwrap();
    assert_eq!(last.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_stores_counts_accepted_before_shutdown() {
    let dir = std::env::temp_dir().join(format!("vexil-usage-{}", uuid::Uuid::new_v4()));
    let config = ServeConfig::new(&dir);
    let store = vexil_server::storage::open(&config.storage).await.unwrap();
    report_then_shut_down(config, store).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stores_counts_accepted_before_shutdown() {
    let Some(url) = postgres_url("postgres_stores_counts_accepted_before_shutdown") else {
        return;
    };
    let db = FreshDatabase::create(&url).await;
    let store = vexil_server::store::postgres::PostgresStore::connect(db.url())
        .await
        .unwrap();
    let mut config = ServeConfig::new(std::env::temp_dir());
    config.storage.database_url = Some(db.url().parse::<SecretUrl>().unwrap());
    let outcome = tokio::spawn(report_then_shut_down(config, Arc::new(store.clone()))).await;
    db.drop(&store).await;
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}
