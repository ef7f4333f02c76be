//! A real server for API tests: `vexil_server::app` on `127.0.0.1:0` over a
//! fresh SQLite file, with helpers that mint credentials directly (users,
//! API tokens, SDK keys) so each test says who is calling.

#![allow(dead_code)]

use std::sync::Arc;

use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use tokio::net::TcpListener;
use vexil_server::auth::{AuthState, Clock, SystemClock};
use vexil_server::snapshots::SnapshotCache;
use vexil_server::store::sqlite::SqliteStore;
use vexil_server::store::{Role, Store, TokenKind, TokenRecord, UserRecord, WriteMeta};
use vexil_server::usage::UsageBuffer;
use vexil_server::{AppState, app};

/// A running server and the state behind it.
pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    pub auth: AuthState,
    /// The server's snapshot cache, for tests to invalidate or poll it.
    pub snapshots: SnapshotCache,
    /// The server's buffer of reported evaluation counts; tests flush it
    /// themselves (no flusher task runs here).
    pub usage: UsageBuffer,
    /// A session of the admin `admin`.
    pub admin: String,
}

impl TestServer {
    pub async fn start() -> Self {
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("api-{}.db", uuid::Uuid::new_v4()));
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
        let keys = AuthState::load_keys(&*store).await.unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let auth = AuthState::new(keys, Arc::clone(&store), clock);
        let state = AppState::new(Arc::clone(&store), auth.clone());
        let snapshots = state.snapshots.clone();
        let usage = state.usage.clone();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app(state)).await.unwrap();
        });
        let mut server = TestServer {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            store,
            auth,
            snapshots,
            usage,
            admin: String::new(),
        };
        server.admin = server.user("admin", Role::Admin).await;
        server
    }

    fn meta(&self) -> WriteMeta {
        WriteMeta {
            actor: "test".into(),
            reason: None,
            at: OffsetDateTime::now_utc(),
            expected_version: None,
        }
    }

    /// Creates a user with `role` and returns a session for it.
    pub async fn user(&self, username: &str, role: Role) -> String {
        let now = OffsetDateTime::now_utc();
        let record = UserRecord {
            id: String::new(),
            username: username.into(),
            password_hash: String::new(),
            role,
            disabled: false,
            version: 0,
            created_at: now,
            updated_at: now,
        };
        let user = self.store.create_user(&record, &self.meta()).await.unwrap();
        self.auth.keys().issue_session(&user, &SystemClock).unwrap()
    }

    /// Stores a token record and returns its JWT.
    pub async fn token(
        &self,
        kind: TokenKind,
        role: Option<Role>,
        project: Option<&str>,
        environments: &[&str],
    ) -> String {
        let now = OffsetDateTime::now_utc();
        let record = TokenRecord {
            id: uuid::Uuid::new_v4().to_string(),
            kind,
            name: format!("test {kind:?}"),
            role,
            project: project.map(str::to_owned),
            environments: environments.iter().map(|e| (*e).to_owned()).collect(),
            created_by: "user:admin".into(),
            created_at: now,
            expires_at: now + Duration::days(30),
            last_used_at: None,
            revoked_at: None,
        };
        let stored = self
            .store
            .create_token(&record, &self.meta())
            .await
            .unwrap();
        self.auth.keys().issue_token(&stored).unwrap()
    }

    /// An SDK key for one environment of a project.
    pub async fn sdk_key(&self, project: &str, environment: &str) -> String {
        self.token(TokenKind::Sdk, None, Some(project), &[environment])
            .await
    }

    /// A request to `path` (under the server) with `bearer`, if any.
    pub fn request(&self, method: Method, path: &str, bearer: Option<&str>) -> RequestBuilder {
        let request = self.client.request(method, format!("{}{path}", self.base));
        match bearer {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// GET as the admin.
    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, Some(&self.admin))
            .send()
            .await
            .unwrap()
    }

    /// A JSON body request as `bearer`.
    pub async fn send(&self, method: Method, path: &str, bearer: &str, body: &Value) -> Response {
        self.request(method, path, Some(bearer))
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

/// The status and JSON body of a response (`Null` for an empty body).
pub async fn json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    (status, body)
}
