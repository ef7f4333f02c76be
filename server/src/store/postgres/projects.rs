//! Projects, their environments, and the `default` project of a fresh
//! install.

use serde_json::Value;
use sqlx::postgres::{PgConnection, PgPool};
use time::OffsetDateTime;
use vexil_proto::{Environment, Project};

use super::accounts;
use super::write::{self, ProjectLock};
use crate::store::bootstrap::{BOOTSTRAPPED, default_project};
use crate::store::changes::NewChange;
use crate::store::{
    ChangeAction, EnvironmentRecord, ProjectRecord, StoreResult, WriteMeta, checks, codec,
    default_config, records,
};

/// Creates the `default` project with `development`, `staging` and
/// `production` the first time any replica starts on the database. Replicas
/// starting together race on the settings row: the first insert wins, the
/// others wait for it to commit and then insert nothing.
pub(super) async fn bootstrap(pool: &PgPool, now: OffsetDateTime) -> StoreResult<()> {
    let mut tx = write::begin(pool).await?;
    let claimed = sqlx::query(
        "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(BOOTSTRAPPED)
    .bind(now.unix_timestamp_nanos().to_string())
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() == 0 {
        return Ok(());
    }
    let default = default_project(now);
    create_in(
        &mut tx,
        &default.project,
        &default.environments,
        &default.meta,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn list(pool: &PgPool) -> StoreResult<Vec<ProjectRecord>> {
    let found = sqlx::query("SELECT * FROM projects ORDER BY key")
        .fetch_all(pool)
        .await?;
    found.iter().map(records::project).collect()
}

pub(super) async fn get(pool: &PgPool, key: &str) -> StoreResult<ProjectRecord> {
    let row = sqlx::query("SELECT * FROM projects WHERE key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| write::not_found_project(key))?;
    records::project(&row)
}

pub(super) async fn create(
    pool: &PgPool,
    project: &Project,
    environments: &[Environment],
    meta: &WriteMeta,
) -> StoreResult<ProjectRecord> {
    let mut tx = write::begin(pool).await?;
    let record = create_in(&mut tx, project, environments, meta).await?;
    tx.commit().await?;
    Ok(record)
}

/// Creates a project with its environments (each at version 1) inside a
/// write transaction.
async fn create_in(
    conn: &mut PgConnection,
    project: &Project,
    environments: &[Environment],
    meta: &WriteMeta,
) -> StoreResult<ProjectRecord> {
    let row = sqlx::query(
        "INSERT INTO projects (key, name, description, version, created_at, updated_at) \
         VALUES ($1, $2, $3, 1, $4, $4) RETURNING *",
    )
    .bind(&project.key)
    .bind(&project.name)
    .bind(&project.description)
    .bind(meta.at)
    .fetch_one(&mut *conn)
    .await
    .map_err(write::exists(|| format!("project {}", project.key)))?;
    let record = records::project(&row)?;
    let mut versions = Vec::with_capacity(environments.len());
    for environment in environments {
        let created = insert_environment(conn, &project.key, environment, meta).await?;
        versions.push(write::reached(&created));
    }
    let change = NewChange::project(&project.key, ChangeAction::Created, None, Some(&record))?;
    write::append(conn, change, versions, meta).await?;
    Ok(record)
}

pub(super) async fn update(
    pool: &PgPool,
    project: &Project,
    meta: &WriteMeta,
) -> StoreResult<ProjectRecord> {
    let mut tx = write::begin(pool).await?;
    let before = write::lock_project(&mut tx, &project.key, ProjectLock::Update).await?;
    checks::check_version(meta, before.version)?;
    let row = sqlx::query(
        "UPDATE projects SET name = $2, description = $3, version = version + 1, \
         updated_at = $4 WHERE key = $1 RETURNING *",
    )
    .bind(&project.key)
    .bind(&project.name)
    .bind(&project.description)
    .bind(meta.at)
    .fetch_one(&mut *tx)
    .await?;
    let after = records::project(&row)?;
    let action = ChangeAction::Updated;
    let change = NewChange::project(&project.key, action, Some(&before), Some(&after))?;
    write::commit(tx, change, Vec::new(), meta).await?;
    Ok(after)
}

pub(super) async fn delete(pool: &PgPool, key: &str, meta: &WriteMeta) -> StoreResult<()> {
    let mut tx = write::begin(pool).await?;
    let before = write::lock_project(&mut tx, key, ProjectLock::Update).await?;
    checks::check_version(meta, before.version)?;
    sqlx::query("DELETE FROM projects WHERE key = $1")
        .bind(key)
        .execute(&mut *tx)
        .await?;
    let change = NewChange::project(key, ChangeAction::Deleted, Some(&before), None)?;
    write::commit(tx, change, Vec::new(), meta).await
}

pub(super) async fn list_environments(
    pool: &PgPool,
    project: &str,
) -> StoreResult<Vec<EnvironmentRecord>> {
    let sql = "SELECT * FROM environments WHERE project = $1 ORDER BY position";
    let found = write::rows_in_project(pool, sql, project).await?;
    found.iter().map(records::environment).collect()
}

pub(super) async fn get_environment(
    pool: &PgPool,
    project: &str,
    key: &str,
) -> StoreResult<EnvironmentRecord> {
    let mut conn = pool.acquire().await?;
    let sql = "SELECT * FROM environments WHERE project = $1 AND key = $2";
    let row = write::row_in_project(&mut conn, sql, project, key, "environment").await?;
    records::environment(&row)
}

pub(super) async fn create_environment(
    pool: &PgPool,
    project: &str,
    environment: &Environment,
    meta: &WriteMeta,
) -> StoreResult<EnvironmentRecord> {
    let mut tx = write::begin(pool).await?;
    // `FOR UPDATE` waits for flag writes in flight (they hold `FOR SHARE`),
    // so every flag, committed before or after, gets a config here.
    write::lock_project(&mut tx, project, ProjectLock::Update).await?;
    let record = insert_environment(&mut tx, project, environment, meta).await?;
    let action = ChangeAction::Created;
    let change = NewChange::environment(project, &environment.key, action, None, Some(&record))?;
    write::commit(tx, change, vec![write::reached(&record)], meta).await?;
    Ok(record)
}

/// Inserts the environment at version 1 with the default config of every
/// flag already in the project.
async fn insert_environment(
    conn: &mut PgConnection,
    project: &str,
    environment: &Environment,
    meta: &WriteMeta,
) -> StoreResult<EnvironmentRecord> {
    let row = sqlx::query(
        "INSERT INTO environments (project, key, name, production, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 1, $5, $5) RETURNING *",
    )
    .bind(project)
    .bind(&environment.key)
    .bind(&environment.name)
    .bind(environment.production)
    .bind(meta.at)
    .fetch_one(&mut *conn)
    .await
    .map_err(write::exists(|| format!("environment {}", environment.key)))?;
    let record = records::environment(&row)?;
    // Every flag, archived ones too (they may be restored), gets its
    // default config here.
    let flags = sqlx::query("SELECT * FROM flags WHERE project = $1")
        .bind(project)
        .fetch_all(&mut *conn)
        .await?;
    let mut keys = Vec::with_capacity(flags.len());
    let mut configs: Vec<Value> = Vec::with_capacity(flags.len());
    for row in &flags {
        let flag = records::flag(row)?;
        configs.push(codec::to_value(&default_config(&flag.flag))?);
        keys.push(flag.flag.key);
    }
    sqlx::query(
        "INSERT INTO flag_configs (project, flag, environment, config, version) \
         SELECT $1, f, $2, c, 1 FROM UNNEST($3::text[], $4::jsonb[]) AS u(f, c)",
    )
    .bind(project)
    .bind(&environment.key)
    .bind(keys)
    .bind(configs)
    .execute(&mut *conn)
    .await?;
    Ok(record)
}

pub(super) async fn update_environment(
    pool: &PgPool,
    project: &str,
    environment: &Environment,
    meta: &WriteMeta,
) -> StoreResult<EnvironmentRecord> {
    let mut tx = write::begin(pool).await?;
    write::lock_project(&mut tx, project, ProjectLock::Share).await?;
    let before = write::lock_environment(&mut tx, project, &environment.key).await?;
    checks::check_version(meta, before.environment.version)?;
    let row = sqlx::query(
        "UPDATE environments SET name = $3, production = $4, version = version + 1, \
         updated_at = $5 WHERE project = $1 AND key = $2 RETURNING *",
    )
    .bind(project)
    .bind(&environment.key)
    .bind(&environment.name)
    .bind(environment.production)
    .bind(meta.at)
    .fetch_one(&mut *tx)
    .await?;
    let after = records::environment(&row)?;
    let key = &environment.key;
    let action = ChangeAction::Updated;
    let change = NewChange::environment(project, key, action, Some(&before), Some(&after))?;
    write::commit(tx, change, vec![write::reached(&after)], meta).await?;
    Ok(after)
}

pub(super) async fn delete_environment(
    pool: &PgPool,
    project: &str,
    key: &str,
    meta: &WriteMeta,
) -> StoreResult<Vec<String>> {
    let mut tx = write::begin(pool).await?;
    write::lock_project(&mut tx, project, ProjectLock::Update).await?;
    let before = write::lock_environment(&mut tx, project, key).await?;
    checks::check_version(meta, before.environment.version)?;
    let keys = accounts::lock_environment_keys(&mut tx, project, key).await?;
    let delete = "DELETE FROM environments WHERE project = $1 AND key = $2";
    write::execute_keyed(&mut tx, delete, project, key).await?;
    let change = NewChange::environment(project, key, ChangeAction::Deleted, Some(&before), None)?;
    write::append(&mut tx, change, Vec::new(), meta).await?;
    // Logged after the deletion, as its consequence.
    let revoked = accounts::revoke_environment_keys(&mut tx, keys, key, meta).await?;
    tx.commit().await?;
    Ok(revoked)
}
