//! Rollout plans (spec and state as JSON text), one per flag and
//! environment. `BEGIN IMMEDIATE` serialises every write; a move is still
//! the conditional `UPDATE … WHERE version = ?n` of the plan's row, as on
//! PostgreSQL.

use sqlx::{AssertSqlSafe, SqliteConnection};

use super::SqliteStore;
use super::codec::nanos;
use super::flags::write_config_in;
use super::log::{Bump, commit};
use super::projects::{environment_row, project_row};
use crate::rollout::{Exposure, RolloutPlanRecord};
use crate::store::changes::NewChange;
use crate::store::checks::check_version;
use crate::store::codec::{signed, to_json};
use crate::store::configs::ConfigWrite;
use crate::store::rollout::{self, ROLLOUT_PLAN_COLUMNS};
use crate::store::{ChangeAction, PlanPut, PlanTransition, StoreError, StoreResult, WriteMeta};

type Key<'a> = (&'a str, &'a str, &'a str);

async fn plan_row(
    conn: &mut SqliteConnection,
    (project, flag, environment): Key<'_>,
) -> StoreResult<Option<RolloutPlanRecord>> {
    let sql = format!(
        "SELECT {ROLLOUT_PLAN_COLUMNS} FROM rollout_plans \
         WHERE project = ?1 AND flag = ?2 AND environment = ?3"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(project)
        .bind(flag)
        .bind(environment)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(rollout::rollout_plan).transpose()
}

/// `NotFound` for the project if it is missing, else for the plan.
async fn missing(conn: &mut SqliteConnection, (project, flag, environment): Key<'_>) -> StoreError {
    match project_row(conn, project).await {
        Ok(_) => StoreError::NotFound(format!(
            "rollout plan of flag {flag} in environment {environment}"
        )),
        Err(error) => error,
    }
}

/// Writes `exposure` into the config whatever its version (a plan's
/// `expected_version` is the plan's); the config's change comes back.
async fn expose<'a>(
    conn: &mut SqliteConnection,
    (project, flag, environment): Key<'a>,
    exposure: &Exposure,
    meta: &WriteMeta,
) -> StoreResult<NewChange<'a>> {
    let meta = WriteMeta {
        expected_version: None,
        ..meta.clone()
    };
    let edit = ConfigWrite::Exposure(exposure);
    let (_, change) = write_config_in(conn, project, flag, environment, edit, &meta).await?;
    Ok(change)
}

/// [`expose`] when there is an exposure; else checks the environment
/// exists.
async fn maybe_expose<'a>(
    conn: &mut SqliteConnection,
    key: Key<'a>,
    exposure: Option<&Exposure>,
    meta: &WriteMeta,
) -> StoreResult<Option<NewChange<'a>>> {
    match exposure {
        Some(exposure) => Ok(Some(expose(conn, key, exposure, meta).await?)),
        None => {
            environment_row(conn, key.0, key.2).await?;
            Ok(None)
        }
    }
}

impl SqliteStore {
    pub(super) async fn list_rollout_plans_impl(
        &self,
        project: Option<&str>,
    ) -> StoreResult<Vec<RolloutPlanRecord>> {
        let mut conn = self.pool.acquire().await?;
        if let Some(project) = project {
            project_row(&mut conn, project).await?;
        }
        let sql = format!(
            "SELECT {ROLLOUT_PLAN_COLUMNS} FROM rollout_plans \
             WHERE ?1 IS NULL OR project = ?1 ORDER BY project, flag, environment"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(project)
            .fetch_all(&mut *conn)
            .await?;
        rows.iter().map(rollout::rollout_plan).collect()
    }

    pub(super) async fn get_rollout_plan_impl(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
    ) -> StoreResult<RolloutPlanRecord> {
        let key = (project, flag, environment);
        let mut conn = self.pool.acquire().await?;
        match plan_row(&mut conn, key).await? {
            Some(plan) => Ok(plan),
            None => Err(missing(&mut conn, key).await),
        }
    }

    pub(super) async fn put_rollout_plan_impl(
        &self,
        put: &PlanPut<'_>,
        meta: &WriteMeta,
    ) -> StoreResult<(RolloutPlanRecord, bool)> {
        let key = (put.project, put.flag, put.environment);
        let mut tx = self.begin_write().await?;
        let change = expose(&mut tx, key, put.exposure, meta).await?;
        let before = plan_row(&mut tx, key).await?;
        match &before {
            Some(before) => check_version(meta, before.version)?,
            None if meta.expected_version.is_some() => return Err(missing(&mut tx, key).await),
            None => {}
        }
        let after = RolloutPlanRecord {
            project: put.project.to_owned(),
            flag: put.flag.to_owned(),
            environment: put.environment.to_owned(),
            spec: put.spec.clone(),
            state: put.state.clone(),
            version: before.as_ref().map_or(1, |b| b.version + 1),
            created_at: before.as_ref().map_or(meta.at, |b| b.created_at),
            updated_at: meta.at,
        };
        sqlx::query(
            "INSERT INTO rollout_plans (project, flag, environment, spec, state, version, \
             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT (project, flag, environment) DO UPDATE SET spec = excluded.spec, \
             state = excluded.state, version = excluded.version, \
             updated_at = excluded.updated_at",
        )
        .bind(&after.project)
        .bind(&after.flag)
        .bind(&after.environment)
        .bind(to_json(&after.spec)?)
        .bind(to_json(&after.state)?)
        .bind(signed(after.version)?)
        .bind(nanos(after.created_at)?)
        .bind(nanos(after.updated_at)?)
        .execute(&mut *tx)
        .await?;
        commit(
            tx,
            meta,
            change,
            Bump::Environment(put.project, put.environment),
        )
        .await?;
        Ok((after, before.is_none()))
    }

    pub(super) async fn transition_rollout_plan_impl(
        &self,
        transition: &PlanTransition<'_>,
        meta: &WriteMeta,
    ) -> StoreResult<RolloutPlanRecord> {
        let key = (transition.project, transition.flag, transition.environment);
        let mut tx = self.begin_write().await?;
        let change = maybe_expose(&mut tx, key, transition.exposure, meta).await?;
        let Some(before) = plan_row(&mut tx, key).await? else {
            return Err(missing(&mut tx, key).await);
        };
        if transition.unless_tripped {
            let tripped: Option<String> = sqlx::query_scalar(
                "SELECT id FROM kill_switches WHERE project = ?1 AND flag = ?2 \
                 AND environment = ?3 AND json_extract(state, '$.status') = 'tripped' \
                 ORDER BY id LIMIT 1",
            )
            .bind(key.0)
            .bind(key.1)
            .bind(key.2)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(id) = tripped {
                return Err(StoreError::Refused(format!(
                    "kill switch {id} on flag {} in {} is tripped",
                    key.1, key.2
                )));
            }
        }
        let after = RolloutPlanRecord {
            state: transition.state.clone(),
            version: before.version + 1,
            updated_at: meta.at,
            ..before.clone()
        };
        let updated = sqlx::query(
            "UPDATE rollout_plans SET state = ?4, version = ?5, updated_at = ?6 \
             WHERE project = ?1 AND flag = ?2 AND environment = ?3 AND version = ?7",
        )
        .bind(key.0)
        .bind(key.1)
        .bind(key.2)
        .bind(to_json(&after.state)?)
        .bind(signed(after.version)?)
        .bind(nanos(after.updated_at)?)
        .bind(signed(transition.plan_version)?)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(StoreError::Conflict {
                expected: transition.plan_version,
                current: before.version,
            });
        }
        match change {
            Some(change) => commit(tx, meta, change, Bump::Environment(key.0, key.2)).await?,
            None => {
                let change = NewChange::rollout_plan(
                    &before,
                    ChangeAction::Updated,
                    Some(&before),
                    Some(&after),
                )?;
                commit(tx, meta, change, Bump::Nothing).await?;
            }
        }
        Ok(after)
    }

    pub(super) async fn delete_rollout_plan_impl(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
        meta: &WriteMeta,
    ) -> StoreResult<()> {
        let key = (project, flag, environment);
        let mut tx = self.begin_write().await?;
        // A missing environment is `NotFound` for it, as on PostgreSQL.
        environment_row(&mut tx, project, environment).await?;
        let Some(before) = plan_row(&mut tx, key).await? else {
            return Err(missing(&mut tx, key).await);
        };
        check_version(meta, before.version)?;
        sqlx::query(
            "DELETE FROM rollout_plans WHERE project = ?1 AND flag = ?2 AND environment = ?3",
        )
        .bind(project)
        .bind(flag)
        .bind(environment)
        .execute(&mut *tx)
        .await?;
        let change = NewChange::rollout_plan(&before, ChangeAction::Deleted, Some(&before), None)?;
        commit(tx, meta, change, Bump::Nothing).await
    }
}
