//! The admin endpoints in `/api/openapi.json`.

use serde_json::Value;

use crate::common::{TestServer, json};

#[tokio::test]
async fn every_admin_endpoint_is_documented_with_its_errors() {
    let server = TestServer::start().await;
    let (status, doc) = json(
        server
            .request(reqwest::Method::GET, "/api/openapi.json", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let expected = [
        ("/api/v1/projects", &["get", "post"][..]),
        ("/api/v1/projects/{project}", &["get", "put", "delete"]),
        ("/api/v1/projects/{project}/environments", &["get", "post"]),
        (
            "/api/v1/projects/{project}/environments/{environment}",
            &["get", "put", "delete"],
        ),
        (
            "/api/v1/projects/{project}/environments/{environment}/sdk-keys",
            &["get", "post"],
        ),
        (
            "/api/v1/projects/{project}/environments/{environment}/sdk-keys/{id}",
            &["get", "delete"],
        ),
        ("/api/v1/users", &["get", "post"]),
        ("/api/v1/users/{username}", &["get", "put", "delete"]),
        ("/api/v1/users/me/password", &["put"]),
        ("/api/v1/tokens", &["get", "post"]),
        ("/api/v1/tokens/{id}", &["get", "delete"]),
    ];
    for (path, methods) in expected {
        for method in methods {
            let operation = &doc["paths"][path][method];
            assert!(operation.is_object(), "{method} {path} is not documented");
            assert_eq!(
                operation["security"][0]["user"],
                Value::Array(vec![]),
                "{method} {path}"
            );
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.contains_key("401"),
                "{method} {path} documents 401"
            );
            for (code, response) in responses {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                if code.starts_with('4') {
                    assert_eq!(
                        schema, "#/components/schemas/ErrorBody",
                        "{method} {path} {code}"
                    );
                } else if code != "204" {
                    assert!(
                        schema.is_string(),
                        "{method} {path} {code} has a body schema"
                    );
                }
            }
            let writes =
                ["post", "put", "delete"].contains(method) && path != "/api/v1/users/me/password";
            if writes {
                assert!(
                    responses.contains_key("403"),
                    "{method} {path} documents 403"
                );
            }
        }
    }
    for schema in [
        "ProjectRecord",
        "EnvironmentRecord",
        "User",
        "Token",
        "IssuedToken",
        "NewProject",
        "NewToken",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "schema {schema}"
        );
    }
}
