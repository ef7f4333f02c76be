//! Projects and environments.

use serde::{Deserialize, Serialize};

/// A project groups flags and segments with the environments they are
/// configured in. A fresh install has one, `default`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// Stable identifier used in URLs and SDK keys; never changes.
    pub key: String,
    /// Human name shown in the UI; may change freely.
    pub name: String,
    /// What the project is for, for people browsing the UI.
    #[serde(default)]
    pub description: String,
}

/// An environment (`development`, `staging`, `production`, ...) holds one
/// configuration per flag and has its own version counter and stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// Stable identifier used in URLs and SDK keys.
    pub key: String,
    /// Human name shown in the UI.
    pub name: String,
    /// Marks environments where changes need confirmation and a reason, and
    /// which API tokens can be barred from editing.
    #[serde(default)]
    pub production: bool,
    /// Incremented by every committed change in this environment; the stream
    /// and snapshots are ordered by it.
    #[serde(default)]
    pub version: u64,
}
