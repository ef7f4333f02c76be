//! The `matches` patterns of Vexil's WASM engine, in a WebAssembly module
//! of their own. The engine module (`vexil-wasm`) links no regex engine:
//! the regex crate and its Unicode tables are more than half of it, and
//! most snapshots have no `matches` clause. The JS client loads this module
//! only for a snapshot that has one and installs it into the engine
//! (`installRegex`); the engine then compiles and searches every pattern
//! through it.
//!
//! Patterns compile into `vexil_proto::pattern::Pattern`, exactly
//! as on the server and in the native SDKs: the same crate, limits, error
//! messages and dense-DFA fast path, so the two builds match the same
//! strings. Haystacks arrive as UTF-8 bytes copied straight from the
//! engine module's memory into this one's (no decoding to a JavaScript
//! string and back, no allocation per search).
//!
//! # Layout
//! - `patterns`: the compiled patterns, by handle, and the three calls the
//!   engine's `RegexHost` makes ([`compile`], [`is_match`], [`release`]).
//!   Plain Rust, tested natively; vexil-wasm's WASM tests install them
//!   in-process.
//! - `bindings`: `compile` and `release` exported to JavaScript, and the
//!   copy-in search (`regexMemory`, `input`, `isMatchInput`).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod bindings;
mod patterns;

pub use patterns::{compile, is_match, release};
