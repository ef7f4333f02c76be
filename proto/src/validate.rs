//! Validation: every problem at once, each with a JSON pointer path.

use serde::{Deserialize, Serialize};

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
