//! What the flag, config, segment and change-log API tests share: request
//! bodies, paths, raw requests, and reading the store directly to prove
//! that a refused request changed nothing.

#![allow(dead_code)]

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};
use vexil_server::store::{ChangeFilter, Page};

use crate::common::{TestServer, json};

/// The project every test works in (a fresh install has it).
pub const PROJECT: &str = "/api/v1/projects/default";

pub fn flags_path() -> String {
    format!("{PROJECT}/flags")
}

pub fn flag_path(flag: &str) -> String {
    format!("{PROJECT}/flags/{flag}")
}

pub fn config_path(flag: &str, environment: &str) -> String {
    format!("{PROJECT}/flags/{flag}/environments/{environment}")
}

pub fn toggle_path(flag: &str, environment: &str) -> String {
    format!("{}/toggle", config_path(flag, environment))
}

pub fn segment_path(segment: &str) -> String {
    format!("{PROJECT}/segments/{segment}")
}

/// A boolean flag (`on`/`off`).
pub fn boolean_flag(key: &str) -> Value {
    json!({
        "key": key,
        "name": format!("Flag {key}"),
        "kind": "boolean",
        "variants": [{"key": "on", "value": true}, {"key": "off", "value": false}],
    })
}

/// A string flag with variants `red`, `green` and `blue`.
pub fn color_flag(key: &str) -> Value {
    json!({
        "key": key,
        "name": format!("Colour {key}"),
        "kind": "string",
        "variants": [
            {"key": "red", "value": "#f00"},
            {"key": "green", "value": "#0f0"},
            {"key": "blue", "value": "#00f"},
        ],
    })
}

/// A config serving `variant` to everyone, off variant `off`.
pub fn serving(off: &str, variant: &str) -> Value {
    json!({"enabled": true, "off_variant": off, "default_serve": {"variant": variant}})
}

/// A segment with one included key.
pub fn segment(key: &str) -> Value {
    json!({"key": key, "name": format!("Segment {key}"), "included": ["alice"]})
}

/// `{"error": {"code", "message"}}`.
pub fn error(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

/// A 422 body with these `(path, problem)` details.
pub fn invalid(details: &[(&str, &str)]) -> Value {
    let details: Vec<Value> = details
        .iter()
        .map(|(path, problem)| json!({"path": path, "problem": problem}))
        .collect();
    json!({"error": {"code": "invalid", "message": "the request body is invalid", "details": details}})
}

/// Creates a flag as the admin; its created record.
pub async fn create_flag(server: &TestServer, body: &Value) -> Value {
    let (status, created) = json(
        server
            .send(Method::POST, &flags_path(), &server.admin, body)
            .await,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created
}

/// Creates a segment as the admin.
pub async fn create_segment(server: &TestServer, body: &Value) -> Value {
    let path = format!("{PROJECT}/segments");
    let (status, created) = json(server.send(Method::POST, &path, &server.admin, body).await).await;
    assert_eq!(status, 201, "{created}");
    created
}

/// Puts a config as the admin, without `If-Match`; the stored config.
pub async fn put_config(server: &TestServer, flag: &str, environment: &str, body: &Value) -> Value {
    let path = config_path(flag, environment);
    let (status, stored) = json(server.send(Method::PUT, &path, &server.admin, body).await).await;
    assert_eq!(status, 200, "{stored}");
    stored
}

/// A request with a JSON body and extra headers, as `bearer`.
pub async fn send_with(
    server: &TestServer,
    method: Method,
    path: &str,
    bearer: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> (u16, Value, Option<String>) {
    let mut request = server.request(method, path, Some(bearer)).json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let etag = etag(&response);
    let (status, body) = json(response).await;
    (status, body, etag)
}

/// A request with a raw body and content type, as `bearer`.
pub async fn send_raw(
    server: &TestServer,
    method: Method,
    path: &str,
    bearer: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut request = server.request(method, path, Some(bearer)).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    json(request.send().await.unwrap()).await
}

/// GET as the admin: status, body and `ETag`.
pub async fn get(server: &TestServer, path: &str) -> (u16, Value, Option<String>) {
    let response = server.get(path).await;
    let etag = etag(&response);
    let (status, body) = json(response).await;
    (status, body, etag)
}

pub fn etag(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned())
}

/// How many entries the default project's change log holds.
pub async fn change_count(server: &TestServer) -> u64 {
    let filter = ChangeFilter {
        page: Page {
            page: 1,
            per_page: 1,
        },
        ..ChangeFilter::default()
    };
    server
        .store
        .list_changes(Some("default"), &filter)
        .await
        .unwrap()
        .total
}

/// Every environment's version in the default project.
pub async fn versions(server: &TestServer) -> BTreeMap<String, u64> {
    server
        .store
        .list_environments("default")
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.environment.key, e.environment.version))
        .collect()
}

/// The newest change of the default project, as the API shows it.
pub async fn newest_change(server: &TestServer) -> Value {
    let (status, page, _) = get(server, &format!("{PROJECT}/changes?per_page=1")).await;
    assert_eq!(status, 200, "{page}");
    page["items"][0].clone()
}

/// `versions` with every environment in `bumped` one higher.
pub fn bumped(before: &BTreeMap<String, u64>, bumped: &[&str]) -> BTreeMap<String, u64> {
    before
        .iter()
        .map(|(env, v)| {
            let v = if bumped.contains(&env.as_str()) {
                v + 1
            } else {
                *v
            };
            (env.clone(), v)
        })
        .collect()
}

pub const ALL_ENVIRONMENTS: [&str; 3] = ["development", "staging", "production"];
