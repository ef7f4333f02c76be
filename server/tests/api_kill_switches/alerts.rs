//! Alertmanager notifications: a grouped firing payload disables the bound
//! flag in one change; the same payload again changes nothing; resolved
//! leaves a manual switch's flag off and restores an `on_resolve` one once
//! every alert that tripped it resolved; unmatched alerts change nothing;
//! evaluation on the replica that took the alert sees the trip at once.

use reqwest::Method;
use serde_json::json;

use crate::api_support::get;
use crate::common::json;
use crate::support::*;

#[tokio::test]
async fn a_firing_group_disables_the_flag_once() {
    let server = server().await;
    let token = integration_token(&server).await;
    let id = create_switch_id(&server, &alert_switch("manual")).await;
    let version = production_version(&server).await;

    let (status, body) = post(&server, ALERTS, &token, &firing()).await;
    assert_eq!(status, 202, "{body}");
    let matched = |fingerprint: &str, effect: &str| {
        json!({"project": "default", "kill_switch": id, "flag": "checkout",
               "environment": "production", "fingerprint": fingerprint, "effect": effect})
    };
    assert_eq!(
        body,
        json!({"received": 3, "duplicates": 0,
               "matched": [matched("c0ffee01", "tripped"), matched("c0ffee02", "held")]})
    );
    let config = checkout(&server).await;
    assert_eq!(config["enabled"], json!(false));
    assert_eq!(config["default_serve"], json!({"variant": "on"}));
    assert_eq!(production_version(&server).await, version + 1);
    // Two entries: the trip (the flag's config), then the second alert
    // holding the switch (a change of the switch, no version).
    let log = changes(&server).await;
    assert_eq!(log[1]["resource"], json!("flag_config"));
    assert_eq!(log[1]["actor"], json!("automation:alertmanager"));
    assert_eq!(
        log[1]["reason"],
        json!(
            "tripped by alert CheckoutErrors (fingerprint c0ffee01): Checkout 5xx ratio above 2%"
        )
    );
    assert_eq!(log[1]["before"]["enabled"], json!(true));
    assert_eq!(
        log[1]["versions"],
        json!([{"environment": "production", "version": version + 1}])
    );
    assert_eq!(
        (
            log[0]["resource"].clone(),
            log[0]["actor"].clone(),
            log[0]["versions"].clone()
        ),
        (
            json!("kill_switch"),
            json!("automation:alertmanager"),
            json!([])
        )
    );
    assert_eq!(log[2]["resource"], json!("kill_switch"));
    assert_eq!(log[2]["actor"], json!("user:admin"));
    let state = switch(&server, &id).await["state"].clone();
    assert_eq!(state["status"], json!("tripped"));
    let by: Vec<_> = state["tripped_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["source"].clone(),
                c["fingerprint"].clone(),
                c["alertname"].clone(),
            )
        })
        .collect();
    assert_eq!(
        by,
        [
            (json!("alert"), json!("c0ffee01"), json!("CheckoutErrors")),
            (json!("alert"), json!("c0ffee02"), json!("CheckoutErrors")),
        ]
    );

    // Alertmanager re-sends the group every `repeat_interval`.
    let log_len = changes(&server).await.len();
    let before = switch(&server, &id).await;
    let (status, body) = post(&server, ALERTS, &token, &firing()).await;
    assert_eq!(
        (status, body),
        (202, json!({"received": 0, "duplicates": 3, "matched": []}))
    );
    assert_eq!(production_version(&server).await, version + 1);
    assert_eq!(changes(&server).await.len(), log_len);
    assert_eq!(switch(&server, &id).await, before);
}

#[tokio::test]
async fn resolved_leaves_a_manual_switch_off_until_a_person_acts() {
    let server = server().await;
    let token = integration_token(&server).await;
    let id = create_switch_id(&server, &alert_switch("manual")).await;
    post(&server, ALERTS, &token, &firing()).await;
    let version = production_version(&server).await;

    let (status, body) = post(
        &server,
        ALERTS,
        &token,
        &resolved(&["c0ffee01", "c0ffee02"]),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let effects: Vec<_> = body["matched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["effect"].clone())
        .collect();
    assert_eq!(effects, [json!("released"), json!("released")]);
    assert_eq!(checkout(&server).await["enabled"], json!(false));
    assert_eq!(production_version(&server).await, version);
    let state = switch(&server, &id).await["state"].clone();
    assert_eq!(
        (state["status"].clone(), state["tripped_by"].clone()),
        (json!("tripped"), json!([]))
    );

    // A person re-arms it; the flag stays as it is until they edit it.
    let editor = editor(&server).await;
    let path = format!("{}/{id}/reset", switches_path());
    let (status, body) = json(
        server
            .request(Method::POST, &path, Some(&editor))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["state"],
        json!({"status": "armed", "tripped_at": null, "tripped_by": []})
    );
    assert_eq!(checkout(&server).await["enabled"], json!(false));
    assert_eq!(production_version(&server).await, version);
    let log = changes(&server).await;
    assert_eq!(
        (log[0]["resource"].clone(), log[0]["key"].clone()),
        (json!("kill_switch"), json!(id))
    );
}

#[tokio::test]
async fn on_resolve_restores_once_every_alert_resolved() {
    let server = server().await;
    let token = integration_token(&server).await;
    let id = create_switch_id(&server, &alert_switch("on_resolve")).await;
    post(&server, ALERTS, &token, &firing()).await;
    let version = production_version(&server).await;

    // One of the two alerts resolved: the other still holds the switch.
    let (_, body) = post(&server, ALERTS, &token, &resolved(&["c0ffee01"])).await;
    assert_eq!(body["matched"][0]["effect"], json!("released"));
    assert_eq!(checkout(&server).await["enabled"], json!(false));
    assert_eq!(production_version(&server).await, version);

    let (_, body) = post(&server, ALERTS, &token, &resolved(&["c0ffee02"])).await;
    assert_eq!(body["matched"][0]["effect"], json!("restored"));
    let config = checkout(&server).await;
    assert_eq!(config["enabled"], json!(true));
    assert_eq!(production_version(&server).await, version + 1);
    let log = changes(&server).await;
    assert_eq!(log[0]["actor"], json!("automation:alertmanager"));
    assert_eq!(
        log[0]["reason"],
        json!(
            "restored after resolved alert by alert CheckoutErrors (fingerprint c0ffee02): Checkout 5xx ratio above 2%"
        )
    );
    assert_eq!(
        switch(&server, &id).await["state"]["status"],
        json!("armed")
    );

    // The resolved notification repeated: nothing more.
    let (_, body) = post(&server, ALERTS, &token, &resolved(&["c0ffee02"])).await;
    assert_eq!(body, json!({"received": 0, "duplicates": 1, "matched": []}));
    assert_eq!(production_version(&server).await, version + 1);
}

#[tokio::test]
async fn on_resolve_keeps_a_persons_edit_made_after_the_trip() {
    let server = server().await;
    let token = integration_token(&server).await;
    let id = create_switch_id(&server, &alert_switch("on_resolve")).await;
    post(&server, ALERTS, &token, &firing()).await;
    let edited = crate::api_support::serving("off", "off");
    crate::api_support::put_config(&server, "checkout", "production", &edited).await;
    let version = production_version(&server).await;
    let (_, body) = post(
        &server,
        ALERTS,
        &token,
        &resolved(&["c0ffee01", "c0ffee02"]),
    )
    .await;
    assert_eq!(body["matched"][1]["effect"], json!("rearmed"));
    assert_eq!(
        checkout(&server).await["default_serve"],
        json!({"variant": "off"})
    );
    assert_eq!(production_version(&server).await, version);
    assert_eq!(
        switch(&server, &id).await["state"]["status"],
        json!("armed")
    );
}

#[tokio::test]
async fn unmatched_alerts_change_nothing() {
    let server = server().await;
    let token = integration_token(&server).await;
    let mut body = alert_switch("manual");
    body["trigger"]["alert"]["matchers"][1] =
        json!({"label": "region", "op": "!~", "value": "eu-.*|us-.*"});
    let id = create_switch_id(&server, &body).await;
    let version = production_version(&server).await;
    let log_len = changes(&server).await.len();
    let (status, body) = post(&server, ALERTS, &token, &firing()).await;
    assert_eq!(
        (status, body),
        (202, json!({"received": 3, "duplicates": 0, "matched": []}))
    );
    assert_eq!(checkout(&server).await["enabled"], json!(true));
    assert_eq!(production_version(&server).await, version);
    assert_eq!(changes(&server).await.len(), log_len);
    assert_eq!(
        switch(&server, &id).await["state"]["status"],
        json!("armed")
    );
    // Stored all the same, for the record and for idempotency.
    assert_eq!(stored_events(&server).await, 3);
    let (_, _, _) = get(&server, "/healthz").await;
}

#[tokio::test]
async fn evaluation_on_this_replica_sees_the_trip_at_once() {
    let server = server().await;
    let token = integration_token(&server).await;
    let sdk = server.sdk_key("default", "production").await;
    create_switch(&server, &alert_switch("on_resolve")).await;
    let evaluate = || async {
        let body = json!({"context": {"key": "user-1"}, "flag": "checkout"});
        let response = server
            .request(Method::POST, "/api/v1/evaluate", Some(&sdk))
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, body) = json(response).await;
        assert_eq!(status, 200, "{body}");
        (body["variant"].clone(), body["reason"].clone())
    };
    // Cached before the trip; no poller runs in these tests, so only the
    // events endpoint's own invalidation can make the trip visible.
    assert_eq!(evaluate().await, (json!("on"), json!("DEFAULT")));
    post(&server, ALERTS, &token, &firing()).await;
    assert_eq!(evaluate().await, (json!("off"), json!("DISABLED")));
    post(
        &server,
        ALERTS,
        &token,
        &resolved(&["c0ffee01", "c0ffee02"]),
    )
    .await;
    assert_eq!(evaluate().await, (json!("on"), json!("DEFAULT")));
}
