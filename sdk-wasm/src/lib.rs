//! Vexil's evaluation engine for JavaScript hosts (browsers, edge runtimes,
//! Node), compiled to WebAssembly with wasm-bindgen. The same engine as the
//! server and the Rust SDK, so a preview in the UI and an evaluation in an
//! application agree bit for bit.
//!
//! JavaScript sees one class, `VexilSnapshot`: construct it from a
//! snapshot's JSON, move it forward with `applyPatch(patchJson)`, and
//! `evaluate(flagKey, contextJson)` and `evaluateAll(contextJson)` return
//! `EvaluationResult` JSON. A `VexilContext` parses a context once for
//! many calls (`evaluateWith`, `variantOf`, and `variantIndexAt`, the
//! typed calls' fast path, which passes only numbers). Bad input throws
//! a JavaScript `Error` named `VexilError` whose `code` is
//! `INVALID_SNAPSHOT`, `INVALID_PATCH`, `VERSION_GAP`, `INVALID_CONTEXT`
//! or `INTERNAL`; nothing panics.
//!
//! ```js
//! const snapshot = new VexilSnapshot(await (await fetch("/api/v1/snapshot")).text());
//! const result = JSON.parse(snapshot.evaluate("new-checkout", JSON.stringify({ key: "user-1" })));
//! ```
//!
//! The TypeScript client that streams over a WebSocket lives in `js/`
//! (docs/sdk-wasm.md).
//!
//! # Layout
//! - `evaluate`: the host-independent part: parse snapshots and patches,
//!   apply patches, evaluate through `vexil-engine`, JSON out, with a typed
//!   [`WasmError`]. Tested natively.
//! - `bindings`: the wasm-bindgen surface ([`VexilSnapshot`],
//!   [`VexilContext`]) over `evaluate`, turning errors into `VexilError`s.
//!   Tested under Node with wasm-bindgen-test (`tests/node.rs`,
//!   `tests/cases.rs`) and by the JS package's tests (`js/test/`).
//! - `regex`: `installRegex`, which hands the engine the regex module
//!   (`sdk-wasm/regex`, crate `vexil-wasm-regex`). This module links no
//!   regex engine: `matches` patterns compile only once it is installed,
//!   and until then their flags fail closed. The JS client loads and
//!   installs it for snapshots that use `matches` (docs/decisions.md).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod bindings;
mod evaluate;
mod regex;

pub use bindings::{VexilContext, VexilSnapshot};
pub use evaluate::{
    WasmError, apply_patch, compile_snapshot, evaluate_all_json, evaluate_json, parse_snapshot,
};
pub use regex::{RegexModule, engine_memory, install_regex};
