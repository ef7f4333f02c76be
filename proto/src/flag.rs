//! Flags, their variants, and their configuration in one environment.

use serde::{Deserialize, Serialize};

use crate::clause::Clause;

/// A feature flag: what it is and which values it can take. How it is served
/// lives in a [`FlagConfig`] per environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flag {
    /// Stable identifier the application code asks for; `[a-z0-9][a-z0-9._-]{0,127}`.
    pub key: String,
    /// Human name for the UI.
    pub name: String,
    /// What the flag controls and when it can be removed.
    #[serde(default)]
    pub description: String,
    /// Free-form labels to filter the flag list by.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Who to ask about this flag (a person or a team).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The type of every variant's value; SDKs check typed calls against it.
    pub kind: FlagKind,
    /// The values the flag can serve. A boolean flag has exactly `on` (true)
    /// and `off` (false).
    pub variants: Vec<Variant>,
    /// A release flag meant to be removed once rolled out; the UI nags about
    /// it when it goes stale.
    #[serde(default)]
    pub temporary: bool,
}

/// The type of a flag's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    Boolean,
    String,
    Number,
    Json,
}

impl FlagKind {
    /// The name used in JSON and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::Boolean => "boolean",
            FlagKind::String => "string",
            FlagKind::Number => "number",
            FlagKind::Json => "json",
        }
    }

    /// Whether `value` is of this kind (`json` accepts anything but `null`,
    /// which would be indistinguishable from "no value" in an evaluation result).
    pub fn accepts(self, value: &serde_json::Value) -> bool {
        match self {
            FlagKind::Boolean => value.is_boolean(),
            FlagKind::String => value.is_string(),
            FlagKind::Number => value.is_number(),
            FlagKind::Json => !value.is_null(),
        }
    }
}

/// One value a flag can serve, named so rules and rollouts refer to it by key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Referenced by targets, rules, rollouts and `off_variant`.
    pub key: String,
    /// What the SDK returns when this variant is served.
    pub value: serde_json::Value,
    /// Optional human label for the UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Optional explanation for the UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Variant {
    /// A variant with no label or description.
    pub fn new(key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        Variant {
            key: key.into(),
            value: value.into(),
            name: None,
            description: None,
        }
    }

    /// The two variants of every boolean flag: `on` (true) and `off` (false).
    pub fn boolean_pair() -> Vec<Variant> {
        vec![Variant::new("on", true), Variant::new("off", false)]
    }
}

/// How a flag is served in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagConfig {
    /// The kill switch: when false everyone gets `off_variant`.
    pub enabled: bool,
    /// Served when the flag is disabled or a prerequisite fails.
    pub off_variant: String,
    /// Explicit context keys per variant, checked before any rule.
    #[serde(default)]
    pub targets: Vec<Target>,
    /// Ordered; the first rule whose clauses all match decides.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// What everyone who matched no target and no rule gets.
    pub default_serve: Serve,
    /// Other flags that must serve a given variant before this one is evaluated.
    #[serde(default)]
    pub prerequisites: Vec<Prerequisite>,
    /// Bumped by every change to this config; the `If-Match` of its writes.
    #[serde(default)]
    pub version: u64,
}

impl FlagConfig {
    /// An enabled config serving `default_serve` to everyone, with no
    /// targets, rules or prerequisites.
    pub fn new(off_variant: impl Into<String>, default_serve: Serve) -> Self {
        FlagConfig {
            enabled: true,
            off_variant: off_variant.into(),
            targets: Vec::new(),
            rules: Vec::new(),
            default_serve,
            prerequisites: Vec::new(),
            version: 0,
        }
    }
}

/// Context keys that get one variant regardless of rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The variant these contexts get.
    pub variant: String,
    /// Context keys (the targeting key).
    pub values: Vec<String>,
}

/// A targeting rule: when every clause matches, serve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable across reorders so reasons and metrics can name the rule.
    pub id: String,
    /// Why the rule exists, for the UI.
    #[serde(default)]
    pub description: String,
    /// ANDed; an empty list matches everyone.
    #[serde(default)]
    pub clauses: Vec<Clause>,
    /// What a matching context gets.
    pub serve: Serve,
}

/// What to serve: one fixed variant, or a percentage rollout.
///
/// In JSON: `{"variant": "on"}` or `{"rollout": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Serve {
    Variant(String),
    Rollout(Rollout),
}

/// A percentage split between variants, by a stable hash of one attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    /// Attribute hashed to pick a bucket; `None` means the context key.
    /// Bucketing by `org` keeps everyone in an organisation together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_by: Option<String>,
    /// Prefix of the hashed string; defaults to the flag key. Sharing a salt
    /// between flags makes them bucket the same contexts together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// In variant order; weights in 1/100 000 summing to 100 000.
    pub weights: Vec<WeightedVariant>,
    /// Served to contexts without the `bucket_by` attribute; `None` means the
    /// flag's off variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// The hashing scheme; a change of hashing is a new number, never a silent
    /// re-bucketing of users. Only `1` exists.
    #[serde(default = "default_algorithm")]
    pub algorithm: u32,
}

fn default_algorithm() -> u32 {
    1
}

/// One variant's share of a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightedVariant {
    /// The variant served for buckets in this share.
    pub variant: String,
    /// In units of 0.001 % (100 000 is everyone).
    pub weight: u32,
}

/// Another flag that must serve `variant` before this flag's targeting runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prerequisite {
    /// The prerequisite flag's key, in the same environment.
    pub flag: String,
    /// The variant it must serve.
    pub variant: String,
}
