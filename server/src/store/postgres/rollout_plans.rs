//! Rollout plans (spec and state as JSONB), one per flag and environment.
//!
//! Every write takes the locks a config write takes (project share, the
//! environment row) before the plan's row, so writes to a plan and to its
//! flag's config queue in one order. A move is the conditional
//! `UPDATE … WHERE version = $n` of the plan's row: of two replicas
//! deciding the same stage, one updates a row and the other none.

use sqlx::AssertSqlSafe;
use sqlx::postgres::{PgConnection, PgPool};

use super::configs::write_config_in;
use super::write::{self, ProjectLock};
use crate::rollout::RolloutPlanRecord;
use crate::store::changes::NewChange;
use crate::store::checks::check_version;
use crate::store::codec::{signed, to_value};
use crate::store::configs::ConfigWrite;
use crate::store::rollout::{self, ROLLOUT_PLAN_COLUMNS};
use crate::store::{ChangeAction, PlanPut, PlanTransition, StoreError, StoreResult, WriteMeta};

/// The plan's row, if any, locked `FOR UPDATE` when `lock`.
async fn plan_row(
    conn: &mut PgConnection,
    (project, flag, environment): (&str, &str, &str),
    lock: bool,
) -> StoreResult<Option<RolloutPlanRecord>> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT {ROLLOUT_PLAN_COLUMNS} FROM rollout_plans \
         WHERE project = $1 AND flag = $2 AND environment = $3{suffix}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(project)
        .bind(flag)
        .bind(environment)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(rollout::rollout_plan).transpose()
}

async fn missing(
    conn: &mut PgConnection,
    project: &str,
    flag: &str,
    environment: &str,
) -> StoreError {
    let what = format!("rollout plan of flag {flag} in environment {environment}");
    write::not_found_in(conn, project, what).await
}

/// The config's meta: plan writes replace the config whatever its version
/// (`expected_version` is the plan's).
fn unconditional(meta: &WriteMeta) -> WriteMeta {
    WriteMeta {
        expected_version: None,
        ..meta.clone()
    }
}

/// Writes `exposure` into the config, with the locks every config write
/// takes; the config's change comes back.
async fn expose<'a>(
    conn: &mut PgConnection,
    (project, flag, environment): (&'a str, &'a str, &'a str),
    exposure: &crate::rollout::Exposure,
    meta: &WriteMeta,
) -> StoreResult<NewChange<'a>> {
    let edit = ConfigWrite::Exposure(exposure);
    let (_, change) =
        write_config_in(conn, project, flag, environment, edit, &unconditional(meta)).await?;
    Ok(change)
}

/// Takes the locks every plan write takes, and writes `exposure` into the
/// config when there is one (its change comes back).
async fn lock_and_expose<'a>(
    conn: &mut PgConnection,
    key: (&'a str, &'a str, &'a str),
    exposure: Option<&crate::rollout::Exposure>,
    meta: &WriteMeta,
) -> StoreResult<Option<NewChange<'a>>> {
    let (project, _, environment) = key;
    match exposure {
        Some(exposure) => Ok(Some(expose(conn, key, exposure, meta).await?)),
        None => {
            write::lock_project(conn, project, ProjectLock::Share).await?;
            write::lock_environment(conn, project, environment).await?;
            Ok(None)
        }
    }
}

async fn tripped_switch(
    conn: &mut PgConnection,
    (project, flag, environment): (&str, &str, &str),
) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM kill_switches WHERE project = $1 AND flag = $2 \
         AND environment = $3 AND state->>'status' = 'tripped' ORDER BY id LIMIT 1",
    )
    .bind(project)
    .bind(flag)
    .bind(environment)
    .fetch_optional(&mut *conn)
    .await?)
}

pub(super) async fn list(
    pool: &PgPool,
    project: Option<&str>,
) -> StoreResult<Vec<RolloutPlanRecord>> {
    let mut conn = pool.acquire().await?;
    if let Some(project) = project {
        write::project_exists(&mut conn, project).await?;
    }
    let sql = format!(
        "SELECT {ROLLOUT_PLAN_COLUMNS} FROM rollout_plans \
         WHERE $1::text IS NULL OR project = $1 ORDER BY project, flag, environment"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(project)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(rollout::rollout_plan).collect()
}

pub(super) async fn get(
    pool: &PgPool,
    project: &str,
    flag: &str,
    environment: &str,
) -> StoreResult<RolloutPlanRecord> {
    let mut conn = pool.acquire().await?;
    match plan_row(&mut conn, (project, flag, environment), false).await? {
        Some(plan) => Ok(plan),
        None => Err(missing(&mut conn, project, flag, environment).await),
    }
}

pub(super) async fn put(
    pool: &PgPool,
    put: &PlanPut<'_>,
    meta: &WriteMeta,
) -> StoreResult<(RolloutPlanRecord, bool)> {
    let key = (put.project, put.flag, put.environment);
    let mut tx = write::begin(pool).await?;
    let change = expose(&mut tx, key, put.exposure, meta).await?;
    let before = plan_row(&mut tx, key, true).await?;
    match &before {
        Some(before) => check_version(meta, before.version)?,
        None if meta.expected_version.is_some() => {
            return Err(missing(&mut tx, put.project, put.flag, put.environment).await);
        }
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
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (project, flag, environment) DO UPDATE SET spec = EXCLUDED.spec, \
         state = EXCLUDED.state, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at",
    )
    .bind(&after.project)
    .bind(&after.flag)
    .bind(&after.environment)
    .bind(to_value(&after.spec)?)
    .bind(to_value(&after.state)?)
    .bind(signed(after.version)?)
    .bind(after.created_at)
    .bind(after.updated_at)
    .execute(&mut *tx)
    .await?;
    let environments = [put.environment.to_owned()];
    write::commit_bumping(tx, put.project, &environments, change, meta).await?;
    Ok((after, before.is_none()))
}

pub(super) async fn transition(
    pool: &PgPool,
    transition: &PlanTransition<'_>,
    meta: &WriteMeta,
) -> StoreResult<RolloutPlanRecord> {
    let key = (transition.project, transition.flag, transition.environment);
    let mut tx = write::begin(pool).await?;
    let change = lock_and_expose(&mut tx, key, transition.exposure, meta).await?;
    let Some(before) = plan_row(&mut tx, key, true).await? else {
        return Err(missing(&mut tx, key.0, key.1, key.2).await);
    };
    if transition.unless_tripped
        && let Some(id) = tripped_switch(&mut tx, key).await?
    {
        return Err(StoreError::Refused(format!(
            "kill switch {id} on flag {} in {} is tripped",
            key.1, key.2
        )));
    }
    let after = RolloutPlanRecord {
        state: transition.state.clone(),
        version: before.version + 1,
        updated_at: meta.at,
        ..before.clone()
    };
    let updated = sqlx::query(
        "UPDATE rollout_plans SET state = $4, version = $5, updated_at = $6 \
         WHERE project = $1 AND flag = $2 AND environment = $3 AND version = $7",
    )
    .bind(key.0)
    .bind(key.1)
    .bind(key.2)
    .bind(to_value(&after.state)?)
    .bind(signed(after.version)?)
    .bind(after.updated_at)
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
        Some(change) => {
            let environments = [key.2.to_owned()];
            write::commit_bumping(tx, key.0, &environments, change, meta).await?;
        }
        None => {
            let change = NewChange::rollout_plan(
                &before,
                ChangeAction::Updated,
                Some(&before),
                Some(&after),
            )?;
            write::commit(tx, change, Vec::new(), meta).await?;
        }
    }
    Ok(after)
}

pub(super) async fn delete(
    pool: &PgPool,
    project: &str,
    flag: &str,
    environment: &str,
    meta: &WriteMeta,
) -> StoreResult<()> {
    let key = (project, flag, environment);
    let mut tx = write::begin(pool).await?;
    lock_and_expose(&mut tx, key, None, meta).await?;
    let Some(before) = plan_row(&mut tx, key, true).await? else {
        return Err(missing(&mut tx, project, flag, environment).await);
    };
    check_version(meta, before.version)?;
    sqlx::query("DELETE FROM rollout_plans WHERE project = $1 AND flag = $2 AND environment = $3")
        .bind(project)
        .bind(flag)
        .bind(environment)
        .execute(&mut *tx)
        .await?;
    let change = NewChange::rollout_plan(&before, ChangeAction::Deleted, Some(&before), None)?;
    write::commit(tx, change, Vec::new(), meta).await
}
