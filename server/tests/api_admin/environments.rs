//! `/api/v1/projects/{project}/environments[/{environment}]`.

use reqwest::Method;
use serde_json::json;
use vexil_server::store::TokenFilter;

use crate::common::{TestServer, json};
use crate::support::{
    Credentials, error, expect, fingerprint, invalid, last_change, raw, unchanged,
};

const ENVIRONMENTS: &str = "/api/v1/projects/default/environments";

#[tokio::test]
async fn environments_are_created_read_changed_and_deleted() {
    let server = TestServer::start().await;
    let created = server
        .request(Method::POST, ENVIRONMENTS, Some(&server.admin))
        .json(&json!({"key": "qa", "name": "QA"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(
        created.headers()["location"],
        "/api/v1/projects/default/environments/qa"
    );
    assert_eq!(created.headers()["etag"], "\"1\"");
    let (_, body) = json(created).await;
    assert_eq!(
        (
            &body["project"],
            &body["key"],
            &body["name"],
            &body["production"],
            &body["version"]
        ),
        (
            &json!("default"),
            &json!("qa"),
            &json!("QA"),
            &json!(false),
            &json!(1)
        )
    );
    assert_eq!(
        last_change(&server, Some("default")).await,
        (
            "environment".into(),
            "qa".into(),
            "created".into(),
            "user:admin".into()
        )
    );

    let (status, list) = json(server.get(ENVIRONMENTS).await).await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 4);
    assert_eq!(list["items"][3]["key"], "qa");

    let read = server.get(&format!("{ENVIRONMENTS}/qa")).await;
    assert_eq!(read.headers()["etag"], "\"1\"");
    assert_eq!(json(read).await, (200, body));

    let changed = server
        .request(
            Method::PUT,
            &format!("{ENVIRONMENTS}/qa"),
            Some(&server.admin),
        )
        .header("if-match", "\"1\"")
        .header("x-vexil-reason", "QA gates releases now")
        .json(&json!({"name": "Quality", "production": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_eq!(changed.headers()["etag"], "\"2\"");
    let (_, changed) = json(changed).await;
    assert_eq!(
        (&changed["name"], &changed["production"]),
        (&json!("Quality"), &json!(true))
    );
    let log = crate::support::changes(&server, Some("default")).await;
    assert_eq!(log[0].reason.as_deref(), Some("QA gates releases now"));
    assert_eq!(log[0].environment.as_deref(), Some("qa"));

    // Its SDK keys die with it.
    let key = server.sdk_key("default", "qa").await;
    let key_id = crate::support::jti(&key);
    let deleted = server
        .request(
            Method::DELETE,
            &format!("{ENVIRONMENTS}/qa"),
            Some(&server.admin),
        )
        .header("if-match", "2")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    expect(
        server.get(&format!("{ENVIRONMENTS}/qa")).await,
        404,
        error("not_found", "environment qa not found"),
    )
    .await;
    let record = server.store.get_token(&key_id).await.unwrap();
    assert!(record.revoked_at.is_some(), "the SDK key is revoked");
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {key}").parse().unwrap());
    let refused = server.auth.sdk_key(&headers).await.unwrap_err();
    assert_eq!(refused.to_string(), "token revoked");
    let log = crate::support::changes(&server, Some("default")).await;
    let newest: Vec<_> = log
        .iter()
        .take(2)
        .map(|c| {
            (
                c.resource.as_str(),
                c.key.as_str(),
                c.actor.as_str(),
                c.reason.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        newest,
        [
            (
                "token",
                key_id.as_str(),
                "user:admin",
                Some("environment `qa` was deleted")
            ),
            ("environment", "qa", "user:admin", None),
        ]
    );
    let live = TokenFilter::default();
    assert!(
        server
            .store
            .list_tokens(&live)
            .await
            .unwrap()
            .iter()
            .all(|t| t.id != key_id)
    );
}

#[tokio::test]
async fn bad_environment_requests_change_nothing() {
    let server = TestServer::start().await;
    let admin = server.admin.clone();
    let before = fingerprint(&server).await;
    let post = async |path: &'static str, body: serde_json::Value| {
        server.send(Method::POST, path, &admin, &body).await
    };

    expect(
        raw(
            &server,
            Method::POST,
            ENVIRONMENTS,
            &admin,
            Some("application/json"),
            "{\"key\": \"qa\",}",
        )
        .await,
        400,
        error(
            "bad_request",
            "the request body is not valid JSON: trailing comma at line 1 column 14",
        ),
    )
    .await;
    expect(
        post(
            ENVIRONMENTS,
            json!({"key": "qa", "name": "QA", "version": 9}),
        )
        .await,
        422,
        invalid(&[(
            "/version",
            "unknown field `version`, expected one of `key`, `name`, `production`",
        )]),
    )
    .await;
    expect(
        post(ENVIRONMENTS, json!({"key": "Q A", "name": "QA"})).await,
        422,
        invalid(&[("/key", "\"Q A\" is not a valid key: use 1 to 128 lowercase letters, digits, '.', '_' or '-', starting with a letter or a digit")]),
    )
    .await;
    expect(
        post(
            ENVIRONMENTS,
            json!({"key": "qa", "name": "QA", "production": "yes"}),
        )
        .await,
        422,
        invalid(&[(
            "/production",
            "invalid type: string \"yes\", expected a boolean",
        )]),
    )
    .await;
    expect(
        raw(
            &server,
            Method::POST,
            ENVIRONMENTS,
            &admin,
            Some("application/x-www-form-urlencoded"),
            "key=qa",
        )
        .await,
        415,
        error(
            "unsupported_media_type",
            "expected a body of type application/json",
        ),
    )
    .await;
    let huge =
        serde_json::to_vec(&json!({"key": "qa", "name": "q".repeat(3 * 1024 * 1024)})).unwrap();
    expect(
        raw(
            &server,
            Method::POST,
            ENVIRONMENTS,
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
            "/api/v1/projects/nope/environments",
            json!({"key": "qa", "name": "QA"}),
        )
        .await,
        404,
        error("not_found", "project nope not found"),
    )
    .await;
    expect(
        post(ENVIRONMENTS, json!({"key": "staging", "name": "Again"})).await,
        409,
        error("conflict", "environment staging already exists"),
    )
    .await;
    expect(
        server.get("/api/v1/projects/nope/environments").await,
        404,
        error("not_found", "project nope not found"),
    )
    .await;
    expect(
        server.get(&format!("{ENVIRONMENTS}/nope")).await,
        404,
        error("not_found", "environment nope not found"),
    )
    .await;

    let put = |path: String, if_match: &'static str, body: serde_json::Value| {
        server
            .request(Method::PUT, &path, Some(&admin))
            .header("if-match", if_match)
            .json(&body)
            .send()
    };
    expect(
        put(
            format!("{ENVIRONMENTS}/staging"),
            "*",
            json!({"name": "Staging"}),
        )
        .await
        .unwrap(),
        422,
        invalid(&[("", "missing field `production`")]),
    )
    .await;
    expect(
        put(
            format!("{ENVIRONMENTS}/staging"),
            "*",
            json!({"key": "stage", "name": "", "production": false}),
        )
        .await
        .unwrap(),
        422,
        invalid(&[
            ("/key", "the key cannot change; this is `staging`"),
            ("/name", "must not be empty"),
        ]),
    )
    .await;
    expect(
        put(
            format!("{ENVIRONMENTS}/nope"),
            "*",
            json!({"name": "N", "production": false}),
        )
        .await
        .unwrap(),
        404,
        error("not_found", "environment nope not found"),
    )
    .await;
    expect(
        put(
            format!("{ENVIRONMENTS}/staging"),
            "5",
            json!({"name": "S", "production": false}),
        )
        .await
        .unwrap(),
        409,
        error(
            "conflict",
            "version conflict: If-Match was 5, the current version is 1; reload and retry",
        ),
    )
    .await;
    expect(
        server
            .request(
                Method::DELETE,
                &format!("{ENVIRONMENTS}/staging"),
                Some(&admin),
            )
            .header("if-match", "5")
            .send()
            .await
            .unwrap(),
        409,
        error(
            "conflict",
            "version conflict: If-Match was 5, the current version is 1; reload and retry",
        ),
    )
    .await;
    expect(
        server
            .request(
                Method::DELETE,
                "/api/v1/projects/nope/environments/staging",
                Some(&admin),
            )
            .send()
            .await
            .unwrap(),
        404,
        error("not_found", "project nope not found"),
    )
    .await;
    unchanged(&server, &before).await;
}

#[tokio::test]
async fn environment_refusals_change_nothing() {
    let server = TestServer::start().await;
    let credentials = Credentials::new(&server).await;
    let before = fingerprint(&server).await;
    let new = json!({"key": "qa", "name": "QA"});
    let change = json!({"name": "Renamed", "production": false});
    let staging = format!("{ENVIRONMENTS}/staging");
    let writes = [
        (Method::POST, ENVIRONMENTS, &new),
        (Method::PUT, staging.as_str(), &change),
        (Method::DELETE, staging.as_str(), &change),
    ];
    expect(
        server
            .request(Method::DELETE, &staging, None)
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
        for (method, path, body) in &writes {
            let got = json(server.send(method.clone(), path, bearer, body).await).await;
            assert_eq!(got, (status, answer.clone()), "{who}: {method} {path}");
        }
    }
    for (who, bearer, answer) in credentials.not_admins() {
        for (method, path, body) in &writes {
            let got = json(server.send(method.clone(), path, bearer, body).await).await;
            assert_eq!(got, (403, answer.clone()), "{who}: {method} {path}");
        }
        let read = server
            .request(Method::GET, &staging, Some(bearer))
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), 200, "{who} reads");
    }
    unchanged(&server, &before).await;
}
