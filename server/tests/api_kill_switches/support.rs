//! What the kill-switch tests share: the captured Alertmanager payload and
//! its resolved forms, a `checkout` flag that is on in production, switch
//! bodies, posting events, and reading back what a test must prove
//! changed (or did not).

use reqwest::Method;
use serde_json::{Value, json};
use vexil_server::store::{HealthEventFilter, Role, TokenKind};

use crate::api_support::{
    PROJECT, boolean_flag, config_path, create_flag, get, put_config, serving,
};
use crate::common::{TestServer, json};

pub const ALERTS: &str = "/api/v1/integrations/alertmanager";
pub const DEPLOYS: &str = "/api/v1/deploys";

pub fn switches_path() -> String {
    format!("{PROJECT}/kill-switches")
}

/// The payload Alertmanager sends for the `CheckoutErrors` group: two
/// matching alerts (`c0ffee01`, `c0ffee02`) and one other (`c0ffee03`).
pub fn firing() -> Value {
    serde_json::from_str(include_str!("alertmanager_firing.json")).unwrap()
}

/// The same group once the alerts with these fingerprints resolved (the
/// others are left out, as Alertmanager does when they are gone).
pub fn resolved(fingerprints: &[&str]) -> Value {
    let mut payload = firing();
    let alerts: Vec<Value> = payload["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| fingerprints.contains(&a["fingerprint"].as_str().unwrap()))
        .map(|a| {
            let mut a = a.clone();
            a["status"] = json!("resolved");
            a["endsAt"] = json!("2026-12-03T07:10:00Z");
            a
        })
        .collect();
    payload["alerts"] = json!(alerts);
    payload["status"] = json!("resolved");
    payload
}

/// A server with `checkout` on (serving `on`) in production.
pub async fn server() -> TestServer {
    let server = TestServer::start().await;
    create_flag(&server, &boolean_flag("checkout")).await;
    put_config(&server, "checkout", "production", &serving("off", "on")).await;
    server
}

pub async fn integration_token(server: &TestServer) -> String {
    server.token(TokenKind::Integration, None, None, &[]).await
}

pub async fn editor(server: &TestServer) -> String {
    server.user("eddie", Role::Editor).await
}

/// A switch on `checkout` in production tripped by `CheckoutErrors` pages.
pub fn alert_switch(restore: &str) -> Value {
    json!({
        "name": "Checkout errors",
        "flag": "checkout",
        "environment": "production",
        "trigger": {"alert": {"matchers": [
            {"label": "alertname", "op": "=", "value": "CheckoutErrors"},
            {"label": "severity", "op": "=~", "value": "page|critical"},
        ]}},
        "action": "disable",
        "restore": restore,
    })
}

/// Creates a switch as the admin; its record.
pub async fn create_switch(server: &TestServer, body: &Value) -> Value {
    let (status, created) = json(
        server
            .send(Method::POST, &switches_path(), &server.admin, body)
            .await,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created
}

/// Creates a switch as the admin and returns its id.
pub async fn create_switch_id(server: &TestServer, body: &Value) -> String {
    let created = create_switch(server, body).await;
    created["id"]
        .as_str()
        .expect("a created switch has an id")
        .to_owned()
}

pub async fn switch(server: &TestServer, id: &str) -> Value {
    let (status, body, _) = get(server, &format!("{}/{id}", switches_path())).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Posts an event as `token`: status and body.
pub async fn post(server: &TestServer, path: &str, token: &str, body: &Value) -> (u16, Value) {
    json(server.send(Method::POST, path, token, body).await).await
}

/// The production config of `checkout`.
pub async fn checkout(server: &TestServer) -> Value {
    let (status, body, _) = get(server, &config_path("checkout", "production")).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Production's environment version.
pub async fn production_version(server: &TestServer) -> u64 {
    let (_, body, _) = get(server, &format!("{PROJECT}/environments/production")).await;
    body["version"].as_u64().unwrap()
}

/// The newest change-log entries of the project (newest first).
pub async fn changes(server: &TestServer) -> Vec<Value> {
    let (_, body, _) = get(server, &format!("{PROJECT}/changes")).await;
    body["items"].as_array().unwrap().clone()
}

/// How many health events are stored.
pub async fn stored_events(server: &TestServer) -> usize {
    let filter = HealthEventFilter {
        limit: 1_000,
        ..HealthEventFilter::default()
    };
    server
        .store
        .list_health_events(&filter)
        .await
        .unwrap()
        .len()
}
