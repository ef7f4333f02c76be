//! The embedded backend: one SQLite file (WAL, `busy_timeout`), native SQL,
//! migrations in `migrations/sqlite`.
//!
//! Every write runs in one `BEGIN IMMEDIATE` transaction: it takes the
//! database's write lock up front, so a version read inside the
//! transaction cannot change before it commits, and no write fails on a
//! lock upgrade. Writers of this process first queue, in order, on an
//! async gate ([`WriteTx`]): SQLite's own `busy_timeout` waits by polling
//! with growing sleeps, which under many concurrent writers let some wait
//! past the timeout and fail with "database is locked"; the gate leaves
//! `busy_timeout` only for another process on the same file. Reads that need
//! several statements to agree (snapshots, pages with totals) run in one
//! read transaction, which WAL gives a stable view.
//!
//! # Layout
//! - `codec`: how a row reads as `store::records::Columns` (timestamps as
//!   unix nanoseconds, JSON and enum names as text), the column lists.
//! - `rows`: finding one row by key with the `NotFound` that fits, and
//!   deleting one.
//! - `log`: appending to the change log with its environment versions (and
//!   committing the write); reading it.
//! - `projects`: projects, environments, the default project.
//! - `flags`: flags and their per-environment configs.
//! - `segments`: segments and snapshots.
//! - `accounts`: users, tokens, named secrets.
//! - `kill_switches`: kill switches and their transitions, health events.
//! - `rollout_plans`: rollout plans and their moves (conditional on the
//!   plan's version).
//! - `usage`: evaluation counts and last-evaluated times.

mod accounts;
mod codec;
mod flags;
mod kill_switches;
mod log;
mod projects;
mod rollout_plans;
mod rows;
mod segments;
mod usage;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Sqlite, SqlitePool, Transaction};
use time::OffsetDateTime;
use tokio::sync::{Mutex, OwnedMutexGuard};
use vexil_proto::{Environment, Flag, FlagConfig, Project, Segment, Snapshot};

use super::configs::ConfigWrite;
use super::{
    Change, ChangeFilter, EnvironmentRecord, FlagFilter, FlagRecord, LastEvaluated, Paged,
    ProjectRecord, SegmentRecord, Store, StoreResult, TokenFilter, TokenRecord, UsageBucket,
    UsageIncrement, UserRecord, WriteMeta,
};
use super::{HealthEvent, HealthEventFilter, PlanPut, PlanTransition, SwitchTransition};
use crate::killswitch::{KillSwitch, KillSwitchRecord};
use crate::rollout::RolloutPlanRecord;

/// How long a writer waits for another's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections per file: readers run in parallel under WAL; writers queue.
const MAX_CONNECTIONS: u32 = 8;

/// How long a writer waits for its turn at the gate before the write
/// fails (a write stuck this long means the database is unusable).
const GATE_TIMEOUT: Duration = Duration::from_secs(60);

/// A write transaction (`BEGIN IMMEDIATE`, see [`SqliteStore::begin_write`])
/// holding this process's write gate until it commits or is dropped. It
/// derefs to the connection, as `sqlx::Transaction` does.
struct WriteTx {
    tx: Transaction<'static, Sqlite>,
    _turn: OwnedMutexGuard<()>,
}

impl WriteTx {
    async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// The SQLite store. Cloning is cheap and shares the connection pool.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// One writer at a time in this process, served in arrival order.
    write_gate: Arc<Mutex<()>>,
}

impl SqliteStore {
    /// Opens (creating it and its directory if missing) the database file,
    /// migrates it, and creates the `default` project on first open.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::open_file(options).await
    }

    /// Opens a `sqlite://path` URL (created if missing), or `sqlite::memory:`
    /// for a private in-memory database (one connection, gone when dropped).
    pub async fn open_url(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Self::connect(options, true).await;
        }
        Self::open_file(options).await
    }

    /// Creates the file's directory if missing (the data directory of a
    /// first start), then connects.
    async fn open_file(options: SqliteConnectOptions) -> StoreResult<Self> {
        let dir = options.get_filename().parent();
        if let Some(dir) = dir.filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
        }
        Self::connect(options, false).await
    }

    /// An in-memory database lives as long as its one connection: the pool
    /// keeps exactly that one, forever. A file gets WAL and several.
    async fn connect(options: SqliteConnectOptions, memory: bool) -> StoreResult<Self> {
        let options = options.busy_timeout(BUSY_TIMEOUT).foreign_keys(true);
        let pool = if memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?
        } else {
            SqlitePoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .connect_with(options.journal_mode(SqliteJournalMode::Wal))
                .await?
        };
        sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
        let store = SqliteStore {
            pool,
            write_gate: Arc::new(Mutex::new(())),
        };
        store.bootstrap(OffsetDateTime::now_utc()).await?;
        Ok(store)
    }

    /// Starts a write: waits for this process's earlier writers (in
    /// order), then `BEGIN IMMEDIATE` takes the database's write lock,
    /// waiting up to `busy_timeout` for another process's writer.
    async fn begin_write(&self) -> StoreResult<WriteTx> {
        let turn = tokio::time::timeout(GATE_TIMEOUT, Arc::clone(&self.write_gate).lock_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx { tx, _turn: turn })
    }

    /// Closes every connection (tests reopen the file afterwards).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn pool_status(&self) -> crate::store::PoolStatus {
        crate::store::PoolStatus {
            connections: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn secret(
        &self,
        name: &str,
        generate: &(dyn Fn() -> String + Send + Sync),
    ) -> StoreResult<String> {
        self.secret_impl(name, generate).await
    }

    async fn list_projects(&self) -> StoreResult<Vec<ProjectRecord>> {
        self.list_projects_impl().await
    }
    async fn get_project(&self, key: &str) -> StoreResult<ProjectRecord> {
        self.get_project_impl(key).await
    }
    async fn create_project(
        &self,
        project: &Project,
        environments: &[Environment],
        meta: &WriteMeta,
    ) -> StoreResult<ProjectRecord> {
        self.create_project_impl(project, environments, meta).await
    }
    async fn update_project(
        &self,
        project: &Project,
        meta: &WriteMeta,
    ) -> StoreResult<ProjectRecord> {
        self.update_project_impl(project, meta).await
    }
    async fn delete_project(&self, key: &str, meta: &WriteMeta) -> StoreResult<()> {
        self.delete_project_impl(key, meta).await
    }

    async fn list_environments(&self, project: &str) -> StoreResult<Vec<EnvironmentRecord>> {
        self.list_environments_impl(project).await
    }
    async fn get_environment(&self, project: &str, key: &str) -> StoreResult<EnvironmentRecord> {
        self.get_environment_impl(project, key).await
    }
    async fn create_environment(
        &self,
        project: &str,
        environment: &Environment,
        meta: &WriteMeta,
    ) -> StoreResult<EnvironmentRecord> {
        self.create_environment_impl(project, environment, meta)
            .await
    }
    async fn update_environment(
        &self,
        project: &str,
        environment: &Environment,
        meta: &WriteMeta,
    ) -> StoreResult<EnvironmentRecord> {
        self.update_environment_impl(project, environment, meta)
            .await
    }
    async fn delete_environment(
        &self,
        project: &str,
        key: &str,
        meta: &WriteMeta,
    ) -> StoreResult<Vec<String>> {
        self.delete_environment_impl(project, key, meta).await
    }
    async fn environment_versions(&self) -> StoreResult<Vec<(String, String, u64)>> {
        self.environment_versions_impl().await
    }

    async fn list_flags(
        &self,
        project: &str,
        filter: &FlagFilter,
    ) -> StoreResult<Paged<FlagRecord>> {
        self.list_flags_impl(project, filter).await
    }
    async fn get_flag(&self, project: &str, key: &str) -> StoreResult<FlagRecord> {
        self.get_flag_impl(project, key).await
    }
    async fn create_flag(
        &self,
        project: &str,
        flag: &Flag,
        configs: &[(String, FlagConfig)],
        meta: &WriteMeta,
    ) -> StoreResult<FlagRecord> {
        self.create_flag_impl(project, flag, configs, meta).await
    }
    async fn update_flag(
        &self,
        project: &str,
        flag: &Flag,
        meta: &WriteMeta,
    ) -> StoreResult<FlagRecord> {
        self.update_flag_impl(project, flag, meta).await
    }
    async fn set_flag_archived(
        &self,
        project: &str,
        key: &str,
        archived: bool,
        meta: &WriteMeta,
    ) -> StoreResult<FlagRecord> {
        self.set_flag_archived_impl(project, key, archived, meta)
            .await
    }
    async fn delete_flag(&self, project: &str, key: &str, meta: &WriteMeta) -> StoreResult<()> {
        self.delete_flag_impl(project, key, meta).await
    }

    async fn get_flag_config(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
    ) -> StoreResult<FlagConfig> {
        self.get_flag_config_impl(project, flag, environment).await
    }
    async fn list_flag_configs(
        &self,
        project: &str,
        flag: &str,
    ) -> StoreResult<Vec<(String, FlagConfig)>> {
        self.list_flag_configs_impl(project, flag).await
    }
    async fn put_flag_config(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
        config: &FlagConfig,
        meta: &WriteMeta,
    ) -> StoreResult<FlagConfig> {
        self.write_flag_config(project, flag, environment, ConfigWrite::Put(config), meta)
            .await
    }
    async fn set_flag_enabled(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
        enabled: bool,
        meta: &WriteMeta,
    ) -> StoreResult<FlagConfig> {
        let write = ConfigWrite::Enabled(enabled);
        self.write_flag_config(project, flag, environment, write, meta)
            .await
    }

    async fn list_segments(&self, project: &str) -> StoreResult<Vec<SegmentRecord>> {
        self.list_segments_impl(project).await
    }
    async fn get_segment(&self, project: &str, key: &str) -> StoreResult<SegmentRecord> {
        self.get_segment_impl(project, key).await
    }
    async fn create_segment(
        &self,
        project: &str,
        segment: &Segment,
        meta: &WriteMeta,
    ) -> StoreResult<SegmentRecord> {
        self.create_segment_impl(project, segment, meta).await
    }
    async fn update_segment(
        &self,
        project: &str,
        segment: &Segment,
        meta: &WriteMeta,
    ) -> StoreResult<SegmentRecord> {
        self.update_segment_impl(project, segment, meta).await
    }
    async fn delete_segment(&self, project: &str, key: &str, meta: &WriteMeta) -> StoreResult<()> {
        self.delete_segment_impl(project, key, meta).await
    }

    async fn snapshot(&self, project: &str, environment: &str) -> StoreResult<Snapshot> {
        self.snapshot_impl(project, environment).await
    }
    async fn list_changes(
        &self,
        project: Option<&str>,
        filter: &ChangeFilter,
    ) -> StoreResult<Paged<Change>> {
        self.list_changes_impl(project, filter).await
    }
    async fn changes_since(
        &self,
        project: &str,
        environment: &str,
        after_version: u64,
    ) -> StoreResult<Vec<(u64, Change)>> {
        self.changes_since_impl(project, environment, after_version)
            .await
    }

    async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        self.list_users_impl().await
    }
    async fn get_user(&self, username: &str) -> StoreResult<UserRecord> {
        self.get_user_impl(username).await
    }
    async fn count_users(&self) -> StoreResult<u64> {
        self.count_users_impl().await
    }
    async fn create_user(&self, user: &UserRecord, meta: &WriteMeta) -> StoreResult<UserRecord> {
        self.create_user_impl(user, meta).await
    }
    async fn update_user(&self, user: &UserRecord, meta: &WriteMeta) -> StoreResult<UserRecord> {
        self.update_user_impl(user, meta).await
    }
    async fn delete_user(&self, username: &str, meta: &WriteMeta) -> StoreResult<()> {
        self.delete_user_impl(username, meta).await
    }

    async fn create_token(
        &self,
        token: &TokenRecord,
        meta: &WriteMeta,
    ) -> StoreResult<TokenRecord> {
        self.create_token_impl(token, meta).await
    }
    async fn get_token(&self, id: &str) -> StoreResult<TokenRecord> {
        self.get_token_impl(id).await
    }
    async fn list_tokens(&self, filter: &TokenFilter) -> StoreResult<Vec<TokenRecord>> {
        self.list_tokens_impl(filter).await
    }
    async fn revoke_token(&self, id: &str, meta: &WriteMeta) -> StoreResult<TokenRecord> {
        self.revoke_token_impl(id, meta).await
    }
    async fn touch_token(&self, id: &str, at: OffsetDateTime) -> StoreResult<()> {
        self.touch_token_impl(id, at).await
    }

    async fn record_usage(&self, increments: &[UsageIncrement]) -> StoreResult<u64> {
        self.record_usage_impl(increments).await
    }
    async fn flag_usage(
        &self,
        project: &str,
        flag: &str,
        environment: Option<&str>,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<UsageBucket>> {
        self.flag_usage_impl(project, flag, environment, from, to)
            .await
    }
    async fn last_evaluated(
        &self,
        project: &str,
        flags: &[String],
    ) -> StoreResult<Vec<LastEvaluated>> {
        self.last_evaluated_impl(project, flags).await
    }

    async fn list_kill_switches(
        &self,
        project: Option<&str>,
    ) -> StoreResult<Vec<KillSwitchRecord>> {
        self.list_kill_switches_impl(project).await
    }

    async fn get_kill_switch(&self, project: &str, id: &str) -> StoreResult<KillSwitchRecord> {
        self.get_kill_switch_impl(project, id).await
    }

    async fn create_kill_switch(
        &self,
        project: &str,
        id: &str,
        spec: &KillSwitch,
        meta: &WriteMeta,
    ) -> StoreResult<KillSwitchRecord> {
        self.create_kill_switch_impl(project, id, spec, meta).await
    }

    async fn update_kill_switch(
        &self,
        project: &str,
        id: &str,
        spec: &KillSwitch,
        meta: &WriteMeta,
    ) -> StoreResult<KillSwitchRecord> {
        self.update_kill_switch_impl(project, id, spec, meta).await
    }

    async fn delete_kill_switch(
        &self,
        project: &str,
        id: &str,
        meta: &WriteMeta,
    ) -> StoreResult<()> {
        self.delete_kill_switch_impl(project, id, meta).await
    }

    async fn transition_kill_switch(
        &self,
        transition: &SwitchTransition<'_>,
        meta: &WriteMeta,
    ) -> StoreResult<KillSwitchRecord> {
        self.transition_kill_switch_impl(transition, meta).await
    }

    async fn list_rollout_plans(
        &self,
        project: Option<&str>,
    ) -> StoreResult<Vec<RolloutPlanRecord>> {
        self.list_rollout_plans_impl(project).await
    }

    async fn get_rollout_plan(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
    ) -> StoreResult<RolloutPlanRecord> {
        self.get_rollout_plan_impl(project, flag, environment).await
    }

    async fn put_rollout_plan(
        &self,
        put: &PlanPut<'_>,
        meta: &WriteMeta,
    ) -> StoreResult<(RolloutPlanRecord, bool)> {
        self.put_rollout_plan_impl(put, meta).await
    }

    async fn transition_rollout_plan(
        &self,
        transition: &PlanTransition<'_>,
        meta: &WriteMeta,
    ) -> StoreResult<RolloutPlanRecord> {
        self.transition_rollout_plan_impl(transition, meta).await
    }

    async fn delete_rollout_plan(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
        meta: &WriteMeta,
    ) -> StoreResult<()> {
        self.delete_rollout_plan_impl(project, flag, environment, meta)
            .await
    }

    async fn record_health_event(&self, event: &HealthEvent) -> StoreResult<bool> {
        self.record_health_event_impl(event).await
    }

    async fn list_health_events(
        &self,
        filter: &HealthEventFilter,
    ) -> StoreResult<Vec<HealthEvent>> {
        self.list_health_events_impl(filter).await
    }
}
