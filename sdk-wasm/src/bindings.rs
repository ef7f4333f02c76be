//! The JavaScript surface. Every fallible call returns `Result<_, JsValue>`
//! whose error is a thrown JavaScript `Error` named `VexilError` with a
//! stable `code` (see [`WasmError::code`]) and a message saying what was
//! wrong.

use std::collections::HashMap;

use vexil_engine::CompiledSnapshot;
use vexil_proto::{Context, Snapshot, SnapshotFlag};
use wasm_bindgen::prelude::*;

use crate::evaluate::{self, WasmError};

/// A compiled snapshot of one environment's flags, ready to evaluate.
/// Compile once per snapshot; evaluate as often as needed; apply the
/// stream's patches to move it forward.
#[wasm_bindgen]
#[derive(Debug)]
pub struct VexilSnapshot {
    /// The uncompiled snapshot, kept so a patch can be applied to it and
    /// the result compiled afresh.
    source: Snapshot,
    /// What evaluations read.
    compiled: CompiledSnapshot,
    /// Each flag's variant keys, by the flag's index in `compiled`, for
    /// `variantIndexAt`.
    variants: Vec<Vec<String>>,
}

/// Each flag's variant keys, in `compiled`'s flag order.
fn variant_keys(source: &Snapshot, compiled: &CompiledSnapshot) -> Vec<Vec<String>> {
    let by_key: HashMap<&str, &SnapshotFlag> =
        source.flags.iter().map(|f| (f.key.as_str(), f)).collect();
    compiled
        .flag_keys()
        .map(|key| {
            by_key
                .get(key)
                .map(|flag| flag.variants.iter().map(|v| v.key.clone()).collect())
                .unwrap_or_default()
        })
        .collect()
}

#[wasm_bindgen]
impl VexilSnapshot {
    /// Parses and compiles a snapshot (`{environment, version, flags,
    /// segments}`, as `GET /api/v1/snapshot` returns it, or the stream's
    /// `snapshot` frame). Throws `INVALID_SNAPSHOT` on JSON that is not a
    /// snapshot.
    #[wasm_bindgen(constructor)]
    pub fn new(snapshot_json: &str) -> Result<VexilSnapshot, JsValue> {
        let source = evaluate::parse_snapshot(snapshot_json).map_err(js_error)?;
        let compiled = CompiledSnapshot::compile(&source);
        let variants = variant_keys(&source, &compiled);
        Ok(VexilSnapshot {
            source,
            compiled,
            variants,
        })
    }

    /// Applies the stream's `patch` frame (`{from_version, to_version,
    /// upserts, deletes}`, `type` optional) in place. Throws `VERSION_GAP`
    /// when `from_version` is not this snapshot's version and
    /// `INVALID_PATCH` on anything that is not a forward patch; the
    /// snapshot is then unchanged. Returns the keys of the flags whose
    /// evaluation may have changed (sorted).
    #[wasm_bindgen(js_name = applyPatch)]
    pub fn apply_patch(&mut self, patch_json: &str) -> Result<Vec<String>, JsValue> {
        let before = self.source.clone();
        self.compiled = evaluate::apply_patch(&mut self.source, patch_json).map_err(js_error)?;
        self.variants = variant_keys(&self.source, &self.compiled);
        Ok(vexil_engine::changed_flags(&before, &self.source))
    }

    /// The keys of the flags whose evaluation may differ between `previous`
    /// and this snapshot: added, removed or edited flags, flags using a
    /// changed segment, and their dependents through prerequisites. Sorted.
    #[wasm_bindgen(js_name = changedSince)]
    pub fn changed_since(&self, previous: &VexilSnapshot) -> Vec<String> {
        vexil_engine::changed_flags(&previous.source, &self.source)
    }

    /// Evaluates one flag for a context (`{key, kind?, attributes?}` JSON)
    /// and returns the `EvaluationResult` JSON. A missing flag is not an
    /// error: its result has reason `ERROR` and `FLAG_NOT_FOUND`.
    pub fn evaluate(&self, flag_key: &str, context_json: &str) -> Result<String, JsValue> {
        evaluate::evaluate_json(&self.compiled, flag_key, context_json).map_err(js_error)
    }

    /// [`VexilSnapshot::evaluate`] for a context parsed once
    /// ([`VexilContext`]): no context JSON to parse per call.
    #[wasm_bindgen(js_name = evaluateWith)]
    pub fn evaluate_with(&self, flag_key: &str, context: &VexilContext) -> Result<String, JsValue> {
        evaluate::evaluate_context_json(&self.compiled, flag_key, &context.context)
            .map_err(js_error)
    }

    /// The fast path of typed calls: the key of the variant served to
    /// `context`, or `undefined` on any error (missing flag, a flag that
    /// failed to compile, ...; `evaluateWith` says which). Nothing is
    /// parsed or serialized; the caller maps the key to its value.
    #[wasm_bindgen(js_name = variantOf)]
    pub fn variant_of(&self, flag_key: &str, context: &VexilContext) -> Option<String> {
        self.compiled
            .evaluate(flag_key, &context.context)
            .variant
            .map(str::to_owned)
    }

    /// The fastest typed path: the flag at `flag_index` (its position in
    /// `flagKeys()`) evaluated for `context`, answered with the position of
    /// the served variant in the flag's `variants`, or -1 on any error.
    /// Nothing crosses the boundary but numbers.
    #[wasm_bindgen(js_name = variantIndexAt)]
    pub fn variant_index_at(&self, flag_index: u32, context: &VexilContext) -> i32 {
        let index = flag_index as usize;
        let served = self.compiled.evaluate_at(index, &context.context).variant;
        match (served, self.variants.get(index)) {
            (Some(served), Some(keys)) => keys
                .iter()
                .position(|key| key == served)
                .and_then(|position| i32::try_from(position).ok())
                .unwrap_or(-1),
            _ => -1,
        }
    }

    /// Evaluates every flag for a context: a JSON array of results, in
    /// snapshot order.
    #[wasm_bindgen(js_name = evaluateAll)]
    pub fn evaluate_all(&self, context_json: &str) -> Result<String, JsValue> {
        evaluate::evaluate_all_json(&self.compiled, context_json).map_err(js_error)
    }

    /// The snapshot's environment.
    #[wasm_bindgen(getter)]
    pub fn environment(&self) -> String {
        self.compiled.environment().to_owned()
    }

    /// The environment version the snapshot was taken at. A JavaScript
    /// number: exact up to 2^53 changes.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> f64 {
        self.compiled.version() as f64
    }

    /// The flag keys, in snapshot order.
    #[wasm_bindgen(js_name = flagKeys)]
    pub fn flag_keys(&self) -> Vec<String> {
        self.compiled.flag_keys().map(str::to_owned).collect()
    }

    /// Whether a flag or segment has a `matches` clause. Until the regex
    /// module is installed (`installRegex`), such flags fail closed
    /// (`PARSE_ERROR`, listed by `compileErrors()`).
    #[wasm_bindgen(getter, js_name = usesRegex)]
    pub fn uses_regex(&self) -> bool {
        evaluate::uses_regex(&self.source)
    }

    /// Compiles the snapshot again, for a snapshot compiled before the
    /// regex module was installed. Returns every flag key (sorted): any of
    /// them may evaluate differently now.
    pub fn recompile(&mut self) -> Vec<String> {
        self.compiled = CompiledSnapshot::compile(&self.source);
        self.variants = variant_keys(&self.source, &self.compiled);
        let mut keys: Vec<String> = self.compiled.flag_keys().map(str::to_owned).collect();
        keys.sort();
        keys
    }

    /// The flags and segments that failed to compile and why, as JSON
    /// `[{"key", "problem"}]`. Those flags evaluate to `PARSE_ERROR`.
    #[wasm_bindgen(js_name = compileErrors)]
    pub fn compile_errors(&self) -> String {
        evaluate::compile_errors_json(&self.compiled)
    }
}

/// An evaluation context parsed once, for many evaluations: what an
/// application holds for its current user.
#[wasm_bindgen]
#[derive(Debug)]
pub struct VexilContext {
    context: Context,
}

#[wasm_bindgen]
impl VexilContext {
    /// Parses a context (`{key, kind?, attributes?}` JSON). Throws
    /// `INVALID_CONTEXT` on anything else.
    #[wasm_bindgen(constructor)]
    pub fn new(context_json: &str) -> Result<VexilContext, JsValue> {
        let context = evaluate::parse_context(context_json).map_err(js_error)?;
        Ok(VexilContext { context })
    }

    /// The context's key.
    #[wasm_bindgen(getter)]
    pub fn key(&self) -> String {
        self.context.key.clone()
    }
}

/// `WasmError` as a thrown `Error` JavaScript can tell apart:
/// `error.name === "VexilError"`, `error.code` one of the stable codes.
fn js_error(error: WasmError) -> JsValue {
    let js = js_sys::Error::new(&error.to_string());
    js.set_name("VexilError");
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(
        &js,
        &JsValue::from_str("code"),
        &JsValue::from_str(error.code()),
    );
    js.into()
}
