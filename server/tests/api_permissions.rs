//! Who may call the flag, config, segment and change-log endpoints:
//! viewers read, editors write, environment-limited API tokens write only
//! their environments' configs, SDK keys and anonymous callers get 401, as
//! do expired, unsigned (`alg: none`), foreign-key and revoked credentials.
//! Refusals change nothing, and come before the body is even read.

mod api_support;
mod common;

use api_support::*;
use common::{TestServer, json};
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use vexil_server::auth::{AuthState, Clock, SystemClock};
use vexil_server::store::sqlite::SqliteStore;
use vexil_server::store::{Role, TokenFilter, TokenKind};

/// Every write endpoint, with a valid body (`None` for DELETE).
fn writes() -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::POST, flags_path(), Some(boolean_flag("fresh"))),
        (
            Method::PUT,
            flag_path("checkout"),
            Some(boolean_flag("checkout")),
        ),
        (
            Method::PATCH,
            flag_path("checkout"),
            Some(json!({"name": "x"})),
        ),
        (
            Method::PATCH,
            flag_path("checkout"),
            Some(json!({"archived": true})),
        ),
        (Method::DELETE, flag_path("checkout"), None),
        (
            Method::PUT,
            config_path("checkout", "production"),
            Some(serving("off", "on")),
        ),
        (
            Method::POST,
            toggle_path("checkout", "production"),
            Some(json!({"enabled": true})),
        ),
        (
            Method::POST,
            format!("{PROJECT}/segments"),
            Some(segment("fresh")),
        ),
        (Method::PUT, segment_path("beta"), Some(segment("beta"))),
        (Method::DELETE, segment_path("beta"), None),
    ]
}

/// Every read endpoint.
fn reads() -> Vec<String> {
    vec![
        flags_path(),
        flag_path("checkout"),
        config_path("checkout", "production"),
        format!("{PROJECT}/segments"),
        segment_path("beta"),
        format!("{PROJECT}/changes"),
    ]
}

async fn setup() -> TestServer {
    let server = TestServer::start().await;
    create_flag(&server, &boolean_flag("checkout")).await;
    create_segment(&server, &segment("beta")).await;
    server
}

/// What a refused request must not have changed.
async fn state(server: &TestServer) -> (Value, Value, Value, u64) {
    (
        get(server, &flag_path("checkout")).await.1,
        get(server, &config_path("checkout", "production")).await.1,
        get(server, &segment_path("beta")).await.1,
        change_count(server).await,
    )
}

async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = server.request(method, path, bearer);
    if let Some(body) = body {
        request = request.json(body);
    }
    json(request.send().await.unwrap()).await
}

#[tokio::test]
async fn viewers_read_everything_and_write_nothing() {
    let server = setup().await;
    let viewer = server.user("val", Role::Viewer).await;
    let before = state(&server).await;
    for path in reads() {
        let (status, body) = call(&server, Method::GET, &path, Some(&viewer), None).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let refused = error(
        "forbidden",
        "user:val has the viewer role, which is read-only; this needs the editor or admin role",
    );
    for (method, path, body) in writes() {
        let response = call(&server, method.clone(), &path, Some(&viewer), body.as_ref()).await;
        assert_eq!(response, (403, refused.clone()), "{method} {path}");
        // The right is checked before the body is read.
        if body.is_some() {
            let response = send_raw(
                &server,
                method.clone(),
                &path,
                &viewer,
                Some("text/plain"),
                b"{".to_vec(),
            )
            .await;
            assert_eq!(
                response,
                (403, refused.clone()),
                "{method} {path} with a bad body"
            );
        }
    }
    assert_eq!(state(&server).await, before);
}

#[tokio::test]
async fn an_environment_limited_token_writes_only_its_environments_configs() {
    let server = setup().await;
    let token = server
        .token(TokenKind::Api, Some(Role::Editor), None, &["staging"])
        .await;
    let filter = TokenFilter {
        kind: Some(TokenKind::Api),
        ..TokenFilter::default()
    };
    let id = server.store.list_tokens(&filter).await.unwrap()[0]
        .id
        .clone();
    let before = state(&server).await;

    let production = error(
        "forbidden",
        &format!(
            "token:{id} may not change environment `production` of project `default`; it may only change `staging`"
        ),
    );
    let everywhere = error(
        "forbidden",
        &format!(
            "token:{id} may only change `staging`; changing flag definitions and segments needs a token that is not limited to environments"
        ),
    );
    for (method, path, body) in writes() {
        let expected = if path.contains("/environments/production") {
            &production
        } else {
            &everywhere
        };
        let response = call(&server, method.clone(), &path, Some(&token), body.as_ref()).await;
        assert_eq!(response, (403, expected.clone()), "{method} {path}");
    }
    assert_eq!(state(&server).await, before);

    // Staging is its to change, and the log says it was this token.
    let versions_before = versions(&server).await;
    let (status, stored) = call(
        &server,
        Method::PUT,
        &config_path("checkout", "staging"),
        Some(&token),
        Some(&serving("off", "on")),
    )
    .await;
    assert_eq!(
        (status, stored["version"].clone()),
        (200, json!(2)),
        "{stored}"
    );
    let (status, toggled) = call(
        &server,
        Method::POST,
        &toggle_path("checkout", "staging"),
        Some(&token),
        Some(&json!({"enabled": false, "reason": "pause"})),
    )
    .await;
    assert_eq!((status, toggled["enabled"].clone()), (200, json!(false)));
    let change = newest_change(&server).await;
    assert_eq!(change["actor"], format!("token:{id}"));
    assert_eq!(change["reason"], "pause");
    let mut expected = versions_before.clone();
    *expected.get_mut("staging").unwrap() += 2;
    assert_eq!(versions(&server).await, expected);
    // It reads everything.
    for path in reads() {
        let (status, _) = call(&server, Method::GET, &path, Some(&token), None).await;
        assert_eq!(status, 200, "{path}");
    }
}

#[tokio::test]
async fn sdk_keys_integration_tokens_and_anonymous_callers_are_refused() {
    let server = setup().await;
    let sdk_key = server.sdk_key("default", "production").await;
    let integration = server.token(TokenKind::Integration, None, None, &[]).await;
    let before = state(&server).await;

    let anonymous = error(
        "unauthorized",
        "missing credentials: send `Authorization: Bearer <token>`",
    );
    let sdk = error(
        "unauthorized",
        "wrong kind of token: this endpoint takes a user session or an API token, not an SDK key",
    );
    let health_only = error(
        "forbidden",
        "integration tokens may only post health events (alerts and deploys)",
    );
    let mut calls: Vec<(Method, String, Option<Value>)> = writes();
    calls.extend(reads().into_iter().map(|path| (Method::GET, path, None)));
    for (method, path, body) in calls {
        let response = call(&server, method.clone(), &path, None, body.as_ref()).await;
        assert_eq!(
            response,
            (401, anonymous.clone()),
            "anonymous {method} {path}"
        );
        let response = call(
            &server,
            method.clone(),
            &path,
            Some(&sdk_key),
            body.as_ref(),
        )
        .await;
        assert_eq!(response, (401, sdk.clone()), "SDK key {method} {path}");
        let response = call(
            &server,
            method.clone(),
            &path,
            Some(&integration),
            body.as_ref(),
        )
        .await;
        assert_eq!(
            response,
            (403, health_only.clone()),
            "integration {method} {path}"
        );
    }
    assert_eq!(state(&server).await, before);
}

/// A clock two hours behind: sessions it issues have expired.
#[derive(Debug)]
struct TwoHoursAgo;

impl Clock for TwoHoursAgo {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() - time::Duration::hours(2)
    }
}

#[tokio::test]
async fn expired_forged_foreign_and_revoked_credentials_write_nothing() {
    let server = setup().await;
    let admin = server.store.get_user("admin").await.unwrap();
    let expired = server
        .auth
        .keys()
        .issue_session(&admin, &TwoHoursAgo)
        .unwrap();
    // The admin's own claims, unsigned (`alg: none`).
    let claims = server.admin.split('.').nth(1).unwrap();
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{claims}.");
    // The admin's name, signed with another install's key.
    let other_path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("other-install-{}.db", uuid::Uuid::new_v4()));
    let other_store = SqliteStore::open(&other_path).await.unwrap();
    let other_keys = AuthState::load_keys(&other_store).await.unwrap();
    let foreign = other_keys.issue_session(&admin, &SystemClock).unwrap();
    // An admin API token, revoked through the API.
    let revoked = server
        .token(TokenKind::Api, Some(Role::Admin), None, &[])
        .await;
    let (status, tokens) = call(
        &server,
        Method::GET,
        "/api/v1/tokens",
        Some(&server.admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let id = tokens["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = call(
        &server,
        Method::DELETE,
        &format!("/api/v1/tokens/{id}"),
        Some(&server.admin),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let before = state(&server).await;

    let cases = [
        (expired, "token expired"),
        (unsigned, "invalid token: malformed header or claims"),
        (foreign, "invalid token: signature does not match"),
        (revoked, "token revoked"),
    ];
    for (token, message) in &cases {
        for (method, path, body) in writes() {
            let response = call(&server, method.clone(), &path, Some(token), body.as_ref()).await;
            assert_eq!(
                response,
                (401, error("unauthorized", message)),
                "{message}: {method} {path}"
            );
        }
    }
    assert_eq!(state(&server).await, before);
}
