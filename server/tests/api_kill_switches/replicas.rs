//! Real servers started with `launch`: the same Alertmanager payload
//! posted at once, to one SQLite server or to two replicas sharing one
//! PostgreSQL, trips the switch exactly once (one change, one version).

use std::sync::Arc;

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use tokio::net::TcpListener;
use vexil_proto::{Flag, FlagConfig, FlagKind, Serve, Variant};
use vexil_server::auth::AuthState;
use vexil_server::config::SecretUrl;
use vexil_server::killswitch::{Action, KillSwitch, MatchOp, Matcher, Restore, Trigger};
use vexil_server::store::{ChangeFilter, Store, TokenKind, TokenRecord, WriteMeta};
use vexil_server::{ServeConfig, launch};

use crate::fresh_db::{FreshDatabase, postgres_url};
use crate::support::{ALERTS, firing};

fn meta() -> WriteMeta {
    WriteMeta {
        actor: "user:admin".into(),
        reason: None,
        at: OffsetDateTime::now_utc(),
        expected_version: None,
    }
}

/// `checkout` on in production, a switch on it, and an integration token
/// (its JWT), written straight to the store the servers open.
async fn prepare(store: &dyn Store) -> String {
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
    let on = FlagConfig::new("off", Serve::Variant("on".into()));
    let configs = [("production".to_string(), on)];
    store
        .create_flag("default", &flag, &configs, &meta())
        .await
        .unwrap();
    let spec = KillSwitch {
        name: "Checkout errors".into(),
        flag: "checkout".into(),
        environment: "production".into(),
        trigger: Trigger::Alert {
            matchers: vec![Matcher {
                label: "alertname".into(),
                op: MatchOp::Eq,
                value: "CheckoutErrors".into(),
            }],
        },
        action: Action::Disable,
        restore: Restore::Manual,
    };
    store
        .create_kill_switch("default", "ks", &spec, &meta())
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let record = TokenRecord {
        id: uuid::Uuid::new_v4().to_string(),
        kind: TokenKind::Integration,
        name: "alertmanager".into(),
        role: None,
        project: None,
        environments: Vec::new(),
        created_by: "user:admin".into(),
        created_at: now,
        expires_at: now + Duration::days(1),
        last_used_at: None,
        revoked_at: None,
    };
    let stored = store.create_token(&record, &meta()).await.unwrap();
    AuthState::load_keys(store)
        .await
        .unwrap()
        .issue_token(&stored)
        .unwrap()
}

/// Starts one server per config; their base URLs and stop senders.
async fn start(configs: Vec<ServeConfig>) -> Vec<(String, tokio::sync::oneshot::Sender<()>)> {
    let mut servers = Vec::new();
    for config in configs {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(launch(config, listener, async {
            let _ = stopped.await;
        }));
        servers.push((base, stop));
    }
    servers
}

/// Posts the captured payload to every base at once, `copies` times each,
/// then checks the store saw exactly one trip.
async fn post_at_once(store: Arc<dyn Store>, configs: Vec<ServeConfig>, copies: usize) {
    let token = prepare(&*store).await;
    let version = store
        .get_environment("default", "production")
        .await
        .unwrap();
    let servers = start(configs).await;
    let client = reqwest::Client::new();
    let mut posts = Vec::new();
    for _ in 0..copies {
        for (base, _) in &servers {
            let request = client
                .post(format!("{base}{ALERTS}"))
                .bearer_auth(&token)
                .json(&firing());
            // The listener is bound before `launch`: a connection made
            // while the server still opens its store waits in the backlog.
            posts.push(tokio::spawn(async move {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.unwrap())
            }));
        }
    }
    let mut tripped = 0;
    let mut received = 0;
    for post in posts {
        let (status, body) = post.await.unwrap();
        assert_eq!(status, 202, "{body}");
        received += body["received"].as_u64().unwrap();
        tripped += body["matched"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["effect"] == json!("tripped"))
            .count();
    }
    assert_eq!((tripped, received), (1, 3), "each alert acted on once");
    let after = store
        .get_environment("default", "production")
        .await
        .unwrap();
    assert_eq!(after.environment.version, version.environment.version + 1);
    let config = store
        .get_flag_config("default", "checkout", "production")
        .await
        .unwrap();
    assert!(!config.enabled);
    let filter = ChangeFilter {
        actor: Some("automation:alertmanager".into()),
        ..ChangeFilter::default()
    };
    let trips = store.list_changes(Some("default"), &filter).await.unwrap();
    assert_eq!(
        trips
            .items
            .iter()
            .filter(|c| c.environment.is_some())
            .count(),
        1
    );
    for (_, stop) in servers {
        let _ = stop.send(());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_trips_once_under_concurrent_repeats() {
    let dir = std::env::temp_dir().join(format!("vexil-ks-{}", uuid::Uuid::new_v4()));
    let config = ServeConfig::new(&dir);
    let store = vexil_server::storage::open(&config.storage).await.unwrap();
    post_at_once(store, vec![config], 4).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_postgres_replicas_trip_once() {
    let Some(url) = postgres_url("two_postgres_replicas_trip_once") else {
        return;
    };
    let db = FreshDatabase::create(&url).await;
    let store = vexil_server::store::postgres::PostgresStore::connect(db.url())
        .await
        .unwrap();
    let configs = (0..2)
        .map(|_| {
            let mut config = ServeConfig::new(std::env::temp_dir());
            config.storage.database_url = Some(db.url().parse::<SecretUrl>().unwrap());
            config
        })
        .collect();
    let outcome = tokio::spawn(post_at_once(Arc::new(store.clone()), configs, 3)).await;
    db.drop(&store).await;
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}
