//! Segments. Every write bumps all of the project's environments: each
//! snapshot carries every segment.

use sqlx::Postgres;
use sqlx::postgres::{PgArguments, PgConnection, PgPool};
use sqlx::query::Query;
use time::OffsetDateTime;
use vexil_proto::Segment;

use super::write;
use crate::store::changes::NewChange;
use crate::store::{ChangeAction, SegmentRecord, StoreResult, WriteMeta, checks, codec, records};

pub(super) async fn list(pool: &PgPool, project: &str) -> StoreResult<Vec<SegmentRecord>> {
    let sql = "SELECT * FROM segments WHERE project = $1 ORDER BY key";
    let found = write::rows_in_project(pool, sql, project).await?;
    found.iter().map(records::segment).collect()
}

pub(super) async fn get(pool: &PgPool, project: &str, key: &str) -> StoreResult<SegmentRecord> {
    let mut conn = pool.acquire().await?;
    let sql = "SELECT * FROM segments WHERE project = $1 AND key = $2";
    records::segment(&write::row_in_project(&mut conn, sql, project, key, "segment").await?)
}

/// `sql` with the segment's columns bound: $1 project, $2 key, $3 name,
/// $4 description, $5 included, $6 excluded, $7 rules, $8 the write's time.
fn bind_segment(
    sql: &'static str,
    project: &str,
    segment: &Segment,
    at: OffsetDateTime,
) -> StoreResult<Query<'static, Postgres, PgArguments>> {
    Ok(sqlx::query(sql)
        .bind(project)
        .bind(&segment.key)
        .bind(&segment.name)
        .bind(&segment.description)
        .bind(codec::to_value(&segment.included)?)
        .bind(codec::to_value(&segment.excluded)?)
        .bind(codec::to_value(&segment.rules)?)
        .bind(at))
}

pub(super) async fn create(
    pool: &PgPool,
    project: &str,
    segment: &Segment,
    meta: &WriteMeta,
) -> StoreResult<SegmentRecord> {
    let mut tx = write::begin(pool).await?;
    let environments = write::lock_project_wide(&mut tx, project).await?;
    let insert = "INSERT INTO segments (project, key, name, description, included, excluded, \
         rules, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8) RETURNING *";
    let row = bind_segment(insert, project, segment, meta.at)?
        .fetch_one(&mut *tx)
        .await
        .map_err(write::exists(|| format!("segment {}", segment.key)))?;
    let record = records::segment(&row)?;
    let action = ChangeAction::Created;
    let change = NewChange::segment(project, &segment.key, action, None, Some(&record))?;
    write::commit_bumping(tx, project, &environments, change, meta).await?;
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
    let update = "UPDATE segments SET name = $3, description = $4, included = $5, \
         excluded = $6, rules = $7, version = version + 1, updated_at = $8 \
         WHERE project = $1 AND key = $2 RETURNING *";
    let row = bind_segment(update, project, segment, meta.at)?
        .fetch_one(&mut *tx)
        .await?;
    let after = records::segment(&row)?;
    let action = ChangeAction::Updated;
    let change = NewChange::segment(project, &segment.key, action, Some(&before), Some(&after))?;
    write::commit_bumping(tx, project, &environments, change, meta).await?;
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
    let delete = "DELETE FROM segments WHERE project = $1 AND key = $2";
    write::execute_keyed(&mut tx, delete, project, key).await?;
    let change = NewChange::segment(project, key, ChangeAction::Deleted, Some(&before), None)?;
    write::commit_bumping(tx, project, &environments, change, meta).await
}

/// Locks the project (shared), every environment, then the segment row.
async fn lock_segment(
    conn: &mut PgConnection,
    project: &str,
    key: &str,
) -> StoreResult<(Vec<String>, SegmentRecord)> {
    let sql = "SELECT * FROM segments WHERE project = $1 AND key = $2 FOR UPDATE";
    write::lock_object(conn, sql, (project, key), "segment", records::segment).await
}
