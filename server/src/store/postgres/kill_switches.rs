//! Kill switches (spec and state as JSONB) and health events (each stored
//! once under its key).

use sqlx::AssertSqlSafe;
use sqlx::postgres::{PgConnection, PgPool};

use super::configs::write_config_in;
use super::write::{self, ProjectLock};
use crate::killswitch::{KillSwitch, KillSwitchRecord, SwitchState};
use crate::store::changes::NewChange;
use crate::store::checks::check_version;
use crate::store::codec::{enum_name, signed, to_value};
use crate::store::configs::ConfigWrite;
use crate::store::health::{self, HEALTH_EVENT_COLUMNS, KILL_SWITCH_COLUMNS};
use crate::store::{
    ChangeAction, HealthEvent, HealthEventFilter, StoreError, StoreResult, SwitchTransition,
    WriteMeta,
};

/// The switch's row, locked `FOR UPDATE` when `lock`.
async fn switch_row(
    conn: &mut PgConnection,
    project: &str,
    id: &str,
    lock: bool,
) -> StoreResult<KillSwitchRecord> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT {KILL_SWITCH_COLUMNS} FROM kill_switches WHERE project = $1 AND id = $2{suffix}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(project)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => health::kill_switch(&row),
        None => Err(write::not_found_in(conn, project, format!("kill switch {id}")).await),
    }
}

async fn save(conn: &mut PgConnection, record: &KillSwitchRecord) -> StoreResult<()> {
    sqlx::query(
        "UPDATE kill_switches SET flag = $3, environment = $4, spec = $5, state = $6, \
         version = $7, updated_at = $8 WHERE project = $1 AND id = $2",
    )
    .bind(&record.project)
    .bind(&record.id)
    .bind(&record.spec.flag)
    .bind(&record.spec.environment)
    .bind(to_value(&record.spec)?)
    .bind(to_value(&record.state)?)
    .bind(signed(record.version)?)
    .bind(record.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn list(
    pool: &PgPool,
    project: Option<&str>,
) -> StoreResult<Vec<KillSwitchRecord>> {
    let mut conn = pool.acquire().await?;
    if let Some(project) = project {
        write::project_exists(&mut conn, project).await?;
    }
    let sql = format!(
        "SELECT {KILL_SWITCH_COLUMNS} FROM kill_switches \
         WHERE $1::text IS NULL OR project = $1 ORDER BY project, created_at, id"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(project)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(health::kill_switch).collect()
}

pub(super) async fn get(pool: &PgPool, project: &str, id: &str) -> StoreResult<KillSwitchRecord> {
    let mut conn = pool.acquire().await?;
    switch_row(&mut conn, project, id, false).await
}

pub(super) async fn create(
    pool: &PgPool,
    project: &str,
    id: &str,
    spec: &KillSwitch,
    meta: &WriteMeta,
) -> StoreResult<KillSwitchRecord> {
    let mut tx = write::begin(pool).await?;
    write::lock_project(&mut tx, project, ProjectLock::Share).await?;
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
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)",
    )
    .bind(project)
    .bind(id)
    .bind(&spec.flag)
    .bind(&spec.environment)
    .bind(to_value(spec)?)
    .bind(to_value(&record.state)?)
    .bind(meta.at)
    .execute(&mut *tx)
    .await
    .map_err(write::exists(|| format!("kill switch {id}")))?;
    let change = NewChange::kill_switch(project, id, ChangeAction::Created, None, Some(&record))?;
    write::commit(tx, change, Vec::new(), meta).await?;
    Ok(record)
}

pub(super) async fn update(
    pool: &PgPool,
    project: &str,
    id: &str,
    spec: &KillSwitch,
    meta: &WriteMeta,
) -> StoreResult<KillSwitchRecord> {
    let mut tx = write::begin(pool).await?;
    write::lock_project(&mut tx, project, ProjectLock::Share).await?;
    let before = switch_row(&mut tx, project, id, true).await?;
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
    write::commit(tx, change, Vec::new(), meta).await?;
    Ok(after)
}

pub(super) async fn delete(
    pool: &PgPool,
    project: &str,
    id: &str,
    meta: &WriteMeta,
) -> StoreResult<()> {
    let mut tx = write::begin(pool).await?;
    write::lock_project(&mut tx, project, ProjectLock::Share).await?;
    let before = switch_row(&mut tx, project, id, true).await?;
    check_version(meta, before.version)?;
    sqlx::query("DELETE FROM kill_switches WHERE project = $1 AND id = $2")
        .bind(project)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let change = NewChange::kill_switch(project, id, ChangeAction::Deleted, Some(&before), None)?;
    write::commit(tx, change, Vec::new(), meta).await
}

pub(super) async fn transition(
    pool: &PgPool,
    transition: &SwitchTransition<'_>,
    meta: &WriteMeta,
) -> StoreResult<KillSwitchRecord> {
    let SwitchTransition { project, id, .. } = *transition;
    let mut tx = write::begin(pool).await?;
    // The project lock first, as every write takes it.
    write::lock_project(&mut tx, project, ProjectLock::Share).await?;
    let before = switch_row(&mut tx, project, id, true).await?;
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
            let edit = ConfigWrite::Put(config);
            let (_, change) =
                write_config_in(&mut tx, project, flag, environment, edit, meta).await?;
            write::commit_bumping(tx, project, std::slice::from_ref(environment), change, meta)
                .await?;
        }
        None => {
            let change = NewChange::kill_switch(
                project,
                id,
                ChangeAction::Updated,
                Some(&before),
                Some(&after),
            )?;
            write::commit(tx, change, Vec::new(), meta).await?;
        }
    }
    Ok(after)
}

pub(super) async fn record_event(pool: &PgPool, event: &HealthEvent) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO health_events (kind, key, environment, actor, body, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING",
    )
    .bind(enum_name(&event.kind)?)
    .bind(&event.key)
    .bind(event.environment.as_deref())
    .bind(&event.actor)
    .bind(&event.body)
    .bind(event.received_at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn list_events(
    pool: &PgPool,
    filter: &HealthEventFilter,
) -> StoreResult<Vec<HealthEvent>> {
    let kind = filter.kind.as_ref().map(enum_name).transpose()?;
    let sql = format!(
        "SELECT {HEALTH_EVENT_COLUMNS} FROM health_events \
         WHERE ($1::text IS NULL OR kind = $1) \
         AND ($2::text[] IS NULL OR environment = ANY($2)) \
         AND ($3::timestamptz IS NULL OR received_at >= $3) \
         AND ($4::timestamptz IS NULL OR received_at < $4) \
         ORDER BY received_at DESC, id DESC LIMIT $5"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(kind)
        .bind(filter.environments.as_deref())
        .bind(filter.since)
        .bind(filter.until)
        .bind(i64::from(filter.limit))
        .fetch_all(pool)
        .await?;
    rows.iter().map(health::health_event).collect()
}
