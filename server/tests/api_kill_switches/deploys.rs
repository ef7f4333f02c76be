//! Deploy events: a failed deploy of the bound service in the switch's
//! environment trips it; the same event again, a deploy that only
//! started, and other services or environments change nothing.

use serde_json::json;

use crate::support::*;

fn deploy(service: &str, environment: &str, status: &str) -> serde_json::Value {
    json!({"service": service, "version": "2026.12.3-1", "environment": environment,
           "status": status, "commit": "9fceb02", "url": "https://ci.example/run/7"})
}

#[tokio::test]
async fn a_failed_deploy_trips_its_switch_once() {
    let server = server().await;
    let token = integration_token(&server).await;
    let body = json!({
        "name": "Checkout deploys",
        "flag": "checkout",
        "environment": "production",
        "trigger": {"deploy": {"service": "checkout-api"}},
        "action": {"serve": "off"},
    });
    let created = create_switch(&server, &body).await;
    assert_eq!(created["restore"], json!("manual"));
    assert_eq!(
        created["trigger"],
        json!({"deploy": {"service": "checkout-api", "statuses": ["failed", "rolled_back"]}})
    );
    let id = created["id"].as_str().unwrap().to_owned();
    let version = production_version(&server).await;

    for (service, environment, status) in [
        ("checkout-api", "production", "started"),
        ("checkout-api", "staging", "failed"),
        ("search", "production", "failed"),
    ] {
        let (code, body) = post(
            &server,
            DEPLOYS,
            &token,
            &deploy(service, environment, status),
        )
        .await;
        assert_eq!(
            (code, body),
            (202, json!({"received": 1, "duplicates": 0, "matched": []}))
        );
    }
    assert_eq!(production_version(&server).await, version);

    let failed = deploy("checkout-api", "production", "failed");
    let (code, body) = post(&server, DEPLOYS, &token, &failed).await;
    assert_eq!(code, 202, "{body}");
    assert_eq!(
        body["matched"],
        json!([{"project": "default", "kill_switch": id, "flag": "checkout",
                "environment": "production", "effect": "tripped"}])
    );
    assert_eq!(
        checkout(&server).await["default_serve"],
        json!({"variant": "off"})
    );
    assert_eq!(production_version(&server).await, version + 1);
    let log = changes(&server).await;
    assert_eq!(log[0]["actor"], json!("automation:deploy"));
    assert_eq!(
        log[0]["reason"],
        json!("tripped by deploy of checkout-api 2026.12.3-1 to production: failed")
    );
    let state = switch(&server, &id).await["state"].clone();
    assert_eq!(
        state["tripped_by"],
        json!([{"source": "deploy", "service": "checkout-api", "version": "2026.12.3-1", "status": "failed"}])
    );

    // The pipeline retries its webhook: the same event is a duplicate.
    let (code, body) = post(&server, DEPLOYS, &token, &failed).await;
    assert_eq!(
        (code, body),
        (202, json!({"received": 0, "duplicates": 1, "matched": []}))
    );
    assert_eq!(production_version(&server).await, version + 1);
}

#[tokio::test]
async fn an_id_is_the_idempotency_key() {
    let server = server().await;
    let token = integration_token(&server).await;
    let mut first = deploy("checkout-api", "production", "started");
    first["id"] = json!("run-7");
    let (_, body) = post(&server, DEPLOYS, &token, &first).await;
    assert_eq!(body["received"], json!(1));
    let mut other = deploy("checkout-api", "production", "succeeded");
    other["id"] = json!("run-7");
    let (_, body) = post(&server, DEPLOYS, &token, &other).await;
    assert_eq!(body["duplicates"], json!(1));
    assert_eq!(stored_events(&server).await, 1);
}

#[tokio::test]
async fn rollback_then_a_good_deploy_restores_an_on_resolve_switch() {
    let server = server().await;
    let token = integration_token(&server).await;
    let rollout = json!({
        "enabled": true,
        "off_variant": "off",
        "rules": [{"id": "eu", "clauses": [{"attribute": "region", "op": "in", "values": ["eu"]}],
                   "serve": {"rollout": {"weights": [
                       {"variant": "on", "weight": 30000}, {"variant": "off", "weight": 70000}]}}}],
        "default_serve": {"rollout": {"weights": [
            {"variant": "on", "weight": 10000}, {"variant": "off", "weight": 90000}]}},
    });
    let before = crate::api_support::put_config(&server, "checkout", "production", &rollout).await;
    let body = json!({
        "name": "Checkout rollback",
        "flag": "checkout",
        "environment": "production",
        "trigger": {"deploy": {"service": "checkout-api", "statuses": ["rolled_back"]}},
        "action": "rollback",
        "restore": "on_resolve",
    });
    create_switch(&server, &body).await;
    let version = production_version(&server).await;

    let (_, body) = post(
        &server,
        DEPLOYS,
        &token,
        &deploy("checkout-api", "production", "rolled_back"),
    )
    .await;
    assert_eq!(body["matched"][0]["effect"], json!("tripped"));
    let config = checkout(&server).await;
    let weights = |serve: &serde_json::Value| serve["rollout"]["weights"].clone();
    let all_off = json!([{"variant": "on", "weight": 0}, {"variant": "off", "weight": 100000}]);
    assert_eq!(weights(&config["default_serve"]), all_off);
    assert_eq!(weights(&config["rules"][0]["serve"]), all_off);
    assert_eq!(config["enabled"], json!(true));
    assert_eq!(production_version(&server).await, version + 1);

    // A failed deploy is not a bad status for this switch; an unhealthy
    // success does not resolve it; a healthy success does.
    let (_, body) = post(
        &server,
        DEPLOYS,
        &token,
        &deploy("checkout-api", "production", "failed"),
    )
    .await;
    assert_eq!(body["matched"], json!([]));
    let mut unhealthy = deploy("checkout-api", "production", "succeeded");
    unhealthy["health"] = json!("unhealthy");
    let (_, body) = post(&server, DEPLOYS, &token, &unhealthy).await;
    assert_eq!(body["matched"], json!([]));
    let mut good = deploy("checkout-api", "production", "succeeded");
    good["version"] = json!("2026.12.3-2");
    good["health"] = json!("healthy");
    let (_, body) = post(&server, DEPLOYS, &token, &good).await;
    assert_eq!(body["matched"][0]["effect"], json!("restored"));
    let restored = checkout(&server).await;
    assert_eq!(restored["default_serve"], before["default_serve"]);
    assert_eq!(restored["rules"], before["rules"]);
    assert_eq!(production_version(&server).await, version + 2);
    let log = changes(&server).await;
    assert_eq!(
        (log[0]["actor"].clone(), log[0]["reason"].clone()),
        (
            json!("automation:deploy"),
            json!("restored after deploy of checkout-api 2026.12.3-2 to production succeeded")
        )
    );
}

#[tokio::test]
async fn kill_switches_are_in_the_openapi_document() {
    let server = server().await;
    let (status, doc, _) = crate::api_support::get(&server, "/api/openapi.json").await;
    assert_eq!(status, 200);
    for (path, verbs) in [
        (
            "/api/v1/projects/{project}/kill-switches",
            &["get", "post"][..],
        ),
        (
            "/api/v1/projects/{project}/kill-switches/{id}",
            &["get", "put", "delete"][..],
        ),
        (
            "/api/v1/projects/{project}/kill-switches/{id}/reset",
            &["post"][..],
        ),
        ("/api/v1/integrations/alertmanager", &["post"][..]),
        ("/api/v1/deploys", &["post"][..]),
        ("/api/v1/projects/{project}/timeline", &["get"][..]),
    ] {
        for verb in verbs {
            assert!(doc["paths"][path][verb].is_object(), "{verb} {path}");
        }
    }
    for schema in [
        "KillSwitch",
        "KillSwitchRecord",
        "Webhook",
        "DeployEvent",
        "TimelinePage",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
}
