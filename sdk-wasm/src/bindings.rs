//! The JavaScript surface. Every fallible call returns `Result<_, JsError>`,
//! which wasm-bindgen turns into a thrown `Error` with our message.

use vexil_engine::CompiledSnapshot;
use wasm_bindgen::prelude::*;

use crate::evaluate::{self, WasmError};

/// A compiled snapshot of one environment's flags, ready to evaluate.
/// Compile once per snapshot; evaluate as often as needed.
#[wasm_bindgen]
#[derive(Debug)]
pub struct VexilSnapshot {
    compiled: CompiledSnapshot,
}

#[wasm_bindgen]
impl VexilSnapshot {
    /// Parses and compiles a snapshot (`{environment, version, flags,
    /// segments}`, as `GET /api/v1/snapshot` returns it). Throws on JSON
    /// that is not a snapshot.
    #[wasm_bindgen(constructor)]
    pub fn new(snapshot_json: &str) -> Result<VexilSnapshot, JsError> {
        let compiled = evaluate::compile_snapshot(snapshot_json).map_err(js_error)?;
        Ok(VexilSnapshot { compiled })
    }

    /// Evaluates one flag for a context (`{key, kind?, attributes?}` JSON)
    /// and returns the `EvaluationResult` JSON. A missing flag is not an
    /// error: its result has reason `ERROR` and `FLAG_NOT_FOUND`.
    pub fn evaluate(&self, flag_key: &str, context_json: &str) -> Result<String, JsError> {
        evaluate::evaluate_json(&self.compiled, flag_key, context_json).map_err(js_error)
    }

    /// Evaluates every flag for a context: a JSON array of results, in
    /// snapshot order.
    #[wasm_bindgen(js_name = evaluateAll)]
    pub fn evaluate_all(&self, context_json: &str) -> Result<String, JsError> {
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

    /// The flags and segments that failed to compile and why, as JSON
    /// `[{"key", "problem"}]`. Those flags evaluate to `PARSE_ERROR`.
    #[wasm_bindgen(js_name = compileErrors)]
    pub fn compile_errors(&self) -> String {
        evaluate::compile_errors_json(&self.compiled)
    }
}

fn js_error(error: WasmError) -> JsError {
    JsError::new(&error.to_string())
}
