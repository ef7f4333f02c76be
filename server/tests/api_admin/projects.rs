//! `/api/v1/projects[/{project}]`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{TestServer, json};
use crate::support::{
    Credentials, error, expect, fingerprint, invalid, last_change, raw, unchanged,
};

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
        .to_owned()
}

fn keys(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["key"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn projects_are_created_read_renamed_and_deleted() {
    let server = TestServer::start().await;
    let (status, list) = json(server.get("/api/v1/projects").await).await;
    assert_eq!(status, 200);
    assert_eq!(keys(&list), ["default"]);
    assert_eq!(
        (
            list["total"].as_u64(),
            list["page"].as_u64(),
            list["per_page"].as_u64()
        ),
        (Some(1), Some(1), Some(50))
    );

    let created = server
        .request(Method::POST, "/api/v1/projects", Some(&server.admin))
        .header("x-vexil-reason", "new storefront")
        .json(&json!({"key": "shop", "name": "Shop", "description": "The storefront"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(header(&created, "location"), "/api/v1/projects/shop");
    assert_eq!(header(&created, "etag"), "\"1\"");
    let (_, body) = json(created).await;
    assert_eq!(
        (
            &body["key"],
            &body["name"],
            &body["description"],
            &body["version"]
        ),
        (
            &json!("shop"),
            &json!("Shop"),
            &json!("The storefront"),
            &json!(1)
        )
    );
    let changes = crate::support::changes(&server, Some("shop")).await;
    assert_eq!(changes[0].actor, "user:admin");
    assert_eq!(changes[0].reason.as_deref(), Some("new storefront"));

    // The default environments, production marked.
    let (status, environments) = json(server.get("/api/v1/projects/shop/environments").await).await;
    assert_eq!(status, 200);
    assert_eq!(
        keys(&environments),
        ["development", "staging", "production"]
    );
    let production: Vec<bool> = environments["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["production"].as_bool().unwrap())
        .collect();
    assert_eq!(production, [false, false, true]);

    let read = server.get("/api/v1/projects/shop").await;
    assert_eq!(header(&read, "etag"), "\"1\"");
    let (status, read) = json(read).await;
    assert_eq!((status, read), (200, body));

    let renamed = server
        .request(Method::PUT, "/api/v1/projects/shop", Some(&server.admin))
        .header("if-match", "\"1\"")
        .json(&json!({"key": "shop", "name": "Web shop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    assert_eq!(header(&renamed, "etag"), "\"2\"");
    let (_, renamed) = json(renamed).await;
    assert_eq!(
        (&renamed["name"], &renamed["description"]),
        (&json!("Web shop"), &json!(""))
    );
    assert_eq!(
        last_change(&server, Some("shop")).await,
        (
            "project".into(),
            "shop".into(),
            "updated".into(),
            "user:admin".into()
        )
    );

    let (status, list) = json(server.get("/api/v1/projects?per_page=1&page=2").await).await;
    assert_eq!(status, 200);
    assert_eq!(keys(&list), ["shop"]);
    assert_eq!(list["total"], 2);

    let deleted = server
        .request(Method::DELETE, "/api/v1/projects/shop", Some(&server.admin))
        .header("if-match", "2")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    expect(
        server.get("/api/v1/projects/shop").await,
        404,
        error("not_found", "project shop not found"),
    )
    .await;
    assert_eq!(
        last_change(&server, Some("shop")).await,
        (
            "project".into(),
            "shop".into(),
            "deleted".into(),
            "user:admin".into()
        )
    );
}

#[tokio::test]
async fn a_project_can_name_its_environments() {
    let server = TestServer::start().await;
    let body = json!({"key": "api", "name": "API", "environments": [
        {"key": "test", "name": "Test"},
        {"key": "live", "name": "Live", "production": true},
    ]});
    let (status, _) = json(
        server
            .send(Method::POST, "/api/v1/projects", &server.admin, &body)
            .await,
    )
    .await;
    assert_eq!(status, 201);
    let environments = server.store.list_environments("api").await.unwrap();
    let found: Vec<_> = environments
        .iter()
        .map(|e| {
            (
                e.environment.key.as_str(),
                e.environment.production,
                e.environment.version,
            )
        })
        .collect();
    assert_eq!(found, [("test", false, 1), ("live", true, 1)]);

    let empty = json!({"key": "bare", "name": "Bare", "environments": []});
    let (status, _) = json(
        server
            .send(Method::POST, "/api/v1/projects", &server.admin, &empty)
            .await,
    )
    .await;
    assert_eq!(status, 201);
    assert!(
        server
            .store
            .list_environments("bare")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn bad_project_bodies_change_nothing() {
    let server = TestServer::start().await;
    let admin = server.admin.clone();
    let before = fingerprint(&server).await;
    let post = async |body: Value| {
        server
            .send(Method::POST, "/api/v1/projects", &admin, &body)
            .await
    };

    expect(
        raw(
            &server,
            Method::POST,
            "/api/v1/projects",
            &admin,
            Some("application/json"),
            "{\"key\": ",
        )
        .await,
        400,
        error(
            "bad_request",
            "the request body is not valid JSON: EOF while parsing a value at line 1 column 8",
        ),
    )
    .await;
    expect(
        post(json!({"key": "x", "name": "X", "owner": "me"})).await,
        422,
        invalid(&[(
            "/owner",
            "unknown field `owner`, expected one of `key`, `name`, `description`, `environments`",
        )]),
    )
    .await;
    expect(
        post(json!({"key": "Shop!", "name": " "})).await,
        422,
        invalid(&[
            ("/key", "\"Shop!\" is not a valid key: use 1 to 128 lowercase letters, digits, '.', '_' or '-', starting with a letter or a digit"),
            ("/name", "must not be empty"),
        ]),
    )
    .await;
    expect(
        post(json!({"key": "x", "name": "X", "environments": [
            {"key": "dev", "name": "Dev"},
            {"key": "dev", "name": "Dev again"},
            {"key": "-bad", "name": "Bad", "version": 3},
        ]}))
        .await,
        422,
        invalid(&[(
            "/environments/2/version",
            "unknown field `version`, expected one of `key`, `name`, `production`",
        )]),
    )
    .await;
    expect(
        post(json!({"key": "x", "name": "X", "environments": [
            {"key": "dev", "name": "Dev"},
            {"key": "dev", "name": "Dev again"},
            {"key": "-bad", "name": ""},
        ]}))
        .await,
        422,
        invalid(&[
            ("/environments/1/key", "environment `dev` is listed twice"),
            ("/environments/2/key", "\"-bad\" is not a valid key: use 1 to 128 lowercase letters, digits, '.', '_' or '-', starting with a letter or a digit"),
            ("/environments/2/name", "must not be empty"),
        ]),
    )
    .await;
    expect(
        raw(
            &server,
            Method::POST,
            "/api/v1/projects",
            &admin,
            Some("text/plain"),
            r#"{"key": "x", "name": "X"}"#,
        )
        .await,
        415,
        error(
            "unsupported_media_type",
            "expected a body of type application/json",
        ),
    )
    .await;
    expect(
        raw(
            &server,
            Method::POST,
            "/api/v1/projects",
            &admin,
            None,
            r#"{"key": "x", "name": "X"}"#,
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
        serde_json::to_vec(&json!({"key": "x", "name": "a".repeat(2 * 1024 * 1024)})).unwrap();
    expect(
        raw(
            &server,
            Method::POST,
            "/api/v1/projects",
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
        post(json!({"key": "default", "name": "Again"})).await,
        409,
        error("conflict", "project default already exists"),
    )
    .await;
    unchanged(&server, &before).await;

    // Updates and deletes.
    let put = |path: &'static str, if_match: &'static str, body: Value| {
        server
            .request(Method::PUT, path, Some(&admin))
            .header("if-match", if_match)
            .json(&body)
            .send()
    };
    expect(
        put(
            "/api/v1/projects/default",
            "*",
            json!({"key": "other", "name": "X"}),
        )
        .await
        .unwrap(),
        422,
        invalid(&[("/key", "the key cannot change; this is `default`")]),
    )
    .await;
    expect(
        put(
            "/api/v1/projects/default",
            "*",
            json!({"name": "X", "version": 1}),
        )
        .await
        .unwrap(),
        422,
        invalid(&[(
            "/version",
            "unknown field `version`, expected one of `key`, `name`, `description`",
        )]),
    )
    .await;
    expect(
        put("/api/v1/projects/nope", "*", json!({"name": "X"}))
            .await
            .unwrap(),
        404,
        error("not_found", "project nope not found"),
    )
    .await;
    expect(
        put("/api/v1/projects/default", "\"7\"", json!({"name": "X"}))
            .await
            .unwrap(),
        409,
        error(
            "conflict",
            "version conflict: If-Match was 7, the current version is 1; reload and retry",
        ),
    )
    .await;
    expect(
        put("/api/v1/projects/default", "seven", json!({"name": "X"}))
            .await
            .unwrap(),
        400,
        error(
            "bad_request",
            "If-Match must be the object's version, as its ETag gives it (\"3\"), or *",
        ),
    )
    .await;
    let delete = |path: &'static str, if_match: &'static str| {
        server
            .request(Method::DELETE, path, Some(&admin))
            .header("if-match", if_match)
            .send()
    };
    expect(
        delete("/api/v1/projects/default", "2").await.unwrap(),
        409,
        error(
            "conflict",
            "version conflict: If-Match was 2, the current version is 1; reload and retry",
        ),
    )
    .await;
    expect(
        delete("/api/v1/projects/nope", "*").await.unwrap(),
        404,
        error("not_found", "project nope not found"),
    )
    .await;
    unchanged(&server, &before).await;
}

#[tokio::test]
async fn project_refusals_change_nothing() {
    let server = TestServer::start().await;
    let credentials = Credentials::new(&server).await;
    let before = fingerprint(&server).await;
    let body = json!({"key": "shop", "name": "Shop"});
    let rename = json!({"name": "Renamed"});

    expect(
        server
            .request(Method::POST, "/api/v1/projects", None)
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
        for (method, path, body) in [
            (Method::POST, "/api/v1/projects", &body),
            (Method::PUT, "/api/v1/projects/default", &rename),
            (Method::DELETE, "/api/v1/projects/default", &rename),
            (Method::GET, "/api/v1/projects", &rename),
        ] {
            let response = server.send(method.clone(), path, bearer, body).await;
            let (got, got_body) = json(response).await;
            assert_eq!(
                (got, &got_body),
                (status, &answer),
                "{who}: {method} {path}"
            );
        }
    }
    for (who, bearer, answer) in credentials.not_admins() {
        for (method, path, body) in [
            (Method::POST, "/api/v1/projects", &body),
            (Method::PUT, "/api/v1/projects/default", &rename),
            (Method::DELETE, "/api/v1/projects/default", &rename),
        ] {
            let response = server.send(method.clone(), path, bearer, body).await;
            let (got, got_body) = json(response).await;
            assert_eq!((got, &got_body), (403, &answer), "{who}: {method} {path}");
        }
        // The refusal comes before the body is read.
        let response = raw(
            &server,
            Method::POST,
            "/api/v1/projects",
            bearer,
            Some("text/plain"),
            "{",
        )
        .await;
        assert_eq!(json(response).await, (403, answer.clone()), "{who}");
        // Reading is allowed.
        let (status, _) = json(
            server
                .request(Method::GET, "/api/v1/projects/default", Some(bearer))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{who} reads");
    }
    unchanged(&server, &before).await;
}

#[tokio::test]
async fn an_admin_api_token_writes_as_itself() {
    let server = TestServer::start().await;
    let token = server
        .token(
            vexil_server::store::TokenKind::Api,
            Some(vexil_server::store::Role::Admin),
            None,
            &[],
        )
        .await;
    let id = crate::support::jti(&token);
    let (status, _) = json(
        server
            .send(
                Method::POST,
                "/api/v1/projects",
                &token,
                &json!({"key": "shop", "name": "Shop"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        last_change(&server, Some("shop")).await,
        (
            "project".into(),
            "shop".into(),
            "created".into(),
            format!("token:{id}")
        )
    );
}
