//! `POST /api/v1/evaluate` and `GET /api/v1/snapshot` on a real server:
//! results agree with the engine, bad input gets exact errors, the
//! snapshot answers `304` for its version, an SDK key reads its own
//! environment only, and the snapshot cache follows this replica's writes
//! (invalidation) and other replicas' (a poll).

mod common;
mod flag_fixture;

use std::collections::BTreeSet;

use common::{TestServer, json};
use flag_fixture::{ENV, FLAGS, PROJECT, contexts, engine, expected, meta};
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use vexil_proto::Context;
use vexil_server::auth::Audience;
use vexil_server::store::Role;

async fn setup() -> (TestServer, String) {
    let server = TestServer::start().await;
    flag_fixture::install(&*server.store).await;
    let key = server.sdk_key(PROJECT, ENV).await;
    (server, key)
}

async fn evaluate(server: &TestServer, key: &str, body: Value) -> (u16, Value) {
    json(
        server
            .send(Method::POST, "/api/v1/evaluate", key, &body)
            .await,
    )
    .await
}

/// The stored id (`jti`) of a token, to revoke it.
fn token_id(server: &TestServer, token: &str) -> String {
    let audiences = [Audience::Session, Audience::Api, Audience::Sdk];
    let claims = server
        .auth
        .keys()
        .verify(token, &audiences, OffsetDateTime::now_utc())
        .unwrap();
    claims.jti
}

#[tokio::test]
async fn one_flag_at_a_time_matches_the_engine() {
    let (server, key) = setup().await;
    let engine = engine(&*server.store).await;
    let mut reasons = BTreeSet::new();
    for context in contexts() {
        for flag in FLAGS.into_iter().chain(["missing"]) {
            let (status, body) =
                evaluate(&server, &key, json!({"context": context, "flag": flag})).await;
            assert_eq!(status, 200, "{flag} {context}: {body}");
            assert_eq!(body, expected(&engine, flag, &context), "{flag} {context}");
            reasons.insert(body["reason"].as_str().unwrap().to_owned());
        }
    }
    let all = [
        "DEFAULT",
        "DISABLED",
        "ERROR",
        "PREREQUISITE_FAILED",
        "SPLIT",
        "TARGETING_MATCH",
    ];
    assert_eq!(
        reasons,
        all.map(str::to_owned).into(),
        "every path is exercised"
    );

    // A few answers spelled out, so a shared bug in both cannot hide.
    let bob = json!({"key": "bob", "attributes": {"plan": "beta", "region": "eu-west-1"}});
    let (_, checkout) = evaluate(&server, &key, json!({"context": bob, "flag": "checkout"})).await;
    assert_eq!(
        checkout,
        json!({"flag": "checkout", "value": true, "variant": "on", "reason": "TARGETING_MATCH",
            "rule_index": 0, "rule_id": "beta"})
    );
    let (_, banner) = evaluate(&server, &key, json!({"context": bob, "flag": "banner"})).await;
    assert_eq!(banner["reason"], "SPLIT");
    assert_eq!(banner["rule_id"], "eu");
    assert!(banner["bucket"].as_u64().unwrap() < 100_000);
    let carol = json!({"key": "carol", "attributes": {"email": "carol@vexil.dev"}});
    let (_, staff) = evaluate(
        &server,
        &key,
        json!({"context": carol, "flag": "staff-only"}),
    )
    .await;
    assert_eq!(
        (&staff["value"], &staff["rule_id"]),
        (&json!(true), &json!("staff"))
    );
    let (status, missing) = evaluate(
        &server,
        &key,
        json!({"context": {"key": "x"}, "flag": "missing"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        missing,
        json!({"flag": "missing", "reason": "ERROR", "error_code": "FLAG_NOT_FOUND"})
    );
    let (_, broken) = evaluate(
        &server,
        &key,
        json!({"context": {"key": "x"}, "flag": "broken"}),
    )
    .await;
    assert_eq!(
        broken,
        json!({"flag": "broken", "reason": "ERROR", "error_code": "PARSE_ERROR"})
    );
}

#[tokio::test]
async fn every_flag_at_once_matches_the_engine() {
    let (server, key) = setup().await;
    let engine = engine(&*server.store).await;
    let version = server
        .store
        .get_environment(PROJECT, ENV)
        .await
        .unwrap()
        .environment
        .version;
    for context in contexts() {
        let (status, body) = evaluate(&server, &key, json!({"context": context})).await;
        assert_eq!(status, 200);
        let parsed: Context = serde_json::from_value(context.clone()).unwrap();
        let flags: Vec<Value> = engine
            .evaluate_all(&parsed)
            .into_iter()
            .map(|(flag, evaluation)| serde_json::to_value(evaluation.to_result(flag)).unwrap())
            .collect();
        assert_eq!(
            body,
            json!({"environment": ENV, "version": version, "flags": flags})
        );
    }
}

#[tokio::test]
async fn bad_requests_get_exact_errors() {
    let (server, key) = setup().await;
    let raw = |body: &'static str, content_type: &'static str| {
        server
            .request(Method::POST, "/api/v1/evaluate", Some(&key))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let (status, body) = json(raw("{\"context\":", "application/json").await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": {"code": "bad_request",
            "message": "the request body is not valid JSON: EOF while parsing a value at line 1 column 11"}})
    );
    let (status, body) = json(raw("{}", "text/plain").await.unwrap()).await;
    assert_eq!(status, 415);
    assert_eq!(
        body,
        json!({"error": {"code": "unsupported_media_type",
            "message": "expected a body of type application/json"}})
    );

    let invalid = |path: &str, problem: &str| {
        json!({"error": {"code": "invalid", "message": "the request body is invalid",
            "details": [{"path": path, "problem": problem}]}})
    };
    for (request, error) in [
        (
            json!({"context": {"key": "a"}, "flags": ["x"]}),
            invalid(
                "/flags",
                "unknown field `flags`, expected `context` or `flag`",
            ),
        ),
        (json!({"flag": "x"}), invalid("", "missing field `context`")),
        (
            json!({"context": {"attributes": {}}}),
            invalid("/context", "missing field `key`"),
        ),
        (
            json!({"context": {"key": "a", "region": "eu"}}),
            invalid(
                "/context/region",
                "unknown field `region`, expected one of `key`, `kind`, `attributes`",
            ),
        ),
        (
            json!({"context": {"key": "a", "attributes": {"address": {"city": "x"}}}}),
            invalid(
                "/context/attributes/address",
                "invalid type: map, expected a string, a number, a boolean or a list of those",
            ),
        ),
    ] {
        assert_eq!(
            evaluate(&server, &key, request.clone()).await,
            (422, error),
            "{request}"
        );
    }
}

#[tokio::test]
async fn only_a_live_sdk_key_may_evaluate() {
    let (server, key) = setup().await;
    let body = json!({"context": {"key": "a"}, "flag": "checkout"});
    let unauthorized =
        |message: &str| json!({"error": {"code": "unauthorized", "message": message}});

    let response = server
        .request(Method::POST, "/api/v1/evaluate", None)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(response).await,
        (
            401,
            unauthorized("missing credentials: send `Authorization: Bearer <token>`")
        )
    );
    let viewer = server.user("vic", Role::Viewer).await;
    assert_eq!(
        evaluate(&server, &viewer, body.clone()).await,
        (
            401,
            unauthorized("wrong kind of token: this endpoint takes an SDK key, not a user session")
        )
    );
    assert_eq!(evaluate(&server, &key, body.clone()).await.0, 200);

    let id = token_id(&server, &key);
    server.store.revoke_token(&id, &meta()).await.unwrap();
    server.auth.cache().invalidate_token(&id);
    assert_eq!(
        evaluate(&server, &key, body.clone()).await,
        (401, unauthorized("token revoked"))
    );
    for path in ["/api/v1/snapshot"] {
        let response = server
            .request(Method::GET, path, Some(&key))
            .send()
            .await
            .unwrap();
        assert_eq!(json(response).await, (401, unauthorized("token revoked")));
    }
}

#[tokio::test]
async fn a_key_whose_environment_is_gone_gets_404() {
    let (server, _) = setup().await;
    let staging = server.sdk_key(PROJECT, "staging").await;
    let body = json!({"context": {"key": "a"}, "flag": "checkout"});
    assert_eq!(evaluate(&server, &staging, body.clone()).await.0, 200);
    server
        .store
        .delete_environment(PROJECT, "staging", &meta())
        .await
        .unwrap();
    server.snapshots.invalidate_project(PROJECT);
    assert_eq!(
        evaluate(&server, &staging, body).await,
        (
            404,
            json!({"error": {"code": "not_found", "message": "environment staging not found"}})
        )
    );
}

#[tokio::test]
async fn the_snapshot_carries_its_version_as_etag() {
    let (server, key) = setup().await;
    let get = |if_none_match: Option<&str>| {
        let mut request = server.request(Method::GET, "/api/v1/snapshot", Some(&key));
        if let Some(tag) = if_none_match {
            request = request.header("if-none-match", tag);
        }
        request.send()
    };
    let stored = server.store.snapshot(PROJECT, ENV).await.unwrap();
    let etag = format!("\"{}\"", stored.version);

    let response = get(None).await.unwrap();
    assert_eq!(response.headers()["etag"], etag.as_str());
    assert_eq!(response.headers()["cache-control"], "no-cache");
    assert_eq!(response.headers()["content-type"], "application/json");
    let (status, body) = json(response).await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::to_value(&stored).unwrap());

    for tag in [etag.clone(), format!("W/{etag}"), format!("\"1\", {etag}")] {
        let response = get(Some(&tag)).await.unwrap();
        assert_eq!(response.status(), 304, "{tag}");
        assert_eq!(response.headers()["etag"], etag.as_str());
        assert!(response.bytes().await.unwrap().is_empty());
    }

    // A write by this replica: the old tag no longer matches.
    server
        .store
        .set_flag_enabled(PROJECT, "dark", ENV, true, &meta())
        .await
        .unwrap();
    server.snapshots.invalidate(PROJECT, ENV);
    let response = get(Some(&etag)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["etag"],
        format!("\"{}\"", stored.version + 1).as_str()
    );
    let (_, body) = json(response).await;
    assert_eq!(body["version"], stored.version + 1);
}

#[tokio::test]
async fn the_cache_follows_invalidations_and_polls() {
    let (server, key) = setup().await;
    let dark = json!({"context": {"key": "a"}, "flag": "dark"});
    let (_, before) = evaluate(&server, &key, dark.clone()).await;
    assert_eq!(before["reason"], "DISABLED");

    // Written by "another replica": nobody invalidates, the cache still
    // serves what it compiled...
    server
        .store
        .set_flag_enabled(PROJECT, "dark", ENV, true, &meta())
        .await
        .unwrap();
    let (_, cached) = evaluate(&server, &key, dark.clone()).await;
    assert_eq!(cached, before, "served from the cache, not the database");
    // ...until the poller's next tick finds the new version.
    assert_eq!(server.snapshots.poll_once().await.unwrap(), 1);
    let (_, polled) = evaluate(&server, &key, dark.clone()).await;
    assert_eq!(
        polled,
        json!({"flag": "dark", "value": true, "variant": "on", "reason": "DEFAULT"})
    );
    assert_eq!(
        server.snapshots.poll_once().await.unwrap(),
        0,
        "nothing new"
    );

    // Written by this replica: the handler's invalidation makes the very
    // next evaluation see it.
    server
        .store
        .set_flag_enabled(PROJECT, "dark", ENV, false, &meta())
        .await
        .unwrap();
    server.snapshots.invalidate(PROJECT, ENV);
    let (_, after) = evaluate(&server, &key, dark).await;
    assert_eq!(after, before);

    // A change to the whole project (a segment): `invalidate_project`.
    let carol = json!({"context": {"key": "carol", "attributes": {"email": "carol@vexil.dev"}},
        "flag": "staff-only"});
    let (_, staff) = evaluate(&server, &key, carol.clone()).await;
    assert_eq!(staff["value"], true);
    let mut segment = server
        .store
        .get_segment(PROJECT, "staff")
        .await
        .unwrap()
        .segment;
    segment.excluded.push("carol".into());
    server
        .store
        .update_segment(PROJECT, &segment, &meta())
        .await
        .unwrap();
    server.snapshots.invalidate_project(PROJECT);
    let (_, excluded) = evaluate(&server, &key, carol).await;
    assert_eq!(
        excluded,
        json!({"flag": "staff-only", "value": false, "variant": "off", "reason": "DEFAULT"})
    );
}

#[tokio::test]
async fn the_openapi_document_lists_the_evaluation_endpoints() {
    let server = TestServer::start().await;
    let (status, doc) = json(server.get("/api/openapi.json").await).await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/evaluate",
        "/api/v1/snapshot",
        "/api/v1/projects/{project}/flags/{flag}/environments/{environment}/explain",
        "/ofrep/v1/evaluate/flags",
        "/ofrep/v1/evaluate/flags/{key}",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for schema in [
        "EvaluationResult",
        "Context",
        "EvaluateRequest",
        "OfrepEvaluationSuccess",
    ] {
        assert!(schemas.contains_key(schema), "{schema} missing");
    }
}

#[tokio::test]
async fn an_sdk_key_reads_its_own_environment_and_nothing_else() {
    let (server, production_key) = setup().await;
    let staging_key = server.sdk_key(PROJECT, "staging").await;
    let all = json!({"context": {"key": "alice"}});

    // The fixture targets production only; staging has every flag off.
    let (status, staging) = evaluate(&server, &staging_key, all.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(staging["environment"], "staging");
    let reasons: BTreeSet<&str> = staging["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, BTreeSet::from(["DISABLED"]));
    let (_, production) = evaluate(&server, &production_key, all.clone()).await;
    assert_eq!(production["environment"], "production");
    assert_ne!(production["flags"], staging["flags"]);

    // A request cannot name another environment...
    let (status, body) = evaluate(
        &server,
        &staging_key,
        json!({"context": {"key": "alice"}, "environment": "production"}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["details"][0]["path"], "/environment");
    // ...and the management API, where environments are named, refuses
    // SDK keys.
    let response = server
        .request(
            Method::GET,
            "/api/v1/projects/default/flags/checkout/environments/production",
            Some(&staging_key),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(response).await,
        (
            401,
            json!({"error": {"code": "unauthorized", "message":
                "wrong kind of token: this endpoint takes a user session or an API token, not an SDK key"}})
        )
    );
    let response = server
        .request(Method::GET, "/api/v1/snapshot", Some(&staging_key))
        .send()
        .await
        .unwrap();
    let (status, snapshot) = json(response).await;
    assert_eq!(
        (status, snapshot["environment"].clone()),
        (200, json!("staging"))
    );
}
