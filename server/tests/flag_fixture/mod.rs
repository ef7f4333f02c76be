//! Flags, a segment and contexts for the evaluation API tests, written
//! straight to the store in `default`/`production`, and the engine's own
//! answers to compare the API with.
//!
//! Each flag takes a different path of the evaluation order: an individual
//! target and a rule (`checkout`), a rollout in a rule (`banner`), a
//! segment (`staff-only`), a prerequisite (`gated`), disabled (`dark`), and
//! a config that fails to compile (`broken`, serving a variant it lacks).

#![allow(dead_code)]

use serde_json::{Value, json};
use time::OffsetDateTime;
use vexil_engine::CompiledSnapshot;
use vexil_proto::{Context, Flag, FlagConfig, Segment};
use vexil_server::store::{Store, WriteMeta};

pub const PROJECT: &str = "default";
pub const ENV: &str = "production";

/// Every flag key of the fixture, in snapshot (key) order.
pub const FLAGS: [&str; 6] = [
    "banner",
    "broken",
    "checkout",
    "dark",
    "gated",
    "staff-only",
];

pub fn meta() -> WriteMeta {
    WriteMeta {
        actor: "test".into(),
        reason: None,
        at: OffsetDateTime::now_utc(),
        expected_version: None,
    }
}

fn flag(key: &str, kind: &str) -> Flag {
    let variants = match kind {
        "boolean" => json!([{"key": "on", "value": true}, {"key": "off", "value": false}]),
        _ => json!([{"key": "blue", "value": "blue"}, {"key": "green", "value": "green"}]),
    };
    serde_json::from_value(json!({"key": key, "name": key, "kind": kind, "variants": variants}))
        .unwrap()
}

fn config(value: Value) -> FlagConfig {
    serde_json::from_value(value).unwrap()
}

/// Writes the segment and the six flags (configured in `production`).
pub async fn install(store: &dyn Store) {
    let staff: Segment = serde_json::from_value(json!({
        "key": "staff", "name": "Staff",
        "included": ["alice"], "excluded": ["mallory"],
        "rules": [{"id": "email", "clauses": [
            {"attribute": "email", "op": "ends_with", "values": ["@vexil.dev"]}]}]
    }))
    .unwrap();
    store
        .create_segment(PROJECT, &staff, &meta())
        .await
        .unwrap();
    let flags = [
        (
            flag("checkout", "boolean"),
            json!({"enabled": true, "off_variant": "off",
                "targets": [{"variant": "on", "values": ["vip"]}],
                "rules": [{"id": "beta", "clauses": [
                    {"attribute": "plan", "op": "in", "values": ["beta"]}],
                    "serve": {"variant": "on"}}],
                "default_serve": {"variant": "off"}}),
        ),
        (
            flag("banner", "string"),
            json!({"enabled": true, "off_variant": "blue",
                "rules": [{"id": "eu", "clauses": [
                    {"attribute": "region", "op": "starts_with", "values": ["eu-"]}],
                    "serve": {"rollout": {"weights": [
                        {"variant": "blue", "weight": 50000},
                        {"variant": "green", "weight": 50000}]}}}],
                "default_serve": {"variant": "blue"}}),
        ),
        (
            flag("staff-only", "boolean"),
            json!({"enabled": true, "off_variant": "off",
                "rules": [{"id": "staff", "clauses": [
                    {"attribute": "", "op": "in_segment", "values": ["staff"]}],
                    "serve": {"variant": "on"}}],
                "default_serve": {"variant": "off"}}),
        ),
        (
            flag("gated", "boolean"),
            json!({"enabled": true, "off_variant": "off",
                "prerequisites": [{"flag": "checkout", "variant": "on"}],
                "default_serve": {"variant": "on"}}),
        ),
        (
            flag("dark", "boolean"),
            json!({"enabled": false, "off_variant": "off", "default_serve": {"variant": "on"}}),
        ),
        (
            flag("broken", "boolean"),
            json!({"enabled": true, "off_variant": "off", "default_serve": {"variant": "nope"}}),
        ),
    ];
    for (flag, cfg) in flags {
        store
            .create_flag(PROJECT, &flag, &[(ENV.to_owned(), config(cfg))], &meta())
            .await
            .unwrap();
    }
}

/// Contexts that between them reach every path of every flag.
pub fn contexts() -> Vec<Value> {
    vec![
        json!({"key": "alice"}),
        json!({"key": "bob", "attributes": {"plan": "beta", "region": "eu-west-1"}}),
        json!({"key": "vip", "kind": "user"}),
        json!({"key": "carol", "attributes": {"email": "carol@vexil.dev", "region": "eu-central-1"}}),
        json!({"key": "mallory", "attributes": {"email": "mallory@vexil.dev"}}),
        json!({"key": "dave", "attributes": {"region": "us-east-1", "plan": ["free", "trial"]}}),
    ]
}

/// The environment compiled by the engine itself, from the store.
pub async fn engine(store: &dyn Store) -> CompiledSnapshot {
    CompiledSnapshot::compile(&store.snapshot(PROJECT, ENV).await.unwrap())
}

/// The engine's result for `flag` as JSON: what `POST /api/v1/evaluate`
/// must answer.
pub fn expected(engine: &CompiledSnapshot, flag: &str, context: &Value) -> Value {
    let context: Context = serde_json::from_value(context.clone()).unwrap();
    serde_json::to_value(engine.evaluate(flag, &context).to_result(flag)).unwrap()
}
