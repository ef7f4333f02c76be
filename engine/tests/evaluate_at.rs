//! `CompiledSnapshot::evaluate_at`: the same evaluation as `evaluate` for
//! every flag, by its position in `flag_keys()`; past the end is
//! `FLAG_NOT_FOUND`.

use vexil_engine::CompiledSnapshot;
use vexil_proto::{Context, ErrorCode, Snapshot};

#[test]
fn evaluate_at_agrees_with_evaluate_by_key() {
    let snapshot: Snapshot = serde_json::from_value(serde_json::json!({
        "environment": "test", "version": 1,
        "flags": [
            {"key": "a", "kind": "boolean",
             "variants": [{"key": "on", "value": true}, {"key": "off", "value": false}],
             "config": {"enabled": true, "off_variant": "off",
                        "rules": [{"id": "pro", "clauses": [{"attribute": "plan", "op": "in", "values": ["pro"]}],
                                   "serve": {"variant": "on"}}],
                        "default_serve": {"variant": "off"}}},
            {"key": "b", "kind": "string",
             "variants": [{"key": "x", "value": "x"}],
             "config": {"enabled": false, "off_variant": "x", "default_serve": {"variant": "x"}}}
        ]
    }))
    .unwrap();
    let compiled = CompiledSnapshot::compile(&snapshot);
    for ctx in [Context::new("u1"), Context::new("u2").with("plan", "pro")] {
        for (index, key) in compiled.flag_keys().enumerate() {
            assert_eq!(
                compiled.evaluate_at(index, &ctx).to_result(key),
                compiled.evaluate(key, &ctx).to_result(key),
                "{key}"
            );
        }
        let past = compiled.evaluate_at(compiled.len(), &ctx);
        assert_eq!(past.error_code, Some(ErrorCode::FlagNotFound));
    }
}
