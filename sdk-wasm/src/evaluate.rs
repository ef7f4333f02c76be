//! JSON in, evaluation through the engine, JSON out. No wasm-bindgen here,
//! so all of it is tested natively.

use serde_json::json;
use vexil_engine::CompiledSnapshot;
use vexil_proto::{Context, EvaluationResult, Snapshot};

/// Why a call from JavaScript could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum WasmError {
    /// The snapshot JSON does not parse as a snapshot.
    #[error("invalid snapshot: {0}")]
    InvalidSnapshot(#[source] serde_json::Error),
    /// The context JSON does not parse as a context.
    #[error("invalid context: {0}")]
    InvalidContext(#[source] serde_json::Error),
    /// A result could not be rendered (not expected to happen).
    #[error("cannot render the result: {0}")]
    Render(#[source] serde_json::Error),
}

/// Parses and compiles a snapshot. Flags that fail to compile do not fail
/// the snapshot: they evaluate to `ERROR`/`PARSE_ERROR` on their own.
pub fn compile_snapshot(snapshot_json: &str) -> Result<CompiledSnapshot, WasmError> {
    let snapshot: Snapshot =
        serde_json::from_str(snapshot_json).map_err(WasmError::InvalidSnapshot)?;
    Ok(CompiledSnapshot::compile(&snapshot))
}

/// One flag for one context, as `EvaluationResult` JSON.
pub fn evaluate_json(
    snapshot: &CompiledSnapshot,
    flag_key: &str,
    context_json: &str,
) -> Result<String, WasmError> {
    let ctx = parse_context(context_json)?;
    let result = snapshot.evaluate(flag_key, &ctx).to_result(flag_key);
    serde_json::to_string(&result).map_err(WasmError::Render)
}

/// Every flag for one context, in snapshot order, as a JSON array of
/// `EvaluationResult`.
pub fn evaluate_all_json(
    snapshot: &CompiledSnapshot,
    context_json: &str,
) -> Result<String, WasmError> {
    let ctx = parse_context(context_json)?;
    let results: Vec<EvaluationResult> = snapshot
        .evaluate_all(&ctx)
        .iter()
        .map(|(key, evaluation)| evaluation.to_result(key))
        .collect();
    serde_json::to_string(&results).map_err(WasmError::Render)
}

/// The flags and segments that failed to compile, as JSON
/// `[{"key": ..., "problem": ...}]`, so a UI can show why.
pub fn compile_errors_json(snapshot: &CompiledSnapshot) -> String {
    let errors: Vec<_> = snapshot
        .errors()
        .iter()
        .map(|error| json!({ "key": error.key, "problem": error.problem }))
        .collect();
    serde_json::Value::Array(errors).to_string()
}

fn parse_context(context_json: &str) -> Result<Context, WasmError> {
    serde_json::from_str(context_json).map_err(WasmError::InvalidContext)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const SNAPSHOT: &str = r#"{
        "environment": "staging", "version": 3,
        "flags": [
            {"key": "banner", "kind": "string",
             "variants": [{"key": "a", "value": "hello"}, {"key": "b", "value": "bye"}],
             "config": {"enabled": true, "off_variant": "b",
                        "rules": [{"id": "eu", "clauses": [{"attribute": "region", "op": "starts_with", "values": ["eu-"]}],
                                   "serve": {"variant": "a"}}],
                        "default_serve": {"variant": "b"}}},
            {"key": "broken", "kind": "string",
             "variants": [{"key": "a", "value": "x"}],
             "config": {"enabled": true, "off_variant": "missing", "default_serve": {"variant": "a"}}}
        ]
    }"#;

    fn parse(json: &str) -> Value {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn evaluates_through_the_engine() {
        let snapshot = compile_snapshot(SNAPSHOT).unwrap();
        let result = parse(
            &evaluate_json(
                &snapshot,
                "banner",
                r#"{"key":"u","attributes":{"region":"eu-west-1"}}"#,
            )
            .unwrap(),
        );
        assert_eq!(
            result,
            json!({"flag": "banner", "value": "hello", "variant": "a", "reason": "TARGETING_MATCH", "rule_index": 0, "rule_id": "eu"})
        );
        let all = parse(&evaluate_all_json(&snapshot, r#"{"key":"u"}"#).unwrap());
        assert_eq!(all[0]["reason"], "DEFAULT");
        assert_eq!(all[1]["error_code"], "PARSE_ERROR");
        let errors = parse(&compile_errors_json(&snapshot));
        assert_eq!(errors[0]["key"], "broken");
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        assert!(matches!(
            compile_snapshot("{not json"),
            Err(WasmError::InvalidSnapshot(_))
        ));
        assert!(matches!(
            compile_snapshot(r#"{"environment":"e"}"#),
            Err(WasmError::InvalidSnapshot(_))
        ));
        let snapshot = compile_snapshot(SNAPSHOT).unwrap();
        for bad in [
            "",
            "[]",
            r#"{"attributes":{}}"#,
            r#"{"key":"u","attributes":{"x":{}}}"#,
        ] {
            let error = evaluate_json(&snapshot, "banner", bad).unwrap_err();
            assert!(
                matches!(error, WasmError::InvalidContext(_)),
                "{bad}: {error}"
            );
            assert!(error.to_string().starts_with("invalid context: "));
        }
        assert!(matches!(
            evaluate_all_json(&snapshot, "null"),
            Err(WasmError::InvalidContext(_))
        ));
    }
}
