//! Vexil's evaluation engine for JavaScript hosts (browsers, edge runtimes,
//! Node), compiled to WebAssembly with wasm-bindgen. The same engine as the
//! server and the Rust SDK, so a preview in the UI and an evaluation in an
//! application agree bit for bit.
//!
//! JavaScript sees one class, `VexilSnapshot`: construct it from a
//! snapshot's JSON, then `evaluate(flagKey, contextJson)` and
//! `evaluateAll(contextJson)` return `EvaluationResult` JSON. Bad input
//! throws a JavaScript `Error` naming what was wrong; nothing panics.
//!
//! ```js
//! const snapshot = new VexilSnapshot(await (await fetch("/api/v1/snapshot")).text());
//! const result = JSON.parse(snapshot.evaluate("new-checkout", JSON.stringify({ key: "user-1" })));
//! ```
//!
//! The TypeScript client that streams over the browser's WebSocket arrives
//! with the streaming issue.
//!
//! # Layout
//! - `evaluate`: the host-independent part: parse JSON in, evaluate through
//!   `vexil-engine`, JSON out, with a typed [`WasmError`]. Tested natively.
//! - `bindings`: the wasm-bindgen surface ([`VexilSnapshot`]) over
//!   `evaluate`, turning errors into JavaScript `Error`s. Tested under Node
//!   with wasm-bindgen-test (`tests/node.rs`).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod bindings;
mod evaluate;

pub use bindings::VexilSnapshot;
pub use evaluate::{WasmError, compile_snapshot, evaluate_all_json, evaluate_json};
