//! Helpers shared by the admin resource tests.

use reqwest::{Method, Response};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use vexil_server::auth::{Keys, ManualClock};
use vexil_server::store::{Change, ChangeFilter, Page, Role, TokenFilter, TokenKind};

use crate::common::{TestServer, json};

/// A request with any content type and raw body bytes.
pub async fn raw(
    server: &TestServer,
    method: Method,
    path: &str,
    bearer: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Response {
    let mut request = server.request(method, path, Some(bearer)).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.unwrap()
}

/// The one error shape without details.
pub fn error(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

/// A 422 body with these `(path, problem)` details.
pub fn invalid(details: &[(&str, &str)]) -> Value {
    let details: Vec<Value> = details
        .iter()
        .map(|(path, problem)| json!({"path": path, "problem": problem}))
        .collect();
    json!({"error": {"code": "invalid", "message": "the request body is invalid", "details": details}})
}

/// Asserts status and exact body.
pub async fn expect(response: Response, status: u16, body: Value) {
    let (got_status, got_body) = json(response).await;
    assert_eq!((got_status, &got_body), (status, &body), "{got_body:#}");
}

/// Everything the admin endpoints can change, to prove a refused request
/// changed nothing. `last_used_at` is left out: using a token records it
/// in the background, and that is not a change.
#[derive(Debug, PartialEq)]
pub struct Fingerprint(Value);

pub async fn fingerprint(server: &TestServer) -> Fingerprint {
    let store = &server.store;
    let projects = store.list_projects().await.unwrap();
    let mut environments = Vec::new();
    let mut project_changes = Vec::new();
    for project in &projects {
        let key = &project.project.key;
        environments.push(store.list_environments(key).await.unwrap());
        project_changes.push(change_count(server, Some(key)).await);
    }
    let users: Vec<Value> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|user| json!({"user": user, "hash": user.password_hash}))
        .collect();
    let all = TokenFilter {
        include_revoked: true,
        ..TokenFilter::default()
    };
    let tokens: Vec<_> = store
        .list_tokens(&all)
        .await
        .unwrap()
        .into_iter()
        .map(|mut token| {
            token.last_used_at = None;
            token
        })
        .collect();
    Fingerprint(json!({
        "projects": projects,
        "environments": environments,
        "users": users,
        "tokens": tokens,
        "changes": change_count(server, None).await,
        "project_changes": project_changes,
    }))
}

/// Sends each request and asserts it left the stored state alone.
pub async fn unchanged(server: &TestServer, before: &Fingerprint) {
    assert_eq!(&fingerprint(server).await, before, "stored state changed");
}

async fn change_count(server: &TestServer, project: Option<&str>) -> u64 {
    server
        .store
        .list_changes(project, &ChangeFilter::default())
        .await
        .unwrap()
        .total
}

/// The change log of a project (`Some`) or of accounts and tokens, newest
/// first.
pub async fn changes(server: &TestServer, project: Option<&str>) -> Vec<Change> {
    let filter = ChangeFilter {
        page: Page {
            page: 1,
            per_page: 200,
        },
        ..ChangeFilter::default()
    };
    server
        .store
        .list_changes(project, &filter)
        .await
        .unwrap()
        .items
}

/// `(resource, key, action, actor)` of the newest change.
pub async fn last_change(
    server: &TestServer,
    project: Option<&str>,
) -> (String, String, String, String) {
    let change = changes(server, project)
        .await
        .into_iter()
        .next()
        .expect("a change");
    (
        change.resource.as_str().to_owned(),
        change.key,
        serde_json::to_value(change.action)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned(),
        change.actor,
    )
}

/// Every kind of credential the refusal tests send.
pub struct Credentials {
    pub viewer: String,
    pub editor: String,
    pub expired: String,
    pub foreign: String,
    pub sdk_key: String,
    pub revoked: String,
    pub limited_admin: String,
    pub integration: String,
}

impl Credentials {
    pub async fn new(server: &TestServer) -> Self {
        let viewer = server.user("vic", Role::Viewer).await;
        let editor = server.user("eve", Role::Editor).await;
        let admin = server.store.get_user("admin").await.unwrap();
        let two_hours_ago = ManualClock::new(OffsetDateTime::now_utc() - Duration::hours(2));
        let expired = server
            .auth
            .keys()
            .issue_session(&admin, &two_hours_ago)
            .unwrap();
        let foreign = Keys::new(&[42; 32])
            .unwrap()
            .issue_session(&admin, &vexil_server::auth::SystemClock)
            .unwrap();
        let sdk_key = server.sdk_key("default", "production").await;
        let revoked = server
            .token(TokenKind::Api, Some(Role::Admin), None, &[])
            .await;
        let id = jti(&revoked);
        let response = server
            .request(
                Method::DELETE,
                &format!("/api/v1/tokens/{id}"),
                Some(&server.admin),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        let limited_admin = server
            .token(TokenKind::Api, Some(Role::Admin), None, &["staging"])
            .await;
        let integration = server.token(TokenKind::Integration, None, None, &[]).await;
        Credentials {
            viewer,
            editor,
            expired,
            foreign,
            sdk_key,
            revoked,
            limited_admin,
            integration,
        }
    }

    /// Each credential that may not use the admin endpoints at all, with
    /// the exact answer it gets.
    pub fn refused_everywhere(&self) -> Vec<(&'static str, &str, u16, Value)> {
        vec![
            (
                "expired session",
                &self.expired,
                401,
                error("unauthorized", "token expired"),
            ),
            (
                "another key's token",
                &self.foreign,
                401,
                error("unauthorized", "invalid token: signature does not match"),
            ),
            (
                "SDK key",
                &self.sdk_key,
                401,
                error(
                    "unauthorized",
                    "wrong kind of token: this endpoint takes a user session or an API token, not an SDK key",
                ),
            ),
            (
                "revoked API token",
                &self.revoked,
                401,
                error("unauthorized", "token revoked"),
            ),
            (
                "integration token",
                &self.integration,
                403,
                error(
                    "forbidden",
                    "integration tokens may only post health events (alerts and deploys)",
                ),
            ),
        ]
    }

    /// Credentials that may read but not administer, with the exact 403.
    pub fn not_admins(&self) -> Vec<(&'static str, &str, Value)> {
        let limited = jti(&self.limited_admin);
        vec![
            (
                "viewer",
                &self.viewer,
                error(
                    "forbidden",
                    "user:vic has the viewer role, which is read-only; this needs the admin role",
                ),
            ),
            (
                "editor",
                &self.editor,
                error(
                    "forbidden",
                    "user:eve has the editor role; this needs the admin role",
                ),
            ),
            (
                "environment-limited admin token",
                &self.limited_admin,
                error(
                    "forbidden",
                    &format!(
                        "token:{limited} may only change `staging`; changing projects, environments, users and tokens needs a token that is not limited to environments"
                    ),
                ),
            ),
        ]
    }
}

/// The `jti` of a JWT we issued (its record's id).
pub fn jti(token: &str) -> String {
    use base64_payload::decode;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&decode(payload)).unwrap();
    claims["jti"].as_str().unwrap().to_owned()
}

/// Base64url without padding, enough to read a JWT's payload in tests.
mod base64_payload {
    pub fn decode(text: &str) -> Vec<u8> {
        let value = |c: u8| -> u32 {
            match c {
                b'A'..=b'Z' => u32::from(c - b'A'),
                b'a'..=b'z' => u32::from(c - b'a') + 26,
                b'0'..=b'9' => u32::from(c - b'0') + 52,
                b'-' => 62,
                b'_' => 63,
                _ => panic!("not base64url: {c}"),
            }
        };
        let mut out = Vec::new();
        let (mut buffer, mut bits) = (0u32, 0);
        for &c in text.as_bytes() {
            buffer = (buffer << 6) | value(c);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((buffer >> bits) as u8);
                buffer &= (1 << bits) - 1;
            }
        }
        out
    }
}
