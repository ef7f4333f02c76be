//! OpenAPI schemas of the documents the flag, config, segment and change-log
//! endpoints read and write.
//!
//! The documents themselves are `vexil_proto`'s serde types and the store's
//! records; proto stays free of utoipa (it is plain serde types, built for
//! wasm too), so the schemas are mirrored here, field for field. They are
//! never constructed: they only describe. A test below serializes a fully
//! populated value of each real type and checks that the schema names
//! exactly its fields, so the two cannot drift apart unnoticed.

#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// A flag definition: what it is and which values it can take.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Flag)]
pub struct FlagSchema {
    /// Stable identifier the application asks for: `[a-z0-9][a-z0-9._-]{0,127}`.
    pub key: String,
    pub name: String,
    #[serde(default)]
    #[schema(default = "")]
    pub description: String,
    /// At most 50, each 1 to 128 bytes, no duplicates.
    #[serde(default)]
    #[schema(default = json!([]))]
    pub tags: Vec<String>,
    /// Who to ask about the flag.
    #[schema(nullable = false)]
    pub owner: Option<String>,
    /// Cannot change once the flag exists.
    pub kind: FlagKindSchema,
    /// At least one; a boolean flag has exactly `on` (true) and `off` (false).
    pub variants: Vec<VariantSchema>,
    /// A release flag meant to be removed later.
    #[serde(default)]
    #[schema(default = false)]
    pub temporary: bool,
}

/// The type of every variant's value.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FlagKind)]
#[serde(rename_all = "snake_case")]
pub enum FlagKindSchema {
    Boolean,
    String,
    Number,
    Json,
}

/// One value a flag can serve.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Variant)]
pub struct VariantSchema {
    pub key: String,
    /// Of the flag's kind; never `null`.
    pub value: serde_json::Value,
    #[schema(nullable = false)]
    pub name: Option<String>,
    #[schema(nullable = false)]
    pub description: Option<String>,
}

/// A flag as stored: its definition plus bookkeeping.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FlagRecord)]
pub struct FlagRecordSchema {
    #[serde(flatten)]
    pub flag: FlagSchema,
    /// The definition's version: its `ETag`, and the `If-Match` of its writes.
    pub version: u64,
    /// Archived flags leave every snapshot; only they can be deleted.
    pub archived: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: String,
}

/// A flag as reads (`GET` one, the list) show it: the record plus when it
/// was last evaluated.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FlagView)]
pub struct FlagViewSchema {
    #[serde(flatten)]
    pub record: FlagRecordSchema,
    /// Environment key → the end of the latest usage report that counted
    /// the flag there (RFC 3339); `{}` when no SDK reported evaluating it.
    pub last_evaluated: std::collections::BTreeMap<String, String>,
}

/// One page of flags, ordered by key.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FlagPage)]
pub struct FlagPageSchema {
    pub items: Vec<FlagViewSchema>,
    /// How many flags match the filters, on every page.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// How a flag is served in one environment.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FlagConfig)]
pub struct FlagConfigSchema {
    /// The kill switch: when false everyone gets `off_variant`.
    pub enabled: bool,
    pub off_variant: String,
    #[serde(default)]
    #[schema(default = json!([]))]
    pub targets: Vec<TargetSchema>,
    /// Ordered; the first rule whose clauses all match decides.
    #[serde(default)]
    #[schema(default = json!([]))]
    pub rules: Vec<RuleSchema>,
    pub default_serve: ServeSchema,
    #[serde(default)]
    #[schema(default = json!([]))]
    pub prerequisites: Vec<PrerequisiteSchema>,
    /// Set by the server; ignored in request bodies (send `If-Match`).
    #[serde(default)]
    #[schema(default = 0)]
    pub version: u64,
}

/// Context keys that get one variant regardless of rules.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Target)]
pub struct TargetSchema {
    pub variant: String,
    pub values: Vec<String>,
}

/// When every clause matches, serve.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Rule)]
pub struct RuleSchema {
    /// Unique within the config; reasons and metrics name rules by id.
    pub id: String,
    #[serde(default)]
    #[schema(default = "")]
    pub description: String,
    /// ANDed; none matches everyone.
    #[serde(default)]
    #[schema(default = json!([]))]
    pub clauses: Vec<ClauseSchema>,
    pub serve: ServeSchema,
}

/// `{"variant": "on"}` or `{"rollout": {...}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Serve)]
#[serde(rename_all = "snake_case")]
pub enum ServeSchema {
    Variant(String),
    Rollout(RolloutSchema),
}

/// A percentage split between variants.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Rollout)]
pub struct RolloutSchema {
    /// Attribute hashed to pick a bucket; leave out for the context key.
    #[schema(nullable = false)]
    pub bucket_by: Option<String>,
    /// Defaults to the flag key.
    #[schema(nullable = false)]
    pub salt: Option<String>,
    /// In variant order, in units of 0.001 %, summing to 100000.
    pub weights: Vec<WeightedVariantSchema>,
    /// For contexts without `bucket_by`; defaults to the off variant.
    #[schema(nullable = false)]
    pub fallback: Option<String>,
    /// The hashing scheme; only 1 exists.
    #[serde(default)]
    #[schema(default = 1)]
    pub algorithm: u32,
}

/// One variant's share of a rollout.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WeightedVariant)]
pub struct WeightedVariantSchema {
    pub variant: String,
    pub weight: u32,
}

/// Another flag that must serve `variant` first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Prerequisite)]
pub struct PrerequisiteSchema {
    pub flag: String,
    pub variant: String,
}

/// One condition on one context attribute.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Clause)]
pub struct ClauseSchema {
    /// Ignored (may be empty) for `in_segment`.
    pub attribute: String,
    pub op: OperatorSchema,
    /// `exists` takes none; `in_segment` takes segment keys.
    #[serde(default)]
    #[schema(default = json!([]))]
    pub values: Vec<ScalarSchema>,
    #[serde(default)]
    #[schema(default = false)]
    pub negate: bool,
}

/// Clause operators.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Operator)]
#[serde(rename_all = "snake_case")]
pub enum OperatorSchema {
    In,
    Contains,
    StartsWith,
    EndsWith,
    Matches,
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
    SemverEq,
    SemverLt,
    SemverGt,
    Before,
    After,
    InSegment,
    Exists,
}

/// A string, a number or a boolean.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Scalar)]
#[serde(untagged)]
pub enum ScalarSchema {
    String(String),
    Number(f64),
    Bool(bool),
}

/// A reusable audience: included keys, then excluded keys, then rules.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Segment)]
pub struct SegmentSchema {
    pub key: String,
    pub name: String,
    #[serde(default)]
    #[schema(default = "")]
    pub description: String,
    #[serde(default)]
    #[schema(default = json!([]))]
    pub included: Vec<String>,
    #[serde(default)]
    #[schema(default = json!([]))]
    pub excluded: Vec<String>,
    /// Any one matching puts the context in the segment; no `in_segment`.
    #[serde(default)]
    #[schema(default = json!([]))]
    pub rules: Vec<SegmentRuleSchema>,
    /// Set by the server: its `ETag`; ignored in request bodies.
    #[serde(default)]
    #[schema(default = 0)]
    pub version: u64,
}

/// ANDed clauses.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SegmentRule)]
pub struct SegmentRuleSchema {
    #[serde(default)]
    #[schema(default = "")]
    pub id: String,
    #[serde(default)]
    #[schema(default = json!([]))]
    pub clauses: Vec<ClauseSchema>,
}

/// A segment as stored.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SegmentRecord)]
pub struct SegmentRecordSchema {
    #[serde(flatten)]
    pub segment: SegmentSchema,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: String,
}

/// One page of segments, ordered by key.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SegmentPage)]
pub struct SegmentPageSchema {
    pub items: Vec<SegmentRecordSchema>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// One entry of the change log.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Change)]
pub struct ChangeSchema {
    /// Increasing in commit order.
    pub id: u64,
    pub project: Option<String>,
    /// Set for flag configs and environments.
    pub environment: Option<String>,
    pub resource: ResourceKindSchema,
    /// The flag, segment or environment key, username or token id.
    pub key: String,
    pub action: ChangeActionSchema,
    /// `user:<name>`, `token:<id>` or `automation:<source>`.
    pub actor: String,
    /// From `X-Vexil-Reason` or the toggle's `reason`.
    pub reason: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub at: String,
    /// The object before the change; `null` on create.
    pub before: Option<serde_json::Value>,
    /// The object after the change; `null` on delete.
    pub after: Option<serde_json::Value>,
    /// The environment versions this change produced.
    pub versions: Vec<EnvironmentVersionSchema>,
}

/// What kind of object a change touched.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ResourceKind)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKindSchema {
    Project,
    Environment,
    Flag,
    FlagConfig,
    Segment,
    User,
    Token,
    KillSwitch,
    RolloutPlan,
}

/// What a change did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChangeAction)]
#[serde(rename_all = "snake_case")]
pub enum ChangeActionSchema {
    Created,
    Updated,
    Toggled,
    Archived,
    Restored,
    Deleted,
    Revoked,
}

/// Environment `environment` reached `version` with the change.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EnvironmentVersion)]
pub struct EnvironmentVersionSchema {
    pub environment: String,
    pub version: u64,
}

/// One page of the change log, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChangePage)]
pub struct ChangePageSchema {
    pub items: Vec<ChangeSchema>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[cfg(test)]
mod tests;
