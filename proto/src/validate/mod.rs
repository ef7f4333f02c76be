//! Validation: every problem at once, each with a JSON pointer path.
//!
//! The server validates every write before it stores it, so the engine never
//! has to compile a configuration it cannot evaluate, and SDKs can validate a
//! snapshot they load from a file. Each function returns *all* the problems
//! of one document (up to [`MAX_PROBLEMS`]), each located by a JSON pointer
//! (RFC 6901) relative to that document, ready for the API's error body
//! `{"error": {"code", "message", "details": [{"path", "problem"}]}}`.
//!
//! Validation never panics, whatever the input, and does work bounded by the
//! [`limits`](crate::limits): past a limit it reports the limit and checks no
//! further elements of that list.
//!
//! # Layout
//! - `path`: JSON pointers built without allocating, and the problem collector.
//! - `project`: projects and environments (key syntax, name).
//! - `flag`: a flag definition and its variants.
//! - `config`: a flag's config in one environment: targets, rules, serve,
//!   rollouts, prerequisites.
//! - `clause`: the values each clause operator accepts, shared by flag rules
//!   and segment rules.
//! - `segment`: segment definitions.
//! - `refs`: the [`References`] a config is checked against (other flags,
//!   segments) and the prerequisite graph search (cycles, depth).
//! - `snapshot`: a whole environment snapshot, cross-checked.

use serde::{Deserialize, Serialize};

mod clause;
mod config;
mod flag;
mod path;
mod project;
mod refs;
mod segment;
mod snapshot;

pub use config::validate_flag_config;
pub use flag::validate_flag;
pub use path::escape_pointer_segment;
pub use project::{validate_environment, validate_project};
pub use refs::References;
pub use segment::validate_segment;
pub use snapshot::validate_snapshot;

/// Most problems reported for one document. A 100 000-value list of bad
/// values must not turn into a 10 MB error body; past this many, one last
/// problem at the document root says how many more were found.
pub const MAX_PROBLEMS: usize = 1_000;

/// One thing wrong with a request body, located by a JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Problem {
    /// JSON pointer (RFC 6901) into the validated document, such as `/rules/2/clauses/0/values/1`.
    pub path: String,
    /// What is wrong, in words a person can act on.
    pub problem: String,
}

/// All the problems found in one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{} validation problem(s), first: {}", .0.len(), .0.first().map(|p| format!("{}: {}", p.path, p.problem)).unwrap_or_default())]
pub struct ValidationErrors(pub Vec<Problem>);
