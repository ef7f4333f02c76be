//! `/api/v1/projects/{project}/environments/{environment}/sdk-keys[/{id}]`.

use axum::http::HeaderMap;
use reqwest::Method;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::common::{TestServer, json};
use crate::support::{
    Credentials, error, expect, fingerprint, invalid, jti, last_change, raw, unchanged,
};

const KEYS: &str = "/api/v1/projects/default/environments/production/sdk-keys";

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    headers
}

fn time(value: &serde_json::Value) -> OffsetDateTime {
    OffsetDateTime::parse(
        value.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

#[tokio::test]
async fn sdk_keys_are_shown_once_listed_and_revoked() {
    let server = TestServer::start().await;
    let created = server
        .request(Method::POST, KEYS, Some(&server.admin))
        .header("x-vexil-reason", "checkout service")
        .json(&json!({"name": "checkout"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["cache-control"], "no-store");
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let (_, body) = json(created).await;
    let key = body["token"].as_str().unwrap().to_owned();
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(jti(&key), id);
    assert_eq!(location, format!("{KEYS}/{id}"));
    assert_eq!(
        (
            &body["kind"],
            &body["name"],
            &body["project"],
            &body["environments"],
            &body["role"],
            &body["created_by"]
        ),
        (
            &json!("sdk"),
            &json!("checkout"),
            &json!("default"),
            &json!(["production"]),
            &json!(null),
            &json!("user:admin")
        )
    );
    assert_eq!(
        time(&body["expires_at"]) - time(&body["created_at"]),
        Duration::days(3650)
    );

    // The key reads its environment.
    let sdk = server.auth.sdk_key(&bearer(&key)).await.unwrap();
    assert_eq!(
        (sdk.project(), sdk.environment()),
        ("default", "production")
    );

    // Lists and reads show the record, never the key.
    let listed = server.get(KEYS).await;
    let text = listed.text().await.unwrap();
    assert!(!text.contains(&key), "the key is shown once");
    let listed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["id"], id.as_str());
    assert!(listed["items"][0].get("token").is_none());
    let (status, one) = json(server.get(&location).await).await;
    assert_eq!(status, 200);
    assert!(one.get("token").is_none());
    assert_eq!(one["id"], id.as_str());
    let (_, other) = json(
        server
            .get("/api/v1/projects/default/environments/staging/sdk-keys")
            .await,
    )
    .await;
    assert_eq!(
        other["total"], 0,
        "keys are listed under their environment only"
    );

    let log = crate::support::changes(&server, Some("default")).await;
    assert_eq!(
        (
            log[0].key.as_str(),
            log[0].actor.as_str(),
            log[0].reason.as_deref()
        ),
        (id.as_str(), "user:admin", Some("checkout service"))
    );
    assert!(
        !serde_json::to_string(&log[0]).unwrap().contains(&key),
        "the change log has no key"
    );

    let revoked = server
        .request(Method::DELETE, &location, Some(&server.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    assert_eq!(
        server
            .auth
            .sdk_key(&bearer(&key))
            .await
            .unwrap_err()
            .to_string(),
        "token revoked"
    );
    assert_eq!(
        last_change(&server, Some("default")).await,
        (
            "token".into(),
            id.clone(),
            "revoked".into(),
            "user:admin".into()
        )
    );
    let (_, listed) = json(server.get(KEYS).await).await;
    assert_eq!(listed["total"], 0);
    let (_, listed) = json(server.get(&format!("{KEYS}?include_revoked=true")).await).await;
    assert_eq!(listed["total"], 1);
    assert!(listed["items"][0]["revoked_at"].is_string());
    // Revoking again changes nothing.
    let before = fingerprint(&server).await;
    let again = server
        .request(Method::DELETE, &location, Some(&server.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 204);
    unchanged(&server, &before).await;
}

#[tokio::test]
async fn a_key_expires_when_asked() {
    let server = TestServer::start().await;
    let body = json!({"name": "demo", "expires_in_days": 7});
    let (status, body) = json(server.send(Method::POST, KEYS, &server.admin, &body).await).await;
    assert_eq!(status, 201);
    assert_eq!(
        time(&body["expires_at"]) - time(&body["created_at"]),
        Duration::days(7)
    );
}

#[tokio::test]
async fn bad_sdk_key_requests_change_nothing() {
    let server = TestServer::start().await;
    let admin = server.admin.clone();
    let api_token = server
        .token(
            vexil_server::store::TokenKind::Api,
            Some(vexil_server::store::Role::Viewer),
            None,
            &[],
        )
        .await;
    let staging_key = server.sdk_key("default", "staging").await;
    let before = fingerprint(&server).await;
    let post = async |path: &'static str, body: serde_json::Value| {
        server.send(Method::POST, path, &admin, &body).await
    };

    expect(
        raw(
            &server,
            Method::POST,
            KEYS,
            &admin,
            Some("application/json"),
            "{name: 1}",
        )
        .await,
        400,
        error(
            "bad_request",
            "the request body is not valid JSON: key must be a string at line 1 column 2",
        ),
    )
    .await;
    expect(
        post(KEYS, json!({"name": "x", "environment": "staging"})).await,
        422,
        invalid(&[(
            "/environment",
            "unknown field `environment`, expected `name` or `expires_in_days`",
        )]),
    )
    .await;
    expect(
        post(KEYS, json!({"name": "  ", "expires_in_days": 0})).await,
        422,
        invalid(&[
            ("/name", "must not be empty"),
            ("/expires_in_days", "must be between 1 and 3650 days"),
        ]),
    )
    .await;
    expect(
        post(KEYS, json!({"name": "x", "expires_in_days": 3651})).await,
        422,
        invalid(&[("/expires_in_days", "must be between 1 and 3650 days")]),
    )
    .await;
    expect(
        raw(
            &server,
            Method::POST,
            KEYS,
            &admin,
            Some("text/json"),
            "{\"name\": \"x\"}",
        )
        .await,
        415,
        error(
            "unsupported_media_type",
            "expected a body of type application/json",
        ),
    )
    .await;
    let huge = serde_json::to_vec(&json!({"name": "k".repeat(2 * 1024 * 1024 + 1)})).unwrap();
    expect(
        raw(
            &server,
            Method::POST,
            KEYS,
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
    expect(
        post(
            "/api/v1/projects/nope/environments/production/sdk-keys",
            json!({"name": "x"}),
        )
        .await,
        404,
        error("not_found", "project nope not found"),
    )
    .await;
    expect(
        post(
            "/api/v1/projects/default/environments/nope/sdk-keys",
            json!({"name": "x"}),
        )
        .await,
        404,
        error("not_found", "environment nope not found"),
    )
    .await;
    expect(
        server
            .get("/api/v1/projects/default/environments/nope/sdk-keys")
            .await,
        404,
        error("not_found", "environment nope not found"),
    )
    .await;
    // An id that is not an SDK key of this environment is not here.
    for id in [jti(&staging_key), jti(&api_token), "no-such-id".into()] {
        let path = format!("{KEYS}/{id}");
        let not_found = error("not_found", &format!("SDK key {id} not found"));
        expect(server.get(&path).await, 404, not_found.clone()).await;
        expect(
            server
                .request(Method::DELETE, &path, Some(&admin))
                .send()
                .await
                .unwrap(),
            404,
            not_found,
        )
        .await;
    }
    unchanged(&server, &before).await;
}

#[tokio::test]
async fn sdk_key_refusals_change_nothing() {
    let server = TestServer::start().await;
    let credentials = Credentials::new(&server).await;
    let existing = jti(&credentials.sdk_key);
    let before = fingerprint(&server).await;
    let body = json!({"name": "x"});
    let one = format!("{KEYS}/{existing}");
    let requests = [
        (Method::POST, KEYS, &body),
        (Method::GET, KEYS, &body),
        (Method::GET, one.as_str(), &body),
        (Method::DELETE, one.as_str(), &body),
    ];
    expect(
        server
            .request(Method::POST, KEYS, None)
            .json(&body)
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
    // Editors cannot create SDK keys, nor read them: keys are administration.
    for (who, bearer, answer) in credentials.not_admins() {
        for (method, path, body) in &requests {
            let got = json(server.send(method.clone(), path, bearer, body).await).await;
            assert_eq!(got, (403, answer.clone()), "{who}: {method} {path}");
        }
    }
    unchanged(&server, &before).await;
}
