//! Flag definitions: create, update, archive and restore, delete.

use sqlx::postgres::{PgConnection, PgPool};
use vexil_proto::{Flag, FlagConfig};

use super::configs;
use super::write::{self, ProjectLock};
use crate::store::changes::{NewChange, archive_action};
use crate::store::configs::initial_config;
use crate::store::{
    ChangeAction, FlagFilter, FlagRecord, Paged, StoreError, StoreResult, WriteMeta, checks, codec,
    records,
};

/// The flag list's filter, shared by its count and its page. Binds: $1
/// project, $2 archived, $3 query (lowercase), $4 tag.
const LIST_WHERE: &str = "WHERE project = $1 AND archived = $2 \
     AND ($3::text IS NULL OR strpos(lower(key), $3) > 0 OR strpos(lower(name), $3) > 0 \
          OR strpos(lower(description), $3) > 0) \
     AND ($4::text IS NULL OR tags ? $4)";

pub(super) async fn list(
    pool: &PgPool,
    project: &str,
    filter: &FlagFilter,
) -> StoreResult<Paged<FlagRecord>> {
    // One snapshot for the count and the page.
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    write::project_exists(&mut tx, project).await?;
    let archived = filter.archived.unwrap_or(false);
    let query = filter.query.as_ref().map(|q| q.to_lowercase());
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM flags {LIST_WHERE}"
    )))
    .bind(project)
    .bind(archived)
    .bind(&query)
    .bind(&filter.tag)
    .fetch_one(&mut *tx)
    .await?;
    let (page, per_page, offset) = filter.page.window();
    let found = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM flags {LIST_WHERE} ORDER BY key LIMIT $5 OFFSET $6"
    )))
    .bind(project)
    .bind(archived)
    .bind(&query)
    .bind(&filter.tag)
    .bind(i64::from(per_page))
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Paged {
        items: found
            .iter()
            .map(records::flag)
            .collect::<StoreResult<_>>()?,
        total: codec::unsigned(total, "count")?,
        page,
        per_page,
    })
}

pub(super) async fn get(pool: &PgPool, project: &str, key: &str) -> StoreResult<FlagRecord> {
    let mut conn = pool.acquire().await?;
    flag_row(&mut conn, project, key).await
}

/// The flag; `NotFound` for it, or for its project when that is missing.
pub(super) async fn flag_row(
    conn: &mut PgConnection,
    project: &str,
    key: &str,
) -> StoreResult<FlagRecord> {
    let row = sqlx::query("SELECT * FROM flags WHERE project = $1 AND key = $2")
        .bind(project)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => records::flag(&row),
        None => Err(write::not_found_in(conn, project, format!("flag {key}")).await),
    }
}

pub(super) async fn create(
    pool: &PgPool,
    project: &str,
    flag: &Flag,
    configs: &[(String, FlagConfig)],
    meta: &WriteMeta,
) -> StoreResult<FlagRecord> {
    let mut tx = write::begin(pool).await?;
    write::lock_project(&mut tx, project, ProjectLock::Share).await?;
    let environments = write::keys(&write::lock_environments(&mut tx, project).await?);
    checks::check_config_environments(configs, &environments)?;
    let row = sqlx::query(
        "INSERT INTO flags (project, key, name, description, tags, owner, kind, variants, \
         temporary, version, archived, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, FALSE, $10, $10) RETURNING *",
    )
    .bind(project)
    .bind(&flag.key)
    .bind(&flag.name)
    .bind(&flag.description)
    .bind(codec::to_value(&flag.tags)?)
    .bind(&flag.owner)
    .bind(codec::enum_name(&flag.kind)?)
    .bind(codec::to_value(&flag.variants)?)
    .bind(flag.temporary)
    .bind(meta.at)
    .fetch_one(&mut *tx)
    .await
    .map_err(write::exists(|| format!("flag {}", flag.key)))?;
    let record = records::flag(&row)?;
    for environment in &environments {
        let config = initial_config(flag, configs, environment);
        configs::store(&mut tx, project, &flag.key, environment, &config).await?;
    }
    let versions = write::bump(&mut tx, project, &environments).await?;
    let change = NewChange::flag(
        project,
        &flag.key,
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
    flag: &Flag,
    meta: &WriteMeta,
) -> StoreResult<FlagRecord> {
    let mut tx = write::begin(pool).await?;
    let (environments, before) = lock_flag(&mut tx, project, &flag.key).await?;
    checks::check_version(meta, before.version)?;
    checks::refuse_archived(&before)?;
    let row = sqlx::query(
        "UPDATE flags SET name = $3, description = $4, tags = $5, owner = $6, kind = $7, \
         variants = $8, temporary = $9, version = version + 1, updated_at = $10 \
         WHERE project = $1 AND key = $2 RETURNING *",
    )
    .bind(project)
    .bind(&flag.key)
    .bind(&flag.name)
    .bind(&flag.description)
    .bind(codec::to_value(&flag.tags)?)
    .bind(&flag.owner)
    .bind(codec::enum_name(&flag.kind)?)
    .bind(codec::to_value(&flag.variants)?)
    .bind(flag.temporary)
    .bind(meta.at)
    .fetch_one(&mut *tx)
    .await?;
    let after = records::flag(&row)?;
    let versions = write::bump(&mut tx, project, &environments).await?;
    let change = NewChange::flag(
        project,
        &flag.key,
        ChangeAction::Updated,
        Some(&before),
        Some(&after),
    )?;
    write::append(&mut tx, change, versions, meta).await?;
    tx.commit().await?;
    Ok(after)
}

pub(super) async fn set_archived(
    pool: &PgPool,
    project: &str,
    key: &str,
    archived: bool,
    meta: &WriteMeta,
) -> StoreResult<FlagRecord> {
    let mut tx = write::begin(pool).await?;
    let (environments, before) = lock_flag(&mut tx, project, key).await?;
    checks::check_version(meta, before.version)?;
    checks::check_archiving(&before, archived)?;
    let row = sqlx::query(
        "UPDATE flags SET archived = $3, version = version + 1, updated_at = $4 \
         WHERE project = $1 AND key = $2 RETURNING *",
    )
    .bind(project)
    .bind(key)
    .bind(archived)
    .bind(meta.at)
    .fetch_one(&mut *tx)
    .await?;
    let after = records::flag(&row)?;
    let versions = write::bump(&mut tx, project, &environments).await?;
    let change = NewChange::flag(
        project,
        key,
        archive_action(archived),
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
    let (environments, before) = lock_flag(&mut tx, project, key).await?;
    checks::check_version(meta, before.version)?;
    checks::check_deletable(&before)?;
    sqlx::query("DELETE FROM flags WHERE project = $1 AND key = $2")
        .bind(project)
        .bind(key)
        .execute(&mut *tx)
        .await?;
    let versions = write::bump(&mut tx, project, &environments).await?;
    let change = NewChange::flag(project, key, ChangeAction::Deleted, Some(&before), None)?;
    write::append(&mut tx, change, versions, meta).await?;
    tx.commit().await?;
    Ok(())
}

/// Locks what a write to a flag's definition needs: the project (shared),
/// every environment (their versions are bumped), then the flag row.
/// Returns the environments' keys and the flag as it was.
async fn lock_flag(
    conn: &mut PgConnection,
    project: &str,
    key: &str,
) -> StoreResult<(Vec<String>, FlagRecord)> {
    write::lock_project(conn, project, ProjectLock::Share).await?;
    let environments = write::keys(&write::lock_environments(conn, project).await?);
    let row = sqlx::query("SELECT * FROM flags WHERE project = $1 AND key = $2 FOR UPDATE")
        .bind(project)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("flag {key}")))?;
    Ok((environments, records::flag(&row)?))
}
