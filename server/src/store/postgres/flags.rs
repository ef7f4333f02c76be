//! Flag definitions: create, update, archive and restore, delete.

use sqlx::Row;
use sqlx::postgres::{PgArguments, PgConnection, PgPool};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, Postgres};
use time::OffsetDateTime;
use vexil_proto::{Flag, FlagConfig};

use super::configs;
use super::write;
use crate::store::changes::{NewChange, archive_action};
use crate::store::configs::initial_config;
use crate::store::records::Columns;
use crate::store::{
    ChangeAction, FlagFilter, FlagRecord, Paged, StoreResult, WriteMeta, checks, codec, records,
};

/// The flag list's filter, shared by its count and its page. Binds: $1
/// project, $2 archived, $3 query (lowercase), $4 tag, $5 unevaluated since.
const LIST_WHERE: &str = "WHERE project = $1 AND archived = $2 \
     AND ($3::text IS NULL OR strpos(lower(key), $3) > 0 OR strpos(lower(name), $3) > 0 \
          OR strpos(lower(description), $3) > 0) \
     AND ($4::text IS NULL OR tags ? $4) \
     AND ($5::timestamptz IS NULL OR NOT EXISTS (SELECT 1 FROM flag_last_evaluated AS l \
          WHERE l.project = flags.project AND l.flag = flags.key AND l.at >= $5))";

pub(super) async fn list(
    pool: &PgPool,
    project: &str,
    filter: &FlagFilter,
) -> StoreResult<Paged<FlagRecord>> {
    // One snapshot for the count and the page.
    let mut tx = write::begin_read(pool).await?;
    write::project_exists(&mut tx, project).await?;
    let archived = filter.archived.unwrap_or(false);
    let query = filter.query.as_ref().map(|q| q.to_lowercase());
    let filtered = |sql: String| {
        sqlx::query(AssertSqlSafe(sql))
            .bind(project)
            .bind(archived)
            .bind(&query)
            .bind(&filter.tag)
            .bind(filter.unevaluated_since)
    };
    let total: i64 = filtered(format!("SELECT count(*) FROM flags {LIST_WHERE}"))
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    let (page, per_page, offset) = filter.page.window();
    let found = filtered(format!(
        "SELECT * FROM flags {LIST_WHERE} ORDER BY key LIMIT $6 OFFSET $7"
    ))
    .bind(i64::from(per_page))
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let items = found
        .iter()
        .map(records::flag)
        .collect::<StoreResult<_>>()?;
    records::paged(items, total, page, per_page)
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
    let sql = "SELECT * FROM flags WHERE project = $1 AND key = $2";
    records::flag(&write::row_in_project(conn, sql, project, key, "flag").await?)
}

/// `sql` with the definition's columns bound: $1 project, $2 key, $3 name,
/// $4 description, $5 tags, $6 owner, $7 kind, $8 variants, $9 temporary,
/// $10 the write's time.
fn bind_definition(
    sql: &'static str,
    project: &str,
    flag: &Flag,
    at: OffsetDateTime,
) -> StoreResult<Query<'static, Postgres, PgArguments>> {
    Ok(sqlx::query(sql)
        .bind(project)
        .bind(&flag.key)
        .bind(&flag.name)
        .bind(&flag.description)
        .bind(codec::to_value(&flag.tags)?)
        .bind(&flag.owner)
        .bind(codec::enum_name(&flag.kind)?)
        .bind(codec::to_value(&flag.variants)?)
        .bind(flag.temporary)
        .bind(at))
}

pub(super) async fn create(
    pool: &PgPool,
    project: &str,
    flag: &Flag,
    configs: &[(String, FlagConfig)],
    meta: &WriteMeta,
) -> StoreResult<FlagRecord> {
    let mut tx = write::begin(pool).await?;
    let environments = write::lock_project_wide(&mut tx, project).await?;
    checks::check_config_environments(configs, &environments)?;
    let insert = "INSERT INTO flags (project, key, name, description, tags, owner, kind, \
         variants, temporary, version, archived, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, FALSE, $10, $10) RETURNING *";
    let row = bind_definition(insert, project, flag, meta.at)?
        .fetch_one(&mut *tx)
        .await
        .map_err(write::exists(|| format!("flag {}", flag.key)))?;
    let record = records::flag(&row)?;
    for environment in &environments {
        let config = initial_config(flag, configs, environment);
        configs::store(&mut tx, project, &flag.key, environment, &config).await?;
    }
    let action = ChangeAction::Created;
    let change = NewChange::flag(project, &flag.key, action, None, Some(&record))?;
    write::commit_bumping(tx, project, &environments, change, meta).await?;
    Ok(record)
}

/// Every stored config of the project, for `check_variants_kept`.
async fn stored_configs(
    conn: &mut PgConnection,
    project: &str,
) -> StoreResult<Vec<checks::StoredConfig>> {
    let rows = sqlx::query(
        "SELECT flag, environment, config, version FROM flag_configs WHERE project = $1 \
         ORDER BY flag, environment",
    )
    .bind(project)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let flag = row.text("flag")?;
            let config = records::config(row, "version", &flag)?;
            Ok((flag, row.text("environment")?, config))
        })
        .collect()
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
    // Every config write locks its environment, which `lock_flag` holds:
    // the configs read here stay as they are until this commits.
    let configs = stored_configs(&mut tx, project).await?;
    checks::check_variants_kept(&before.flag, flag, &configs)?;
    let update = "UPDATE flags SET name = $3, description = $4, tags = $5, owner = $6, \
         kind = $7, variants = $8, temporary = $9, version = version + 1, updated_at = $10 \
         WHERE project = $1 AND key = $2 RETURNING *";
    let row = bind_definition(update, project, flag, meta.at)?
        .fetch_one(&mut *tx)
        .await?;
    let after = records::flag(&row)?;
    let action = ChangeAction::Updated;
    let change = NewChange::flag(project, &flag.key, action, Some(&before), Some(&after))?;
    write::commit_bumping(tx, project, &environments, change, meta).await?;
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
    let action = archive_action(archived);
    let change = NewChange::flag(project, key, action, Some(&before), Some(&after))?;
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
    let (environments, before) = lock_flag(&mut tx, project, key).await?;
    checks::check_version(meta, before.version)?;
    checks::check_deletable(&before)?;
    let delete = "DELETE FROM flags WHERE project = $1 AND key = $2";
    write::execute_keyed(&mut tx, delete, project, key).await?;
    let change = NewChange::flag(project, key, ChangeAction::Deleted, Some(&before), None)?;
    write::commit_bumping(tx, project, &environments, change, meta).await
}

/// Locks what a write to a flag's definition needs: the project (shared),
/// every environment (their versions are bumped), then the flag row.
/// Returns the environments' keys and the flag as it was.
async fn lock_flag(
    conn: &mut PgConnection,
    project: &str,
    key: &str,
) -> StoreResult<(Vec<String>, FlagRecord)> {
    let sql = "SELECT * FROM flags WHERE project = $1 AND key = $2 FOR UPDATE";
    write::lock_object(conn, sql, (project, key), "flag", records::flag).await
}
