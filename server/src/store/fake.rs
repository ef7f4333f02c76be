//! One in-memory store for unit tests, without I/O (so tests can run on
//! tokio's paused clock: a real database's worker threads would let the
//! paused clock race past timeouts). It knows users, tokens and secrets
//! (auth's tests) and snapshots per environment (the snapshot cache's and
//! the streams' tests); every other method is unreachable in those tests.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use time::OffsetDateTime;
use vexil_proto::{Environment, Flag, FlagConfig, Project, Segment, Snapshot};

use super::*;

#[derive(Debug, Default)]
pub(crate) struct FakeStore {
    pub users: Mutex<HashMap<String, UserRecord>>,
    pub tokens: Mutex<HashMap<String, TokenRecord>>,
    pub secrets: Mutex<HashMap<String, String>>,
    /// How many times `get_token` was called.
    pub token_reads: AtomicUsize,
    pub user_reads: AtomicUsize,
    /// `touch_token` calls, in order.
    pub touches: Mutex<Vec<(String, OffsetDateTime)>>,
    snapshots: Mutex<HashMap<(String, String), Snapshot>>,
    /// How many times `snapshot` was called.
    pub reads: AtomicUsize,
    /// Makes every read fail as a database outage would.
    pub failing: AtomicBool,
}

impl FakeStore {
    pub fn add_user(&self, user: UserRecord) {
        self.users
            .lock()
            .unwrap()
            .insert(user.username.clone(), user);
    }

    pub fn add_token(&self, token: TokenRecord) {
        self.tokens.lock().unwrap().insert(token.id.clone(), token);
    }

    pub fn update_user(&self, username: &str, change: impl FnOnce(&mut UserRecord)) {
        change(self.users.lock().unwrap().get_mut(username).unwrap());
    }

    pub fn touches(&self) -> Vec<(String, OffsetDateTime)> {
        self.touches.lock().unwrap().clone()
    }

    /// Stores (or replaces) an environment's snapshot.
    pub fn put(&self, project: &str, snapshot: Snapshot) {
        self.snapshots
            .lock()
            .unwrap()
            .insert((project.into(), snapshot.environment.clone()), snapshot);
    }

    fn check(&self) -> StoreResult<()> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::Database(sqlx::Error::PoolTimedOut));
        }
        Ok(())
    }
}

#[async_trait]
impl Store for FakeStore {
    async fn ping(&self) -> StoreResult<()> {
        self.check()
    }
    fn pool_status(&self) -> crate::store::PoolStatus {
        crate::store::PoolStatus {
            connections: 0,
            idle: 0,
            max: 0,
        }
    }

    async fn secret(
        &self,
        name: &str,
        generate: &(dyn Fn() -> String + Send + Sync),
    ) -> StoreResult<String> {
        self.check()?;
        Ok(self
            .secrets
            .lock()
            .unwrap()
            .entry(name.to_string())
            .or_insert_with(generate)
            .clone())
    }

    async fn get_user(&self, username: &str) -> StoreResult<UserRecord> {
        self.user_reads.fetch_add(1, Ordering::SeqCst);
        self.check()?;
        self.users
            .lock()
            .unwrap()
            .get(username)
            .cloned()
            .ok_or_else(|| StoreError::NotFound(format!("user `{username}`")))
    }

    async fn get_token(&self, id: &str) -> StoreResult<TokenRecord> {
        self.token_reads.fetch_add(1, Ordering::SeqCst);
        self.check()?;
        self.tokens
            .lock()
            .unwrap()
            .get(id)
            .cloned()
            .ok_or_else(|| StoreError::NotFound(format!("token `{id}`")))
    }

    async fn revoke_token(&self, id: &str, meta: &WriteMeta) -> StoreResult<TokenRecord> {
        let mut tokens = self.tokens.lock().unwrap();
        let token = tokens
            .get_mut(id)
            .ok_or_else(|| StoreError::NotFound(format!("token `{id}`")))?;
        token.revoked_at = Some(meta.at);
        Ok(token.clone())
    }

    async fn touch_token(&self, id: &str, at: OffsetDateTime) -> StoreResult<()> {
        self.touches.lock().unwrap().push((id.to_string(), at));
        Ok(())
    }

    // ---- neither auth nor snapshots use these ----
    async fn list_projects(&self) -> StoreResult<Vec<ProjectRecord>> {
        unimplemented!()
    }
    async fn get_project(&self, _: &str) -> StoreResult<ProjectRecord> {
        unimplemented!()
    }
    async fn create_project(
        &self,
        _: &Project,
        _: &[Environment],
        _: &WriteMeta,
    ) -> StoreResult<ProjectRecord> {
        unimplemented!()
    }
    async fn update_project(&self, _: &Project, _: &WriteMeta) -> StoreResult<ProjectRecord> {
        unimplemented!()
    }
    async fn delete_project(&self, _: &str, _: &WriteMeta) -> StoreResult<()> {
        unimplemented!()
    }
    async fn list_environments(&self, _: &str) -> StoreResult<Vec<EnvironmentRecord>> {
        unimplemented!()
    }
    async fn get_environment(&self, _: &str, _: &str) -> StoreResult<EnvironmentRecord> {
        unimplemented!()
    }
    async fn create_environment(
        &self,
        _: &str,
        _: &Environment,
        _: &WriteMeta,
    ) -> StoreResult<EnvironmentRecord> {
        unimplemented!()
    }
    async fn update_environment(
        &self,
        _: &str,
        _: &Environment,
        _: &WriteMeta,
    ) -> StoreResult<EnvironmentRecord> {
        unimplemented!()
    }
    async fn delete_environment(
        &self,
        _: &str,
        _: &str,
        _: &WriteMeta,
    ) -> StoreResult<Vec<String>> {
        unimplemented!()
    }
    async fn environment_versions(&self) -> StoreResult<Vec<(String, String, u64)>> {
        self.check()?;
        let snapshots = self.snapshots.lock().unwrap();
        Ok(snapshots
            .iter()
            .map(|((p, e), s)| (p.clone(), e.clone(), s.version))
            .collect())
    }
    async fn list_flags(&self, _: &str, _: &FlagFilter) -> StoreResult<Paged<FlagRecord>> {
        unimplemented!()
    }
    async fn get_flag(&self, _: &str, _: &str) -> StoreResult<FlagRecord> {
        unimplemented!()
    }
    async fn create_flag(
        &self,
        _: &str,
        _: &Flag,
        _: &[(String, FlagConfig)],
        _: &WriteMeta,
    ) -> StoreResult<FlagRecord> {
        unimplemented!()
    }
    async fn update_flag(&self, _: &str, _: &Flag, _: &WriteMeta) -> StoreResult<FlagRecord> {
        unimplemented!()
    }
    async fn set_flag_archived(
        &self,
        _: &str,
        _: &str,
        _: bool,
        _: &WriteMeta,
    ) -> StoreResult<FlagRecord> {
        unimplemented!()
    }
    async fn delete_flag(&self, _: &str, _: &str, _: &WriteMeta) -> StoreResult<()> {
        unimplemented!()
    }
    async fn get_flag_config(&self, _: &str, _: &str, _: &str) -> StoreResult<FlagConfig> {
        unimplemented!()
    }
    async fn list_flag_configs(&self, _: &str, _: &str) -> StoreResult<Vec<(String, FlagConfig)>> {
        unimplemented!()
    }
    async fn put_flag_config(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: &FlagConfig,
        _: &WriteMeta,
    ) -> StoreResult<FlagConfig> {
        unimplemented!()
    }
    async fn set_flag_enabled(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: bool,
        _: &WriteMeta,
    ) -> StoreResult<FlagConfig> {
        unimplemented!()
    }
    async fn list_segments(&self, _: &str) -> StoreResult<Vec<SegmentRecord>> {
        unimplemented!()
    }
    async fn get_segment(&self, _: &str, _: &str) -> StoreResult<SegmentRecord> {
        unimplemented!()
    }
    async fn create_segment(
        &self,
        _: &str,
        _: &Segment,
        _: &WriteMeta,
    ) -> StoreResult<SegmentRecord> {
        unimplemented!()
    }
    async fn update_segment(
        &self,
        _: &str,
        _: &Segment,
        _: &WriteMeta,
    ) -> StoreResult<SegmentRecord> {
        unimplemented!()
    }
    async fn delete_segment(&self, _: &str, _: &str, _: &WriteMeta) -> StoreResult<()> {
        unimplemented!()
    }
    async fn snapshot(&self, project: &str, environment: &str) -> StoreResult<Snapshot> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        // Let concurrent callers pile up behind this load.
        tokio::task::yield_now().await;
        self.check()?;
        let key = (project.to_owned(), environment.to_owned());
        self.snapshots
            .lock()
            .unwrap()
            .get(&key)
            .cloned()
            .ok_or_else(|| StoreError::NotFound(format!("environment {environment}")))
    }
    async fn list_changes(&self, _: Option<&str>, _: &ChangeFilter) -> StoreResult<Paged<Change>> {
        unimplemented!()
    }
    async fn changes_since(&self, _: &str, _: &str, _: u64) -> StoreResult<Vec<(u64, Change)>> {
        unimplemented!()
    }
    async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        unimplemented!()
    }
    async fn count_users(&self) -> StoreResult<u64> {
        unimplemented!()
    }
    async fn create_user(&self, _: &UserRecord, _: &WriteMeta) -> StoreResult<UserRecord> {
        unimplemented!()
    }
    async fn update_user(&self, _: &UserRecord, _: &WriteMeta) -> StoreResult<UserRecord> {
        unimplemented!()
    }
    async fn delete_user(&self, _: &str, _: &WriteMeta) -> StoreResult<()> {
        unimplemented!()
    }
    async fn create_token(&self, _: &TokenRecord, _: &WriteMeta) -> StoreResult<TokenRecord> {
        unimplemented!()
    }
    async fn list_tokens(&self, _: &TokenFilter) -> StoreResult<Vec<TokenRecord>> {
        unimplemented!()
    }
    async fn record_usage(&self, _: &[UsageIncrement]) -> StoreResult<u64> {
        unimplemented!()
    }
    async fn flag_usage(
        &self,
        _: &str,
        _: &str,
        _: Option<&str>,
        _: OffsetDateTime,
        _: OffsetDateTime,
    ) -> StoreResult<Vec<UsageBucket>> {
        unimplemented!()
    }
    async fn last_evaluated(&self, _: &str, _: &[String]) -> StoreResult<Vec<LastEvaluated>> {
        unimplemented!()
    }
    async fn list_kill_switches(
        &self,
        _: Option<&str>,
    ) -> StoreResult<Vec<crate::killswitch::KillSwitchRecord>> {
        unimplemented!()
    }
    async fn get_kill_switch(
        &self,
        _: &str,
        _: &str,
    ) -> StoreResult<crate::killswitch::KillSwitchRecord> {
        unimplemented!()
    }
    async fn create_kill_switch(
        &self,
        _: &str,
        _: &str,
        _: &crate::killswitch::KillSwitch,
        _: &WriteMeta,
    ) -> StoreResult<crate::killswitch::KillSwitchRecord> {
        unimplemented!()
    }
    async fn update_kill_switch(
        &self,
        _: &str,
        _: &str,
        _: &crate::killswitch::KillSwitch,
        _: &WriteMeta,
    ) -> StoreResult<crate::killswitch::KillSwitchRecord> {
        unimplemented!()
    }
    async fn delete_kill_switch(&self, _: &str, _: &str, _: &WriteMeta) -> StoreResult<()> {
        unimplemented!()
    }
    async fn transition_kill_switch(
        &self,
        _: &crate::store::SwitchTransition<'_>,
        _: &WriteMeta,
    ) -> StoreResult<crate::killswitch::KillSwitchRecord> {
        unimplemented!()
    }
    async fn list_rollout_plans(
        &self,
        _: Option<&str>,
    ) -> StoreResult<Vec<crate::rollout::RolloutPlanRecord>> {
        unimplemented!()
    }
    async fn get_rollout_plan(
        &self,
        _: &str,
        _: &str,
        _: &str,
    ) -> StoreResult<crate::rollout::RolloutPlanRecord> {
        unimplemented!()
    }
    async fn put_rollout_plan(
        &self,
        _: &crate::store::PlanPut<'_>,
        _: &WriteMeta,
    ) -> StoreResult<(crate::rollout::RolloutPlanRecord, bool)> {
        unimplemented!()
    }
    async fn transition_rollout_plan(
        &self,
        _: &crate::store::PlanTransition<'_>,
        _: &WriteMeta,
    ) -> StoreResult<crate::rollout::RolloutPlanRecord> {
        unimplemented!()
    }
    async fn delete_rollout_plan(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: &WriteMeta,
    ) -> StoreResult<()> {
        unimplemented!()
    }
    async fn record_health_event(&self, _: &crate::store::HealthEvent) -> StoreResult<bool> {
        unimplemented!()
    }
    async fn list_health_events(
        &self,
        _: &crate::store::HealthEventFilter,
    ) -> StoreResult<Vec<crate::store::HealthEvent>> {
        unimplemented!()
    }
}
