//! OFREP on a real server: OpenFeature's request and response shapes,
//! every error code with its status, and bulk evaluation with
//! `ETag`/`If-None-Match`.

mod common;
mod flag_fixture;

use common::{TestServer, json};
use flag_fixture::{ENV, FLAGS, PROJECT, engine, expected, meta};
use reqwest::Method;
use serde_json::{Value, json};

async fn setup() -> (TestServer, String) {
    let server = TestServer::start().await;
    flag_fixture::install(&*server.store).await;
    let key = server.sdk_key(PROJECT, ENV).await;
    (server, key)
}

async fn one(server: &TestServer, key: &str, flag: &str, body: Value) -> (u16, Value) {
    let path = format!("/ofrep/v1/evaluate/flags/{flag}");
    json(server.send(Method::POST, &path, key, &body).await).await
}

async fn raw(server: &TestServer, key: &str, path: &str, body: &'static str) -> (u16, Value) {
    let response = server
        .request(Method::POST, path, Some(key))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    json(response).await
}

/// The OFREP answer the engine's result stands for.
fn ofrep_expected(result: &Value) -> (u16, Value) {
    let flag = &result["flag"];
    if let Some(code) = result.get("error_code") {
        let status = if code == "FLAG_NOT_FOUND" { 404 } else { 400 };
        return (status, json!({"key": flag, "errorCode": code}));
    }
    let mut metadata = serde_json::Map::new();
    for (ours, theirs) in [
        ("rule_index", "ruleIndex"),
        ("rule_id", "ruleId"),
        ("bucket", "bucket"),
        ("prerequisite", "prerequisite"),
    ] {
        if let Some(value) = result.get(ours) {
            metadata.insert(theirs.into(), value.clone());
        }
    }
    let reason = match result["reason"].as_str().unwrap() {
        "PREREQUISITE_FAILED" => {
            metadata.insert("vexilReason".into(), "PREREQUISITE_FAILED".into());
            "DEFAULT"
        }
        other => other,
    };
    (
        200,
        json!({"key": flag, "value": result["value"], "variant": result["variant"],
            "reason": reason, "metadata": metadata}),
    )
}

/// An OFREP context for a Vexil one: targetingKey, kind, attributes flat.
fn ofrep_context(context: &Value) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("targetingKey".into(), context["key"].clone());
    if let Some(kind) = context.get("kind") {
        out.insert("kind".into(), kind.clone());
    }
    if let Some(Value::Object(attributes)) = context.get("attributes") {
        out.extend(attributes.clone());
    }
    Value::Object(out)
}

#[tokio::test]
async fn single_flags_follow_the_engine_in_ofrep_terms() {
    let (server, key) = setup().await;
    let engine = engine(&*server.store).await;
    for context in flag_fixture::contexts() {
        for flag in FLAGS.into_iter().chain(["missing"]) {
            let body = json!({"context": ofrep_context(&context)});
            let (status, mut answer) = one(&server, &key, flag, body).await;
            let (want_status, want) = ofrep_expected(&expected(&engine, flag, &context));
            assert_eq!(status, want_status, "{flag} {context}: {answer}");
            if status != 200 {
                assert!(answer["errorDetails"].is_string(), "{answer}");
                answer.as_object_mut().unwrap().remove("errorDetails");
            }
            assert_eq!(answer, want, "{flag} {context}");
        }
    }
}

#[tokio::test]
async fn answers_spelled_out() {
    let (server, key) = setup().await;
    let bob = json!({"context": {"targetingKey": "bob", "plan": "beta", "region": "eu-west-1",
        "tags": ["a", 1, true], "nothing": null, "extra": "ignored by every rule"}});
    assert_eq!(
        one(&server, &key, "checkout", bob.clone()).await,
        (
            200,
            json!({"key": "checkout", "value": true, "reason": "TARGETING_MATCH", "variant": "on",
                "metadata": {"ruleIndex": 0, "ruleId": "beta"}})
        )
    );
    assert_eq!(
        one(
            &server,
            &key,
            "gated",
            json!({"context": {"targetingKey": "dave"}})
        )
        .await,
        (
            200,
            json!({"key": "gated", "value": false, "reason": "DEFAULT", "variant": "off",
                "metadata": {"prerequisite": "checkout", "vexilReason": "PREREQUISITE_FAILED"}})
        )
    );
    let (_, split) = one(&server, &key, "banner", bob).await;
    assert_eq!(split["reason"], "SPLIT");
    assert!(split["metadata"]["bucket"].is_u64());
    // `kind` is the context kind: a clause on `kind` sees it.
    let vip = one(
        &server,
        &key,
        "checkout",
        json!({"context": {"targetingKey": "vip", "kind": "user"}}),
    )
    .await;
    assert_eq!(vip.1["reason"], "TARGETING_MATCH");
    assert_eq!(
        one(
            &server,
            &key,
            "dark",
            json!({"context": {"targetingKey": "x"}})
        )
        .await,
        (
            200,
            json!({"key": "dark", "value": false, "reason": "DISABLED", "variant": "off", "metadata": {}})
        )
    );
}

#[tokio::test]
async fn each_error_code_with_its_status() {
    let (server, key) = setup().await;
    let path = "/ofrep/v1/evaluate/flags/checkout";
    let failure = |code: &str, details: &str| json!({"key": "checkout", "errorCode": code, "errorDetails": details});
    assert_eq!(
        one(
            &server,
            &key,
            "missing",
            json!({"context": {"targetingKey": "x"}})
        )
        .await,
        (
            404,
            json!({"key": "missing", "errorCode": "FLAG_NOT_FOUND",
                "errorDetails": "no flag `missing` in environment `production`"})
        )
    );
    assert_eq!(
        one(
            &server,
            &key,
            "broken",
            json!({"context": {"targetingKey": "x"}})
        )
        .await,
        (
            400,
            json!({"key": "broken", "errorCode": "PARSE_ERROR", "errorDetails":
                "flag `broken` failed to compile: variant \"nope\" does not exist"})
        )
    );
    assert_eq!(
        raw(&server, &key, path, "{\"context\": ").await,
        (
            400,
            failure(
                "PARSE_ERROR",
                "the request body is not valid JSON: EOF while parsing a value at line 1 column 12"
            )
        )
    );
    for body in [
        json!({}),
        json!({"context": {"plan": "beta"}}),
        json!({"context": {"targetingKey": null}}),
    ] {
        assert_eq!(
            one(&server, &key, "checkout", body).await,
            (
                400,
                failure(
                    "TARGETING_KEY_MISSING",
                    "the context has no `targetingKey`; Vexil targets and buckets by it"
                )
            )
        );
    }
    assert_eq!(
        raw(&server, &key, path, "").await.1["errorCode"],
        "TARGETING_KEY_MISSING",
        "an empty body has no context"
    );
    for (body, details) in [
        (
            json!([1]),
            "the request body must be an object: {\"context\": {\"targetingKey\": ...}}",
        ),
        (json!({"context": "bob"}), "`context` must be an object"),
        (
            json!({"context": {"targetingKey": 42}}),
            "`targetingKey` must be a string",
        ),
        (
            json!({"context": {"targetingKey": "bob", "kind": ["user"]}}),
            "`kind` must be a string",
        ),
        (
            json!({"context": {"targetingKey": "bob", "address": {"city": "Oslo"}}}),
            "attribute `address`: invalid type: map, expected a string, a number, a boolean or a list of those",
        ),
        (
            json!({"context": {"targetingKey": "bob", "matrix": [[1]]}}),
            "attribute `matrix`: invalid type: sequence, expected a string, a number or a boolean",
        ),
    ] {
        assert_eq!(
            one(&server, &key, "checkout", body.clone()).await,
            (400, failure("INVALID_CONTEXT", details)),
            "{body}"
        );
    }
}

#[tokio::test]
async fn credentials_are_refused_in_ofreps_shape() {
    let (server, key) = setup().await;
    let body = json!({"context": {"targetingKey": "x"}});
    for path in [
        "/ofrep/v1/evaluate/flags/checkout",
        "/ofrep/v1/evaluate/flags",
    ] {
        let response = server
            .request(Method::POST, path, None)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            json(response).await,
            (
                401,
                json!({"errorDetails": "missing credentials: send `Authorization: Bearer <token>`"})
            )
        );
        let (status, error) =
            json(server.send(Method::POST, path, &server.admin, &body).await).await;
        assert_eq!(
            (status, error),
            (
                401,
                json!({"errorDetails": "wrong kind of token: this endpoint takes an SDK key, not a user session"})
            )
        );
    }
    let claims = server
        .auth
        .keys()
        .verify(
            &key,
            &[vexil_server::auth::Audience::Sdk],
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
    server
        .store
        .revoke_token(&claims.jti, &meta())
        .await
        .unwrap();
    server.auth.cache().invalidate_token(&claims.jti);
    assert_eq!(
        one(&server, &key, "checkout", body).await,
        (401, json!({"errorDetails": "token revoked"}))
    );
}

#[tokio::test]
async fn bulk_evaluation_polls_with_etags() {
    let (server, key) = setup().await;
    let bulk = |context: Value, tag: Option<String>| {
        let mut request = server
            .request(Method::POST, "/ofrep/v1/evaluate/flags", Some(&key))
            .json(&json!({"context": context}));
        if let Some(tag) = tag {
            request = request.header("if-none-match", tag);
        }
        request.send()
    };
    let engine = engine(&*server.store).await;
    let bob = json!({"targetingKey": "bob", "plan": "beta", "region": "eu-west-1"});
    let response = bulk(bob.clone(), None).await.unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.len() == 18, "{etag}");
    let (status, body) = json(response).await;
    assert_eq!(status, 200);
    let vexil_bob = json!({"key": "bob", "attributes": {"plan": "beta", "region": "eu-west-1"}});
    let flags = body["flags"].as_array().unwrap();
    assert_eq!(flags.len(), FLAGS.len());
    for (answer, flag) in flags.iter().zip(FLAGS) {
        let (_, mut want) = ofrep_expected(&expected(&engine, flag, &vexil_bob));
        if flag == "broken" {
            want["errorDetails"] =
                "flag `broken` failed to compile: variant \"nope\" does not exist".into();
        }
        assert_eq!(answer, &want, "{flag}");
    }

    // Same context, nothing changed: 304 with the same tag.
    let response = bulk(bob.clone(), Some(etag.clone())).await.unwrap();
    assert_eq!(response.status(), 304);
    assert_eq!(response.headers()["etag"], etag.as_str());
    assert!(response.bytes().await.unwrap().is_empty());
    // Another context has other results, so another tag.
    let other = bulk(json!({"targetingKey": "dave"}), Some(etag.clone()))
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    assert_ne!(other.headers()["etag"], etag.as_str());

    // A change that alters bob's results: 200 and a new tag.
    server
        .store
        .set_flag_enabled(PROJECT, "dark", ENV, true, &meta())
        .await
        .unwrap();
    server.snapshots.invalidate(PROJECT, ENV);
    let changed = bulk(bob, Some(etag.clone())).await.unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"], etag.as_str());
    let (_, body) = json(changed).await;
    assert_eq!(body["flags"][3]["reason"], "DEFAULT");

    // A bad request is `{errorCode, errorDetails}` without a key.
    assert_eq!(
        raw(&server, &key, "/ofrep/v1/evaluate/flags", "{}").await,
        (
            400,
            json!({"errorCode": "TARGETING_KEY_MISSING",
                "errorDetails": "the context has no `targetingKey`; Vexil targets and buckets by it"})
        )
    );
    assert_eq!(
        raw(&server, &key, "/ofrep/v1/evaluate/flags", "nope").await,
        (
            400,
            json!({"errorCode": "PARSE_ERROR",
                "errorDetails": "the request body is not valid JSON: expected ident at line 1 column 2"})
        )
    );
    assert_eq!(
        raw(
            &server,
            &key,
            "/ofrep/v1/evaluate/flags",
            r#"{"context": {"targetingKey": "b", "x": {}}}"#
        )
        .await
        .1["errorCode"],
        "INVALID_CONTEXT"
    );
}
