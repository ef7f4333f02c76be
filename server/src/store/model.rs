//! What the store reads and writes: proto's data model plus the bookkeeping
//! the server keeps around it (versions, timestamps, archive state, the
//! change log, accounts and tokens).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use vexil_proto::{Environment, Flag, FlagConfig, FlagKind, Project, Segment, Serve};

/// Who made a write, why, when, and which version of the object they saw.
/// Every write takes one; the store copies it into the change log.
#[derive(Debug, Clone)]
pub struct WriteMeta {
    /// `user:<username>`, `token:<id>` or `automation:<source>`: the change
    /// log's "who".
    pub actor: String,
    /// Why, as the writer said it (`X-Vexil-Reason` or a body field).
    pub reason: Option<String>,
    /// When, from the server's clock (injectable in tests).
    pub at: OffsetDateTime,
    /// The object's version the writer based the change on (`If-Match`);
    /// `None` writes unconditionally. A stale one is [`super::StoreError::Conflict`].
    pub expected_version: Option<u64>,
}

/// A project with its bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectRecord {
    #[serde(flatten)]
    pub project: Project,
    /// Bumped by every write to the project itself; its `If-Match`.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// An environment of a project. `environment.version` is the environment's
/// change counter: bumped by every committed change that can alter its
/// snapshot, and the `If-Match` of writes to the environment itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvironmentRecord {
    pub project: String,
    #[serde(flatten)]
    pub environment: Environment,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A flag's definition with its bookkeeping (configs per environment are
/// separate: [`FlagConfig`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlagRecord {
    #[serde(flatten)]
    pub flag: Flag,
    /// Bumped by every write to the definition; its `If-Match`.
    pub version: u64,
    /// Archived flags leave every snapshot, keep their history, can be
    /// restored, and are the only ones that can be deleted.
    pub archived: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A segment with its bookkeeping; `segment.version` is its `If-Match`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentRecord {
    #[serde(flatten)]
    pub segment: Segment,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Filters and paging of the flag list.
#[derive(Debug, Clone, Default)]
pub struct FlagFilter {
    /// Case-insensitive substring of key, name or description.
    pub query: Option<String>,
    /// Flags carrying this tag.
    pub tag: Option<String>,
    /// `Some(true)`: archived only; `Some(false)` or `None`: live only.
    pub archived: Option<bool>,
    /// Flags not evaluated in any environment at or after this time
    /// (stale-flag hunting); never-evaluated flags match.
    pub unevaluated_since: Option<OffsetDateTime>,
    pub page: Page,
}

/// Which page of a list: 1-based `page` of `per_page` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u32,
    pub per_page: u32,
}

impl Page {
    /// The effective page (at least 1), page size (at least 1) and the
    /// offset of its first row.
    pub(crate) fn window(self) -> (u32, u32, i64) {
        let number = self.page.max(1);
        let per_page = self.per_page.max(1);
        let offset = (i64::from(number) - 1) * i64::from(per_page);
        (number, per_page, offset)
    }
}

impl Default for Page {
    fn default() -> Self {
        Page {
            page: 1,
            per_page: 50,
        }
    }
}

/// One page of a list and how many items there are in all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// What kind of object a change touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
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

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Project => "project",
            ResourceKind::Environment => "environment",
            ResourceKind::Flag => "flag",
            ResourceKind::FlagConfig => "flag_config",
            ResourceKind::Segment => "segment",
            ResourceKind::User => "user",
            ResourceKind::Token => "token",
            ResourceKind::KillSwitch => "kill_switch",
            ResourceKind::RolloutPlan => "rollout_plan",
        }
    }
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    Created,
    Updated,
    Toggled,
    Archived,
    Restored,
    Deleted,
    Revoked,
}

/// One entry of the change log: the audit trail and the source of stream
/// patches. `before`/`after` are the object's JSON (as the API shows it)
/// around the change; `None` on create and delete respectively.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Increasing in commit order across the whole store.
    pub id: u64,
    /// `None` for accounts and tokens that belong to no project.
    pub project: Option<String>,
    /// Set for per-environment changes (flag configs, environments).
    pub environment: Option<String>,
    pub resource: ResourceKind,
    /// The object's key: flag key (also for a flag's config, with
    /// `environment` set), segment key, environment key, username, token id.
    pub key: String,
    pub action: ChangeAction,
    pub actor: String,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// The environment versions this change produced, one per environment
    /// whose snapshot it can alter (all of a project's environments for a
    /// flag or segment change, one for a flag config).
    pub versions: Vec<EnvironmentVersion>,
}

/// "Environment `environment` reached `version` with this change."
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvironmentVersion {
    pub environment: String,
    pub version: u64,
}

/// Filters of the change log; newest first.
#[derive(Debug, Clone, Default)]
pub struct ChangeFilter {
    /// Changes of this flag: its definition and its configs.
    pub flag: Option<String>,
    /// Changes recorded for this environment: its flag configs and the
    /// environment itself (not the project-wide flag and segment changes
    /// that also bump it; `changes_since` has those).
    pub environment: Option<String>,
    pub actor: Option<String>,
    /// At or after this instant (inclusive).
    pub since: Option<OffsetDateTime>,
    /// Strictly before this instant (exclusive), so windows tile.
    pub until: Option<OffsetDateTime>,
    pub page: Page,
}

/// A user's role. Each includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything, changes nothing.
    Viewer,
    /// Edits flags, configs and segments.
    Editor,
    /// Also manages projects, environments, users and tokens.
    Admin,
}

/// A person who logs in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRecord {
    pub id: String,
    pub username: String,
    /// An argon2 PHC string; never serialized.
    #[serde(skip)]
    pub password_hash: String,
    pub role: Role,
    /// Disabled users cannot log in; their sessions stop working.
    pub disabled: bool,
    /// Bumped by every write; the `If-Match` of user updates.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What a stored token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// The REST API, with a role, optionally limited to environments.
    Api,
    /// Posts health events only (Alertmanager, deploys).
    Integration,
    /// Reads one environment's flags: streams, snapshots, evaluation.
    Sdk,
}

/// A long-lived credential. The secret itself is a JWT whose `jti` is `id`;
/// only this record is stored, so it can be listed and revoked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenRecord {
    /// The JWT's `jti`.
    pub id: String,
    pub kind: TokenKind,
    /// Shown in lists so people know which key is which.
    pub name: String,
    /// For API tokens; `None` for integration tokens and SDK keys.
    pub role: Option<Role>,
    /// For SDK keys: the one project and environment they read.
    pub project: Option<String>,
    /// API tokens: the environments they may change (empty = all);
    /// SDK keys: exactly one.
    pub environments: Vec<String>,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// Which tokens to list.
#[derive(Debug, Clone, Default)]
pub struct TokenFilter {
    pub kind: Option<TokenKind>,
    pub project: Option<String>,
    pub environment: Option<String>,
    pub include_revoked: bool,
}

/// The config a flag gets in an environment it has never been configured
/// in: disabled, serving its off variant (`off` for booleans, else the
/// last variant, as LaunchDarkly picks the last variation) to everyone.
pub fn default_config(flag: &Flag) -> FlagConfig {
    let off = match flag.kind {
        FlagKind::Boolean if flag.variants.iter().any(|v| v.key == "off") => "off".to_string(),
        _ => flag
            .variants
            .last()
            .map(|v| v.key.clone())
            .unwrap_or_default(),
    };
    FlagConfig {
        enabled: false,
        version: 1,
        ..FlagConfig::new(off.clone(), Serve::Variant(off))
    }
}
