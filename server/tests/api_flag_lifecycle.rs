//! A flag's life after creation over HTTP: metadata patches, `If-Match`
//! on every definition write, archiving (which refuses writes until the
//! flag is restored), and deleting (archived flags only).

mod api_support;
mod common;

use api_support::*;
use common::{TestServer, json};
use reqwest::Method;
use serde_json::json;
#[tokio::test]
async fn stale_if_match_is_a_conflict_and_changes_nothing() {
    let server = TestServer::start().await;
    create_flag(&server, &boolean_flag("f")).await;
    let mut body = boolean_flag("f");
    body["name"] = json!("First");
    let (status, _, _) = send_with(
        &server,
        Method::PUT,
        &flag_path("f"),
        &server.admin,
        &[("if-match", "1")],
        &body,
    )
    .await;
    assert_eq!(status, 200);
    let changes = change_count(&server).await;
    let before = versions(&server).await;

    let expected = error(
        "conflict",
        "version conflict: If-Match was 1, the current version is 2; reload and retry",
    );
    body["name"] = json!("Second");
    for (method, body) in [
        (Method::PUT, body.clone()),
        (Method::PATCH, json!({"description": "stale"})),
        (Method::PATCH, json!({"archived": true})),
    ] {
        let (status, error_body, _) = send_with(
            &server,
            method.clone(),
            &flag_path("f"),
            &server.admin,
            &[("if-match", "\"1\"")],
            &body,
        )
        .await;
        assert_eq!(
            (status, error_body),
            (409, expected.clone()),
            "{method} {body}"
        );
    }
    let response = server
        .request(Method::DELETE, &flag_path("f"), Some(&server.admin))
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(json(response).await, (409, expected));

    let (_, stored, _) = get(&server, &flag_path("f")).await;
    assert_eq!(
        (stored["name"].clone(), stored["version"].clone()),
        (json!("First"), json!(2))
    );
    assert_eq!(change_count(&server).await, changes);
    assert_eq!(versions(&server).await, before);

    let (status, body, _) = send_with(
        &server,
        Method::PUT,
        &flag_path("f"),
        &server.admin,
        &[("if-match", "two")],
        &boolean_flag("f"),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            400,
            error(
                "bad_request",
                "If-Match must be the object's version, as its ETag gives it (\"3\"), or *"
            )
        )
    );
}

#[tokio::test]
async fn patch_changes_metadata_and_keeps_the_rest() {
    let server = TestServer::start().await;
    let mut body = color_flag("theme");
    body["owner"] = json!("team-ui");
    body["tags"] = json!(["ui"]);
    let created = create_flag(&server, &body).await;

    let (status, patched, etag) = send_with(
        &server,
        Method::PATCH,
        &flag_path("theme"),
        &server.admin,
        &[("x-vexil-reason", "hand over")],
        &json!({"name": "Theme", "tags": ["ui", "brand"], "owner": null, "temporary": true}),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(etag.as_deref(), Some("\"2\""));
    assert_eq!(patched["name"], "Theme");
    assert_eq!(patched["tags"], json!(["ui", "brand"]));
    assert!(patched.get("owner").is_none(), "{patched}");
    assert_eq!(patched["temporary"], true);
    assert_eq!(patched["variants"], created["variants"]);
    assert_eq!(patched["kind"], "string");
    let change = newest_change(&server).await;
    assert_eq!(
        (change["action"].clone(), change["reason"].clone()),
        (json!("updated"), json!("hand over"))
    );

    let changes = change_count(&server).await;
    let refused = [
        (
            json!({}),
            invalid(&[(
                "",
                "nothing to change: send `archived`, or any of `name`, `description`, `tags`, `owner`, `temporary`",
            )]),
        ),
        (
            json!({"archived": true, "name": "x"}),
            invalid(&[(
                "/archived",
                "archive or restore on its own, in a request without other fields",
            )]),
        ),
        (
            json!({"name": null}),
            invalid(&[("/name", "invalid type: null, expected a string")]),
        ),
        (
            json!({"variants": []}),
            invalid(&[(
                "/variants",
                "unknown field `variants`, expected one of `archived`, `name`, `description`, `tags`, `owner`, `temporary`",
            )]),
        ),
        (
            json!({"name": " "}),
            invalid(&[("/name", "must not be empty")]),
        ),
    ];
    for (body, expected) in refused {
        let (status, error_body) = json(
            server
                .send(Method::PATCH, &flag_path("theme"), &server.admin, &body)
                .await,
        )
        .await;
        assert_eq!((status, error_body), (422, expected), "{body}");
    }
    let mut fetched = get(&server, &flag_path("theme")).await.1;
    // Reads add `last_evaluated`; writes answer the stored record.
    fetched.as_object_mut().unwrap().remove("last_evaluated");
    assert_eq!(fetched, patched);
    assert_eq!(change_count(&server).await, changes);
}

#[tokio::test]
async fn archived_flags_refuse_writes_until_restored_and_only_they_can_be_deleted() {
    let server = TestServer::start().await;
    create_flag(&server, &boolean_flag("old")).await;
    let before = versions(&server).await;

    let delete = || {
        let server = &server;
        async move {
            let request = server.request(Method::DELETE, &flag_path("old"), Some(&server.admin));
            json(request.send().await.unwrap()).await
        }
    };
    assert_eq!(
        delete().await,
        (
            409,
            error(
                "conflict",
                "flag old is not archived: archive it before deleting it"
            )
        )
    );

    let (status, archived, etag) = send_with(
        &server,
        Method::PATCH,
        &flag_path("old"),
        &server.admin,
        &[("x-vexil-reason", "launched")],
        &json!({"archived": true}),
    )
    .await;
    assert_eq!((status, etag.as_deref()), (200, Some("\"2\"")));
    assert_eq!(archived["archived"], true);
    assert_eq!(versions(&server).await, bumped(&before, &ALL_ENVIRONMENTS));
    let change = newest_change(&server).await;
    assert_eq!(
        (change["action"].clone(), change["reason"].clone()),
        (json!("archived"), json!("launched"))
    );
    // It has left the snapshots.
    let snapshot = server
        .store
        .snapshot("default", "production")
        .await
        .unwrap();
    assert!(snapshot.flag("old").is_none());

    let changes = change_count(&server).await;
    let versions_archived = versions(&server).await;
    let refused = error("conflict", "flag old is archived: restore it first");
    let writes = [
        (Method::PUT, flag_path("old"), boolean_flag("old")),
        (Method::PATCH, flag_path("old"), json!({"name": "x"})),
        (
            Method::PUT,
            config_path("old", "production"),
            serving("off", "on"),
        ),
        (
            Method::POST,
            toggle_path("old", "production"),
            json!({"enabled": true}),
        ),
    ];
    for (method, path, body) in writes {
        let (status, error_body) = json(
            server
                .send(method.clone(), &path, &server.admin, &body)
                .await,
        )
        .await;
        assert_eq!(
            (status, error_body),
            (409, refused.clone()),
            "{method} {path}"
        );
    }
    let (status, body) = json(
        server
            .send(
                Method::PATCH,
                &flag_path("old"),
                &server.admin,
                &json!({"archived": true}),
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, body),
        (409, error("conflict", "flag old is already archived"))
    );
    assert_eq!(change_count(&server).await, changes);
    assert_eq!(versions(&server).await, versions_archived);

    // Restore, archive again, delete.
    let (status, restored) = json(
        server
            .send(
                Method::PATCH,
                &flag_path("old"),
                &server.admin,
                &json!({"archived": false}),
            )
            .await,
    )
    .await;
    assert_eq!((status, restored["archived"].clone()), (200, json!(false)));
    assert_eq!(newest_change(&server).await["action"], "restored");
    assert!(
        server
            .store
            .snapshot("default", "production")
            .await
            .unwrap()
            .flag("old")
            .is_some()
    );
    let (status, _) = json(
        server
            .send(
                Method::PATCH,
                &flag_path("old"),
                &server.admin,
                &json!({"archived": true}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(delete().await, (204, serde_json::Value::Null));
    let (status, body, _) = get(&server, &flag_path("old")).await;
    assert_eq!(
        (status, body),
        (404, error("not_found", "flag old not found"))
    );
    let change = newest_change(&server).await;
    assert_eq!(change["action"], "deleted");
    assert_eq!(change["after"], serde_json::Value::Null);
    assert_eq!(change["before"]["archived"], true);
}
