//! `/api/v1/tokens[/{id}]`.

use reqwest::Method;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::common::{TestServer, json};
use crate::support::{
    Credentials, error, expect, fingerprint, invalid, jti, last_change, raw, unchanged,
};

fn time(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(
        value.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn api_tokens_are_shown_once_work_and_are_revoked() {
    let server = TestServer::start().await;
    let created = server
        .request(Method::POST, "/api/v1/tokens", Some(&server.admin))
        .header("x-vexil-reason", "CI pipeline")
        .json(&json!({"name": "ci", "role": "editor", "environments": ["staging", "development"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["cache-control"], "no-store");
    assert!(
        created.headers().get("etag").is_none(),
        "tokens have no version"
    );
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let (_, body) = json(created).await;
    let token = body["token"].as_str().unwrap().to_owned();
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(jti(&token), id);
    assert_eq!(location, format!("/api/v1/tokens/{id}"));
    assert_eq!(
        (
            &body["kind"],
            &body["role"],
            &body["environments"],
            &body["project"],
            &body["created_by"],
            &body["revoked_at"]
        ),
        (
            &json!("api"),
            &json!("editor"),
            &json!(["staging", "development"]),
            &json!(null),
            &json!("user:admin"),
            &json!(null)
        )
    );
    assert_eq!(
        time(&body["expires_at"]) - time(&body["created_at"]),
        Duration::days(90)
    );
    let log = crate::support::changes(&server, None).await;
    assert_eq!(
        (
            log[0].key.as_str(),
            log[0].actor.as_str(),
            log[0].reason.as_deref()
        ),
        (id.as_str(), "user:admin", Some("CI pipeline"))
    );
    assert!(
        !serde_json::to_string(&log).unwrap().contains(&token),
        "no token in the log"
    );

    // It works, as an editor limited to its environments.
    let read = server
        .request(Method::GET, "/api/v1/projects", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let mint = json!({"name": "escalate", "role": "admin"});
    let (status, _) = json(
        server
            .send(Method::POST, "/api/v1/tokens", &token, &mint)
            .await,
    )
    .await;
    assert_eq!(status, 403);

    let listed = server.get("/api/v1/tokens").await.text().await.unwrap();
    assert!(!listed.contains(&token), "the token is shown once");
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert!(ids(&listed).contains(&id));
    let (status, one) = json(server.get(&location).await).await;
    assert_eq!(status, 200);
    assert!(one.get("token").is_none());
    assert_eq!(one["name"], "ci");

    let revoked = server
        .request(Method::DELETE, &location, Some(&server.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    expect(
        server
            .request(Method::GET, "/api/v1/projects", Some(&token))
            .send()
            .await
            .unwrap(),
        401,
        error("unauthorized", "token revoked"),
    )
    .await;
    assert_eq!(
        last_change(&server, None).await,
        (
            "token".into(),
            id.clone(),
            "revoked".into(),
            "user:admin".into()
        )
    );
    let (_, listed) = json(server.get("/api/v1/tokens").await).await;
    assert!(
        !ids(&listed).contains(&id),
        "revoked tokens are hidden by default"
    );
    let (_, listed) = json(server.get("/api/v1/tokens?include_revoked=true").await).await;
    assert!(ids(&listed).contains(&id));
}

#[tokio::test]
async fn integration_tokens_and_filters() {
    let server = TestServer::start().await;
    let sdk_key = server.sdk_key("default", "production").await;
    let body = json!({"name": "alertmanager", "kind": "integration", "expires_in_days": 3650});
    let (status, created) = json(
        server
            .send(Method::POST, "/api/v1/tokens", &server.admin, &body)
            .await,
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        (&created["kind"], &created["role"]),
        (&json!("integration"), &json!(null))
    );
    assert_eq!(
        time(&created["expires_at"]) - time(&created["created_at"]),
        Duration::days(3650)
    );
    let integration = created["token"].as_str().unwrap();
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        "authorization",
        format!("Bearer {integration}").parse().unwrap(),
    );
    let accepted = server.auth.integration_token(&headers).await.unwrap();
    assert_eq!(accepted.name(), "alertmanager");

    let body = json!({"name": "admin bot", "role": "admin", "expires_in_days": 1});
    let (_, api) = json(
        server
            .send(Method::POST, "/api/v1/tokens", &server.admin, &body)
            .await,
    )
    .await;
    let (_, all) = json(server.get("/api/v1/tokens").await).await;
    assert_eq!(
        ids(&all),
        [created["id"].as_str().unwrap(), api["id"].as_str().unwrap()],
        "no SDK keys here"
    );
    let (_, only) = json(server.get("/api/v1/tokens?kind=integration").await).await;
    assert_eq!(ids(&only), [created["id"].as_str().unwrap()]);
    let (_, page) = json(server.get("/api/v1/tokens?per_page=1&page=2").await).await;
    assert_eq!(
        (ids(&page), page["total"].as_u64()),
        (vec![api["id"].as_str().unwrap().to_owned()], Some(2))
    );
    expect(
        server.get("/api/v1/tokens?kind=sdk").await,
        400,
        error("bad_request", "Failed to deserialize query string: kind: unknown variant `sdk`, expected `api` or `integration`"),
    )
    .await;
    // SDK keys are managed under their environment.
    let sdk_id = jti(&sdk_key);
    let not_found = error("not_found", &format!("token {sdk_id} not found"));
    expect(
        server.get(&format!("/api/v1/tokens/{sdk_id}")).await,
        404,
        not_found.clone(),
    )
    .await;
    let before = fingerprint(&server).await;
    expect(
        server
            .request(
                Method::DELETE,
                &format!("/api/v1/tokens/{sdk_id}"),
                Some(&server.admin),
            )
            .send()
            .await
            .unwrap(),
        404,
        not_found,
    )
    .await;
    unchanged(&server, &before).await;
}

#[tokio::test]
async fn bad_token_requests_change_nothing() {
    let server = TestServer::start().await;
    let admin = server.admin.clone();
    let before = fingerprint(&server).await;
    let post = async |body: Value| {
        server
            .send(Method::POST, "/api/v1/tokens", &admin, &body)
            .await
    };

    expect(
        raw(
            &server,
            Method::POST,
            "/api/v1/tokens",
            &admin,
            Some("application/json"),
            "{\"name\": \"ci\"} {}",
        )
        .await,
        400,
        error(
            "bad_request",
            "the request body is not valid JSON: trailing characters at line 1 column 16",
        ),
    )
    .await;
    expect(
        post(json!({"name": "ci", "role": "editor", "scopes": []})).await,
        422,
        invalid(&[("/scopes", "unknown field `scopes`, expected one of `name`, `kind`, `role`, `environments`, `expires_in_days`")]),
    )
    .await;
    expect(
        post(json!({"name": "ci", "kind": "sdk", "role": "editor"})).await,
        422,
        invalid(&[(
            "/kind",
            "unknown variant `sdk`, expected `api` or `integration`",
        )]),
    )
    .await;
    expect(
        post(json!({"name": "", "environments": ["Prod", "staging", "staging"], "expires_in_days": 0})).await,
        422,
        invalid(&[
            ("/name", "must not be empty"),
            ("/role", "an API token needs a role: viewer, editor or admin"),
            ("/environments/0", "is not a valid environment key"),
            ("/environments/2", "environment `staging` is listed twice"),
            ("/expires_in_days", "must be between 1 and 3650 days"),
        ]),
    )
    .await;
    expect(
        post(json!({"name": "hooks", "kind": "integration", "role": "admin", "environments": ["staging"], "expires_in_days": 3651})).await,
        422,
        invalid(&[
            ("/role", "integration tokens have no role: they may only post health events"),
            ("/environments", "integration tokens cannot be limited to environments"),
            ("/expires_in_days", "must be between 1 and 3650 days"),
        ]),
    )
    .await;
    expect(
        post(json!({"name": "ci", "role": "editor", "expires_in_days": -1})).await,
        422,
        invalid(&[(
            "/expires_in_days",
            "invalid value: integer `-1`, expected u32",
        )]),
    )
    .await;
    expect(
        raw(
            &server,
            Method::POST,
            "/api/v1/tokens",
            &admin,
            Some("text/plain"),
            "{}",
        )
        .await,
        415,
        error(
            "unsupported_media_type",
            "expected a body of type application/json",
        ),
    )
    .await;
    let huge = serde_json::to_vec(&json!({"name": "n".repeat(2 * 1024 * 1024), "role": "viewer"}))
        .unwrap();
    expect(
        raw(
            &server,
            Method::POST,
            "/api/v1/tokens",
            &admin,
            Some("application/json"),
            huge,
        )
        .await,
        413,
        error(
            "payload_too_large",
            "the request body is larger than 2097152 bytes",
        ),
    )
    .await;
    let missing = error("not_found", "token nope not found");
    expect(
        server.get("/api/v1/tokens/nope").await,
        404,
        missing.clone(),
    )
    .await;
    expect(
        server
            .request(Method::DELETE, "/api/v1/tokens/nope", Some(&admin))
            .send()
            .await
            .unwrap(),
        404,
        missing,
    )
    .await;
    expect(
        server.get("/api/v1/tokens?per_page=500").await,
        400,
        error("bad_request", "per_page must be between 1 and 200"),
    )
    .await;
    unchanged(&server, &before).await;
}

#[tokio::test]
async fn token_refusals_change_nothing() {
    let server = TestServer::start().await;
    let credentials = Credentials::new(&server).await;
    let target = jti(&credentials.limited_admin);
    let before = fingerprint(&server).await;
    let new = json!({"name": "mine", "role": "admin"});
    let one = format!("/api/v1/tokens/{target}");
    let requests = [
        (Method::GET, "/api/v1/tokens", &new),
        (Method::POST, "/api/v1/tokens", &new),
        (Method::GET, one.as_str(), &new),
        (Method::DELETE, one.as_str(), &new),
    ];
    expect(
        server
            .request(Method::POST, "/api/v1/tokens", None)
            .json(&new)
            .send()
            .await
            .unwrap(),
        401,
        error(
            "unauthorized",
            "missing credentials: send `Authorization: Bearer <token>`",
        ),
    )
    .await;
    for (who, bearer, status, answer) in credentials.refused_everywhere() {
        for (method, path, body) in &requests {
            let got = json(server.send(method.clone(), path, bearer, body).await).await;
            assert_eq!(got, (status, answer.clone()), "{who}: {method} {path}");
        }
    }
    // Environment-limited admin tokens cannot mint unlimited ones (nor revoke themselves).
    for (who, bearer, answer) in credentials.not_admins() {
        for (method, path, body) in &requests {
            let got = json(server.send(method.clone(), path, bearer, body).await).await;
            assert_eq!(got, (403, answer.clone()), "{who}: {method} {path}");
        }
    }
    unchanged(&server, &before).await;
}
