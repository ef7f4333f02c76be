//! The extractors end to end over a fake store: every way in, every way
//! out, the cache, and what gets logged.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::{HeaderValue, Request, StatusCode};
use axum::routing::get;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use time::Duration;
use tower::ServiceExt;

use super::*;
use crate::auth::clock::ManualClock;
use crate::auth::password::tests::cheap;
use crate::auth::testing::{
    CREATED, FakeStore, api_token, b64url, integration_token, sdk_key, user,
};
use crate::auth::{CACHE_TTL, Clock, Keys, LoggedIn, STALE_GRACE};
use crate::store::{Role, Store, WriteMeta};

const SECRET: &[u8] = b"extractor-tests-secret-of-at-least-32-bytes";

struct Fixture {
    state: AuthState,
    store: Arc<FakeStore>,
    clock: Arc<ManualClock>,
}

fn fixture() -> Fixture {
    let store = Arc::new(FakeStore::default());
    for (name, role) in [
        ("ada", Role::Admin),
        ("eve", Role::Editor),
        ("vic", Role::Viewer),
    ] {
        store.add_user(user(name, role));
    }
    store.add_token(api_token("t-editor"));
    store.add_token(crate::store::TokenRecord {
        role: Some(Role::Viewer),
        ..api_token("t-viewer")
    });
    store.add_token(crate::store::TokenRecord {
        environments: vec!["development".into(), "staging".into()],
        ..api_token("t-staging")
    });
    store.add_token(integration_token("i-alerts"));
    store.add_token(sdk_key("k-prod", "default", "production"));
    let clock = Arc::new(ManualClock::new(CREATED + Duration::hours(1)));
    let state = AuthState::new(Keys::new(SECRET).unwrap(), store.clone(), clock.clone())
        .with_passwords(cheap());
    Fixture {
        state,
        store,
        clock,
    }
}

impl Fixture {
    fn token(&self, id: &str) -> String {
        let record = self.store.tokens.lock().unwrap()[id].clone();
        self.state.keys().issue_token(&record).unwrap()
    }

    fn session(&self, username: &str) -> String {
        let user = self.store.users.lock().unwrap()[username].clone();
        self.state
            .keys()
            .issue_session(&user, self.state.clock())
            .unwrap()
    }

    async fn revoke(&self, id: &str) {
        let meta = WriteMeta {
            actor: "user:ada".into(),
            reason: None,
            at: self.clock.now(),
            expected_version: None,
        };
        self.store.revoke_token(id, &meta).await.unwrap();
    }
}

fn bearer(token: &str) -> HeaderMap {
    header(AUTHORIZATION, &format!("Bearer {token}"))
}

fn header(name: axum::http::HeaderName, value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(name, HeaderValue::from_str(value).unwrap());
    headers
}

async fn extract<T>(state: &AuthState, headers: HeaderMap) -> Result<T, ApiError>
where
    T: FromRequestParts<AuthState, Rejection = ApiError>,
{
    let (mut parts, ()) = Request::builder().body(()).unwrap().into_parts();
    parts.headers = headers;
    T::from_request_parts(&mut parts, state).await
}

/// The status and message of a refusal.
#[track_caller]
fn refused<T: std::fmt::Debug>(result: Result<T, ApiError>) -> (StatusCode, String) {
    let err = result.expect_err("expected a refusal");
    (err.status_code(), err.to_string())
}

fn unauthorized(message: &str) -> (StatusCode, String) {
    (StatusCode::UNAUTHORIZED, message.to_string())
}

/// A token signed with the fixture's secret, any claims, any header alg.
fn signed(alg: Algorithm, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(SECRET)).unwrap()
}

fn editor_claims(f: &Fixture) -> Value {
    let now = f.clock.now().unix_timestamp();
    json!({"sub": "t-editor", "jti": "t-editor", "iss": "vexil", "aud": "vexil:api",
           "iat": now, "exp": now + 3600, "kind": "api", "role": "editor"})
}

async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

// ---- accepted ----

#[tokio::test]
async fn sessions_are_users_with_their_current_role() {
    let f = fixture();
    let principal: Principal = extract(&f.state, bearer(&f.session("ada"))).await.unwrap();
    assert_eq!(principal, Principal::user("ada", Role::Admin));
    assert_eq!(principal.actor(), "user:ada");
    // Demoted after login: the store's role counts, once the cache lets go.
    let session = f.session("eve");
    f.store.update_user("eve", |u| u.role = Role::Viewer);
    f.state.cache().invalidate_user("eve");
    let principal: Principal = extract(&f.state, bearer(&session)).await.unwrap();
    assert_eq!(principal.role(), Role::Viewer);
}

#[tokio::test]
async fn api_tokens_are_principals_and_their_use_is_recorded() {
    let f = fixture();
    let principal: Principal = extract(&f.state, bearer(&f.token("t-staging")))
        .await
        .unwrap();
    assert_eq!(principal.actor(), "token:t-staging");
    assert_eq!(principal.role(), Role::Editor);
    assert_eq!(
        principal.environments(),
        Some(&["development".to_string(), "staging".to_string()][..])
    );
    settle().await;
    assert_eq!(
        f.store.touches(),
        vec![("t-staging".to_string(), f.clock.now())]
    );
}

#[tokio::test]
async fn sdk_keys_come_as_bearer_or_as_a_websocket_subprotocol() {
    let f = fixture();
    let key = f.token("k-prod");
    let expected = SdkKey::new("k-prod", "default", "production");
    assert_eq!(
        extract::<SdkKey>(&f.state, bearer(&key)).await.unwrap(),
        expected
    );
    for protocols in [
        format!("vexil.{key}"),
        format!("vexil, vexil.{key}"),
        format!("vexil,vexil.{key} "),
    ] {
        let headers = header(SEC_WEBSOCKET_PROTOCOL, &protocols);
        assert_eq!(
            extract::<SdkKey>(&f.state, headers).await.unwrap(),
            expected,
            "{protocols}"
        );
    }
    // Only SDK keys come that way.
    let headers = header(
        SEC_WEBSOCKET_PROTOCOL,
        &format!("vexil.{}", f.token("t-editor")),
    );
    assert_eq!(
        refused(extract::<Principal>(&f.state, headers).await).1,
        AuthError::Missing.to_string()
    );
    let headers = header(SEC_WEBSOCKET_PROTOCOL, "vexil, vexil.");
    assert_eq!(
        refused(extract::<SdkKey>(&f.state, headers).await).0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn integration_tokens_post_health_events_only() {
    let f = fixture();
    let token = f.token("i-alerts");
    let integration: IntegrationToken = extract(&f.state, bearer(&token)).await.unwrap();
    assert_eq!(
        (integration.id(), integration.name()),
        ("i-alerts", "i-alerts name")
    );
    assert_eq!(integration.actor(), "token:i-alerts");
    let (status, message) = refused(extract::<Principal>(&f.state, bearer(&token)).await);
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(message.contains("may only post health events"), "{message}");
    let (status, message) =
        refused(extract::<IntegrationToken>(&f.state, bearer(&f.token("t-editor"))).await);
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(message.contains("takes an integration token"), "{message}");
}

// ---- bad, expired, foreign tokens ----

#[tokio::test]
async fn expired_tokens_are_refused() {
    let f = fixture();
    let session = f.session("ada");
    f.clock.advance(Duration::hours(1) + Duration::seconds(29));
    extract::<Principal>(&f.state, bearer(&session))
        .await
        .unwrap();
    f.clock.advance(Duration::seconds(1));
    assert_eq!(
        refused(extract::<Principal>(&f.state, bearer(&session)).await),
        unauthorized("token expired")
    );
    // A stored token expires with its record.
    let key = f.token("k-prod");
    f.clock
        .set(CREATED + Duration::days(90) + Duration::seconds(30));
    assert_eq!(
        refused(extract::<SdkKey>(&f.state, bearer(&key)).await),
        unauthorized("token expired")
    );
}

#[tokio::test]
async fn not_yet_valid_tokens_are_refused() {
    let f = fixture();
    let mut claims = editor_claims(&f);
    claims["nbf"] = json!(f.clock.now().unix_timestamp() + 300);
    let token = signed(Algorithm::HS256, &claims);
    assert_eq!(
        refused(extract::<Principal>(&f.state, bearer(&token)).await),
        unauthorized("token not valid yet")
    );
    f.clock.advance(Duration::seconds(300));
    extract::<Principal>(&f.state, bearer(&token))
        .await
        .unwrap();
}

#[tokio::test]
async fn forged_and_foreign_tokens_are_refused() {
    let f = fixture();
    let claims = editor_claims(&f);
    // The hand-made unsigned token.
    let none = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(claims.to_string().as_bytes())
    );
    // Signed with another install's key.
    let foreign = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"someone else's secret, 32 bytes long"),
    )
    .unwrap();
    let mut wrong_issuer = claims.clone();
    wrong_issuer["iss"] = json!("acme");
    for (token, reason) in [
        (none, "malformed header or claims"),
        (foreign, "signature does not match"),
        (
            signed(Algorithm::HS512, &claims),
            "algorithm not accepted (HS256 only)",
        ),
        (
            signed(Algorithm::HS384, &claims),
            "algorithm not accepted (HS256 only)",
        ),
        (signed(Algorithm::HS256, &wrong_issuer), "wrong issuer"),
    ] {
        assert_eq!(
            refused(extract::<Principal>(&f.state, bearer(&token)).await),
            unauthorized(&format!("invalid token: {reason}"))
        );
    }
    // The untampered claims are fine: only the forgeries were refused.
    extract::<Principal>(&f.state, bearer(&signed(Algorithm::HS256, &claims)))
        .await
        .unwrap();
    assert_eq!(
        f.store.token_reads.load(Ordering::SeqCst),
        1,
        "forgeries never reach the store"
    );
}

#[tokio::test]
async fn rs256_with_the_secret_as_public_key_is_refused() {
    let f = fixture();
    let message = format!(
        "{}.{}",
        b64url(br#"{"alg":"RS256","typ":"JWT"}"#),
        b64url(editor_claims(&f).to_string().as_bytes())
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(SECRET),
        Algorithm::HS256,
    )
    .unwrap();
    let token = format!("{message}.{signature}");
    assert_eq!(
        refused(extract::<Principal>(&f.state, bearer(&token)).await),
        unauthorized("invalid token: algorithm not accepted (HS256 only)")
    );
}

#[tokio::test]
async fn each_kind_only_where_it_belongs() {
    let f = fixture();
    let (status, message) =
        refused(extract::<Principal>(&f.state, bearer(&f.token("k-prod"))).await);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        message,
        "wrong kind of token: this endpoint takes a user session or an API token, not an SDK key"
    );
    let (status, message) =
        refused(extract::<SdkKey>(&f.state, bearer(&f.token("t-editor"))).await);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        message.ends_with("takes an SDK key, not an API or integration token"),
        "{message}"
    );
    let (status, _) = refused(extract::<SdkKey>(&f.state, bearer(&f.session("ada"))).await);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) =
        refused(extract::<IntegrationToken>(&f.state, bearer(&f.session("ada"))).await);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn missing_and_garbled_headers_are_refused() {
    let f = fixture();
    let missing = AuthError::Missing.to_string();
    let malformed = AuthError::Malformed.to_string();
    assert_eq!(
        refused(extract::<Principal>(&f.state, HeaderMap::new()).await),
        unauthorized(&missing)
    );
    assert_eq!(
        refused(extract::<SdkKey>(&f.state, HeaderMap::new()).await),
        unauthorized(&missing)
    );
    let token = f.token("t-editor");
    for value in [
        "Bearer".to_string(),
        "Bearer ".to_string(),
        "Basic dXNlcjpwYXNz".to_string(),
        format!("Token {token}"),
        format!("Bearer {token} extra"),
        token.clone(),
    ] {
        assert_eq!(
            refused(extract::<Principal>(&f.state, header(AUTHORIZATION, &value)).await),
            unauthorized(&malformed),
            "{value}"
        );
    }
    let mut twice = bearer(&token);
    twice.append(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    assert_eq!(
        refused(extract::<Principal>(&f.state, twice).await),
        unauthorized(&malformed)
    );
    let mut binary = HeaderMap::new();
    binary.insert(
        AUTHORIZATION,
        HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
    );
    assert_eq!(
        refused(extract::<Principal>(&f.state, binary).await),
        unauthorized(&malformed)
    );
    for garbage in ["x", "a.b.c", "...."] {
        let (status, message) = refused(extract::<Principal>(&f.state, bearer(garbage)).await);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(message.starts_with("invalid token: "), "{message}");
    }
    // The scheme is case-insensitive, surrounding space is ignored.
    extract::<Principal>(
        &f.state,
        header(AUTHORIZATION, &format!("bearer  {token} ")),
    )
    .await
    .unwrap();
}

// ---- revocation, users, the store ----

#[tokio::test]
async fn revoked_tokens_stop_at_once_here_and_within_the_ttl_elsewhere() {
    let f = fixture();
    let key = f.token("k-prod");
    extract::<SdkKey>(&f.state, bearer(&key)).await.unwrap();
    f.revoke("k-prod").await;
    // Another replica revoked it: this one still trusts its cache for the TTL...
    extract::<SdkKey>(&f.state, bearer(&key)).await.unwrap();
    f.clock.advance(CACHE_TTL);
    assert_eq!(
        refused(extract::<SdkKey>(&f.state, bearer(&key)).await),
        unauthorized("token revoked")
    );

    // ...while the replica that revoked it invalidates its cache at once.
    let token = f.token("t-editor");
    extract::<Principal>(&f.state, bearer(&token))
        .await
        .unwrap();
    f.revoke("t-editor").await;
    f.state.cache().invalidate_token("t-editor");
    assert_eq!(
        refused(extract::<Principal>(&f.state, bearer(&token)).await),
        unauthorized("token revoked")
    );
    assert_eq!(AuthError::Revoked.close_code(), 4403);
}

#[tokio::test]
async fn deleted_tokens_are_unknown() {
    let f = fixture();
    let token = f.token("t-editor");
    f.store.tokens.lock().unwrap().remove("t-editor");
    assert_eq!(
        refused(extract::<Principal>(&f.state, bearer(&token)).await),
        unauthorized("unknown token")
    );
}

#[tokio::test]
async fn tokens_must_match_their_record() {
    let f = fixture();
    let token = f.token("t-editor");
    f.store
        .tokens
        .lock()
        .unwrap()
        .get_mut("t-editor")
        .unwrap()
        .role = Some(Role::Admin);
    assert_eq!(
        refused(extract::<Principal>(&f.state, bearer(&token)).await),
        unauthorized("invalid token: token does not match its record")
    );
}

#[tokio::test]
async fn disabled_deleted_and_recreated_users_lose_their_sessions() {
    let f = fixture();
    let session = f.session("eve");
    extract::<Principal>(&f.state, bearer(&session))
        .await
        .unwrap();
    f.store.update_user("eve", |u| u.disabled = true);
    f.state.cache().invalidate_user("eve");
    assert_eq!(
        refused(extract::<Principal>(&f.state, bearer(&session)).await),
        unauthorized("user is disabled")
    );

    let session = f.session("vic");
    f.store.users.lock().unwrap().remove("vic");
    let gone = unauthorized("the session's user no longer exists");
    assert_eq!(
        refused(extract::<Principal>(&f.state, bearer(&session)).await),
        gone
    );
    // Someone else gets the name later: the old session is not theirs.
    f.clock.advance(Duration::minutes(5));
    f.store.add_user(crate::store::UserRecord {
        created_at: f.clock.now(),
        ..user("vic", Role::Admin)
    });
    assert_eq!(
        refused(extract::<Principal>(&f.state, bearer(&session)).await),
        gone
    );
}

#[tokio::test]
async fn the_cache_spares_the_store() {
    let f = fixture();
    let key = f.token("k-prod");
    for _ in 0..100 {
        extract::<SdkKey>(&f.state, bearer(&key)).await.unwrap();
    }
    assert_eq!(f.store.token_reads.load(Ordering::SeqCst), 1);
    f.clock.advance(CACHE_TTL);
    extract::<SdkKey>(&f.state, bearer(&key)).await.unwrap();
    assert_eq!(f.store.token_reads.load(Ordering::SeqCst), 2);
    let session = f.session("ada");
    for _ in 0..10 {
        extract::<Principal>(&f.state, bearer(&session))
            .await
            .unwrap();
    }
    assert_eq!(f.store.user_reads.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn last_use_is_recorded_at_most_once_a_minute() {
    let f = fixture();
    let key = f.token("k-prod");
    let start = f.clock.now();
    for _ in 0..5 {
        extract::<SdkKey>(&f.state, bearer(&key)).await.unwrap();
        f.clock.advance(Duration::seconds(10));
    }
    settle().await;
    assert_eq!(f.store.touches(), vec![("k-prod".to_string(), start)]);
    f.clock.advance(Duration::seconds(20));
    extract::<SdkKey>(&f.state, bearer(&key)).await.unwrap();
    settle().await;
    assert_eq!(f.store.touches().len(), 2);
}

#[tokio::test]
async fn a_failing_store_falls_back_to_recent_answers_only() {
    let f = fixture();
    let key = f.token("k-prod");
    extract::<SdkKey>(&f.state, bearer(&key)).await.unwrap();
    f.store.failing.store(true, Ordering::SeqCst);
    f.clock.advance(CACHE_TTL + Duration::minutes(1));
    extract::<SdkKey>(&f.state, bearer(&key)).await.unwrap();
    f.clock.advance(STALE_GRACE);
    let (status, message) = refused(extract::<SdkKey>(&f.state, bearer(&key)).await);
    assert_eq!(
        (status, message.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    );
    let (status, _) = refused(extract::<Principal>(&f.state, bearer(&f.session("ada"))).await);
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
}

// ---- permissions through the extractors ----

#[tokio::test]
async fn permissions() {
    let f = fixture();
    let viewer: Principal = extract(&f.state, bearer(&f.session("vic"))).await.unwrap();
    assert_eq!(refused(viewer.require_editor()).0, StatusCode::FORBIDDEN);
    let viewer_token: Principal = extract(&f.state, bearer(&f.token("t-viewer")))
        .await
        .unwrap();
    assert_eq!(
        refused(viewer_token.require_env_write("default", "staging")).0,
        StatusCode::FORBIDDEN
    );
    let editor: Principal = extract(&f.state, bearer(&f.session("eve"))).await.unwrap();
    editor.require_env_write("default", "production").unwrap();
    assert_eq!(refused(editor.require_admin()).0, StatusCode::FORBIDDEN);
    let staging: Principal = extract(&f.state, bearer(&f.token("t-staging")))
        .await
        .unwrap();
    staging.require_env_write("default", "staging").unwrap();
    let (status, message) = refused(staging.require_env_write("default", "production"));
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        message.contains("may not change environment `production`"),
        "{message}"
    );
    let key: SdkKey = extract(&f.state, bearer(&f.token("k-prod"))).await.unwrap();
    key.require_environment("default", "production").unwrap();
    assert_eq!(
        refused(key.require_environment("default", "staging")).0,
        StatusCode::FORBIDDEN
    );
}

/// The app's state, as handlers see it: auth is one part of it.
#[derive(Clone)]
struct App {
    auth: AuthState,
}

impl FromRef<App> for AuthState {
    fn from_ref(app: &App) -> Self {
        app.auth.clone()
    }
}

#[tokio::test]
async fn handlers_answer_in_the_api_error_shape() {
    async fn edit(principal: Principal) -> Result<String, ApiError> {
        principal.require_editor()?;
        Ok(principal.actor())
    }
    async fn snapshot(key: SdkKey) -> String {
        key.environment().to_string()
    }
    let f = fixture();
    let app = Router::new()
        .route("/edit", get(edit))
        .route("/snapshot", get(snapshot))
        .with_state(App {
            auth: f.state.clone(),
        });
    let call = |path: &str, token: Option<String>| {
        let mut request = Request::builder().uri(path);
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let app = app.clone();
        let request = request.body(Body::empty()).unwrap();
        async move {
            let response = app.oneshot(request).await.unwrap();
            let status = response.status();
            let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
            (status, String::from_utf8(body.to_vec()).unwrap())
        }
    };
    assert_eq!(
        call("/edit", Some(f.session("eve"))).await,
        (StatusCode::OK, "user:eve".into())
    );
    assert_eq!(
        call("/snapshot", Some(f.token("k-prod"))).await,
        (StatusCode::OK, "production".into())
    );
    let (status, body) = call("/edit", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, body) = call("/edit", Some(f.session("vic"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
    assert_eq!(
        call("/snapshot", Some(f.session("ada"))).await.0,
        StatusCode::UNAUTHORIZED
    );
}

// ---- login ----

#[tokio::test]
async fn login_issues_sessions_and_says_little_on_failure() {
    let f = fixture();
    let hash = f.state.passwords().hash("correct horse battery").unwrap();
    f.store
        .update_user("eve", |u| u.password_hash = hash.clone());
    f.store.update_user("vic", |u| {
        u.password_hash = hash.clone();
        u.disabled = true;
    });
    let logged_in = f.state.login("eve", "correct horse battery").await.unwrap();
    assert_eq!(logged_in.expires_at, f.clock.now() + Duration::hours(1));
    assert!(!format!("{logged_in:?}").contains(&logged_in.token));
    let principal: Principal = extract(&f.state, bearer(&logged_in.token)).await.unwrap();
    assert_eq!(principal.actor(), "user:eve");

    let refused_login = |result: Result<LoggedIn, ApiError>| refused(result);
    let bad = unauthorized("invalid username or password");
    assert_eq!(
        refused_login(f.state.login("eve", "wrong password!").await),
        bad
    );
    assert_eq!(
        refused_login(f.state.login("nobody", "correct horse battery").await),
        bad
    );
    assert_eq!(
        refused_login(f.state.login("ada", "correct horse battery").await),
        bad,
        "empty hash"
    );
    assert_eq!(
        refused_login(f.state.login("vic", "correct horse battery").await),
        unauthorized("this account is disabled")
    );
    assert_eq!(
        refused_login(f.state.login("vic", "wrong password!").await),
        bad
    );
}

// ---- logs ----

/// Collects everything logged while it is the default subscriber.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every refusal the log test expects, on a fresh fixture; returns the
/// credentials it used, which must never be logged.
async fn refuse_everything() -> [String; 5] {
    let f = fixture();
    let key = f.token("k-prod");
    let session = f.session("vic");
    let api = f.token("t-staging");
    let claims = editor_claims(&f);
    let unsigned = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(claims.to_string().as_bytes())
    );
    let foreign = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"someone else's secret, 32 bytes long"),
    )
    .unwrap();
    let _ = extract::<Principal>(&f.state, bearer(&unsigned)).await;
    let _ = extract::<Principal>(&f.state, bearer(&foreign)).await;
    f.revoke("k-prod").await;
    let _ = extract::<SdkKey>(&f.state, bearer(&key)).await;
    let _ = extract::<Principal>(&f.state, bearer(&key)).await;
    let _ = extract::<Principal>(&f.state, header(AUTHORIZATION, "Basic c2VjcmV0")).await;
    let viewer: Principal = extract(&f.state, bearer(&session)).await.unwrap();
    let _ = viewer.require_editor();
    let staging: Principal = extract(&f.state, bearer(&api)).await.unwrap();
    let _ = staging.require_env_write("default", "production");
    f.clock.advance(Duration::hours(2));
    let _ = extract::<Principal>(&f.state, bearer(&session)).await;
    let _ = f.state.login("nobody", "hunter2hunter2").await;
    [key, session, api, unsigned, foreign]
}

#[tokio::test]
async fn refusals_are_logged_with_reason_and_subject_never_the_token() {
    // tracing registers a callsite on its first hit and caches whether any
    // subscriber wants its events. While a single dispatcher is
    // registered, that question goes to the *hitting thread's* default
    // subscriber, so a callsite another test's thread hits first would be
    // cached as "never" and this test's events through it lost. A second
    // registered dispatcher (wanting nothing) makes tracing ask every
    // registered dispatcher instead, this test's included, for as long as
    // both live; it is registered first so that there is no window.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let [key, session, api, unsigned, foreign] = refuse_everything().await;

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "reason=token revoked subject=token:k-prod",
        "reason=wrong kind of token",
        "reason=malformed credentials",
        "actor=user:vic",
        "actor=token:t-staging",
        "reason=token expired subject=user:vic",
        "login refused reason=\"unknown user\"",
        "reason=invalid token: malformed header or claims",
        "reason=invalid token: signature does not match",
    ] {
        assert!(logs.contains(expected), "missing {expected:?} in:\n{logs}");
    }
    for secret in [
        key.as_str(),
        session.as_str(),
        api.as_str(),
        unsigned.as_str(),
        foreign.as_str(),
        "c2VjcmV0",
        "hunter2",
        "nobody",
    ] {
        assert!(!logs.contains(secret), "{secret:?} was logged:\n{logs}");
    }
    // Nor any part of a token: its signature.
    for token in [&key, &session, &api, &foreign] {
        assert!(!logs.contains(token.rsplit('.').next().unwrap()));
    }
}

#[tokio::test]
async fn verified_tokens_are_remembered_byte_for_byte() {
    let f = fixture();
    let key = f.token("k-prod");
    assert!(f.state.cache().verified(&key).is_none());
    extract::<SdkKey>(&f.state, bearer(&key)).await.unwrap();
    let remembered = f.state.cache().verified(&key).expect("remembered");
    assert_eq!(remembered.jti, "k-prod");
    extract::<SdkKey>(&f.state, bearer(&key)).await.unwrap();

    // One character of the signature changed: checked on its own, refused,
    // and not remembered.
    let at = key.len() - 10;
    let swapped = if &key[at..=at] == "A" { "B" } else { "A" };
    let forged = format!("{}{swapped}{}", &key[..at], &key[at + 1..]);
    assert_eq!(
        refused(extract::<SdkKey>(&f.state, bearer(&forged)).await),
        unauthorized("invalid token: signature does not match")
    );
    assert!(f.state.cache().verified(&forged).is_none());
}
