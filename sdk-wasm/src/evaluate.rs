//! JSON in, evaluation through the engine, JSON out. No wasm-bindgen here,
//! so all of it is tested natively.

use serde_json::json;
use vexil_engine::CompiledSnapshot;
use vexil_proto::{Clause, Context, EvaluationResult, Operator, Patch, PatchError, Snapshot};

/// Why a call from JavaScript could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum WasmError {
    /// The snapshot JSON does not parse as a snapshot.
    #[error("invalid snapshot: {0}")]
    InvalidSnapshot(#[source] serde_json::Error),
    /// The patch JSON does not parse as a patch.
    #[error("invalid patch: {0}")]
    InvalidPatch(#[source] serde_json::Error),
    /// The patch does not start at the held version (`VERSION_GAP`) or
    /// does not go forward (`INVALID_PATCH`); nothing was applied. A client
    /// then resumes from its version instead.
    #[error("patch not applied: {0}")]
    PatchRefused(#[source] PatchError),
    /// The context JSON does not parse as a context.
    #[error("invalid context: {0}")]
    InvalidContext(#[source] serde_json::Error),
    /// A result could not be rendered (not expected to happen).
    #[error("cannot render the result: {0}")]
    Render(#[source] serde_json::Error),
}

impl WasmError {
    /// The stable code JavaScript sees as `error.code`.
    pub fn code(&self) -> &'static str {
        match self {
            WasmError::InvalidSnapshot(_) => "INVALID_SNAPSHOT",
            WasmError::InvalidPatch(_) => "INVALID_PATCH",
            WasmError::PatchRefused(PatchError::VersionGap { .. }) => "VERSION_GAP",
            WasmError::PatchRefused(PatchError::NotForward { .. }) => "INVALID_PATCH",
            WasmError::InvalidContext(_) => "INVALID_CONTEXT",
            WasmError::Render(_) => "INTERNAL",
        }
    }
}

/// Parses and compiles a snapshot. Flags that fail to compile do not fail
/// the snapshot: they evaluate to `ERROR`/`PARSE_ERROR` on their own.
pub fn compile_snapshot(snapshot_json: &str) -> Result<CompiledSnapshot, WasmError> {
    Ok(CompiledSnapshot::compile(&parse_snapshot(snapshot_json)?))
}

/// Parses a snapshot: the JSON `GET /api/v1/snapshot` returns, or the
/// stream's `snapshot` frame (the same with `"type": "snapshot"`).
pub fn parse_snapshot(snapshot_json: &str) -> Result<Snapshot, WasmError> {
    let value =
        without_frame_type(snapshot_json, "snapshot").map_err(WasmError::InvalidSnapshot)?;
    serde_json::from_value(value).map_err(WasmError::InvalidSnapshot)
}

/// Applies a patch (the stream's `patch` frame, with or without its
/// `"type"`) to `snapshot` and compiles the result. On any error `snapshot`
/// is unchanged.
pub fn apply_patch(
    snapshot: &mut Snapshot,
    patch_json: &str,
) -> Result<CompiledSnapshot, WasmError> {
    let value = without_frame_type(patch_json, "patch").map_err(WasmError::InvalidPatch)?;
    let patch: Patch = serde_json::from_value(value).map_err(WasmError::InvalidPatch)?;
    snapshot
        .apply_patch(&patch)
        .map_err(WasmError::PatchRefused)?;
    Ok(CompiledSnapshot::compile(snapshot))
}

/// Parses JSON and drops a `"type"` field equal to `frame`, so a wire frame
/// and the bare object both parse; any other `type` stays and is refused
/// as an unknown field.
fn without_frame_type(json: &str, frame: &str) -> Result<serde_json::Value, serde_json::Error> {
    let mut value: serde_json::Value = serde_json::from_str(json)?;
    if let Some(object) = value.as_object_mut()
        && object.get("type").and_then(serde_json::Value::as_str) == Some(frame)
    {
        object.remove("type");
    }
    Ok(value)
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

/// One flag for an already parsed context, as `EvaluationResult` JSON.
pub fn evaluate_context_json(
    snapshot: &CompiledSnapshot,
    flag_key: &str,
    ctx: &Context,
) -> Result<String, WasmError> {
    let result = snapshot.evaluate(flag_key, ctx).to_result(flag_key);
    serde_json::to_string(&result).map_err(WasmError::Render)
}

/// Whether any flag or segment has a `matches` clause: the snapshot then
/// needs the regex module (`installRegex`) to evaluate exactly.
pub fn uses_regex(snapshot: &Snapshot) -> bool {
    let has_matches = |clauses: &[Clause]| clauses.iter().any(|c| c.op == Operator::Matches);
    snapshot.flags.iter().any(|flag| {
        flag.config
            .rules
            .iter()
            .any(|rule| has_matches(&rule.clauses))
    }) || snapshot
        .segments
        .iter()
        .any(|segment| segment.rules.iter().any(|rule| has_matches(&rule.clauses)))
}

/// Parses a context (`{key, kind?, attributes?}`).
pub fn parse_context(context_json: &str) -> Result<Context, WasmError> {
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

    #[test]
    fn frames_parse_like_bare_objects() {
        let frame = r#"{"type":"snapshot","environment":"e","version":4,"flags":[],"segments":[]}"#;
        assert_eq!(parse_snapshot(frame).unwrap().version, 4);
        let error =
            parse_snapshot(r#"{"type":"patch","environment":"e","version":4}"#).unwrap_err();
        assert_eq!(error.code(), "INVALID_SNAPSHOT");
    }

    #[test]
    fn patches_apply_in_order_and_gaps_change_nothing() {
        let mut snapshot = parse_snapshot(SNAPSHOT).unwrap();
        let compiled = apply_patch(
            &mut snapshot,
            r#"{"type":"patch","from_version":3,"to_version":4,"deletes":[{"flag":"broken"}]}"#,
        )
        .unwrap();
        assert_eq!(compiled.version(), 4);
        assert_eq!(compiled.flag_keys().collect::<Vec<_>>(), ["banner"]);

        let before = snapshot.clone();
        for (patch, code) in [
            (r#"{"from_version":3,"to_version":5}"#, "VERSION_GAP"),
            (r#"{"from_version":5,"to_version":6}"#, "VERSION_GAP"),
            (r#"{"from_version":4,"to_version":4}"#, "INVALID_PATCH"),
            (r#"{"from_version":4}"#, "INVALID_PATCH"),
            (
                r#"{"from_version":4,"to_version":5,"upserts":[{"flag":{}}]}"#,
                "INVALID_PATCH",
            ),
            ("not json", "INVALID_PATCH"),
        ] {
            let error = apply_patch(&mut snapshot, patch).unwrap_err();
            assert_eq!(error.code(), code, "{patch}: {error}");
            assert_eq!(snapshot, before, "{patch} changed the snapshot");
        }
        assert_eq!(
            apply_patch(&mut snapshot, r#"{"from_version":5,"to_version":6}"#)
                .unwrap_err()
                .to_string(),
            "patch not applied: patch starts at version 5 but the snapshot is at version 4"
        );
    }
}
