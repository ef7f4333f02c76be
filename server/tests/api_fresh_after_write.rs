//! A write through the API is what the next evaluation on this replica
//! serves: no waiting for the version poller.

mod common;

use common::{TestServer, json};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn evaluation_sees_each_write_at_once() {
    let server = TestServer::start().await;
    let admin = server.admin.clone();
    let key = server.sdk_key("default", "production").await;
    let evaluate = || async {
        let response = server
            .send(
                Method::POST,
                "/api/v1/evaluate",
                &key,
                &json!({"context": {"key": "u1"}, "flag": "new-checkout"}),
            )
            .await;
        json(response).await
    };

    let (status, _) = json(
        server
            .send(
                Method::POST,
                "/api/v1/projects/default/flags",
                &admin,
                &json!({"key": "new-checkout", "name": "New checkout", "kind": "boolean",
                        "variants": [{"key": "on", "value": true}, {"key": "off", "value": false}]}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 201);
    let (status, off) = evaluate().await;
    assert_eq!(
        (status, &off["value"], &off["reason"]),
        (200, &json!(false), &json!("DISABLED"))
    );

    let config = "/api/v1/projects/default/flags/new-checkout/environments/production";
    let (status, body) = json(
        server
            .send(
                Method::PUT,
                config,
                &admin,
                &json!({"enabled": true, "off_variant": "off", "default_serve": {"variant": "on"}}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, on) = evaluate().await;
    assert_eq!(
        (&on["value"], &on["reason"]),
        (&json!(true), &json!("DEFAULT"))
    );

    let toggle = format!("{config}/toggle");
    let (status, _) = json(
        server
            .send(Method::POST, &toggle, &admin, &json!({"enabled": false}))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let (_, off_again) = evaluate().await;
    assert_eq!(
        (&off_again["value"], &off_again["reason"]),
        (&json!(false), &json!("DISABLED"))
    );
}
