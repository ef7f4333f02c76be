//! `matches` patterns, compiled once per snapshot and shared by every
//! clause that uses them.
//!
//! With the `regex` feature (every native build) they compile into
//! `vexil_proto::pattern::Pattern`: a dense DFA for small ones with the
//! regex crate behind it. Without it (the WASM engine module) they go to
//! the [`RegexHost`] the embedder installed (`host`): the WASM client
//! loads `vexil-wasm-regex`, a module that runs that same `Pattern`, only
//! when a snapshot has `matches` clauses (docs/decisions.md).

mod host;

#[cfg(not(feature = "regex"))]
pub(crate) use host::Pattern;
pub use host::{RegexHost, install_regex_host};
#[cfg(feature = "regex")]
pub(crate) use vexil_proto::pattern::Pattern;
