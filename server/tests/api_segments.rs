//! Segments over HTTP: create, list, replace, delete, validation, and the
//! refusal to delete a segment a flag config still uses.

mod api_support;
mod common;

use api_support::*;
use common::{TestServer, json};
use reqwest::Method;
use serde_json::json;
use vexil_server::store::Role;

fn segments_path() -> String {
    format!("{PROJECT}/segments")
}

#[tokio::test]
async fn create_read_replace_delete() {
    let server = TestServer::start().await;
    let editor = server.user("eve", Role::Editor).await;
    let before = versions(&server).await;

    let response = server
        .request(Method::POST, &segments_path(), Some(&editor))
        .header("x-vexil-reason", "beta programme")
        .json(&segment("beta"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["location"],
        "/api/v1/projects/default/segments/beta"
    );
    assert_eq!(response.headers()["etag"], "\"1\"");
    let (status, created) = json(response).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["included"], json!(["alice"]));
    assert_eq!(created["version"], 1);
    // A segment reaches every environment's snapshot.
    assert_eq!(versions(&server).await, bumped(&before, &ALL_ENVIRONMENTS));
    let change = newest_change(&server).await;
    assert_eq!(change["resource"], "segment");
    assert_eq!(change["action"], "created");
    assert_eq!(change["actor"], "user:eve");
    assert_eq!(change["reason"], "beta programme");
    assert_eq!(change["after"], created);

    let (status, fetched, etag) = get(&server, &segment_path("beta")).await;
    assert_eq!((status, etag.as_deref()), (200, Some("\"1\"")));
    assert_eq!(fetched, created);

    let mut body = segment("beta");
    body["excluded"] = json!(["mallory"]);
    body["rules"] = json!([{"id": "staff", "clauses": [
        {"attribute": "email", "op": "ends_with", "values": ["@example.com"]}
    ]}]);
    let (status, updated, etag) = send_with(
        &server,
        Method::PUT,
        &segment_path("beta"),
        &editor,
        &[("if-match", "\"1\"")],
        &body,
    )
    .await;
    assert_eq!((status, etag.as_deref()), (200, Some("\"2\"")), "{updated}");
    assert_eq!(updated["excluded"], json!(["mallory"]));
    let change = newest_change(&server).await;
    assert_eq!(change["action"], "updated");
    assert_eq!(change["before"], created);
    assert_eq!(change["after"], updated);

    let changes = change_count(&server).await;
    let (status, body, _) = send_with(
        &server,
        Method::PUT,
        &segment_path("beta"),
        &editor,
        &[("if-match", "\"1\"")],
        &segment("beta"),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            409,
            error(
                "conflict",
                "version conflict: If-Match was 1, the current version is 2; reload and retry"
            )
        )
    );
    assert_eq!(change_count(&server).await, changes);

    let response = server
        .request(Method::DELETE, &segment_path("beta"), Some(&editor))
        .header("if-match", "\"2\"")
        .send()
        .await
        .unwrap();
    assert_eq!(json(response).await, (204, serde_json::Value::Null));
    let (status, body, _) = get(&server, &segment_path("beta")).await;
    assert_eq!(
        (status, body),
        (404, error("not_found", "segment beta not found"))
    );
    let change = newest_change(&server).await;
    assert_eq!(
        (change["action"].clone(), change["after"].clone()),
        (json!("deleted"), json!(null))
    );
}

#[tokio::test]
async fn list_pages_by_key() {
    let server = TestServer::start().await;
    for key in ["c", "a", "b"] {
        create_segment(&server, &segment(key)).await;
    }
    let keys = |page: &serde_json::Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["key"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, all, _) = get(&server, &segments_path()).await;
    assert_eq!(status, 200);
    assert_eq!(keys(&all), ["a", "b", "c"]);
    assert_eq!(
        (all["total"].clone(), all["per_page"].clone()),
        (json!(3), json!(50))
    );
    let (_, second, _) = get(&server, &format!("{}?per_page=2&page=2", segments_path())).await;
    assert_eq!(keys(&second), ["c"]);
    assert_eq!(
        (second["total"].clone(), second["page"].clone()),
        (json!(3), json!(2))
    );
    let (status, body, _) = get(&server, &format!("{}?per_page=0", segments_path())).await;
    assert_eq!(
        (status, body),
        (
            400,
            error("bad_request", "per_page must be between 1 and 200")
        )
    );
    let (status, body, _) = get(&server, "/api/v1/projects/nope/segments").await;
    assert_eq!(
        (status, body),
        (404, error("not_found", "project nope not found"))
    );
}

#[tokio::test]
async fn invalid_segments_are_422_and_change_nothing() {
    let server = TestServer::start().await;
    create_segment(&server, &segment("beta")).await;
    let changes = change_count(&server).await;
    let (_, stored, _) = get(&server, &segment_path("beta")).await;

    let mut other_key = segment("beta");
    other_key["key"] = json!("gamma");
    let mut nested = segment("beta");
    nested["rules"] =
        json!([{"clauses": [{"attribute": "", "op": "in_segment", "values": ["beta"]}]}]);
    let mut bad_values = segment("beta");
    bad_values["included"] = json!(["alice", ""]);
    bad_values["rules"] = json!([{"id": "v", "clauses": [
        {"attribute": "version", "op": "semver_gt", "values": ["1.2.3.4"]}
    ]}]);
    for (body, expected) in [
        (
            other_key,
            invalid(&[(
                "/key",
                "must be `beta`, the key in the URL: a segment's key cannot change",
            )]),
        ),
        (
            nested,
            invalid(&[(
                "/rules/0/clauses/0/op",
                "\"in_segment\" is not allowed inside a segment",
            )]),
        ),
        (
            bad_values,
            invalid(&[
                ("/included/1", "a context key must not be empty"),
                (
                    "/rules/0/clauses/0/values/0",
                    "\"1.2.3.4\" is not a semantic version (like 1.2.3 or 2.0.0-beta.1)",
                ),
            ]),
        ),
        (
            json!({"key": "beta", "name": "B", "members": []}),
            invalid(&[(
                "/members",
                "unknown field `members`, expected one of `key`, `name`, `description`, `included`, `excluded`, `rules`, `version`",
            )]),
        ),
    ] {
        let (status, error_body) = json(
            server
                .send(Method::PUT, &segment_path("beta"), &server.admin, &body)
                .await,
        )
        .await;
        assert_eq!((status, error_body), (422, expected), "{body}");
    }
    let (status, body) = json(
        server
            .send(
                Method::POST,
                &segments_path(),
                &server.admin,
                &json!({"key": "Bad Key", "name": ""}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let paths: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/key", "/name"]);
    let (status, body) = json(
        server
            .send(
                Method::POST,
                &segments_path(),
                &server.admin,
                &segment("beta"),
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, body),
        (409, error("conflict", "segment beta already exists"))
    );

    assert_eq!(get(&server, &segment_path("beta")).await.1, stored);
    assert_eq!(change_count(&server).await, changes);
}

#[tokio::test]
async fn a_segment_in_use_cannot_be_deleted() {
    let server = TestServer::start().await;
    create_segment(&server, &segment("beta")).await;
    create_flag(&server, &boolean_flag("checkout")).await;
    let mut config = serving("off", "off");
    config["rules"] = json!([{"id": "beta", "clauses": [
        {"attribute": "", "op": "in_segment", "values": ["beta"]}
    ], "serve": {"variant": "on"}}]);
    put_config(&server, "checkout", "staging", &config).await;
    let changes = change_count(&server).await;

    let delete = || {
        let server = &server;
        async move {
            let request =
                server.request(Method::DELETE, &segment_path("beta"), Some(&server.admin));
            json(request.send().await.unwrap()).await
        }
    };
    assert_eq!(
        delete().await,
        (
            409,
            error(
                "conflict",
                "segment beta is used by flag checkout in environment staging"
            )
        )
    );
    assert_eq!(change_count(&server).await, changes);
    assert_eq!(get(&server, &segment_path("beta")).await.0, 200);

    put_config(&server, "checkout", "staging", &serving("off", "off")).await;
    assert_eq!(delete().await.0, 204);
    assert_eq!(
        delete().await,
        (404, error("not_found", "segment beta not found"))
    );
}
