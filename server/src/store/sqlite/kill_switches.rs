//! Kill switches (spec and state as JSON text) and health events (each
//! stored once under its key).

use sqlx::{AssertSqlSafe, SqliteConnection};

use super::codec::{nanos, unique};
use super::flags::write_config_in;
use super::log::{Bump, commit};
use super::projects::project_row;
use super::{SqliteStore, WriteTx};
use crate::killswitch::{KillSwitch, KillSwitchRecord, SwitchState};
use crate::store::changes::NewChange;
use crate::store::checks::check_version;
use crate::store::codec::{enum_name, signed, to_json};
use crate::store::configs::ConfigWrite;
use crate::store::health::{self, HEALTH_EVENT_COLUMNS, KILL_SWITCH_COLUMNS};
use crate::store::{
    ChangeAction, HealthEvent, HealthEventFilter, StoreError, StoreResult, SwitchTransition,
    WriteMeta,
};

async fn switch_row(
    conn: &mut SqliteConnection,
    project: &str,
    id: &str,
) -> StoreResult<KillSwitchRecord> {
    let sql =
        format!("SELECT {KILL_SWITCH_COLUMNS} FROM kill_switches WHERE project = ?1 AND id = ?2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(project)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => health::kill_switch(&row),
        None => {
            project_row(conn, project).await?;
            Err(StoreError::NotFound(format!("kill switch {id}")))
        }
    }
}

/// Writes `record`'s spec, state and version over the stored row.
async fn save(tx: &mut WriteTx, record: &KillSwitchRecord) -> StoreResult<()> {
    sqlx::query(
        "UPDATE kill_switches SET flag = ?3, environment = ?4, spec = ?5, state = ?6, \
         version = ?7, updated_at = ?8 WHERE project = ?1 AND id = ?2",
    )
    .bind(&record.project)
    .bind(&record.id)
    .bind(&record.spec.flag)
    .bind(&record.spec.environment)
    .bind(to_json(&record.spec)?)
    .bind(to_json(&record.state)?)
    .bind(signed(record.version)?)
    .bind(nanos(record.updated_at)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl SqliteStore {
    pub(super) async fn list_kill_switches_impl(
        &self,
        project: Option<&str>,
    ) -> StoreResult<Vec<KillSwitchRecord>> {
        let mut conn = self.pool.acquire().await?;
        if let Some(project) = project {
            project_row(&mut conn, project).await?;
        }
        let sql = format!(
            "SELECT {KILL_SWITCH_COLUMNS} FROM kill_switches \
             WHERE ?1 IS NULL OR project = ?1 ORDER BY project, created_at, id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(project)
            .fetch_all(&mut *conn)
            .await?;
        rows.iter().map(health::kill_switch).collect()
    }

    pub(super) async fn get_kill_switch_impl(
        &self,
        project: &str,
        id: &str,
    ) -> StoreResult<KillSwitchRecord> {
        let mut conn = self.pool.acquire().await?;
        switch_row(&mut conn, project, id).await
    }

    pub(super) async fn create_kill_switch_impl(
        &self,
        project: &str,
        id: &str,
        spec: &KillSwitch,
        meta: &WriteMeta,
    ) -> StoreResult<KillSwitchRecord> {
        let mut tx = self.begin_write().await?;
        project_row(&mut tx, project).await?;
        let record = KillSwitchRecord {
            id: id.to_owned(),
            project: project.to_owned(),
            spec: spec.clone(),
            state: SwitchState::default(),
            version: 1,
            created_at: meta.at,
            updated_at: meta.at,
        };
        sqlx::query(
            "INSERT INTO kill_switches (project, id, flag, environment, spec, state, version, \
             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7)",
        )
        .bind(project)
        .bind(id)
        .bind(&spec.flag)
        .bind(&spec.environment)
        .bind(to_json(spec)?)
        .bind(to_json(&record.state)?)
        .bind(nanos(meta.at)?)
        .execute(&mut *tx)
        .await
        .map_err(unique(|| format!("kill switch {id}")))?;
        let change =
            NewChange::kill_switch(project, id, ChangeAction::Created, None, Some(&record))?;
        commit(tx, meta, change, Bump::Nothing).await?;
        Ok(record)
    }

    pub(super) async fn update_kill_switch_impl(
        &self,
        project: &str,
        id: &str,
        spec: &KillSwitch,
        meta: &WriteMeta,
    ) -> StoreResult<KillSwitchRecord> {
        let mut tx = self.begin_write().await?;
        let before = switch_row(&mut tx, project, id).await?;
        check_version(meta, before.version)?;
        let after = KillSwitchRecord {
            spec: spec.clone(),
            version: before.version + 1,
            updated_at: meta.at,
            ..before.clone()
        };
        save(&mut tx, &after).await?;
        let change = NewChange::kill_switch(
            project,
            id,
            ChangeAction::Updated,
            Some(&before),
            Some(&after),
        )?;
        commit(tx, meta, change, Bump::Nothing).await?;
        Ok(after)
    }

    pub(super) async fn delete_kill_switch_impl(
        &self,
        project: &str,
        id: &str,
        meta: &WriteMeta,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let before = switch_row(&mut tx, project, id).await?;
        check_version(meta, before.version)?;
        sqlx::query("DELETE FROM kill_switches WHERE project = ?1 AND id = ?2")
            .bind(project)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let change =
            NewChange::kill_switch(project, id, ChangeAction::Deleted, Some(&before), None)?;
        commit(tx, meta, change, Bump::Nothing).await
    }

    pub(super) async fn transition_kill_switch_impl(
        &self,
        transition: &SwitchTransition<'_>,
        meta: &WriteMeta,
    ) -> StoreResult<KillSwitchRecord> {
        let SwitchTransition { project, id, .. } = *transition;
        let mut tx = self.begin_write().await?;
        let before = switch_row(&mut tx, project, id).await?;
        if before.version != transition.switch_version {
            return Err(StoreError::Conflict {
                expected: transition.switch_version,
                current: before.version,
            });
        }
        let after = KillSwitchRecord {
            state: transition.state.clone(),
            version: before.version + 1,
            updated_at: meta.at,
            ..before.clone()
        };
        save(&mut tx, &after).await?;
        match transition.config {
            Some(config) => {
                let (flag, environment) = (&before.spec.flag, &before.spec.environment);
                let (_, change) = write_config_in(
                    &mut tx,
                    project,
                    flag,
                    environment,
                    ConfigWrite::Put(config),
                    meta,
                )
                .await?;
                commit(tx, meta, change, Bump::Environment(project, environment)).await?;
            }
            None => {
                let change = NewChange::kill_switch(
                    project,
                    id,
                    ChangeAction::Updated,
                    Some(&before),
                    Some(&after),
                )?;
                let unconditional = WriteMeta {
                    expected_version: None,
                    ..meta.clone()
                };
                commit(tx, &unconditional, change, Bump::Nothing).await?;
            }
        }
        Ok(after)
    }

    pub(super) async fn record_health_event_impl(&self, event: &HealthEvent) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO health_events (kind, key, environment, actor, body, received_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (key) DO NOTHING",
        )
        .bind(enum_name(&event.kind)?)
        .bind(&event.key)
        .bind(event.environment.as_deref())
        .bind(&event.actor)
        .bind(to_json(&event.body)?)
        .bind(nanos(event.received_at)?)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn list_health_events_impl(
        &self,
        filter: &HealthEventFilter,
    ) -> StoreResult<Vec<HealthEvent>> {
        let kind = filter.kind.as_ref().map(enum_name).transpose()?;
        let environments = filter.environments.as_ref().map(to_json).transpose()?;
        let since = filter.since.map(nanos).transpose()?;
        let until = filter.until.map(nanos).transpose()?;
        let sql = format!(
            "SELECT {HEALTH_EVENT_COLUMNS} FROM health_events \
             WHERE (?1 IS NULL OR kind = ?1) \
             AND (?2 IS NULL OR environment IN (SELECT value FROM json_each(?2))) \
             AND (?3 IS NULL OR received_at >= ?3) AND (?4 IS NULL OR received_at < ?4) \
             ORDER BY received_at DESC, id DESC LIMIT ?5"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(kind)
            .bind(environments)
            .bind(since)
            .bind(until)
            .bind(i64::from(filter.limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(health::health_event).collect()
    }
}
