//! The timeline: deploys, trips and changes of a project together, newest
//! first, filtered by kind and environment, paged.

use serde_json::json;

use crate::api_support::{PROJECT, get};
use crate::support::*;

#[tokio::test]
async fn deploys_trips_and_changes_newest_first() {
    let server = server().await;
    let token = integration_token(&server).await;
    create_switch(&server, &alert_switch("manual")).await;
    let deploy = json!({"service": "checkout-api", "version": "7", "environment": "production", "status": "succeeded"});
    post(&server, DEPLOYS, &token, &deploy).await;
    let staging = json!({"service": "checkout-api", "version": "7", "environment": "staging", "status": "started"});
    post(&server, DEPLOYS, &token, &staging).await;
    post(&server, ALERTS, &token, &firing()).await;

    let (status, body, _) = get(
        &server,
        &format!("{PROJECT}/timeline?environment=production"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let kinds: Vec<_> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].clone())
        .collect();
    // The trip, the deploy, then the config write of the fixture.
    assert_eq!(kinds, [json!("trip"), json!("deploy"), json!("change")]);
    assert_eq!(body["items"][0]["actor"], json!("automation:alertmanager"));
    assert_eq!(
        body["items"][1]["summary"],
        json!("checkout-api 7 succeeded")
    );
    assert_eq!(body["has_more"], json!(false));

    let (_, body, _) = get(&server, &format!("{PROJECT}/timeline?kinds=deploy")).await;
    let envs: Vec<_> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["environment"].clone())
        .collect();
    assert_eq!(envs, [json!("staging"), json!("production")]);

    let (_, body, _) = get(
        &server,
        &format!("{PROJECT}/timeline?per_page=1&page=2&environment=production"),
    )
    .await;
    assert_eq!(body["items"][0]["kind"], json!("deploy"));
    assert_eq!(body["has_more"], json!(true));

    let (status, body, _) = get(&server, &format!("{PROJECT}/timeline?kinds=alerts")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["message"],
        json!("`kinds` takes deploy, trip, rollout and change, comma-separated; not `alerts`")
    );
    let (status, _, _) = get(&server, &format!("{PROJECT}/timeline?from=yesterday")).await;
    assert_eq!(status, 400);
    let (status, _, _) = get(&server, &format!("{PROJECT}/timeline?environment=moon")).await;
    assert_eq!(status, 404);
    let (status, _, _) = get(&server, "/api/v1/projects/nope/timeline").await;
    assert_eq!(status, 404);
}
