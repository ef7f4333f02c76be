//! End to end: a real server (`vexil_server::launch`), a real database
//! (SQLite files; PostgreSQL too when `VEXIL_TEST_POSTGRES_URL` is set) and
//! the real Rust SDK (`vexil-sdk`), set up through the REST API only.
//!
//! Writes reach the SDK in order; 1 000 rapid writes arrive with every
//! version in sequence (a jump only as a snapshot) and leave the SDK
//! agreeing with the server; a restarted server is resumed from without a
//! snapshot; a bootstrap file serves while the server is down; a revoked
//! key is cut off; evaluation counts reach the usage API. Waits are on
//! conditions (change events, provider states, API answers) with a
//! deadline that only fails the test.

mod sdk_e2e_support;

#[path = "store_scenarios/fresh_db.rs"]
mod fresh_db;

use std::time::Duration;

use serde_json::{Value, json};
use vexil_sdk::{Client, Context, ProviderState};
use vexil_server::store::postgres::PostgresStore;

use sdk_e2e_support::{Api, Server, Storage, Versions, jumps, sdk, serial, wait_state, within};

const SNAPSHOT_FRAMES: &str = r#"vexil_stream_frames_sent_total{kind="snapshot"}"#;

/// Contexts the final states are compared for.
fn contexts() -> Vec<Value> {
    vec![
        json!({"key": "user-1"}),
        json!({"key": "user-2", "attributes": {"plan": "pro"}}),
        json!({"key": "user-3", "attributes": {"plan": "beta"}}),
        json!({"key": "org-9", "kind": "org", "attributes": {"plan": "enterprise"}}),
    ]
}

/// The SDK's evaluation of every flag equals the server's, at the same
/// version, for every context of [`contexts`].
async fn assert_same_answers(api: &Api, key: &str, client: &Client) {
    let server_version = api.snapshot(key).await["version"].as_u64().unwrap();
    assert_eq!(client.snapshot().version(), server_version);
    for context in contexts() {
        let (version, flags) = api.evaluate_all(key, &context).await;
        assert_eq!(version, server_version);
        assert!(!flags.is_empty());
        let ctx: Context = serde_json::from_value(context.clone()).unwrap();
        for expected in flags {
            let flag = expected["flag"].as_str().unwrap();
            let ours = serde_json::to_value(client.evaluate(flag, &ctx)).unwrap();
            assert_eq!(ours, expected, "{flag} for {context}");
        }
    }
}

/// A server with flags `a`, `b` and `c` (disabled; `on` once enabled) and
/// an SDK key.
async fn set_up(storage: &Storage) -> (Server, Api, String) {
    let server = Server::start(storage).await;
    let api = Api::login(&server).await;
    for flag in ["a", "b", "c"] {
        api.create_flag(flag).await;
        api.serve_on_when_enabled(flag).await;
    }
    let (_, key) = api.sdk_key("e2e").await;
    (server, api, key)
}

#[tokio::test]
async fn a_write_reaches_the_sdk_in_order() {
    let _serial = serial().await;
    let (server, api, key) = set_up(&Storage::fresh_sqlite()).await;
    let snapshots_before = api.metric(SNAPSHOT_FRAMES).await;
    let client = sdk(&server.base, &key).await;
    assert_eq!(client.state(), ProviderState::Ready);
    // A new client starts from one snapshot (and the series the other
    // tests read as "no snapshot" is the right one).
    assert_eq!(api.metric(SNAPSHOT_FRAMES).await - snapshots_before, 1.0);
    let versions = Versions::record(&client);
    let mut changes = client.changes();
    let user = Context::new("user-1");
    let start = client.snapshot().version();
    assert!(!client.bool_value("a", &user, true), "created off");

    api.toggle("a", true).await;
    let event = within("a change event", changes.recv()).await.unwrap();
    assert_eq!(
        (event.version, event.flags.clone()),
        (start + 1, vec!["a".into()])
    );
    assert!(client.bool_value("a", &user, false));

    api.toggle("a", false).await;
    api.target_plans("b", &["pro"]).await;
    versions.wait_for(start + 3).await;
    assert_eq!(versions.seen(), [start + 1, start + 2, start + 3]);
    assert!(!client.bool_value("a", &user, true));
    let pro = Context::new("user-2").with("plan", "pro");
    assert!(client.bool_value("b", &pro, false));
    assert!(!client.bool_value("b", &user, true));

    client.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_thousand_rapid_writes_arrive_in_sequence_and_agree_with_the_server() {
    let _serial = serial().await;
    let (server, api, key) = set_up(&Storage::fresh_sqlite()).await;
    let client = sdk(&server.base, &key).await;
    let versions = Versions::record(&client);
    let start = client.snapshot().version();
    let snapshots_before = api.metric(SNAPSHOT_FRAMES).await;

    // Four writers at once, 250 writes each: toggles and config edits.
    let writers = ["a", "b", "c", "a"]
        .into_iter()
        .enumerate()
        .map(|(n, flag)| {
            let api = api.clone();
            tokio::spawn(async move {
                for i in 0..250 {
                    if i % 2 == 0 {
                        api.toggle(flag, (i / 2 + n) % 2 == 0).await;
                    } else {
                        let plans = ["pro", "beta", "enterprise"];
                        api.target_plans(flag, &plans[..1 + (i + n) % 3]).await;
                    }
                }
            })
        });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.unwrap();
    }
    let end = start + 1000;
    assert_eq!(api.snapshot(&key).await["version"], end);
    versions.wait_for(end).await;

    let seen = versions.seen();
    assert_eq!(
        (seen.first(), seen.last()),
        (Some(&(start + 1)), Some(&end))
    );
    // Every jump came as a snapshot (a slow consumer's), never a patch.
    let snapshots = api.metric(SNAPSHOT_FRAMES).await - snapshots_before;
    let gaps = jumps(&seen);
    assert!(
        gaps.len() as f64 <= snapshots && gaps.iter().all(|(a, b)| b > a),
        "jumps {gaps:?} with {snapshots} snapshot frames"
    );
    assert_same_answers(&api, &key, &client).await;

    client.close().await;
    server.stop().await;
}

/// Stops the server under a connected SDK, writes through another server on
/// the same database while the SDK's address has nothing listening, starts
/// the server again on the same address: the SDK resumes with patches.
async fn restart_resumes_without_a_snapshot(storage: Storage) {
    let (server, api, key) = set_up(&storage).await;
    let client = sdk(&server.base, &key).await;
    let versions = Versions::record(&client);
    let start = client.snapshot().version();
    api.toggle("a", true).await;
    versions.wait_for(start + 1).await;

    let addr = server.addr;
    server.stop().await;
    wait_state(&client, ProviderState::Stale).await;
    // Still serving what it had.
    assert!(client.bool_value("a", &Context::new("user-1"), false));

    // Written while the SDK's server is down, through another replica.
    let other = Server::start(&storage).await;
    let other_api = Api::login(&other).await;
    other_api.toggle("a", false).await;
    other_api.target_plans("b", &["pro"]).await;
    // Read before the SDK can reconnect (the metrics are the process's).
    let snapshots_before = other_api.metric(SNAPSHOT_FRAMES).await;
    other.stop().await;

    let restarted = Server::start_at(&storage, addr).await;
    let api = Api::login(&restarted).await;
    versions.wait_for(start + 3).await;
    wait_state(&client, ProviderState::Ready).await;
    api.toggle("c", true).await;
    versions.wait_for(start + 4).await;

    assert_eq!(versions.seen(), (start + 1..=start + 4).collect::<Vec<_>>());
    assert_eq!(
        api.metric(SNAPSHOT_FRAMES).await - snapshots_before,
        0.0,
        "the resumed SDK got patches, not a snapshot"
    );
    assert_same_answers(&api, &key, &client).await;

    client.close().await;
    restarted.stop().await;
}

#[tokio::test]
async fn the_sdk_resumes_a_restarted_server_without_a_snapshot_sqlite() {
    let _serial = serial().await;
    restart_resumes_without_a_snapshot(Storage::fresh_sqlite()).await;
}

#[tokio::test]
async fn the_sdk_resumes_a_restarted_server_without_a_snapshot_postgres() {
    let Some(url) = fresh_db::postgres_url("sdk_e2e restart") else {
        return;
    };
    let _serial = serial().await;
    let database = fresh_db::FreshDatabase::create(&url).await;
    restart_resumes_without_a_snapshot(Storage::Postgres(database.url().to_owned())).await;
    let store = PostgresStore::connect(database.url()).await.unwrap();
    database.drop(&store).await;
}

#[tokio::test]
async fn a_bootstrap_file_serves_while_the_server_is_down_then_converges() {
    let _serial = serial().await;
    let storage = Storage::fresh_sqlite();
    let (server, api, key) = set_up(&storage).await;
    api.toggle("a", true).await;
    let bootstrap = api.snapshot(&key).await;
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("bootstrap-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, bootstrap.to_string()).unwrap();
    api.toggle("a", false).await;
    let addr = server.addr;
    server.stop().await;

    // Nothing listens at the URL.
    let client = Client::builder(&key)
        .url(format!("http://{addr}"))
        .bootstrap_file(&file)
        .backoff(Duration::from_millis(10), Duration::from_millis(100))
        .init_timeout(Duration::from_millis(200))
        .build()
        .await
        .unwrap();
    let user = Context::new("user-1");
    assert_eq!(client.state(), ProviderState::Stale);
    assert!(
        client.bool_value("a", &user, false),
        "the bootstrap's value"
    );
    assert_eq!(client.snapshot().version(), bootstrap["version"]);

    let server = Server::start_at(&storage, addr).await;
    wait_state(&client, ProviderState::Ready).await;
    assert!(!client.bool_value("a", &user, true), "the server's value");
    assert_same_answers(&Api::login(&server).await, &key, &client).await;

    client.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_revoked_key_is_cut_off_and_keeps_serving_its_last_snapshot() {
    let _serial = serial().await;
    let (server, api, key) = set_up(&Storage::fresh_sqlite()).await;
    // `key` stays valid, for a witness client.
    let (revoked_id, revoked_key) = api.sdk_key("revoked").await;
    api.toggle("a", true).await;
    // Quick to retry, were it to retry at all.
    let client = Client::builder(&revoked_key)
        .url(&server.base)
        .backoff(Duration::from_millis(1), Duration::from_millis(2))
        .init_timeout(sdk_e2e_support::DEADLINE)
        .build()
        .await
        .unwrap();
    let witness = sdk(&server.base, &key).await;
    let witnessed = Versions::record(&witness);
    let held = client.snapshot().version();
    let closes = r#"vexil_stream_closes_total{code="4403"}"#;
    let closes_before = api.metric(closes).await;

    api.revoke(&revoked_id).await;
    wait_state(&client, ProviderState::Error).await;
    assert_eq!(api.metric(closes).await - closes_before, 1.0);

    // Later writes reach the witness, not the cut-off client, which keeps
    // serving its last snapshot and has not come back: a retry would be
    // another 4403 close (the key is checked after the upgrade), and its
    // backoff (at most 2 ms) is far shorter than ten committed writes.
    for i in 0..10 {
        api.toggle("a", i % 2 == 1).await;
    }
    witnessed.wait_for(held + 10).await;
    assert_eq!(client.state(), ProviderState::Error);
    assert_eq!(client.snapshot().version(), held);
    assert!(client.bool_value("a", &Context::new("user-1"), false));
    assert_eq!(api.metric(closes).await - closes_before, 1.0);

    client.close().await;
    witness.close().await;
    server.stop().await;
}

#[tokio::test]
async fn evaluation_counts_reach_the_usage_api() {
    let _serial = serial().await;
    let (server, api, key) = set_up(&Storage::fresh_sqlite()).await;
    api.toggle("a", true).await;
    let client = Client::builder(&key)
        .url(&server.base)
        .usage_interval(Duration::from_secs(1))
        .init_timeout(sdk_e2e_support::DEADLINE)
        .build()
        .await
        .unwrap();
    let user = Context::new("user-1");
    for _ in 0..7 {
        assert!(client.bool_value("a", &user, false));
    }
    for _ in 0..3 {
        assert!(!client.bool_value("b", &user, true));
    }
    client.close().await; // sends the last window

    let usage = within("the counts to be flushed", async {
        loop {
            let usage = api.usage("a").await;
            if usage["total"] == 7 {
                break usage;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert_eq!(
        usage["totals"],
        json!([{"environment": "production", "variant": "on", "count": 7}])
    );
    assert!(usage["last_evaluated"]["production"].is_string());
    assert_eq!(api.usage("b").await["total"], 3);

    server.stop().await;
}
