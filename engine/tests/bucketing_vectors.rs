//! The golden bucketing vectors (`spec/vectors/bucketing.json`, an unchanged
//! copy of the shared ones): raw hashes, buckets and weighted picks, then the
//! same vectors end to end through compiled rollout flags.

use std::fs;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Value, json};
use vexil_engine::CompiledSnapshot;
use vexil_engine::bucket::{bucket, hash, pick_variant};
use vexil_proto::{Context, Reason, Snapshot, WeightedVariant};

/// `spec/vectors/bucketing.json`. Unknown fields are rejected, so a vector
/// format change cannot be silently ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Vectors {
    #[serde(rename = "description")]
    _description: String,
    bucketing: Vec<HashVector>,
    rollouts: Vec<RolloutVector>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HashVector {
    salt: String,
    value: String,
    hashed: String,
    #[serde(rename = "murmur3_x86_32")]
    murmur3: u32,
    bucket: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RolloutVector {
    bucket: u32,
    #[serde(deserialize_with = "weight_pairs")]
    weights: Vec<WeightedVariant>,
    variant: String,
}

/// The vectors write weights as `[variant, weight]` pairs.
fn weight_pairs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<WeightedVariant>, D::Error> {
    let pairs = Vec::<(String, u32)>::deserialize(d)?;
    Ok(pairs
        .into_iter()
        .map(|(variant, weight)| WeightedVariant { variant, weight })
        .collect())
}

fn vectors() -> Vectors {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors/bucketing.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let vectors: Vectors =
        serde_json::from_str(&text).expect("bucketing.json has the vector format");
    assert!(!vectors.bucketing.is_empty() && !vectors.rollouts.is_empty());
    vectors
}

fn hash_vectors() -> Vec<HashVector> {
    vectors().bucketing
}

fn rollout_vectors() -> Vec<RolloutVector> {
    vectors().rollouts
}

#[test]
fn hashes_and_buckets_match_the_vectors() {
    let mut failures = Vec::new();
    for v in hash_vectors() {
        assert_eq!(
            v.hashed,
            format!("{}:{}", v.salt, v.value),
            "the vector's own `hashed`"
        );
        let (h, b) = (hash(&v.salt, &v.value), bucket(&v.salt, &v.value));
        if h != v.murmur3 || b != v.bucket {
            failures.push(format!(
                "{:?}: hash {h} (want {}), bucket {b} (want {})",
                v.hashed, v.murmur3, v.bucket
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn weighted_picks_match_the_vectors() {
    let mut failures = Vec::new();
    for v in rollout_vectors() {
        let got = pick_variant(&v.weights, v.bucket);
        if got != Some(v.variant.as_str()) {
            failures.push(format!(
                "bucket {} weights {:?}: {got:?} (want {})",
                v.bucket, v.weights, v.variant
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A boolean-or-experiment flag serving one rollout as its default.
fn rollout_flag(key: &str, rollout: Value) -> Value {
    json!({
        "key": key,
        "kind": "string",
        "variants": [
            {"key": "on", "value": "on"}, {"key": "off", "value": "off"},
            {"key": "control", "value": "control"},
            {"key": "treatment-a", "value": "treatment-a"}, {"key": "treatment-b", "value": "treatment-b"}
        ],
        "config": {"enabled": true, "off_variant": "off", "default_serve": {"rollout": rollout}}
    })
}

fn weights_json(weights: &[WeightedVariant]) -> Value {
    Value::Array(
        weights
            .iter()
            .map(|w| json!({"variant": w.variant, "weight": w.weight}))
            .collect(),
    )
}

#[test]
fn rollout_flags_reproduce_the_vectors_end_to_end() {
    let hashes = hash_vectors();
    let rollouts = rollout_vectors();
    // (flag key, context, expected bucket, expected variant)
    let mut expectations = Vec::new();
    let mut flags = Vec::new();
    for (i, v) in hashes.iter().enumerate() {
        let with_weights: Vec<&RolloutVector> =
            rollouts.iter().filter(|r| r.bucket == v.bucket).collect();
        assert!(
            !with_weights.is_empty(),
            "no rollout vector for bucket {}",
            v.bucket
        );
        for (j, r) in with_weights.into_iter().enumerate() {
            let weights = weights_json(&r.weights);
            // The context key, with an explicit salt.
            let key = format!("by-key-{i}-{j}");
            flags.push(rollout_flag(
                &key,
                json!({"salt": v.salt, "weights": weights}),
            ));
            expectations.push((
                key,
                Context::new(v.value.as_str()),
                v.bucket,
                r.variant.clone(),
            ));
            // Another attribute, with an explicit salt.
            let key = format!("by-attr-{i}-{j}");
            flags.push(rollout_flag(
                &key,
                json!({"salt": v.salt, "bucket_by": "org", "weights": weights}),
            ));
            expectations.push((
                key,
                Context::new("someone").with("org", v.value.as_str()),
                v.bucket,
                r.variant.clone(),
            ));
            // An integer attribute renders without a decimal point.
            if let Ok(n) = v.value.parse::<i64>()
                && n.to_string() == v.value
            {
                let key = format!("by-number-{i}-{j}");
                flags.push(rollout_flag(
                    &key,
                    json!({"salt": v.salt, "bucket_by": "n", "weights": weights}),
                ));
                expectations.push((
                    key,
                    Context::new("someone").with("n", n),
                    v.bucket,
                    r.variant.clone(),
                ));
            }
            // The salt defaults to the flag key, where the salt is a valid key.
            if j == 0
                && vexil_proto::keys::is_valid_key(&v.salt)
                && !flags.iter().any(|f| f["key"] == v.salt.as_str())
            {
                flags.push(rollout_flag(&v.salt, json!({"weights": weights})));
                expectations.push((
                    v.salt.clone(),
                    Context::new(v.value.as_str()),
                    v.bucket,
                    r.variant.clone(),
                ));
            }
        }
    }
    let snapshot: Snapshot =
        serde_json::from_value(json!({"environment": "test", "version": 1, "flags": flags}))
            .expect("the vector snapshot parses");
    let compiled = CompiledSnapshot::compile(&snapshot);
    let mut failures = Vec::new();
    for (flag, context, want_bucket, want_variant) in &expectations {
        let got = compiled.evaluate(flag, context);
        if got.reason != Reason::Split
            || got.bucket != Some(*want_bucket)
            || got.variant != Some(want_variant.as_str())
        {
            failures.push(format!("{flag} for {context:?}: got {got:?}, want SPLIT bucket {want_bucket} variant {want_variant}"));
        }
    }
    assert!(
        expectations.len() > hashes.len() * 2,
        "too few end-to-end checks"
    );
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        expectations.len(),
        failures.join("\n")
    );
}
