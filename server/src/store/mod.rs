//! Storage: one [`Store`] trait, one module per backend with its own native
//! SQL and migrations (`migrations/sqlite`, `migrations/postgres`).
//!
//! Every write is one transaction: check the writer's `If-Match` version
//! ([`WriteMeta::expected_version`]), apply, bump the version of every
//! environment whose snapshot the change can alter, and append one
//! [`Change`] to the change log. Environment versions therefore advance by
//! exactly one per committed change, with no gap and no duplicate, which
//! the SDK stream relies on.
//!
//! Which environments a write bumps:
//! - a flag's definition (create, update, archive, restore, delete) or a
//!   segment: every environment of its project;
//! - a flag's config in one environment (put, toggle): that environment;
//! - creating an environment: the new one (to version 1), and updating one:
//!   itself;
//! - projects, users and tokens: none;
//! - kill switches (create, update, delete, and transitions that leave the
//!   flag alone): none; a transition that writes the flag's config: that
//!   config's environment.
//! - rollout plans: like kill switches; a plan's `PUT`, and each move that
//!   changes its exposure, write the flag's config: that environment.
//!
//! # Layout
//! - `model`: the records, filters and change-log types.
//! - `codec`: backend-neutral conversions: JSON (values or text), enum
//!   names, signed versions; what does not read back is
//!   [`StoreError::Corrupt`].
//! - `records`: rows into records (and pages of them), put together once
//!   for both backends from the `Columns` each backend's row type provides.
//! - `changes`: change-log entries (`NewChange`) per kind of object, with
//!   the object's JSON before and after; each backend appends them.
//! - `checks`: what writes check first, on every backend: `If-Match`, the
//!   states that refuse a write (archived flags, segments in use), and a
//!   replaced config against the environment read inside the write.
//! - `configs`: the configs a new flag starts with, and what the two
//!   config writes (replace, toggle) make of the current one.
//! - `health`: kill switches (spec and state) and the health events
//!   received (alerts, deploys), each stored once under its key.
//! - `rollout`: rollout plans (one per flag and environment), and the
//!   writes that move them with their exposure in the flag's config.
//! - `bootstrap`: the `default` project a fresh install starts with.
//! - `usage`: evaluation counts per flag, environment, variant and hour,
//!   and last-evaluated times (telemetry: recorded without a change).
//! - `sqlite`: the embedded default (a file in the data directory, WAL).
//! - `postgres`: the production backend; any number of replicas share it.
//! - `fake` (tests only): an in-memory store of users, tokens, secrets and
//!   snapshots for unit tests on tokio's paused clock.
//!
//! The backends share everything but their SQL, which each writes natively.

mod bootstrap;
mod changes;
mod checks;
mod codec;
mod configs;
#[cfg(test)]
pub(crate) mod fake;
mod health;
mod model;
pub mod postgres;
mod records;
mod rollout;
pub mod sqlite;
mod usage;

use async_trait::async_trait;
use time::OffsetDateTime;
use vexil_proto::{Environment, Flag, FlagConfig, Problem, Project, Segment, Snapshot};

use crate::killswitch::{KillSwitch, KillSwitchRecord};
use crate::rollout::RolloutPlanRecord;

pub use health::{HealthEvent, HealthEventFilter, HealthEventKind, SwitchTransition};
pub use model::*;
pub use rollout::{PlanPut, PlanTransition};
pub use usage::{LastEvaluated, UsageBucket, UsageIncrement, hour_of};

/// Why a store operation failed. The API maps each to a status code.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object (or its project, flag or environment) does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// An object with this key already exists.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// `If-Match` named a version that is no longer current.
    #[error("version conflict: expected {expected}, current {current}")]
    Conflict { expected: u64, current: u64 },
    /// The write is not allowed in the object's current state (deleting a
    /// flag that is not archived, a segment still used by flags, writing to
    /// an archived flag, ...). The message says which.
    #[error("{0}")]
    Refused(String),
    /// The write would leave the data inconsistent: a config naming a
    /// variant, segment or prerequisite flag that does not exist (checked
    /// inside the write's transaction, so no concurrent write can slip in
    /// between check and commit). Each problem has a JSON pointer into the
    /// written object.
    #[error("invalid: {}", .0.iter().map(|p| format!("{}: {}", p.path, p.problem)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
    /// The database failed; the cause is logged, never shown to clients.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed at start-up.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored JSON column did not parse: the database was edited by hand
    /// or by a newer version.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How busy the database connection pool is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Open connections, idle or in use.
    pub connections: u32,
    /// Open connections nobody is using.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

/// Everything the server stores. Implemented by [`sqlite::SqliteStore`] and
/// [`postgres::PostgresStore`]; one scenario suite
/// (`server/tests/store_scenarios/`) runs against both.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Whether the database answers (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;

    /// The connection pool right now, for `/metrics`.
    fn pool_status(&self) -> PoolStatus;

    /// A named secret shared by every replica (the JWT signing key): the
    /// stored value, or `generate()`'s, stored first if none was.
    async fn secret(
        &self,
        name: &str,
        generate: &(dyn Fn() -> String + Send + Sync),
    ) -> StoreResult<String>;

    // ---- projects ----
    async fn list_projects(&self) -> StoreResult<Vec<ProjectRecord>>;
    async fn get_project(&self, key: &str) -> StoreResult<ProjectRecord>;
    /// Creates the project and its environments (each at version 1).
    async fn create_project(
        &self,
        project: &Project,
        environments: &[Environment],
        meta: &WriteMeta,
    ) -> StoreResult<ProjectRecord>;
    async fn update_project(
        &self,
        project: &Project,
        meta: &WriteMeta,
    ) -> StoreResult<ProjectRecord>;
    /// Deletes the project with everything in it (its change log stays).
    async fn delete_project(&self, key: &str, meta: &WriteMeta) -> StoreResult<()>;

    // ---- environments ----
    async fn list_environments(&self, project: &str) -> StoreResult<Vec<EnvironmentRecord>>;
    async fn get_environment(&self, project: &str, key: &str) -> StoreResult<EnvironmentRecord>;
    /// Creates the environment at version 1, with [`default_config`] for
    /// every flag of the project.
    async fn create_environment(
        &self,
        project: &str,
        environment: &Environment,
        meta: &WriteMeta,
    ) -> StoreResult<EnvironmentRecord>;
    /// Renames it or changes `production`; `environment.version` is ignored.
    async fn update_environment(
        &self,
        project: &str,
        environment: &Environment,
        meta: &WriteMeta,
    ) -> StoreResult<EnvironmentRecord>;
    /// Deletes the environment with its configs and, in the same
    /// transaction, revokes its live SDK keys (each revocation in the
    /// change log, its reason naming the environment), so no key outlives
    /// its environment or reads a new one of the same name. Returns the
    /// ids of the keys it revoked, for the caller's auth cache.
    async fn delete_environment(
        &self,
        project: &str,
        key: &str,
        meta: &WriteMeta,
    ) -> StoreResult<Vec<String>>;
    /// Every environment's current version, for replicas polling for changes.
    async fn environment_versions(&self) -> StoreResult<Vec<(String, String, u64)>>;

    // ---- flags ----
    async fn list_flags(
        &self,
        project: &str,
        filter: &FlagFilter,
    ) -> StoreResult<Paged<FlagRecord>>;
    async fn get_flag(&self, project: &str, key: &str) -> StoreResult<FlagRecord>;
    /// Creates the flag at version 1 with `configs[env]` in each environment
    /// named there and [`default_config`] in the others.
    async fn create_flag(
        &self,
        project: &str,
        flag: &Flag,
        configs: &[(String, FlagConfig)],
        meta: &WriteMeta,
    ) -> StoreResult<FlagRecord>;
    /// Replaces the definition (the key cannot change). Refused on an
    /// archived flag.
    async fn update_flag(
        &self,
        project: &str,
        flag: &Flag,
        meta: &WriteMeta,
    ) -> StoreResult<FlagRecord>;
    /// Archives or restores.
    async fn set_flag_archived(
        &self,
        project: &str,
        key: &str,
        archived: bool,
        meta: &WriteMeta,
    ) -> StoreResult<FlagRecord>;
    /// Deletes an archived flag with its configs. Refused when not archived.
    async fn delete_flag(&self, project: &str, key: &str, meta: &WriteMeta) -> StoreResult<()>;

    // ---- flag configs ----
    async fn get_flag_config(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
    ) -> StoreResult<FlagConfig>;
    /// The flag's config in every environment of its project.
    async fn list_flag_configs(
        &self,
        project: &str,
        flag: &str,
    ) -> StoreResult<Vec<(String, FlagConfig)>>;
    /// Replaces the config; its version becomes the old one plus one
    /// (`config.version` is ignored). Refused on an archived flag; a config
    /// that does not validate against the environment as the write's own
    /// transaction reads it (a variant the flag lacks, a missing segment, a
    /// missing or archived prerequisite, a cycle) is [`StoreError::Invalid`].
    async fn put_flag_config(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
        config: &FlagConfig,
        meta: &WriteMeta,
    ) -> StoreResult<FlagConfig>;
    /// Sets `enabled` only (the one-click switch and kill switches), as one
    /// atomic write: no read-modify-write race with other editors. A write
    /// that changes nothing still commits (it is in the audit trail).
    async fn set_flag_enabled(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
        enabled: bool,
        meta: &WriteMeta,
    ) -> StoreResult<FlagConfig>;

    // ---- segments ----
    async fn list_segments(&self, project: &str) -> StoreResult<Vec<SegmentRecord>>;
    async fn get_segment(&self, project: &str, key: &str) -> StoreResult<SegmentRecord>;
    async fn create_segment(
        &self,
        project: &str,
        segment: &Segment,
        meta: &WriteMeta,
    ) -> StoreResult<SegmentRecord>;
    async fn update_segment(
        &self,
        project: &str,
        segment: &Segment,
        meta: &WriteMeta,
    ) -> StoreResult<SegmentRecord>;
    /// Refused while a flag config of the project names the segment.
    async fn delete_segment(&self, project: &str, key: &str, meta: &WriteMeta) -> StoreResult<()>;

    // ---- snapshots and the change log ----
    /// The environment's snapshot (live flags with their configs, and the
    /// project's segments) as of one consistent version.
    async fn snapshot(&self, project: &str, environment: &str) -> StoreResult<Snapshot>;
    /// The change log, newest first, of a project (`Some`) or of accounts
    /// and tokens (`None`).
    async fn list_changes(
        &self,
        project: Option<&str>,
        filter: &ChangeFilter,
    ) -> StoreResult<Paged<Change>>;
    /// The changes that took `environment` past `after_version`, oldest
    /// first, each with the version it produced there.
    async fn changes_since(
        &self,
        project: &str,
        environment: &str,
        after_version: u64,
    ) -> StoreResult<Vec<(u64, Change)>>;

    // ---- users ----
    async fn list_users(&self) -> StoreResult<Vec<UserRecord>>;
    async fn get_user(&self, username: &str) -> StoreResult<UserRecord>;
    async fn count_users(&self) -> StoreResult<u64>;
    /// `user.id`, `version` and timestamps are set by the store.
    async fn create_user(&self, user: &UserRecord, meta: &WriteMeta) -> StoreResult<UserRecord>;
    /// Changes role, password hash or `disabled` of `user.username`.
    async fn update_user(&self, user: &UserRecord, meta: &WriteMeta) -> StoreResult<UserRecord>;
    async fn delete_user(&self, username: &str, meta: &WriteMeta) -> StoreResult<()>;

    // ---- tokens and SDK keys ----
    async fn create_token(&self, token: &TokenRecord, meta: &WriteMeta)
    -> StoreResult<TokenRecord>;
    async fn get_token(&self, id: &str) -> StoreResult<TokenRecord>;
    async fn list_tokens(&self, filter: &TokenFilter) -> StoreResult<Vec<TokenRecord>>;
    /// Marks it revoked (it stays listed, with `revoked_at`).
    async fn revoke_token(&self, id: &str, meta: &WriteMeta) -> StoreResult<TokenRecord>;
    /// Records a use; not a change (no log entry, no version).
    async fn touch_token(&self, id: &str, at: OffsetDateTime) -> StoreResult<()>;

    // ---- usage (telemetry: no change-log entry, no version) ----
    /// Adds each increment's count to its hour and moves its flag's
    /// last-evaluated time forward, each increment atomically. Increments
    /// for flags or environments that no longer exist are skipped; returns
    /// how many were stored.
    async fn record_usage(&self, increments: &[UsageIncrement]) -> StoreResult<u64>;
    /// `flag`'s hourly counts with `from <= hour < to`, in every environment
    /// or one, ordered by hour, environment and variant (`None` first).
    async fn flag_usage(
        &self,
        project: &str,
        flag: &str,
        environment: Option<&str>,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<UsageBucket>>;
    /// When each of `flags` was last evaluated, per environment (flags
    /// never evaluated anywhere have no entry), ordered by flag and
    /// environment.
    async fn last_evaluated(
        &self,
        project: &str,
        flags: &[String],
    ) -> StoreResult<Vec<LastEvaluated>>;

    // ---- kill switches (changes of the switch itself bump no version) ----
    /// Every switch of `project`, or of every project (`None`: what an
    /// incoming alert or deploy is checked against), ordered by project
    /// and creation.
    async fn list_kill_switches(&self, project: Option<&str>)
    -> StoreResult<Vec<KillSwitchRecord>>;
    async fn get_kill_switch(&self, project: &str, id: &str) -> StoreResult<KillSwitchRecord>;
    /// Stores a new, armed switch at version 1 under `id`.
    async fn create_kill_switch(
        &self,
        project: &str,
        id: &str,
        spec: &KillSwitch,
        meta: &WriteMeta,
    ) -> StoreResult<KillSwitchRecord>;
    /// Replaces the spec (its state stays); `meta.expected_version` is the
    /// switch's.
    async fn update_kill_switch(
        &self,
        project: &str,
        id: &str,
        spec: &KillSwitch,
        meta: &WriteMeta,
    ) -> StoreResult<KillSwitchRecord>;
    async fn delete_kill_switch(
        &self,
        project: &str,
        id: &str,
        meta: &WriteMeta,
    ) -> StoreResult<()>;
    /// Moves a switch to `transition.state` if it is still at
    /// `transition.switch_version` (else `Conflict`), writing the flag's
    /// config in the same transaction when one is given.
    async fn transition_kill_switch(
        &self,
        transition: &SwitchTransition<'_>,
        meta: &WriteMeta,
    ) -> StoreResult<KillSwitchRecord>;

    // ---- rollout plans (one per flag and environment) ----
    /// Every plan of `project`, or of every project (`None`: what the
    /// advancer walks), ordered by project, flag and environment.
    async fn list_rollout_plans(
        &self,
        project: Option<&str>,
    ) -> StoreResult<Vec<RolloutPlanRecord>>;
    async fn get_rollout_plan(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
    ) -> StoreResult<RolloutPlanRecord>;
    /// Creates the plan (version 1) or replaces it (starting over), with
    /// its exposure written into the flag's config as one change; whether
    /// it was created.
    async fn put_rollout_plan(
        &self,
        put: &PlanPut<'_>,
        meta: &WriteMeta,
    ) -> StoreResult<(RolloutPlanRecord, bool)>;
    /// Moves a plan to `transition.state` if it is still at
    /// `transition.plan_version` (else `Conflict`).
    async fn transition_rollout_plan(
        &self,
        transition: &PlanTransition<'_>,
        meta: &WriteMeta,
    ) -> StoreResult<RolloutPlanRecord>;
    /// Removes the plan; the flag's config stays as it is.
    async fn delete_rollout_plan(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
        meta: &WriteMeta,
    ) -> StoreResult<()>;

    // ---- health events (received, not changes) ----
    /// Stores `event` unless one with its key is stored; whether it was new.
    async fn record_health_event(&self, event: &HealthEvent) -> StoreResult<bool>;
    async fn list_health_events(&self, filter: &HealthEventFilter)
    -> StoreResult<Vec<HealthEvent>>;
}
