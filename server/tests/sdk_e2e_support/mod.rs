//! What the SDK end-to-end tests share: a real server started with
//! `vexil_server::launch` (and stopped through its shutdown future, so it
//! can be started again on the same address and database), a REST client
//! that sets everything up as an admin would, a recorder of the versions
//! the SDK's `on_change` saw, `/metrics` readings, and waiting for a
//! condition with a deadline that only fails the test.

#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;
use vexil_sdk::{Client, ProviderState};
use vexil_server::ServeConfig;

/// How long any awaited condition may take before the test fails. Generous:
/// it bounds a failure, it is not a pause the test relies on.
pub const DEADLINE: Duration = Duration::from_secs(20);

pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "correct horse battery staple";
pub const ENV_PATH: &str = "/api/v1/projects/default/environments/production";

/// The stream's metrics are process-wide, so tests that read them as
/// deltas run one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Holds the process's tests to one at a time while alive.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.lock().await
}

/// `fut`, or a failed test naming `what` after [`DEADLINE`].
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(DEADLINE, fut).await {
        Ok(value) => value,
        Err(_) => panic!("timed out after {DEADLINE:?} waiting for {what}"),
    }
}

/// Where a server keeps its data: a SQLite data directory, or a
/// PostgreSQL database URL.
#[derive(Debug, Clone)]
pub enum Storage {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Storage {
    /// A fresh SQLite data directory under cargo's test temp dir.
    pub fn fresh_sqlite() -> Storage {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("sdk-e2e-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Storage::Sqlite(dir)
    }

    /// The configuration every test server runs with: the admin from
    /// `VEXIL_ADMIN_*`, short timings where tests wait on them.
    fn config(&self) -> ServeConfig {
        let mut config = match self {
            Storage::Sqlite(dir) => ServeConfig::new(dir),
            Storage::Postgres(url) => {
                let mut config = ServeConfig::new(env!("CARGO_TARGET_TMPDIR"));
                config.storage.database_url = Some(url.parse().unwrap());
                config
            }
        };
        config.admin_username = Some(ADMIN.into());
        config.admin_password = Some(PASSWORD.parse().unwrap());
        config.usage_flush_interval_ms = 50;
        config.poll_interval_ms = 200;
        config.stream.reconnect_after_ms = (10, 50);
        config
    }
}

/// A real server: `vexil_server::launch` on a listener of its own.
pub struct Server {
    pub addr: SocketAddr,
    pub base: String,
    storage: Storage,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts on a free port of 127.0.0.1.
    pub async fn start(storage: &Storage) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Server::serve(storage, listener).await
    }

    /// Starts on `addr`, which a stopped server just closed: tokio's
    /// `bind` sets `SO_REUSEADDR`, so the port is free again at once.
    pub async fn start_at(storage: &Storage, addr: SocketAddr) -> Server {
        let listener = TcpListener::bind(addr)
            .await
            .unwrap_or_else(|err| panic!("rebinding {addr}: {err}"));
        Server::serve(storage, listener).await
    }

    /// Starts on a free port with a version poll too rare to matter in a
    /// test: changes reach streams only by the commit path itself.
    pub async fn start_without_poll(storage: &Storage) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = storage.config();
        config.poll_interval_ms = 3_600_000;
        Server::serve_with(storage, listener, config).await
    }

    /// Starts on a free port with the test configuration changed by `edit`.
    pub async fn start_configured(
        storage: &Storage,
        edit: impl FnOnce(&mut ServeConfig),
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = storage.config();
        edit(&mut config);
        Server::serve_with(storage, listener, config).await
    }

    async fn serve(storage: &Storage, listener: TcpListener) -> Server {
        Server::serve_with(storage, listener, storage.config()).await
    }

    async fn serve_with(storage: &Storage, listener: TcpListener, config: ServeConfig) -> Server {
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            vexil_server::launch(config, listener, shutdown)
                .await
                .unwrap();
        });
        let server = Server {
            addr,
            base: format!("http://{addr}"),
            storage: storage.clone(),
            stop: Some(stop),
            task: Some(task),
        };
        // Ready once it answers its probe.
        let client = reqwest::Client::new();
        within("the server to answer /readyz", async {
            loop {
                if let Ok(response) = client.get(format!("{}/readyz", server.base)).send().await
                    && response.status() == StatusCode::OK
                {
                    break;
                }
                tokio::task::yield_now().await;
            }
        })
        .await;
        server
    }

    /// Graceful shutdown through the shutdown future; returns once
    /// `launch` has returned (the listener is closed).
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            within("the server to stop", task).await.unwrap();
        }
    }

    /// The same storage again, on the same address.
    pub async fn restart(self) -> Server {
        let (storage, addr) = (self.storage.clone(), self.addr);
        self.stop().await;
        Server::start_at(&storage, addr).await
    }
}

/// The REST API as an admin uses it.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    http: reqwest::Client,
    session: String,
}

impl Api {
    /// Logs in as the admin of `server`.
    pub async fn login(server: &Server) -> Api {
        Api::login_at(&server.base).await
    }

    pub async fn login_at(base: &str) -> Api {
        let http = reqwest::Client::new();
        let response = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": ADMIN, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        Api {
            base: base.to_owned(),
            http,
            session: body["token"].as_str().unwrap().to_owned(),
        }
    }

    /// A request as the admin, answered with `expected`; returns the body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.session);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(status, expected, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A POST with another bearer (an integration token): status and body.
    pub async fn post_as(&self, bearer: &str, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(bearer)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A new integration token (posts alerts and deploys only).
    pub async fn integration_token(&self, name: &str) -> String {
        let body = json!({"name": name, "kind": "integration", "expires_in_days": 30});
        let created = self
            .call(Method::POST, "/api/v1/tokens", Some(body), 201)
            .await;
        created["token"].as_str().unwrap().to_owned()
    }

    /// A boolean flag (`on`/`off`), created off in every environment.
    pub async fn create_flag(&self, key: &str) {
        let flag = json!({
            "key": key, "name": key, "kind": "boolean",
            "variants": [{"key": "on", "value": true}, {"key": "off", "value": false}],
        });
        self.call(
            Method::POST,
            "/api/v1/projects/default/flags",
            Some(flag),
            201,
        )
        .await;
    }

    /// Production's config of `flag`: `on` for everyone once enabled, so
    /// the switch flips the value (a new flag serves `off` either way).
    pub async fn serve_on_when_enabled(&self, flag: &str) {
        let path = format!("/api/v1/projects/default/flags/{flag}/environments/production");
        let config = json!({
            "enabled": false, "off_variant": "off", "targets": [], "rules": [],
            "default_serve": {"variant": "on"}, "prerequisites": [],
        });
        self.call(Method::PUT, &path, Some(config), 200).await;
    }

    /// The one-click switch in production.
    pub async fn toggle(&self, flag: &str, enabled: bool) {
        let path = format!("/api/v1/projects/default/flags/{flag}/environments/production/toggle");
        self.call(Method::POST, &path, Some(json!({"enabled": enabled})), 200)
            .await;
    }

    /// Production's config of `flag`: on, serving `on` to plans in
    /// `plans` and `off` to everyone else.
    pub async fn target_plans(&self, flag: &str, plans: &[&str]) {
        let path = format!("/api/v1/projects/default/flags/{flag}/environments/production");
        let config = json!({
            "enabled": true, "off_variant": "off", "targets": [],
            "rules": [{"id": "plans", "clauses": [
                {"attribute": "plan", "op": "in", "values": plans}],
                "serve": {"variant": "on"}}],
            "default_serve": {"variant": "off"}, "prerequisites": [],
        });
        self.call(Method::PUT, &path, Some(config), 200).await;
    }

    /// A new SDK key for production: `(id, key)`.
    pub async fn sdk_key(&self, name: &str) -> (String, String) {
        let path = format!("{ENV_PATH}/sdk-keys");
        let body = self
            .call(Method::POST, &path, Some(json!({"name": name})), 201)
            .await;
        (
            body["id"].as_str().unwrap().to_owned(),
            body["token"].as_str().unwrap().to_owned(),
        )
    }

    /// Revokes an SDK key.
    pub async fn revoke(&self, id: &str) {
        let path = format!("{ENV_PATH}/sdk-keys/{id}");
        self.call(Method::DELETE, &path, None, 204).await;
    }

    /// `GET /api/v1/projects/default/flags/{flag}/usage`.
    pub async fn usage(&self, flag: &str) -> Value {
        let path = format!("/api/v1/projects/default/flags/{flag}/usage");
        self.call(Method::GET, &path, None, 200).await
    }

    /// `GET /api/v1/snapshot` with `sdk_key`.
    pub async fn snapshot(&self, sdk_key: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/api/v1/snapshot", self.base))
            .bearer_auth(sdk_key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// `POST /api/v1/evaluate` for every flag: the response's `flags`.
    pub async fn evaluate_all(&self, sdk_key: &str, context: &Value) -> (u64, Vec<Value>) {
        let response = self
            .http
            .post(format!("{}/api/v1/evaluate", self.base))
            .bearer_auth(sdk_key)
            .json(&json!({"context": context}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        (
            body["version"].as_u64().unwrap(),
            body["flags"].as_array().unwrap().clone(),
        )
    }

    /// The value of one series of `/metrics` (e.g.
    /// `vexil_stream_frames_sent_total{kind="snapshot"}`), 0 if absent.
    pub async fn metric(&self, series: &str) -> f64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .map_or(0.0, |value| value.trim().parse().unwrap())
    }
}

/// Every version `on_change` reported, in the order the SDK installed them.
#[derive(Clone, Default)]
pub struct Versions {
    seen: Arc<Mutex<Vec<u64>>>,
    arrived: Arc<Notify>,
}

impl Versions {
    /// Records `client`'s change events from now on. The callback runs on
    /// the stream's task right after each swap, so none is missed.
    pub fn record(client: &Client) -> Versions {
        let versions = Versions::default();
        let recorder = versions.clone();
        client.on_change(move |event| {
            recorder.seen.lock().unwrap().push(event.version);
            recorder.arrived.notify_waiters();
        });
        versions
    }

    pub fn seen(&self) -> Vec<u64> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until version `version` (or a later one) was installed.
    pub async fn wait_for(&self, version: u64) {
        within(&format!("version {version} to reach the SDK"), async {
            loop {
                let arrived = self.arrived.notified();
                if self.seen().last().is_some_and(|last| *last >= version) {
                    return;
                }
                arrived.await;
            }
        })
        .await;
    }
}

/// Waits until `client` is in `state`.
pub async fn wait_state(client: &Client, state: ProviderState) {
    let mut states = client.state_changes();
    within(
        &format!("the SDK to be {state:?}"),
        states.wait_for(|s| *s == state),
    )
    .await
    .unwrap();
}

/// The versions in `seen` that did not follow their predecessor by one.
pub fn jumps(seen: &[u64]) -> Vec<(u64, u64)> {
    seen.windows(2)
        .filter(|pair| pair[1] != pair[0] + 1)
        .map(|pair| (pair[0], pair[1]))
        .collect()
}

/// An SDK client of `base` with short reconnect delays.
pub async fn sdk(base: &str, key: &str) -> Client {
    Client::builder(key)
        .url(base)
        .backoff(Duration::from_millis(10), Duration::from_millis(100))
        .init_timeout(DEADLINE)
        .build()
        .await
        .unwrap()
}
