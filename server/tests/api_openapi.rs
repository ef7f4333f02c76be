//! The OpenAPI document describes every flag, config, segment and
//! change-log operation: who may call it, and every error it answers, each
//! with the one error body.

mod common;

use common::{TestServer, json};
use serde_json::Value;

/// `(path, method, statuses)`: what each operation can answer.
const OPERATIONS: &[(&str, &str, &[u16])] = &[
    (
        "/api/v1/projects/{project}/flags",
        "get",
        &[200, 400, 401, 404],
    ),
    (
        "/api/v1/projects/{project}/flags",
        "post",
        &[201, 400, 401, 403, 404, 409, 413, 415, 422],
    ),
    (
        "/api/v1/projects/{project}/flags/{flag}",
        "get",
        &[200, 401, 404],
    ),
    (
        "/api/v1/projects/{project}/flags/{flag}",
        "put",
        &[200, 400, 401, 403, 404, 409, 413, 415, 422],
    ),
    (
        "/api/v1/projects/{project}/flags/{flag}",
        "patch",
        &[200, 400, 401, 403, 404, 409, 413, 415, 422],
    ),
    (
        "/api/v1/projects/{project}/flags/{flag}",
        "delete",
        &[204, 400, 401, 403, 404, 409],
    ),
    (
        "/api/v1/projects/{project}/flags/{flag}/environments/{environment}",
        "get",
        &[200, 401, 404],
    ),
    (
        "/api/v1/projects/{project}/flags/{flag}/environments/{environment}",
        "put",
        &[200, 400, 401, 403, 404, 409, 413, 415, 422],
    ),
    (
        "/api/v1/projects/{project}/flags/{flag}/environments/{environment}/toggle",
        "post",
        &[200, 400, 401, 403, 404, 409, 413, 415, 422],
    ),
    (
        "/api/v1/projects/{project}/segments",
        "get",
        &[200, 400, 401, 404],
    ),
    (
        "/api/v1/projects/{project}/segments",
        "post",
        &[201, 400, 401, 403, 404, 409, 413, 415, 422],
    ),
    (
        "/api/v1/projects/{project}/segments/{segment}",
        "get",
        &[200, 401, 404],
    ),
    (
        "/api/v1/projects/{project}/segments/{segment}",
        "put",
        &[200, 400, 401, 403, 404, 409, 413, 415, 422],
    ),
    (
        "/api/v1/projects/{project}/segments/{segment}",
        "delete",
        &[204, 400, 401, 403, 404, 409],
    ),
    (
        "/api/v1/projects/{project}/changes",
        "get",
        &[200, 400, 401, 404],
    ),
    (
        "/api/v1/projects/{project}/events",
        "get",
        &[200, 400, 401, 404],
    ),
];

#[tokio::test]
async fn every_operation_documents_its_responses_and_errors() {
    let server = TestServer::start().await;
    let (status, doc) = json(server.get("/api/openapi.json").await).await;
    assert_eq!(status, 200);
    for (path, method, statuses) in OPERATIONS {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is not documented");
        assert_eq!(
            operation["security"],
            serde_json::json!([{"user": []}]),
            "{method} {path}"
        );
        let responses = operation["responses"].as_object().unwrap();
        let documented: Vec<u16> = responses.keys().map(|s| s.parse().unwrap()).collect();
        let mut documented_sorted = documented.clone();
        documented_sorted.sort_unstable();
        assert_eq!(documented_sorted, statuses.to_vec(), "{method} {path}");
        for (status, response) in responses {
            let schema = &response["content"]["application/json"]["schema"]["$ref"];
            if status.starts_with('4') {
                assert_eq!(
                    schema,
                    &Value::from("#/components/schemas/ErrorBody"),
                    "{method} {path} {status}"
                );
            }
        }
    }
    // Every schema referenced is defined.
    let text = doc.to_string();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "schema {name} is referenced but not defined"
        );
    }
}
