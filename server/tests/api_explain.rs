//! `POST /api/v1/projects/{p}/flags/{f}/environments/{e}/explain` on a real
//! server: the engine's explanation, for any logged-in role or an SDK key
//! of that environment, and exact errors otherwise.

mod common;
mod flag_fixture;

use common::{TestServer, json};
use flag_fixture::{ENV, FLAGS, PROJECT, contexts};
use reqwest::Method;
use serde_json::{Value, json};
use vexil_engine::CompiledSnapshot;
use vexil_proto::Context;
use vexil_server::store::{Role, TokenKind};

fn path(flag: &str, environment: &str) -> String {
    format!("/api/v1/projects/{PROJECT}/flags/{flag}/environments/{environment}/explain")
}

async fn explain(
    server: &TestServer,
    bearer: &str,
    flag: &str,
    env: &str,
    body: Value,
) -> (u16, Value) {
    json(
        server
            .send(Method::POST, &path(flag, env), bearer, &body)
            .await,
    )
    .await
}

fn engine_explains(engine: &CompiledSnapshot, flag: &str, context: &Value) -> Value {
    let context: Context = serde_json::from_value(context.clone()).unwrap();
    serde_json::to_value(engine.explain(flag, &context)).unwrap()
}

#[tokio::test]
async fn viewers_get_the_engines_explanation() {
    let server = TestServer::start().await;
    flag_fixture::install(&*server.store).await;
    let engine = flag_fixture::engine(&*server.store).await;
    let viewer = server.user("vic", Role::Viewer).await;
    for context in contexts() {
        for flag in FLAGS.into_iter().chain(["missing"]) {
            let (status, body) =
                explain(&server, &viewer, flag, ENV, json!({"context": context})).await;
            assert_eq!(status, 200, "{flag}: {body}");
            assert_eq!(
                body,
                engine_explains(&engine, flag, &context),
                "{flag} {context}"
            );
        }
    }

    // One spelled out: bob is in the beta rule.
    let bob = json!({"key": "bob", "attributes": {"plan": "beta"}});
    let (_, body) = explain(&server, &viewer, "checkout", ENV, json!({"context": bob})).await;
    assert_eq!(body["decided_by"], "rule");
    assert_eq!(body["target"], json!({"matched": false, "variant": null}));
    assert_eq!(body["rules"][0]["id"], "beta");
    assert_eq!(body["rules"][0]["matched"], true);
    assert_eq!(body["rules"][0]["clauses"][0]["context_value"], "beta");
    assert_eq!(body["result"]["reason"], "TARGETING_MATCH");
    let (status, body) = explain(
        &server,
        &viewer,
        "missing",
        ENV,
        json!({"context": {"key": "x"}}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["decided_by"], "flag_not_found");
    assert_eq!(body["result"]["error_code"], "FLAG_NOT_FOUND");
}

#[tokio::test]
async fn api_tokens_and_the_environments_sdk_key_may_explain() {
    let server = TestServer::start().await;
    flag_fixture::install(&*server.store).await;
    let body = json!({"context": {"key": "vip"}});
    let token = server
        .token(TokenKind::Api, Some(Role::Viewer), None, &[])
        .await;
    let sdk_key = server.sdk_key(PROJECT, ENV).await;
    for bearer in [&token, &sdk_key, &server.admin] {
        let (status, explained) = explain(&server, bearer, "checkout", ENV, body.clone()).await;
        assert_eq!(status, 200, "{explained}");
        assert_eq!(explained["decided_by"], "target");
    }
}

#[tokio::test]
async fn refusals_and_bad_input_get_exact_errors() {
    let server = TestServer::start().await;
    flag_fixture::install(&*server.store).await;
    let viewer = server.user("vic", Role::Viewer).await;
    let body = json!({"context": {"key": "a"}});

    let staging_key = server.sdk_key(PROJECT, "staging").await;
    assert_eq!(
        explain(&server, &staging_key, "checkout", ENV, body.clone()).await,
        (
            403,
            json!({"error": {"code": "forbidden", "message":
                "this SDK key reads environment `staging` of project `default` only, not `production` of `default`"}})
        )
    );
    let integration = server.token(TokenKind::Integration, None, None, &[]).await;
    assert_eq!(
        explain(&server, &integration, "checkout", ENV, body.clone()).await,
        (
            403,
            json!({"error": {"code": "forbidden", "message":
                "integration tokens may only post health events (alerts and deploys)"}})
        )
    );
    let anonymous = server
        .request(Method::POST, &path("checkout", ENV), None)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(anonymous).await,
        (
            401,
            json!({"error": {"code": "unauthorized",
                "message": "missing credentials: send `Authorization: Bearer <token>`"}})
        )
    );
    let garbage = explain(&server, "not-a-jwt", "checkout", ENV, body.clone()).await;
    assert_eq!(
        garbage,
        (
            401,
            json!({"error": {"code": "unauthorized", "message": "invalid token: not a JWT"}})
        )
    );
    assert_eq!(
        explain(&server, &viewer, "checkout", "nowhere", body.clone()).await,
        (
            404,
            json!({"error": {"code": "not_found", "message": "environment nowhere not found"}})
        )
    );
    assert_eq!(
        explain(
            &server,
            &viewer,
            "checkout",
            ENV,
            json!({"context": {"key": "a"}, "flag": "x"})
        )
        .await,
        (
            422,
            json!({"error": {"code": "invalid", "message": "the request body is invalid",
                "details": [{"path": "/flag", "problem": "unknown field `flag`, expected `context`"}]}})
        )
    );
    assert_eq!(
        explain(&server, &viewer, "checkout", ENV, json!({"context": {}})).await,
        (
            422,
            json!({"error": {"code": "invalid", "message": "the request body is invalid",
                "details": [{"path": "/context", "problem": "missing field `key`"}]}})
        )
    );
}

/// `GET …/environments/{e}/snapshot`: the same JSON an SDK key gets from
/// `/api/v1/snapshot`, for people of any role (the UI's in-browser
/// preview), and refused as explain refuses.
#[tokio::test]
async fn people_read_an_environments_snapshot_as_sdks_get_it() {
    let server = TestServer::start().await;
    flag_fixture::install(&*server.store).await;
    let viewer = server.user("vic", Role::Viewer).await;
    let sdk_key = server.sdk_key(PROJECT, ENV).await;
    let by_key = server
        .request(Method::GET, "/api/v1/snapshot", Some(&sdk_key))
        .send()
        .await
        .unwrap();
    let etag = by_key.headers()["etag"].to_str().unwrap().to_owned();
    let (_, expected) = json(by_key).await;
    let path = format!("/api/v1/projects/{PROJECT}/environments/{ENV}/snapshot");
    for bearer in [&viewer, &sdk_key, &server.admin] {
        let response = server
            .request(Method::GET, &path, Some(bearer))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["etag"].to_str().unwrap(), etag);
        assert_eq!(json(response).await, (200, expected.clone()));
    }
    // Revalidation, as `/api/v1/snapshot` answers it: 304 while current.
    let current = server
        .request(Method::GET, &path, Some(&viewer))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(current.status(), 304);
    assert_eq!(current.headers()["etag"].to_str().unwrap(), etag);
    let stale = server
        .request(Method::GET, &path, Some(&viewer))
        .header("if-none-match", "\"0\"")
        .send()
        .await
        .unwrap();
    assert_eq!(json(stale).await, (200, expected.clone()));

    let get = |bearer: Option<&str>, path: &str| {
        let request = server.request(Method::GET, path, bearer);
        async move { json(request.send().await.unwrap()).await }
    };
    let staging_key = server.sdk_key(PROJECT, "staging").await;
    assert_eq!(
        get(Some(&staging_key), &path).await,
        (
            403,
            json!({"error": {"code": "forbidden", "message":
                "this SDK key reads environment `staging` of project `default` only, not `production` of `default`"}})
        )
    );
    assert_eq!(get(None, &path).await.0, 401);
    let missing = format!("/api/v1/projects/{PROJECT}/environments/moon/snapshot");
    assert_eq!(get(Some(&viewer), &missing).await.0, 404);
}
