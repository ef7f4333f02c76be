//! Proves that evaluating one flag allocates nothing, with a counting global
//! allocator. One test function only: the counter is process-wide, so no
//! other test may run in this binary at the same time.

use std::alloc::System;

use serde_json::json;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use vexil_engine::CompiledSnapshot;
use vexil_proto::{AttributeValue, Context, Snapshot};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn clause(attribute: &str, op: &str, values: serde_json::Value) -> serde_json::Value {
    json!({"attribute": attribute, "op": op, "values": values})
}

fn flag(key: &str, config: serde_json::Value) -> serde_json::Value {
    json!({
        "key": key,
        "kind": "boolean",
        "variants": [{"key": "on", "value": true}, {"key": "off", "value": false}],
        "config": config,
    })
}

fn rule_flag(key: &str, clauses: serde_json::Value) -> serde_json::Value {
    flag(
        key,
        json!({
            "enabled": true,
            "off_variant": "off",
            "rules": [{"id": "r0", "clauses": clauses, "serve": {"variant": "on"}}],
            "default_serve": {"variant": "off"},
        }),
    )
}

/// One flag per operator and per evaluation path, so every branch of the
/// evaluator is exercised under the counter.
fn snapshot() -> Snapshot {
    let big: Vec<String> = (0..10_000).map(|i| format!("user-{i}")).collect();
    let rollout = json!({"rollout": {
        "bucket_by": "org_id", "salt": "s",
        "weights": [{"variant": "on", "weight": 50_000}, {"variant": "off", "weight": 50_000}],
    }});
    let mut flags = vec![
        flag(
            "plain",
            json!({"enabled": true, "off_variant": "off", "default_serve": {"variant": "on"}}),
        ),
        flag(
            "disabled",
            json!({"enabled": false, "off_variant": "off", "default_serve": {"variant": "on"}}),
        ),
        flag(
            "targeted",
            json!({
                "enabled": true, "off_variant": "off",
                "targets": [{"variant": "on", "values": ["user-1"]}],
                "default_serve": {"variant": "off"},
            }),
        ),
        flag(
            "split",
            json!({"enabled": true, "off_variant": "off", "default_serve": rollout}),
        ),
        flag(
            "split-by-key",
            json!({"enabled": true, "off_variant": "off", "default_serve": {"rollout": {
                "weights": [{"variant": "on", "weight": 10_000}, {"variant": "off", "weight": 90_000}],
            }}}),
        ),
        flag(
            "with-prerequisite",
            json!({
                "enabled": true, "off_variant": "off",
                "prerequisites": [{"flag": "split", "variant": "on"}, {"flag": "plain", "variant": "on"}],
                "default_serve": {"variant": "on"},
            }),
        ),
        flag(
            "broken",
            json!({"enabled": true, "off_variant": "nope", "default_serve": {"variant": "on"}}),
        ),
        rule_flag("big-in", json!([clause("key", "in", json!(big))])),
    ];
    let operators = [
        ("in", "region", json!(["eu-west-1", "us-east-1", 3, true])),
        ("contains", "email", json!(["@example"])),
        ("starts_with", "email", json!(["ada"])),
        ("ends_with", "email", json!([".com"])),
        ("matches", "email", json!(["^[a-z]+@example\\.com$"])),
        ("eq", "age", json!([42])),
        ("lt", "age", json!([50])),
        ("lte", "age", json!([42])),
        ("gt", "age", json!([18])),
        ("gte", "age", json!([42])),
        ("semver_eq", "app_version", json!(["2.1.0-beta.1"])),
        ("semver_lt", "app_version", json!(["3.0.0"])),
        ("semver_gt", "app_version", json!(["2.0.0"])),
        ("before", "signed_up", json!(["2030-01-01T00:00:00Z"])),
        ("after", "signed_up", json!([1_600_000_000_000i64])),
        ("in_segment", "key", json!(["beta"])),
        ("exists", "region", json!([])),
    ];
    for (op, attribute, values) in operators {
        flags.push(rule_flag(
            &format!("op-{op}"),
            json!([clause(attribute, op, values)]),
        ));
        let mut negated = clause(attribute, op, json!(null));
        negated["values"] = operators_values(op);
        negated["negate"] = json!(true);
        flags.push(rule_flag(&format!("not-{op}"), json!([negated])));
    }
    flags.push(rule_flag(
        "list-attribute",
        json!([clause("groups", "in", json!(["admins"]))]),
    ));
    flags.push(rule_flag(
        "missing-attribute",
        json!([clause("nope", "in", json!(["x"]))]),
    ));
    let snapshot = json!({
        "environment": "production",
        "version": 7,
        "flags": flags,
        "segments": [{
            "key": "beta", "name": "Beta",
            "included": ["user-0"], "excluded": ["user-2"],
            "rules": [{"id": "s0", "clauses": [clause("email", "ends_with", json!(["@example.com"]))]}],
        }],
    });
    serde_json::from_value(snapshot).unwrap()
}

fn operators_values(op: &str) -> serde_json::Value {
    match op {
        "eq" | "lt" | "lte" | "gt" | "gte" => json!([10]),
        "semver_eq" | "semver_lt" | "semver_gt" => json!(["1.0.0"]),
        "before" | "after" => json!(["2000-01-01T00:00:00Z"]),
        "in_segment" => json!(["beta"]),
        "exists" => json!([]),
        _ => json!(["zzz"]),
    }
}

fn contexts() -> Vec<Context> {
    vec![
        Context::new("user-1")
            .with_kind("user")
            .with("region", "eu-west-1")
            .with("email", "ada@example.com")
            .with("age", 42)
            .with("app_version", "2.1.0-beta.1")
            .with("signed_up", "2026-11-22T00:00:00.5+01:00")
            .with("org_id", 981)
            .with(
                "groups",
                ["staff", "admins"].into_iter().collect::<AttributeValue>(),
            ),
        Context::new("user-2")
            .with("region", "ap-south-1")
            .with("email", "bob@elsewhere.org")
            .with("age", f64::NAN)
            .with("app_version", "not a version")
            .with("signed_up", 1_700_000_000_000i64)
            .with("org_id", "org-7"),
        Context::new("user-9999")
            // Pre-release identifiers over 8 bytes: the `semver` crate would
            // put them on the heap.
            .with(
                "app_version",
                "2.1.0-release-candidate.12345678901234567890",
            )
            .with("age", f64::INFINITY)
            .with("org_id", -0.0),
        Context::new(""),
    ]
}

#[test]
fn single_flag_evaluation_does_not_allocate() {
    let compiled = CompiledSnapshot::compile(&snapshot());
    assert_eq!(
        compiled.errors().len(),
        1,
        "only `broken` fails: {:?}",
        compiled.errors()
    );
    let keys: Vec<String> = compiled.flag_keys().map(str::to_owned).collect();
    let contexts = contexts();

    // Warm-up: the regex engine fills a per-thread cache on first use.
    for ctx in &contexts {
        for key in &keys {
            std::hint::black_box(compiled.evaluate(key, ctx));
        }
    }

    let mut evaluations = 0usize;
    // A fixed array, not a set: growing a set inside the region would allocate.
    let mut seen = [false; 7];
    let region = Region::new(GLOBAL);
    for ctx in &contexts {
        for key in keys.iter().map(String::as_str).chain(["no-such-flag"]) {
            let evaluation = std::hint::black_box(compiled.evaluate(key, ctx));
            seen[evaluation.reason as usize] = true;
            evaluations += 1;
        }
    }
    let stats = region.change();
    assert_eq!(
        (
            stats.allocations,
            stats.reallocations,
            stats.bytes_allocated
        ),
        (0, 0, 0),
        "{evaluations} evaluations allocated: {stats:?}"
    );
    // Every reason but STATIC (which the engine never gives) was produced.
    assert_eq!(seen, [false, true, true, true, true, true, true]);
    assert!(evaluations > 150);
}
