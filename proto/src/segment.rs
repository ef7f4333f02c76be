//! Segments: reusable audiences referenced by `in_segment` clauses.

use serde::{Deserialize, Serialize};

use crate::clause::Clause;

/// A reusable audience. Matching order: `included` keys match, then
/// `excluded` keys do not, then any matching rule makes a match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// Referenced by `in_segment` clause values.
    pub key: String,
    /// Human name for the UI.
    pub name: String,
    /// Who is in it and why.
    #[serde(default)]
    pub description: String,
    /// Context keys always in the segment.
    #[serde(default)]
    pub included: Vec<String>,
    /// Context keys never in the segment (unless also included).
    #[serde(default)]
    pub excluded: Vec<String>,
    /// Any one matching puts the context in the segment.
    #[serde(default)]
    pub rules: Vec<SegmentRule>,
    /// Bumped by every change; the `If-Match` of its writes.
    #[serde(default)]
    pub version: u64,
}

/// A segment rule: ANDed clauses (no `in_segment` inside segments).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentRule {
    /// Stable id for the UI and explanations.
    #[serde(default)]
    pub id: String,
    /// ANDed; an empty list matches everyone.
    #[serde(default)]
    pub clauses: Vec<Clause>,
}
