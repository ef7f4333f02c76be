//! Kill switches end to end: a real server (`vexil_server::launch` on
//! SQLite files), the real Rust SDK connected to its stream, and health
//! events posted over HTTP with an integration token, as Alertmanager and a
//! deploy pipeline post them.
//!
//! The captured Alertmanager payload (version 4, one group of three alerts)
//! firing turns the bound flag off and the SDK sees it; the same payload
//! again changes nothing; resolved leaves a `manual` switch's flag off and
//! restores an `on_resolve` one; alerts no switch matches change nothing;
//! a failed deploy of the bound service trips its switch.
//!
//! The server runs without its version poll, so a change reaches the SDK
//! only if the events endpoint itself tells the streams.
//!
//! "Changes nothing" is proved through the stream itself: after the event,
//! a marker write to another flag must be the very next version the SDK
//! installs (a trip would have taken that version).

mod sdk_e2e_support;

use reqwest::Method;
use serde_json::{Value, json};
use vexil_sdk::{Client, Context};

use sdk_e2e_support::{Api, Server, Storage, Versions, sdk, serial};

const ALERTS: &str = "/api/v1/integrations/alertmanager";
const DEPLOYS: &str = "/api/v1/deploys";
const SWITCHES: &str = "/api/v1/projects/default/kill-switches";

/// The group Alertmanager sends for `CheckoutErrors`: two matching alerts
/// (`c0ffee01`, `c0ffee02`) and one other (`c0ffee03`).
fn firing() -> Value {
    serde_json::from_str(include_str!("api_kill_switches/alertmanager_firing.json")).unwrap()
}

/// The payload with only the alerts of `fingerprints`, as `status`.
fn only(fingerprints: &[&str], status: &str) -> Value {
    let mut payload = firing();
    let alerts: Vec<Value> = payload["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| fingerprints.contains(&a["fingerprint"].as_str().unwrap()))
        .map(|a| {
            let mut a = a.clone();
            a["status"] = json!(status);
            if status == "resolved" {
                a["endsAt"] = json!("2026-12-03T07:10:00Z");
            }
            a
        })
        .collect();
    payload["alerts"] = json!(alerts);
    payload["status"] = json!(status);
    payload
}

/// A switch on `checkout` in production tripped by `CheckoutErrors` pages.
fn alert_switch(restore: &str) -> Value {
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

/// A server with `checkout` on (serving `on`) and a `marker` flag in
/// production, an integration token, and an SDK connected to the stream.
struct World {
    _server: Server,
    api: Api,
    integration: String,
    client: Client,
    versions: Versions,
    version: u64,
    marker_on: bool,
}

impl World {
    async fn start() -> World {
        let server = Server::start_without_poll(&Storage::fresh_sqlite()).await;
        let api = Api::login(&server).await;
        for flag in ["checkout", "marker"] {
            api.create_flag(flag).await;
            api.serve_on_when_enabled(flag).await;
        }
        api.toggle("checkout", true).await;
        let integration = api.integration_token("alertmanager-e2e").await;
        let (_, key) = api.sdk_key("e2e").await;
        let client = sdk(&server.base, &key).await;
        let versions = Versions::record(&client);
        let version = client.snapshot().version();
        let world = World {
            _server: server,
            api,
            integration,
            client,
            versions,
            version,
            marker_on: false,
        };
        assert_eq!(world.checkout(), "on");
        world
    }

    async fn create_switch(&self, body: Value) -> String {
        let created = self.api.call(Method::POST, SWITCHES, Some(body), 201).await;
        created["id"].as_str().unwrap().to_owned()
    }

    /// What the SDK serves for `checkout`.
    fn checkout(&self) -> String {
        let ctx: Context = serde_json::from_value(json!({"key": "user-1"})).unwrap();
        let result = serde_json::to_value(self.client.evaluate("checkout", &ctx)).unwrap();
        result["variant"].as_str().unwrap().to_owned()
    }

    /// Posts `body` to `path` with the integration token; the `effect`s of
    /// the answer's `matched` entries.
    async fn post(&self, path: &str, body: &Value) -> Vec<String> {
        let (status, answer) = self.api.post_as(&self.integration, path, body).await;
        assert_eq!(status, 202, "{answer}");
        answer["matched"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["effect"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The event just posted changed the flag: the SDK installs the next
    /// version, and that version alone.
    async fn expect_change(&mut self) {
        self.version += 1;
        self.versions.wait_for(self.version).await;
        assert_eq!(self.versions.seen().last(), Some(&self.version));
    }

    /// The event just posted changed nothing: a marker write is the next
    /// version the SDK installs.
    async fn expect_no_change(&mut self) {
        let before = self.versions.seen().len();
        self.marker_on = !self.marker_on;
        self.api.toggle("marker", self.marker_on).await;
        self.version += 1;
        self.versions.wait_for(self.version).await;
        assert_eq!(self.versions.seen()[before..], [self.version]);
    }
}

#[tokio::test]
async fn a_firing_group_turns_the_flag_off_once_and_resolved_leaves_a_manual_switch_off() {
    let _serial = serial().await;
    let mut world = World::start().await;
    let id = world.create_switch(alert_switch("manual")).await;

    // The first matching alert trips it, the second holds it too.
    assert_eq!(world.post(ALERTS, &firing()).await, ["tripped", "held"]);
    world.expect_change().await;
    assert_eq!(world.checkout(), "off");

    // Alertmanager re-sends the group every repeat_interval.
    assert!(world.post(ALERTS, &firing()).await.is_empty());
    world.expect_no_change().await;
    assert_eq!(world.checkout(), "off");

    let resolved = only(&["c0ffee01", "c0ffee02"], "resolved");
    world.post(ALERTS, &resolved).await;
    world.expect_no_change().await;
    assert_eq!(world.checkout(), "off");
    let state = world
        .api
        .call(Method::GET, &format!("{SWITCHES}/{id}"), None, 200)
        .await;
    assert_eq!(state["state"]["status"], json!("tripped"), "{state}");
}

#[tokio::test]
async fn resolved_restores_an_on_resolve_switch() {
    let _serial = serial().await;
    let mut world = World::start().await;
    world.create_switch(alert_switch("on_resolve")).await;

    assert_eq!(world.post(ALERTS, &firing()).await, ["tripped", "held"]);
    world.expect_change().await;
    assert_eq!(world.checkout(), "off");

    // One of the two alerts that tripped it resolves: still held.
    world.post(ALERTS, &only(&["c0ffee01"], "resolved")).await;
    world.expect_no_change().await;
    assert_eq!(world.checkout(), "off");

    assert_eq!(
        world.post(ALERTS, &only(&["c0ffee02"], "resolved")).await,
        ["restored"]
    );
    world.expect_change().await;
    assert_eq!(world.checkout(), "on");
}

#[tokio::test]
async fn alerts_no_switch_matches_change_nothing() {
    let _serial = serial().await;
    let mut world = World::start().await;
    world.create_switch(alert_switch("on_resolve")).await;

    // A ticket-severity latency alert of the same service.
    let unmatched = only(&["c0ffee03"], "firing");
    assert!(world.post(ALERTS, &unmatched).await.is_empty());
    world.expect_no_change().await;
    assert_eq!(world.checkout(), "on");
}

#[tokio::test]
async fn a_failed_deploy_of_the_bound_service_trips_its_switch() {
    let _serial = serial().await;
    let mut world = World::start().await;
    world
        .create_switch(json!({
            "name": "Checkout deploys",
            "flag": "checkout",
            "environment": "production",
            "trigger": {"deploy": {"service": "checkout-api"}},
            "action": "disable",
        }))
        .await;
    let deploy = |service: &str, status: &str| {
        json!({"service": service, "version": "2026.12.3-1", "environment": "production",
               "status": status, "commit": "9fceb02"})
    };

    assert!(
        world
            .post(DEPLOYS, &deploy("search", "failed"))
            .await
            .is_empty()
    );
    assert!(
        world
            .post(DEPLOYS, &deploy("checkout-api", "started"))
            .await
            .is_empty()
    );
    world.expect_no_change().await;
    assert_eq!(world.checkout(), "on");

    assert_eq!(
        world.post(DEPLOYS, &deploy("checkout-api", "failed")).await,
        ["tripped"]
    );
    world.expect_change().await;
    assert_eq!(world.checkout(), "off");
}
