//! The PostgreSQL backend: the production store, shared by any number of
//! replicas.
//!
//! Native SQL through runtime-checked `sqlx::query` + `bind`. Every write
//! is one READ COMMITTED transaction that takes its row locks in one order
//! (project row, then environment rows in creation order, then the
//! object's rows), so concurrent writers serialize instead of deadlocking,
//! then checks the writer's `If-Match`, applies, bumps environment versions
//! and appends to the change log (see `write`). Snapshots and paged lists
//! read in one REPEATABLE READ transaction.
//!
//! # Layout
//! - `rows`: how a row reads as `store::records::Columns` (native
//!   `TIMESTAMPTZ`, `BIGINT`, `JSONB`); `store::records` makes the records.
//! - `write`: what every write shares: locks, version bumps, the change-log
//!   append and commit (the `If-Match` check and refusals are
//!   `store::checks`); finding a row by key with the `NotFound` that fits;
//!   the REPEATABLE READ transaction of reads whose statements must agree.
//! - `projects`: projects and environments.
//! - `flags`: flag definitions.
//! - `configs`: flag configs, one per flag and environment.
//! - `segments`: segments.
//! - `log`: snapshots, the change log, environment versions.
//! - `accounts`: users, tokens and named secrets.
//! - `kill_switches`: kill switches and their transitions, health events.
//! - `rollout_plans`: rollout plans and their moves (conditional on the
//!   plan's version).
//! - `usage`: evaluation counts and last-evaluated times.

mod accounts;
mod configs;
mod flags;
mod kill_switches;
mod log;
mod projects;
mod rollout_plans;
mod rows;
mod segments;
mod usage;
mod write;

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};
use time::OffsetDateTime;
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

/// The migrations of `migrations/postgres`, embedded in the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Connections per replica; writers to one environment queue on its row
/// lock, not on the pool.
const MAX_CONNECTIONS: u32 = 16;

/// A pool of connections to one PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://…`) and brings the schema up to date.
    ///
    /// Safe when several replicas start at once: the migrations run on a
    /// dedicated connection under sqlx's advisory lock, so one replica
    /// migrates while the others wait, and the lock goes away with that
    /// connection even when a migration fails. The `default` project is
    /// created on the first start of any replica (see `projects::bootstrap`).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)?;
        let mut conn = options.connect().await?;
        // `run_direct`, not `run`: `run`'s `Acquire` bound makes this future
        // not `Send`, and replicas start stores inside spawned tasks.
        let migrated = MIGRATOR.run_direct(None, &mut conn, false).await;
        conn.close().await?;
        migrated?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        projects::bootstrap(&pool, OffsetDateTime::now_utc()).await?;
        Ok(PostgresStore { pool })
    }

    /// The pool, for tests and tools that need raw access.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PostgresStore {
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
        accounts::secret(&self.pool, name, generate).await
    }

    async fn list_projects(&self) -> StoreResult<Vec<ProjectRecord>> {
        projects::list(&self.pool).await
    }

    async fn get_project(&self, key: &str) -> StoreResult<ProjectRecord> {
        projects::get(&self.pool, key).await
    }

    async fn create_project(
        &self,
        project: &Project,
        environments: &[Environment],
        meta: &WriteMeta,
    ) -> StoreResult<ProjectRecord> {
        projects::create(&self.pool, project, environments, meta).await
    }

    async fn update_project(
        &self,
        project: &Project,
        meta: &WriteMeta,
    ) -> StoreResult<ProjectRecord> {
        projects::update(&self.pool, project, meta).await
    }

    async fn delete_project(&self, key: &str, meta: &WriteMeta) -> StoreResult<()> {
        projects::delete(&self.pool, key, meta).await
    }

    async fn list_environments(&self, project: &str) -> StoreResult<Vec<EnvironmentRecord>> {
        projects::list_environments(&self.pool, project).await
    }

    async fn get_environment(&self, project: &str, key: &str) -> StoreResult<EnvironmentRecord> {
        projects::get_environment(&self.pool, project, key).await
    }

    async fn create_environment(
        &self,
        project: &str,
        environment: &Environment,
        meta: &WriteMeta,
    ) -> StoreResult<EnvironmentRecord> {
        projects::create_environment(&self.pool, project, environment, meta).await
    }

    async fn update_environment(
        &self,
        project: &str,
        environment: &Environment,
        meta: &WriteMeta,
    ) -> StoreResult<EnvironmentRecord> {
        projects::update_environment(&self.pool, project, environment, meta).await
    }

    async fn delete_environment(
        &self,
        project: &str,
        key: &str,
        meta: &WriteMeta,
    ) -> StoreResult<Vec<String>> {
        projects::delete_environment(&self.pool, project, key, meta).await
    }

    async fn environment_versions(&self) -> StoreResult<Vec<(String, String, u64)>> {
        log::environment_versions(&self.pool).await
    }

    async fn list_flags(
        &self,
        project: &str,
        filter: &FlagFilter,
    ) -> StoreResult<Paged<FlagRecord>> {
        flags::list(&self.pool, project, filter).await
    }

    async fn get_flag(&self, project: &str, key: &str) -> StoreResult<FlagRecord> {
        flags::get(&self.pool, project, key).await
    }

    async fn create_flag(
        &self,
        project: &str,
        flag: &Flag,
        configs: &[(String, FlagConfig)],
        meta: &WriteMeta,
    ) -> StoreResult<FlagRecord> {
        flags::create(&self.pool, project, flag, configs, meta).await
    }

    async fn update_flag(
        &self,
        project: &str,
        flag: &Flag,
        meta: &WriteMeta,
    ) -> StoreResult<FlagRecord> {
        flags::update(&self.pool, project, flag, meta).await
    }

    async fn set_flag_archived(
        &self,
        project: &str,
        key: &str,
        archived: bool,
        meta: &WriteMeta,
    ) -> StoreResult<FlagRecord> {
        flags::set_archived(&self.pool, project, key, archived, meta).await
    }

    async fn delete_flag(&self, project: &str, key: &str, meta: &WriteMeta) -> StoreResult<()> {
        flags::delete(&self.pool, project, key, meta).await
    }

    async fn get_flag_config(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
    ) -> StoreResult<FlagConfig> {
        configs::get(&self.pool, project, flag, environment).await
    }

    async fn list_flag_configs(
        &self,
        project: &str,
        flag: &str,
    ) -> StoreResult<Vec<(String, FlagConfig)>> {
        configs::list(&self.pool, project, flag).await
    }

    async fn put_flag_config(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
        config: &FlagConfig,
        meta: &WriteMeta,
    ) -> StoreResult<FlagConfig> {
        let edit = ConfigWrite::Put(config);
        configs::write_config(&self.pool, project, flag, environment, edit, meta).await
    }

    async fn set_flag_enabled(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
        enabled: bool,
        meta: &WriteMeta,
    ) -> StoreResult<FlagConfig> {
        let edit = ConfigWrite::Enabled(enabled);
        configs::write_config(&self.pool, project, flag, environment, edit, meta).await
    }

    async fn list_segments(&self, project: &str) -> StoreResult<Vec<SegmentRecord>> {
        segments::list(&self.pool, project).await
    }

    async fn get_segment(&self, project: &str, key: &str) -> StoreResult<SegmentRecord> {
        segments::get(&self.pool, project, key).await
    }

    async fn create_segment(
        &self,
        project: &str,
        segment: &Segment,
        meta: &WriteMeta,
    ) -> StoreResult<SegmentRecord> {
        segments::create(&self.pool, project, segment, meta).await
    }

    async fn update_segment(
        &self,
        project: &str,
        segment: &Segment,
        meta: &WriteMeta,
    ) -> StoreResult<SegmentRecord> {
        segments::update(&self.pool, project, segment, meta).await
    }

    async fn delete_segment(&self, project: &str, key: &str, meta: &WriteMeta) -> StoreResult<()> {
        segments::delete(&self.pool, project, key, meta).await
    }

    async fn snapshot(&self, project: &str, environment: &str) -> StoreResult<Snapshot> {
        log::snapshot(&self.pool, project, environment).await
    }

    async fn list_changes(
        &self,
        project: Option<&str>,
        filter: &ChangeFilter,
    ) -> StoreResult<Paged<Change>> {
        log::list_changes(&self.pool, project, filter).await
    }

    async fn changes_since(
        &self,
        project: &str,
        environment: &str,
        after_version: u64,
    ) -> StoreResult<Vec<(u64, Change)>> {
        log::changes_since(&self.pool, project, environment, after_version).await
    }

    async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        accounts::list_users(&self.pool).await
    }

    async fn get_user(&self, username: &str) -> StoreResult<UserRecord> {
        accounts::get_user(&self.pool, username).await
    }

    async fn count_users(&self) -> StoreResult<u64> {
        accounts::count_users(&self.pool).await
    }

    async fn create_user(&self, user: &UserRecord, meta: &WriteMeta) -> StoreResult<UserRecord> {
        accounts::create_user(&self.pool, user, meta).await
    }

    async fn update_user(&self, user: &UserRecord, meta: &WriteMeta) -> StoreResult<UserRecord> {
        accounts::update_user(&self.pool, user, meta).await
    }

    async fn delete_user(&self, username: &str, meta: &WriteMeta) -> StoreResult<()> {
        accounts::delete_user(&self.pool, username, meta).await
    }

    async fn create_token(
        &self,
        token: &TokenRecord,
        meta: &WriteMeta,
    ) -> StoreResult<TokenRecord> {
        accounts::create_token(&self.pool, token, meta).await
    }

    async fn get_token(&self, id: &str) -> StoreResult<TokenRecord> {
        accounts::get_token(&self.pool, id).await
    }

    async fn list_tokens(&self, filter: &TokenFilter) -> StoreResult<Vec<TokenRecord>> {
        accounts::list_tokens(&self.pool, filter).await
    }

    async fn revoke_token(&self, id: &str, meta: &WriteMeta) -> StoreResult<TokenRecord> {
        accounts::revoke_token(&self.pool, id, meta).await
    }

    async fn touch_token(&self, id: &str, at: OffsetDateTime) -> StoreResult<()> {
        accounts::touch_token(&self.pool, id, at).await
    }

    async fn record_usage(&self, increments: &[UsageIncrement]) -> StoreResult<u64> {
        usage::record(&self.pool, increments).await
    }

    async fn flag_usage(
        &self,
        project: &str,
        flag: &str,
        environment: Option<&str>,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<UsageBucket>> {
        usage::flag_usage(&self.pool, project, flag, environment, from, to).await
    }

    async fn last_evaluated(
        &self,
        project: &str,
        flags: &[String],
    ) -> StoreResult<Vec<LastEvaluated>> {
        usage::last_evaluated(&self.pool, project, flags).await
    }

    async fn list_kill_switches(
        &self,
        project: Option<&str>,
    ) -> StoreResult<Vec<KillSwitchRecord>> {
        kill_switches::list(&self.pool, project).await
    }

    async fn get_kill_switch(&self, project: &str, id: &str) -> StoreResult<KillSwitchRecord> {
        kill_switches::get(&self.pool, project, id).await
    }

    async fn create_kill_switch(
        &self,
        project: &str,
        id: &str,
        spec: &KillSwitch,
        meta: &WriteMeta,
    ) -> StoreResult<KillSwitchRecord> {
        kill_switches::create(&self.pool, project, id, spec, meta).await
    }

    async fn update_kill_switch(
        &self,
        project: &str,
        id: &str,
        spec: &KillSwitch,
        meta: &WriteMeta,
    ) -> StoreResult<KillSwitchRecord> {
        kill_switches::update(&self.pool, project, id, spec, meta).await
    }

    async fn delete_kill_switch(
        &self,
        project: &str,
        id: &str,
        meta: &WriteMeta,
    ) -> StoreResult<()> {
        kill_switches::delete(&self.pool, project, id, meta).await
    }

    async fn transition_kill_switch(
        &self,
        transition: &SwitchTransition<'_>,
        meta: &WriteMeta,
    ) -> StoreResult<KillSwitchRecord> {
        kill_switches::transition(&self.pool, transition, meta).await
    }

    async fn list_rollout_plans(
        &self,
        project: Option<&str>,
    ) -> StoreResult<Vec<RolloutPlanRecord>> {
        rollout_plans::list(&self.pool, project).await
    }

    async fn get_rollout_plan(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
    ) -> StoreResult<RolloutPlanRecord> {
        rollout_plans::get(&self.pool, project, flag, environment).await
    }

    async fn put_rollout_plan(
        &self,
        put: &PlanPut<'_>,
        meta: &WriteMeta,
    ) -> StoreResult<(RolloutPlanRecord, bool)> {
        rollout_plans::put(&self.pool, put, meta).await
    }

    async fn transition_rollout_plan(
        &self,
        transition: &PlanTransition<'_>,
        meta: &WriteMeta,
    ) -> StoreResult<RolloutPlanRecord> {
        rollout_plans::transition(&self.pool, transition, meta).await
    }

    async fn delete_rollout_plan(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
        meta: &WriteMeta,
    ) -> StoreResult<()> {
        rollout_plans::delete(&self.pool, project, flag, environment, meta).await
    }

    async fn record_health_event(&self, event: &HealthEvent) -> StoreResult<bool> {
        kill_switches::record_event(&self.pool, event).await
    }

    async fn list_health_events(
        &self,
        filter: &HealthEventFilter,
    ) -> StoreResult<Vec<HealthEvent>> {
        kill_switches::list_events(&self.pool, filter).await
    }
}
