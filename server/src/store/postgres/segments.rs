//! Segments. Every write bumps all of the project's environments: each
//! snapshot carries every segment.

use sqlx::postgres::{PgConnection, PgPool};
use vexil_proto::Segment;

use super::write::{self, ProjectLock};
use crate::store::changes::NewChange;
use crate::store::{
    ChangeAction, SegmentRecord, StoreError, StoreResult, WriteMeta, checks, codec, records,
};

pub(super) async fn list(pool: &PgPool, project: &str) -> StoreResult<Vec<SegmentRecord>> {
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    write::project_exists(&mut tx, project).await?;
    let found = sqlx::query("SELECT * FROM segments WHERE project = $1 ORDER BY key")
        .bind(project)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    found.iter().map(records::segment).collect()
}

pub(super) async fn get(pool: &PgPool, project: &str, key: &str) -> StoreResult<SegmentRecord> {
    let mut conn = pool.acquire().await?;
    let row = sqlx::query("SELECT * FROM segments WHERE project = $1 AND key = $2")
        .bind(project)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => records::segment(&row),
        None => Err(write::not_found_in(&mut conn, project, format!("segment {key}")).await),
    }
}

pub(super) async fn create(
    pool: &PgPool,
    project: &str,
    segment: &Segment,
    meta: &WriteMeta,
) -> StoreResult<SegmentRecord> {
    let mut tx = write::begin(pool).await?;
    write::lock_project(&mut tx, project, ProjectLock::Share).await?;
    let environments = write::keys(&write::lock_environments(&mut tx, project).await?);
    let row = sqlx::query(
        "INSERT INTO segments (project, key, name, description, included, excluded, rules, \
         version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8) RETURNING *",
    )
    .bind(project)
    .bind(&segment.key)
    .bind(&segment.name)
    .bind(&segment.description)
    .bind(codec::to_value(&segment.included)?)
    .bind(codec::to_value(&segment.excluded)?)
    .bind(codec::to_value(&segment.rules)?)
    .bind(meta.at)
    .fetch_one(&mut *tx)
    .await
    .map_err(write::exists(|| format!("segment {}", segment.key)))?;
    let record = records::segment(&row)?;
    let versions = write::bump(&mut tx, project, &environments).await?;
    let change = NewChange::segment(
        project,
        &segment.key,
        ChangeAction::Created,
        None,
        Some(&record),
    )?;
    write::append(&mut tx, change, versions, meta).await?;
    tx.commit().await?;
    Ok(record)
}

pub(super) async fn update(
    pool: &PgPool,
    project: &str,
    segment: &Segment,
    meta: &WriteMeta,
) -> StoreResult<SegmentRecord> {
    let mut tx = write::begin(pool).await?;
    let (environments, before) = lock_segment(&mut tx, project, &segment.key).await?;
    checks::check_version(meta, before.segment.version)?;
    let row = sqlx::query(
        "UPDATE segments SET name = $3, description = $4, included = $5, excluded = $6, \
         rules = $7, version = version + 1, updated_at = $8 \
         WHERE project = $1 AND key = $2 RETURNING *",
    )
    .bind(project)
    .bind(&segment.key)
    .bind(&segment.name)
    .bind(&segment.description)
    .bind(codec::to_value(&segment.included)?)
    .bind(codec::to_value(&segment.excluded)?)
    .bind(codec::to_value(&segment.rules)?)
    .bind(meta.at)
    .fetch_one(&mut *tx)
    .await?;
    let after = records::segment(&row)?;
    let versions = write::bump(&mut tx, project, &environments).await?;
    let change = NewChange::segment(
        project,
        &segment.key,
        ChangeAction::Updated,
        Some(&before),
        Some(&after),
    )?;
    write::append(&mut tx, change, versions, meta).await?;
    tx.commit().await?;
    Ok(after)
}

pub(super) async fn delete(
    pool: &PgPool,
    project: &str,
    key: &str,
    meta: &WriteMeta,
) -> StoreResult<()> {
    let mut tx = write::begin(pool).await?;
    let (environments, before) = lock_segment(&mut tx, project, key).await?;
    checks::check_version(meta, before.segment.version)?;
    // Every config write holds an environment lock we now hold too, so no
    // config can start naming the segment before this commits.
    let user: Option<(String, String)> = sqlx::query_as(
        "SELECT flag, environment FROM flag_configs WHERE project = $1 \
         AND jsonb_path_exists(config, \
             '$.rules[*].clauses[*] ? (@.op == \"in_segment\" && @.values[*] == $segment)', \
             jsonb_build_object('segment', $2::text)) \
         ORDER BY flag, environment LIMIT 1",
    )
    .bind(project)
    .bind(key)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((flag, environment)) = user {
        return Err(checks::segment_in_use(key, &flag, &environment));
    }
    sqlx::query("DELETE FROM segments WHERE project = $1 AND key = $2")
        .bind(project)
        .bind(key)
        .execute(&mut *tx)
        .await?;
    let versions = write::bump(&mut tx, project, &environments).await?;
    let change = NewChange::segment(project, key, ChangeAction::Deleted, Some(&before), None)?;
    write::append(&mut tx, change, versions, meta).await?;
    tx.commit().await?;
    Ok(())
}

/// Locks the project (shared), every environment, then the segment row.
async fn lock_segment(
    conn: &mut PgConnection,
    project: &str,
    key: &str,
) -> StoreResult<(Vec<String>, SegmentRecord)> {
    write::lock_project(conn, project, ProjectLock::Share).await?;
    let environments = write::keys(&write::lock_environments(conn, project).await?);
    let row = sqlx::query("SELECT * FROM segments WHERE project = $1 AND key = $2 FOR UPDATE")
        .bind(project)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("segment {key}")))?;
    Ok((environments, records::segment(&row)?))
}
