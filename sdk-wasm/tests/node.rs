//! The wasm-bindgen surface, run under Node by `wasm-bindgen-test-runner`
//! (`cargo xtask ci` sets it as the wasm32 test runner). Checks the golden
//! bucketing vectors through the engine compiled to WebAssembly, the same
//! copy every SDK's tests load.

#![cfg(target_arch = "wasm32")]

use serde_json::{Value, json};
use vexil_wasm::VexilSnapshot;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

const VECTORS: &str = include_str!("../../spec/vectors/bucketing.json");

fn ok<T>(result: Result<T, JsValue>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("unexpected JS error: {}", message(error)),
    }
}

fn message(error: JsValue) -> String {
    js_sys::Error::from(error).message().into()
}

/// The thrown error's `name`, `code` and message.
fn parts(error: JsValue) -> (String, String, String) {
    let code = js_sys::Reflect::get(&error, &JsValue::from_str("code"))
        .ok()
        .and_then(|code| code.as_string())
        .unwrap_or_default();
    let error = js_sys::Error::from(error);
    (error.name().into(), code, error.message().into())
}

/// A string flag whose default serve is a rollout salted with `salt`,
/// bucketing by the `id` attribute, over `weights` (variant, weight).
fn rollout_snapshot(salt: &str, weights: &[(String, u64)]) -> VexilSnapshot {
    let variants: Vec<Value> = weights
        .iter()
        .map(|(variant, _)| json!({ "key": variant, "value": variant }))
        .collect();
    let weights: Vec<Value> = weights
        .iter()
        .map(|(variant, weight)| json!({ "variant": variant, "weight": weight }))
        .collect();
    let snapshot = json!({
        "environment": "test",
        "version": 1,
        "flags": [{
            "key": "rollout",
            "kind": "string",
            "variants": variants,
            "config": {
                "enabled": true,
                "off_variant": variants[0]["key"],
                "default_serve": { "rollout": { "bucket_by": "id", "salt": salt, "weights": weights } }
            }
        }]
    });
    ok(VexilSnapshot::new(&snapshot.to_string()))
}

fn evaluate(snapshot: &VexilSnapshot, id: Value) -> Value {
    let ctx = json!({ "key": "someone", "attributes": { "id": id } });
    serde_json::from_str(&ok(snapshot.evaluate("rollout", &ctx.to_string()))).unwrap()
}

fn vectors() -> Value {
    serde_json::from_str(VECTORS).unwrap()
}

fn halves() -> Vec<(String, u64)> {
    vec![("low".to_owned(), 50_000), ("high".to_owned(), 50_000)]
}

#[wasm_bindgen_test]
fn buckets_match_the_golden_vectors() {
    let vectors = vectors();
    let cases = vectors["bucketing"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let salt = case["salt"].as_str().unwrap();
        let value = case["value"].as_str().unwrap();
        let bucket = case["bucket"].as_u64().unwrap();
        let snapshot = rollout_snapshot(salt, &halves());
        let result = evaluate(&snapshot, json!(value));
        assert_eq!(result["reason"], "SPLIT", "{case}");
        assert_eq!(result["bucket"], bucket, "{case}");
        assert_eq!(
            result["variant"],
            if bucket < 50_000 { "low" } else { "high" },
            "{case}"
        );

        // An integer attribute renders without a decimal point, so it
        // buckets like its string form.
        if let Ok(number) = value.parse::<i64>() {
            assert_eq!(
                evaluate(&snapshot, json!(number))["bucket"],
                bucket,
                "{case}"
            );
        }
    }
}

#[wasm_bindgen_test]
fn rollouts_pick_the_golden_variants() {
    let vectors = vectors();
    let hashes = vectors["bucketing"].as_array().unwrap();
    let rollouts = vectors["rollouts"].as_array().unwrap();
    assert!(!rollouts.is_empty());
    for case in rollouts {
        let bucket = case["bucket"].as_u64().unwrap();
        // Any (salt, value) pair from the hashing vectors that lands in this bucket.
        let source = hashes
            .iter()
            .find(|hash| hash["bucket"].as_u64() == Some(bucket))
            .unwrap_or_else(|| panic!("no hashing vector for bucket {bucket}"));
        let weights: Vec<(String, u64)> = case["weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| {
                (
                    pair[0].as_str().unwrap().to_owned(),
                    pair[1].as_u64().unwrap(),
                )
            })
            .collect();
        let snapshot = rollout_snapshot(source["salt"].as_str().unwrap(), &weights);
        let result = evaluate(&snapshot, source["value"].clone());
        assert_eq!(result["bucket"], bucket, "{case}");
        assert_eq!(result["variant"], case["variant"], "{case}");
        assert_eq!(result["value"], case["variant"], "{case}");
    }
}

#[wasm_bindgen_test]
fn a_context_without_the_bucket_attribute_gets_the_fallback() {
    let snapshot = rollout_snapshot("s", &halves());
    let result: Value =
        serde_json::from_str(&ok(snapshot.evaluate("rollout", r#"{"key":"k"}"#))).unwrap();
    assert_eq!(
        (&result["reason"], &result["variant"]),
        (&json!("DEFAULT"), &json!("low"))
    );
    assert!(result.get("bucket").is_none());
}

#[wasm_bindgen_test]
fn evaluate_all_and_metadata() {
    let snapshot = rollout_snapshot("s", &halves());
    assert_eq!(snapshot.environment(), "test");
    assert_eq!(snapshot.version(), 1.0);
    assert_eq!(snapshot.flag_keys(), vec!["rollout".to_owned()]);
    assert_eq!(snapshot.compile_errors(), "[]");
    let all: Value = serde_json::from_str(&ok(snapshot.evaluate_all(r#"{"key":"k"}"#))).unwrap();
    assert_eq!(all.as_array().map(Vec::len), Some(1));

    let missing: Value =
        serde_json::from_str(&ok(snapshot.evaluate("nope", r#"{"key":"k"}"#))).unwrap();
    assert_eq!(
        (&missing["reason"], &missing["error_code"]),
        (&json!("ERROR"), &json!("FLAG_NOT_FOUND"))
    );
}

#[wasm_bindgen_test]
fn bad_input_throws_a_typed_error_instead_of_panicking() {
    for bad in ["", "{not json", "[]", r#"{"environment":"e","version":-1}"#] {
        match VexilSnapshot::new(bad) {
            Ok(_) => panic!("{bad:?} was accepted as a snapshot"),
            Err(error) => {
                let (name, code, message) = parts(error);
                assert_eq!(
                    (name.as_str(), code.as_str()),
                    ("VexilError", "INVALID_SNAPSHOT")
                );
                assert!(message.starts_with("invalid snapshot: "), "{bad:?}");
            }
        }
    }
    let snapshot = rollout_snapshot("s", &halves());
    for bad in ["", "{}", r#"{"key": 1}"#] {
        match snapshot.evaluate("rollout", bad) {
            Ok(result) => panic!("{bad:?} was accepted as a context: {result}"),
            Err(error) => {
                let (_, code, message) = parts(error);
                assert_eq!(code, "INVALID_CONTEXT");
                assert!(message.starts_with("invalid context: "), "{bad:?}");
            }
        }
        assert!(snapshot.evaluate_all(bad).is_err());
    }
}

#[wasm_bindgen_test]
fn patches_apply_in_order_and_a_gap_is_a_typed_error() {
    let mut snapshot = rollout_snapshot("s", &halves());
    let upsert = json!({
        "type": "patch", "from_version": 1, "to_version": 2,
        "upserts": [{ "flag": {
            "key": "on", "kind": "boolean",
            "variants": [{ "key": "on", "value": true }, { "key": "off", "value": false }],
            "config": { "enabled": true, "off_variant": "off", "default_serve": { "variant": "on" } }
        }}]
    });
    assert_eq!(
        ok(snapshot.apply_patch(&upsert.to_string())),
        vec!["on".to_owned()]
    );
    assert_eq!(snapshot.version(), 2.0);
    let on: Value = serde_json::from_str(&ok(snapshot.evaluate("on", r#"{"key":"k"}"#))).unwrap();
    assert_eq!(on["value"], true);

    let gap = r#"{"type":"patch","from_version":3,"to_version":4,"deletes":[{"flag":"on"}]}"#;
    let (name, code, message) = parts(snapshot.apply_patch(gap).unwrap_err());
    assert_eq!(
        (name.as_str(), code.as_str(), message.as_str()),
        (
            "VexilError",
            "VERSION_GAP",
            "patch not applied: patch starts at version 3 but the snapshot is at version 2"
        )
    );
    let (_, code, _) = parts(snapshot.apply_patch("{}").unwrap_err());
    assert_eq!(code, "INVALID_PATCH");
    assert_eq!(snapshot.version(), 2.0);
    assert_eq!(
        snapshot.flag_keys(),
        vec!["rollout".to_owned(), "on".to_owned()]
    );
}
