//! `matches` patterns, compiled once per snapshot and shared by every
//! clause that uses them.
//!
//! With the `regex` feature (every native build) they compile here
//! (`native`, with `dfa` for small ones). Without it (the WASM engine
//! module) they go to the [`RegexHost`] the embedder installed: the WASM
//! client loads `vexil-wasm-regex`, a module that compiles them with
//! exactly the same crate, limits and messages, only when a snapshot has
//! `matches` clauses (docs/decisions.md).

#[cfg(all(feature = "regex", not(target_arch = "wasm32")))]
mod dfa;
mod host;
#[cfg(feature = "regex")]
mod native;

#[cfg(not(feature = "regex"))]
pub(crate) use host::Pattern;
pub use host::{RegexHost, install_regex_host};
#[cfg(feature = "regex")]
pub(crate) use native::Pattern;
