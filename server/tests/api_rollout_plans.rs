//! Rollout plans through the REST API (SQLite, no advancer running): the
//! lifecycle people drive (start, start over, pause, resume, abort,
//! delete) with its exact answers, and refused requests (malformed or
//! invalid plans, missing objects, wrong roles, stale `If-Match`, a
//! tripped kill switch), each with its exact error and nothing changed:
//! no change logged, no environment version, no plan stored.
//!
//! The advancer and guards are proved end to end in `sdk_e2e_rollouts`.

#[path = "api_support/mod.rs"]
mod api_support;
#[path = "common/mod.rs"]
mod common;

use reqwest::Method;
use serde_json::{Value, json};
use vexil_server::store::{Role, TokenKind};

use api_support::{
    PROJECT, boolean_flag, change_count, config_path, create_flag, error, get, invalid,
    newest_change, put_config, send_raw, send_with, versions,
};
use common::{TestServer, json};

fn plan_path(flag: &str, environment: &str) -> String {
    format!("{PROJECT}/flags/{flag}/environments/{environment}/rollout-plan")
}

/// `checkout` on in production, serving `off`.
async fn server() -> TestServer {
    let server = TestServer::start().await;
    create_flag(&server, &boolean_flag("checkout")).await;
    let config =
        json!({"enabled": true, "off_variant": "off", "default_serve": {"variant": "off"}});
    put_config(&server, "checkout", "production", &config).await;
    server
}

fn two_regions() -> Value {
    json!({
        "variant": "on",
        "stages": [{"percent": 5, "hold": "30m"}, {"percent": 100, "hold": "1h"}],
        "regions": [{"region": "eu-west-1"}, {"region": "us-east-1"}],
    })
}

async fn production(server: &TestServer) -> Value {
    let (status, config, _) = get(server, &config_path("checkout", "production")).await;
    assert_eq!(status, 200);
    config
}

/// The weights of the rule `region-<region>` in production's config.
async fn region_weights(server: &TestServer, region: &str) -> Value {
    let config = production(server).await;
    let rule = config["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == format!("region-{region}"))
        .unwrap_or_else(|| panic!("no rule for {region}: {config}"))
        .clone();
    rule["serve"]["rollout"]["weights"].clone()
}

fn split(on: u32) -> Value {
    json!([{"variant": "on", "weight": on}, {"variant": "off", "weight": 100_000 - on}])
}

async fn act(server: &TestServer, action: &str, reason: &str) -> (u16, Value) {
    let path = format!("{}/{action}", plan_path("checkout", "production"));
    let (status, body, _) = send_with(
        server,
        Method::POST,
        &path,
        &server.admin,
        &[("x-vexil-reason", reason)],
        &Value::Null,
    )
    .await;
    (status, body)
}

#[tokio::test]
async fn people_start_pause_resume_abort_and_delete_a_plan() {
    let server = server().await;
    let path = plan_path("checkout", "production");
    let before = versions(&server).await;

    let (status, started, etag) = send_with(
        &server,
        Method::PUT,
        &path,
        &server.admin,
        &[],
        &two_regions(),
    )
    .await;
    assert_eq!((status, etag.as_deref()), (201, Some("\"1\"")), "{started}");
    assert_eq!(started["version"], 1);
    assert_eq!(started["state"]["status"], "running");
    assert_eq!(
        started["position"],
        "stage 1 of 2 in eu-west-1 (region 1 of 2)"
    );
    assert_eq!(
        started["exposure"],
        json!([{"region": "eu-west-1", "weight": 5_000}, {"region": "us-east-1", "weight": 0}])
    );
    assert!(started["next_step_at"].is_string());
    // One change, one version: the config now serves the regions' rules.
    assert_eq!(
        versions(&server).await["production"],
        before["production"] + 1
    );
    assert_eq!(region_weights(&server, "eu-west-1").await, split(5_000));
    assert_eq!(region_weights(&server, "us-east-1").await, split(0));
    let change = newest_change(&server).await;
    assert_eq!(
        (&change["resource"], &change["actor"], &change["reason"]),
        (
            &json!("flag_config"),
            &json!("user:admin"),
            &json!(
                "rollout plan started: stage 1 of 2 in eu-west-1 (region 1 of 2), serving eu-west-1 5 %, us-east-1 0 %"
            )
        )
    );

    // A second PUT starts over: 200, version 2, created_at kept.
    let (status, again, etag) = send_with(
        &server,
        Method::PUT,
        &path,
        &server.admin,
        &[("if-match", "\"1\"")],
        &two_regions(),
    )
    .await;
    assert_eq!((status, etag.as_deref()), (200, Some("\"2\"")), "{again}");
    assert_eq!(again["created_at"], started["created_at"]);

    let (status, paused) = act(&server, "pause", "waiting for the dashboards").await;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["state"]["status"], "paused");
    assert_eq!(paused["state"]["note"]["actor"], "user:admin");
    assert_eq!(
        paused["state"]["note"]["reason"],
        "waiting for the dashboards"
    );
    assert_eq!(paused["next_step_at"], Value::Null);
    // Pausing keeps the exposure: a change of the plan, not of the config.
    let change = newest_change(&server).await;
    assert_eq!(
        (&change["resource"], &change["reason"]),
        (
            &json!("rollout_plan"),
            &json!(
                "rollout plan paused at stage 1 of 2 in eu-west-1 (region 1 of 2): waiting for the dashboards"
            )
        )
    );
    assert_eq!(region_weights(&server, "eu-west-1").await, split(5_000));

    let (status, body) = act(&server, "pause", "again").await;
    assert_eq!(
        (status, body),
        (
            409,
            error(
                "conflict",
                "the plan is paused; only a running plan can be paused"
            )
        )
    );

    let (status, resumed) = act(&server, "resume", "dashboards are fine").await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(resumed["state"]["status"], "running");
    assert_eq!(resumed["state"]["note"], Value::Null);

    let (status, aborted) = act(&server, "abort", "wrong build").await;
    assert_eq!(status, 200, "{aborted}");
    assert_eq!(aborted["state"]["status"], "aborted");
    assert_eq!(
        aborted["exposure"],
        json!([{"region": "eu-west-1", "weight": 0}, {"region": "us-east-1", "weight": 0}])
    );
    assert_eq!(region_weights(&server, "eu-west-1").await, split(0));
    let (status, body) = act(&server, "resume", "oops").await;
    assert_eq!(
        (status, body),
        (
            409,
            error(
                "conflict",
                "the plan is aborted; only a paused plan can be resumed"
            )
        )
    );

    // Deleting the plan leaves the config as the plan left it.
    let config = production(&server).await;
    let (status, _) = json(
        server
            .request(Method::DELETE, &path, Some(&server.admin))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(production(&server).await, config);
    let (status, body, _) = get(&server, &path).await;
    assert_eq!(
        (status, body),
        (
            404,
            error(
                "not_found",
                "rollout plan of flag checkout in environment production not found"
            )
        )
    );
    let (status, list, _) = get(&server, &format!("{PROJECT}/rollout-plans")).await;
    assert_eq!((status, list), (200, json!([])));
}

/// Nothing changed since `count` changes and `before` versions, and no
/// plan is stored.
async fn nothing_changed(
    server: &TestServer,
    count: u64,
    before: &std::collections::BTreeMap<String, u64>,
) {
    assert_eq!(change_count(server).await, count);
    assert_eq!(&versions(server).await, before);
    let (status, _, _) = get(server, &plan_path("checkout", "production")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bad_plans_get_exact_errors_and_change_nothing() {
    let server = server().await;
    let path = plan_path("checkout", "production");
    let (count, before) = (change_count(&server).await, versions(&server).await);

    let mut unknown = two_regions();
    unknown["speed"] = json!("fast");
    let (status, body, _) =
        send_with(&server, Method::PUT, &path, &server.admin, &[], &unknown).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["path"], "/speed");
    let problem = body["error"]["details"][0]["problem"].as_str().unwrap();
    assert!(
        problem.starts_with("unknown field `speed`, expected one of `variant`"),
        "{problem}"
    );
    nothing_changed(&server, count, &before).await;

    let bad = json!({
        "variant": "purple",
        "stages": [{"percent": 50, "hold": "1h"}, {"percent": 10, "hold": "1h"}],
        "regions": [{"region": "eu"}, {"region": "eu"}],
    });
    let (status, body, _) = send_with(&server, Method::PUT, &path, &server.admin, &[], &bad).await;
    assert_eq!(
        (status, body),
        (
            422,
            invalid(&[
                ("/variant", "flag `checkout` has no variant `purple`"),
                (
                    "/stages/1/percent",
                    "must not be lower than the stage before (a ramp only goes up)"
                ),
                ("/regions/1/region", "region `eu` is already at /regions/0"),
            ])
        )
    );
    nothing_changed(&server, count, &before).await;

    let hold = json!({"variant": "on", "stages": [{"percent": 1, "hold": "soon"}]});
    let (status, body, _) = send_with(&server, Method::PUT, &path, &server.admin, &[], &hold).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["path"], "/stages/0/hold");
    nothing_changed(&server, count, &before).await;

    let (status, body) = send_raw(
        &server,
        Method::PUT,
        &path,
        &server.admin,
        Some("application/json"),
        b"{\"variant\": \"on\", ".to_vec(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = send_raw(
        &server,
        Method::PUT,
        &path,
        &server.admin,
        Some("text/plain"),
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(status, 415, "{body}");
    nothing_changed(&server, count, &before).await;

    let missing_flag = plan_path("nope", "production");
    let (status, body, _) = send_with(
        &server,
        Method::PUT,
        &missing_flag,
        &server.admin,
        &[],
        &two_regions(),
    )
    .await;
    assert_eq!(
        (status, body),
        (404, error("not_found", "flag nope not found"))
    );
    let missing_env = plan_path("checkout", "moon");
    let (status, body, _) = send_with(
        &server,
        Method::PUT,
        &missing_env,
        &server.admin,
        &[],
        &two_regions(),
    )
    .await;
    assert_eq!(
        (status, body),
        (404, error("not_found", "environment moon not found"))
    );
    let (status, body) = act(&server, "pause", "none").await;
    assert_eq!(
        (status, body),
        (
            404,
            error(
                "not_found",
                "rollout plan of flag checkout in environment production not found"
            )
        )
    );
    nothing_changed(&server, count, &before).await;

    // A stale If-Match on a plan that does not exist (yet).
    let (status, body, _) = send_with(
        &server,
        Method::PUT,
        &path,
        &server.admin,
        &[("if-match", "\"3\"")],
        &two_regions(),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            404,
            error(
                "not_found",
                "rollout plan of flag checkout in environment production not found"
            )
        )
    );
    nothing_changed(&server, count, &before).await;
}

#[tokio::test]
async fn wrong_roles_stale_versions_and_tripped_switches_are_refused() {
    let server = server().await;
    let path = plan_path("checkout", "production");
    let (count, before) = (change_count(&server).await, versions(&server).await);

    let viewer = server.user("vera", Role::Viewer).await;
    let (status, body, _) =
        send_with(&server, Method::PUT, &path, &viewer, &[], &two_regions()).await;
    assert_eq!(status, 403, "{body}");
    let staging_only = server
        .token(TokenKind::Api, Some(Role::Editor), None, &["staging"])
        .await;
    let (status, body, _) = send_with(
        &server,
        Method::PUT,
        &path,
        &staging_only,
        &[],
        &two_regions(),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let integration = server.token(TokenKind::Integration, None, None, &[]).await;
    let (status, body, _) = send_with(
        &server,
        Method::PUT,
        &path,
        &integration,
        &[],
        &two_regions(),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    nothing_changed(&server, count, &before).await;

    // Started; then a stale If-Match changes nothing.
    let (status, _, _) = send_with(
        &server,
        Method::PUT,
        &path,
        &server.admin,
        &[],
        &two_regions(),
    )
    .await;
    assert_eq!(status, 201);
    let (count, before) = (change_count(&server).await, versions(&server).await);
    let stale = error(
        "conflict",
        "version conflict: If-Match was 7, the current version is 1; reload and retry",
    );
    for (method, path, body) in [
        (Method::PUT, path.clone(), two_regions()),
        (Method::POST, format!("{path}/pause"), Value::Null),
    ] {
        let if_match = [("if-match", "\"7\"")];
        let answer = send_with(&server, method, &path, &server.admin, &if_match, &body).await;
        assert_eq!((answer.0, answer.1), (409, stale.clone()), "{path}");
    }
    let (status, body, _) = send_with(
        &server,
        Method::POST,
        &format!("{path}/pause"),
        &viewer,
        &[],
        &Value::Null,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(change_count(&server).await, count);
    assert_eq!(versions(&server).await, before);

    // A tripped kill switch on the flag: starting over is refused.
    let switch = json!({
        "name": "Checkout errors", "flag": "checkout", "environment": "production",
        "trigger": {"alert": {"matchers": [{"label": "alertname", "op": "=", "value": "CheckoutErrors"}]}},
        "action": "disable",
    });
    let (status, created) = json(
        server
            .send(
                Method::POST,
                &format!("{PROJECT}/kill-switches"),
                &server.admin,
                &switch,
            )
            .await,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let alert = json!({
        "version": "4", "groupKey": "{}:{alertname=\"CheckoutErrors\"}", "truncatedAlerts": 0,
        "status": "firing", "receiver": "vexil", "groupLabels": {}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
        "alerts": [{"status": "firing", "labels": {"alertname": "CheckoutErrors"}, "annotations": {},
            "startsAt": "2026-12-03T07:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "", "fingerprint": "c0ffee01"}],
    });
    let (status, body) = json(
        server
            .send(
                Method::POST,
                "/api/v1/integrations/alertmanager",
                &integration,
                &alert,
            )
            .await,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let (count, before) = (change_count(&server).await, versions(&server).await);
    let id = created["id"].as_str().unwrap();
    let (status, body, _) = send_with(
        &server,
        Method::PUT,
        &path,
        &server.admin,
        &[],
        &two_regions(),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            409,
            error(
                "conflict",
                &format!(
                    "a guard is firing: kill switch Checkout errors ({id}) is tripped; start the plan once it has cleared"
                )
            )
        )
    );
    assert_eq!(change_count(&server).await, count);
    assert_eq!(versions(&server).await, before);
}
