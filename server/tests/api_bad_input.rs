//! Bodies the flag, config and segment endpoints refuse before looking at
//! anything stored: malformed JSON (400), unknown fields and invalid
//! documents (422 with pointers), oversized bodies (413), other content
//! types (415). Each refusal leaves the stored object and the change log
//! as they were.

mod api_support;
mod common;

use api_support::*;
use common::TestServer;
use reqwest::Method;
use serde_json::{Value, json};

/// Every write endpoint with a JSON body, and a valid body for it.
fn writes() -> Vec<(Method, String, Value)> {
    vec![
        (Method::POST, flags_path(), boolean_flag("fresh")),
        (Method::PUT, flag_path("checkout"), boolean_flag("checkout")),
        (Method::PATCH, flag_path("checkout"), json!({"name": "x"})),
        (
            Method::PUT,
            config_path("checkout", "production"),
            serving("off", "on"),
        ),
        (
            Method::POST,
            toggle_path("checkout", "production"),
            json!({"enabled": true}),
        ),
        (
            Method::POST,
            format!("{PROJECT}/segments"),
            segment("fresh"),
        ),
        (Method::PUT, segment_path("beta"), segment("beta")),
    ]
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

async fn setup() -> TestServer {
    let server = TestServer::start().await;
    create_flag(&server, &boolean_flag("checkout")).await;
    create_segment(&server, &segment("beta")).await;
    server
}

#[tokio::test]
async fn malformed_json_is_400() {
    let server = setup().await;
    let before = state(&server).await;
    for (method, path, _) in writes() {
        for (body, message) in [
            (
                &b"{\"na"[..],
                "the request body is not valid JSON: EOF while parsing a string at line 1 column 4",
            ),
            (
                b"{,}",
                "the request body is not valid JSON: key must be a string at line 1 column 2",
            ),
            (
                b"",
                "the request body is not valid JSON: EOF while parsing a value at line 1 column 0",
            ),
        ] {
            let response = send_raw(
                &server,
                method.clone(),
                &path,
                &server.admin,
                Some("application/json"),
                body.to_vec(),
            )
            .await;
            assert_eq!(
                response,
                (400, error("bad_request", message)),
                "{method} {path} {body:?}"
            );
        }
    }
    assert_eq!(state(&server).await, before);
}

#[tokio::test]
async fn unknown_fields_and_wrong_types_are_422_with_pointers() {
    let server = setup().await;
    let before = state(&server).await;
    for (method, path, mut body) in writes() {
        body["extra"] = json!(1);
        let (status, error_body) = json_of(&server, method.clone(), &path, &body).await;
        assert_eq!(status, 422, "{method} {path}: {error_body}");
        let details = &error_body["error"]["details"];
        assert_eq!(details.as_array().unwrap().len(), 1, "{error_body}");
        assert_eq!(details[0]["path"], "/extra");
        assert!(
            details[0]["problem"]
                .as_str()
                .unwrap()
                .starts_with("unknown field `extra`, expected"),
            "{error_body}"
        );
    }
    // Nested unknown fields and wrong types say where.
    let mut variant_extra = boolean_flag("fresh");
    variant_extra["variants"][1]["colour"] = json!("red");
    let (status, body) = json_of(&server, Method::POST, &flags_path(), &variant_extra).await;
    assert_eq!(
        (status, body),
        (
            422,
            invalid(&[(
                "/variants/1/colour",
                "unknown field `colour`, expected one of `key`, `value`, `name`, `description`"
            )])
        )
    );
    let mut wrong_type = serving("off", "on");
    wrong_type["enabled"] = json!("yes");
    let path = config_path("checkout", "production");
    let (status, body) = json_of(&server, Method::PUT, &path, &wrong_type).await;
    assert_eq!(
        (status, body),
        (
            422,
            invalid(&[(
                "/enabled",
                "invalid type: string \"yes\", expected a boolean"
            )])
        )
    );
    // An invalid flag: every problem, each at its pointer.
    let (status, body) = json_of(
        &server,
        Method::POST,
        &flags_path(),
        &json!({"key": "Bad Key", "name": "", "kind": "boolean",
                "variants": [{"key": "on", "value": "yes"}, {"key": "off", "value": false}]}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let paths: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/key", "/name", "/variants/0/value"]);
    assert_eq!(state(&server).await, before);
}

#[tokio::test]
async fn other_content_types_are_415() {
    let server = setup().await;
    let before = state(&server).await;
    for (method, path, body) in writes() {
        let bytes = serde_json::to_vec(&body).unwrap();
        for content_type in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let response = send_raw(
                &server,
                method.clone(),
                &path,
                &server.admin,
                content_type,
                bytes.clone(),
            )
            .await;
            assert_eq!(
                response,
                (
                    415,
                    error(
                        "unsupported_media_type",
                        "expected a body of type application/json"
                    )
                ),
                "{method} {path} {content_type:?}"
            );
        }
        // `application/json; charset=utf-8` and `+json` types are JSON.
        let (status, _) = send_raw(
            &server,
            method.clone(),
            &path,
            &server.admin,
            Some("application/vnd.api+json"),
            b"{".to_vec(),
        )
        .await;
        assert_eq!(status, 400, "{method} {path}");
    }
    assert_eq!(state(&server).await, before);
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let server = setup().await;
    let before = state(&server).await;
    // A valid document just over 2 MiB: 200 000 context keys.
    let keys: Vec<String> = (0..200_000).map(|i| format!("user-{i:06}")).collect();
    let mut config = serving("off", "on");
    config["targets"] = json!([{"variant": "on", "values": keys}]);
    let bytes = serde_json::to_vec(&config).unwrap();
    assert!(bytes.len() > 2 * 1024 * 1024);
    for (method, path, _) in writes() {
        let response = send_raw(
            &server,
            method.clone(),
            &path,
            &server.admin,
            Some("application/json"),
            bytes.clone(),
        )
        .await;
        assert_eq!(
            response,
            (
                413,
                error(
                    "payload_too_large",
                    "the request body is larger than 2097152 bytes"
                )
            ),
            "{method} {path}"
        );
    }
    assert_eq!(state(&server).await, before);
}

/// A JSON request as the admin.
async fn json_of(server: &TestServer, method: Method, path: &str, body: &Value) -> (u16, Value) {
    common::json(server.send(method, path, &server.admin, body).await).await
}
