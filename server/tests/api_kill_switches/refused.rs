//! Refused: malformed and partial Alertmanager payloads, unknown fields on
//! deploys, tokens of the wrong kind, invalid switches. Each gets its
//! exact error body, and nothing is stored, changed or tripped.

use reqwest::Method;
use serde_json::{Value, json};
use vexil_server::store::{Role, TokenKind};

use crate::api_support::{config_path, error, invalid, send_raw};
use crate::common::{TestServer, json};
use crate::support::*;

/// What must hold after a refused request: no event stored, the switch
/// still armed at version 1, production at `version`, the flag on.
async fn nothing_happened(server: &TestServer, id: &str, version: u64) {
    assert_eq!(stored_events(server).await, 0);
    let record = switch(server, id).await;
    assert_eq!(
        (record["version"].clone(), record["state"]["status"].clone()),
        (json!(1), json!("armed"))
    );
    assert_eq!(production_version(server).await, version);
    assert_eq!(checkout(server).await["enabled"], json!(true));
}

fn without(mut payload: Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    payload
        .pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key);
    payload
}

fn with(mut payload: Value, pointer: &str, value: Value) -> Value {
    *payload.pointer_mut(pointer).unwrap() = value;
    payload
}

#[tokio::test]
async fn malformed_and_partial_payloads() {
    let server = server().await;
    let token = integration_token(&server).await;
    let id = create_switch_id(&server, &alert_switch("manual")).await;
    let version = production_version(&server).await;
    let cases = [
        (without(firing(), "/alerts"), "", "missing field `alerts`"),
        (
            with(firing(), "/status", json!("burning")),
            "/status",
            "unknown variant `burning`, expected `firing` or `resolved`",
        ),
        (
            with(firing(), "/alerts/1/status", json!("FIRING")),
            "/alerts/1/status",
            "unknown variant `FIRING`, expected `firing` or `resolved`",
        ),
        (
            without(firing(), "/alerts/0/fingerprint"),
            "/alerts/0",
            "missing field `fingerprint`",
        ),
        (
            without(firing(), "/alerts/2/labels"),
            "/alerts/2",
            "missing field `labels`",
        ),
        (
            without(firing(), "/alerts/0/startsAt"),
            "/alerts/0",
            "missing field `startsAt`",
        ),
        (
            with(firing(), "/alerts/0/fingerprint", json!("")),
            "/alerts/0/fingerprint",
            "must not be empty",
        ),
        (
            with(firing(), "/version", json!("3")),
            "/version",
            "must be \"4\" (Alertmanager's webhook version), not \"3\"",
        ),
        (
            with(firing(), "/alerts", json!({})),
            "/alerts",
            "invalid type: map, expected a sequence",
        ),
    ];
    for (payload, path, problem) in cases {
        let (status, body) = post(&server, ALERTS, &token, &payload).await;
        assert_eq!(
            (status, body),
            (422, invalid(&[(path, problem)])),
            "{path}: {problem}"
        );
        nothing_happened(&server, &id, version).await;
    }
    let (status, body) = send_raw(
        &server,
        Method::POST,
        ALERTS,
        &token,
        Some("application/json"),
        b"{\"version\":".to_vec(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], json!("bad_request"));
    let (status, body) = send_raw(
        &server,
        Method::POST,
        ALERTS,
        &token,
        Some("text/plain"),
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(status, 415, "{body}");
    nothing_happened(&server, &id, version).await;
}

#[tokio::test]
async fn deploys_are_strict() {
    let server = server().await;
    let token = integration_token(&server).await;
    let id = create_switch_id(&server, &alert_switch("manual")).await;
    let version = production_version(&server).await;
    let good = json!({"service": "checkout-api", "version": "1", "environment": "production", "status": "failed"});
    let cases = [
        (
            with(good.clone(), "/status", json!("exploded")),
            "/status",
            "unknown variant `exploded`, expected one of `started`, `succeeded`, `failed`, `rolled_back`",
        ),
        (
            {
                let mut b = good.clone();
                b["sha"] = json!("x");
                b
            },
            "/sha",
            "unknown field `sha`, expected one of `id`, `service`, `version`, `environment`, `status`, `health`, `commit`, `url`",
        ),
        (
            with(good.clone(), "/service", json!(" ")),
            "/service",
            "must not be empty",
        ),
        (
            without(good.clone(), "/environment"),
            "",
            "missing field `environment`",
        ),
        (
            {
                let mut b = good.clone();
                b["health"] = json!("meh");
                b
            },
            "/health",
            "unknown variant `meh`, expected one of `healthy`, `degraded`, `unhealthy`",
        ),
    ];
    for (payload, path, problem) in cases {
        let (status, body) = post(&server, DEPLOYS, &token, &payload).await;
        assert_eq!((status, body), (422, invalid(&[(path, problem)])), "{path}");
        nothing_happened(&server, &id, version).await;
    }
}

#[tokio::test]
async fn only_integration_tokens_post_events_and_they_do_nothing_else() {
    let server = server().await;
    let integration = integration_token(&server).await;
    let id = create_switch_id(&server, &alert_switch("manual")).await;
    let version = production_version(&server).await;
    let deploy = json!({"service": "checkout-api", "version": "1", "environment": "production", "status": "failed"});

    // Sessions are not tokens at all; API tokens are the wrong kind.
    let editor = server.user("eddie", Role::Editor).await;
    let session = error(
        "unauthorized",
        "wrong kind of token: this endpoint takes an API or integration token, not a user session",
    );
    let api_token = server
        .token(TokenKind::Api, Some(Role::Admin), None, &[])
        .await;
    for (path, body) in [(ALERTS, firing()), (DEPLOYS, deploy.clone())] {
        for bearer in [&server.admin, &editor] {
            let (status, response) = post(&server, path, bearer, &body).await;
            assert_eq!((status, response), (401, session.clone()), "{path}");
        }
        let (status, response) = post(&server, path, &api_token, &body).await;
        let wrong_kind = error(
            "forbidden",
            "this endpoint takes an integration token, not an API token",
        );
        assert_eq!((status, response), (403, wrong_kind), "{path}");
    }
    let sdk = server.sdk_key("default", "production").await;
    let (status, _) = post(&server, ALERTS, &sdk, &firing()).await;
    assert_eq!(status, 401);
    let (status, response) = json(
        server
            .request(Method::POST, ALERTS, None)
            .json(&firing())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "{response}");
    nothing_happened(&server, &id, version).await;

    // The integration token itself: events only.
    let only_events = error(
        "forbidden",
        "integration tokens may only post health events (alerts and deploys)",
    );
    let switch_path = format!("{}/{id}", switches_path());
    for (method, path, body) in [
        (Method::GET, switches_path(), Value::Null),
        (Method::POST, switches_path(), alert_switch("manual")),
        (Method::DELETE, switch_path.clone(), Value::Null),
        (Method::POST, format!("{switch_path}/reset"), Value::Null),
        (
            Method::PUT,
            config_path("checkout", "production"),
            crate::api_support::serving("off", "off"),
        ),
        (
            Method::GET,
            format!("{}/timeline", crate::api_support::PROJECT),
            Value::Null,
        ),
    ] {
        let request = server.request(method.clone(), &path, Some(&integration));
        let request = if body.is_null() {
            request
        } else {
            request.json(&body)
        };
        let (status, response) = json(request.send().await.unwrap()).await;
        assert_eq!(
            (status, response),
            (403, only_events.clone()),
            "{method} {path}"
        );
    }
    nothing_happened(&server, &id, version).await;
}

#[tokio::test]
async fn invalid_switches_are_refused_whole() {
    let server = server().await;
    let viewer = server.user("vera", Role::Viewer).await;
    let (status, body) = post(&server, &switches_path(), &viewer, &alert_switch("manual")).await;
    assert_eq!(status, 403, "{body}");
    let cases = [
        (
            with(alert_switch("manual"), "/flag", json!("nope")),
            vec![("/flag", "flag `nope` does not exist in project `default`")],
        ),
        (
            with(alert_switch("manual"), "/environment", json!("moon")),
            vec![(
                "/environment",
                "environment `moon` does not exist in project `default`",
            )],
        ),
        (
            with(alert_switch("manual"), "/action", json!({"serve": "maybe"})),
            vec![("/action/serve", "flag `checkout` has no variant `maybe`")],
        ),
        (
            with(alert_switch("manual"), "/trigger/alert/matchers", json!([])),
            vec![(
                "/trigger/alert/matchers",
                "needs at least one matcher (an empty list would match every alert)",
            )],
        ),
        (
            with(
                alert_switch("manual"),
                "/trigger/alert/matchers/1/op",
                json!("=="),
            ),
            vec![(
                "/trigger/alert/matchers/1/op",
                "unknown variant `==`, expected one of `=`, `!=`, `=~`, `!~`",
            )],
        ),
        (
            with(alert_switch("manual"), "/restore", json!("sometimes")),
            vec![(
                "/restore",
                "unknown variant `sometimes`, expected `manual` or `on_resolve`",
            )],
        ),
        (
            {
                let mut b = alert_switch("manual");
                b["colour"] = json!("red");
                b
            },
            vec![(
                "/colour",
                "unknown field `colour`, expected one of `name`, `flag`, `environment`, `trigger`, `action`, `restore`",
            )],
        ),
    ];
    for (body, details) in cases {
        let (status, response) = post(&server, &switches_path(), &server.admin, &body).await;
        assert_eq!((status, response), (422, invalid(&details)), "{details:?}");
    }
    let bad_regex = with(
        alert_switch("manual"),
        "/trigger/alert/matchers/1/value",
        json!("(page"),
    );
    let (status, response) = post(&server, &switches_path(), &server.admin, &bad_regex).await;
    assert_eq!(status, 422);
    assert_eq!(
        response["error"]["details"][0]["path"],
        json!("/trigger/alert/matchers/1/value")
    );
    assert!(
        response["error"]["details"][0]["problem"]
            .as_str()
            .unwrap()
            .starts_with("is not a valid regex: ")
    );
    let (_, list, _) = crate::api_support::get(&server, &switches_path()).await;
    assert_eq!(list["total"], json!(0));

    // A stale If-Match on an edit is a 409 and changes nothing.
    let created = create_switch(&server, &alert_switch("manual")).await;
    let path = format!("{}/{}", switches_path(), created["id"].as_str().unwrap());
    let (status, _, _) = crate::api_support::send_with(
        &server,
        Method::PUT,
        &path,
        &server.admin,
        &[("if-match", "\"7\"")],
        &alert_switch("on_resolve"),
    )
    .await;
    assert_eq!(status, 409);
    let (status, body, etag) = crate::api_support::send_with(
        &server,
        Method::PUT,
        &path,
        &server.admin,
        &[("if-match", "\"1\"")],
        &alert_switch("on_resolve"),
    )
    .await;
    assert_eq!(
        (status, etag.as_deref(), body["restore"].clone()),
        (200, Some("\"2\""), json!("on_resolve"))
    );
}
