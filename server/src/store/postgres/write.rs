//! What every write shares (and the one read transaction reads share).
//!
//! Lock order, the same in every write so that none deadlocks another:
//! 1. the project row: `FOR UPDATE` by writes that change which
//!    environments exist or the project itself, `FOR SHARE` by every other
//!    write inside the project (so a flag created concurrently with an
//!    environment still gets a config there);
//! 2. the environment rows whose versions the write bumps, `FOR UPDATE`,
//!    in creation order;
//! 3. the object's own rows.
//!
//! Then: the `If-Match` check, the change itself, the version bumps, and
//! last the change-log append, which takes a transaction-scoped advisory
//! lock so that change ids increase in commit order across the store (an
//! identity column alone hands out ids in insert order, and a later id
//! could commit first). Nothing is locked after that lock, so it cannot be
//! part of a deadlock.

use sqlx::postgres::{PgConnection, PgPool, PgRow};
use sqlx::{Postgres, Transaction};

use crate::store::changes::NewChange;
use crate::store::{
    EnvironmentRecord, EnvironmentVersion, ProjectRecord, StoreError, StoreResult, WriteMeta,
};
use crate::store::{codec, records};

type Tx = Transaction<'static, Postgres>;

/// The advisory lock key serializing change-log appends ("vexil_ch").
const CHANGE_LOG_LOCK: i64 = 0x7665_7869_6c5f_6368;

/// Starts a write (READ COMMITTED: every statement sees what committed
/// before it, and rows locked `FOR UPDATE` are re-read once the lock is
/// granted).
pub(super) async fn begin(pool: &PgPool) -> StoreResult<Tx> {
    Ok(pool.begin().await?)
}

/// Starts a read whose statements must agree (a count and its page, a
/// snapshot's version and contents): one REPEATABLE READ snapshot.
pub(super) async fn begin_read(pool: &PgPool) -> StoreResult<Tx> {
    Ok(pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?)
}

/// How a write locks its project row.
#[derive(Debug, Clone, Copy)]
pub(super) enum ProjectLock {
    /// Writes inside the project (flags, configs, segments, one environment).
    Share,
    /// Writes to the project or to the set of its environments.
    Update,
}

/// Locks the project row; `NotFound` when there is none.
pub(super) async fn lock_project(
    conn: &mut PgConnection,
    key: &str,
    lock: ProjectLock,
) -> StoreResult<ProjectRecord> {
    let sql = match lock {
        ProjectLock::Share => "SELECT * FROM projects WHERE key = $1 FOR SHARE",
        ProjectLock::Update => "SELECT * FROM projects WHERE key = $1 FOR UPDATE",
    };
    let row = sqlx::query(sql)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| not_found_project(key))?;
    records::project(&row)
}

/// Locks what a write that bumps every environment of the project needs
/// (a flag's definition, a segment): the project row (shared), then every
/// environment. Returns the environments' keys, in creation order.
pub(super) async fn lock_project_wide(
    conn: &mut PgConnection,
    project: &str,
) -> StoreResult<Vec<String>> {
    lock_project(conn, project, ProjectLock::Share).await?;
    Ok(keys(&lock_environments(conn, project).await?))
}

/// Locks what a write to a project-wide object needs (see
/// [`lock_project_wide`]), then the object's row, by `sql` (binds: $1
/// project, $2 key; `FOR UPDATE`), decoded by `decode`. Returns the
/// environments' keys and the object as it was.
pub(super) async fn lock_object<T>(
    conn: &mut PgConnection,
    sql: &'static str,
    (project, key): (&str, &str),
    what: &str,
    decode: fn(&PgRow) -> StoreResult<T>,
) -> StoreResult<(Vec<String>, T)> {
    let environments = lock_project_wide(conn, project).await?;
    let row = keyed_row(conn, sql, project, key, what).await?;
    Ok((environments, decode(&row)?))
}

/// Locks every environment of the project, in creation order.
async fn lock_environments(
    conn: &mut PgConnection,
    project: &str,
) -> StoreResult<Vec<EnvironmentRecord>> {
    let found =
        sqlx::query("SELECT * FROM environments WHERE project = $1 ORDER BY position FOR UPDATE")
            .bind(project)
            .fetch_all(&mut *conn)
            .await?;
    found.iter().map(records::environment).collect()
}

/// Locks one environment; `NotFound` when there is none.
pub(super) async fn lock_environment(
    conn: &mut PgConnection,
    project: &str,
    key: &str,
) -> StoreResult<EnvironmentRecord> {
    let sql = "SELECT * FROM environments WHERE project = $1 AND key = $2 FOR UPDATE";
    records::environment(&keyed_row(conn, sql, project, key, "environment").await?)
}

/// Adds one to the version of each named environment (already locked by
/// this transaction) and returns the new versions, in creation order.
async fn bump(
    conn: &mut PgConnection,
    project: &str,
    environments: &[String],
) -> StoreResult<Vec<EnvironmentVersion>> {
    let mut bumped = sqlx::query_as::<_, (String, i64, i64)>(
        "UPDATE environments SET version = version + 1 \
         WHERE project = $1 AND key = ANY($2) RETURNING key, version, position",
    )
    .bind(project)
    .bind(environments)
    .fetch_all(&mut *conn)
    .await?;
    bumped.sort_by_key(|(_, _, position)| *position);
    bumped
        .into_iter()
        .map(|(environment, version, _)| {
            Ok(EnvironmentVersion {
                environment,
                version: codec::unsigned(version, "environments.version")?,
            })
        })
        .collect()
}

/// The version `environment` is at, as the change that put it there
/// records it.
pub(super) fn reached(environment: &EnvironmentRecord) -> EnvironmentVersion {
    EnvironmentVersion {
        environment: environment.environment.key.clone(),
        version: environment.environment.version,
    }
}

/// The keys of environment records, for [`bump`].
fn keys(environments: &[EnvironmentRecord]) -> Vec<String> {
    environments
        .iter()
        .map(|e| e.environment.key.clone())
        .collect()
}

/// The end of a write: appends `change` with `versions` (see [`append`])
/// and commits.
pub(super) async fn commit(
    mut tx: Tx,
    change: NewChange<'_>,
    versions: Vec<EnvironmentVersion>,
    meta: &WriteMeta,
) -> StoreResult<()> {
    append(&mut tx, change, versions, meta).await?;
    tx.commit().await?;
    Ok(())
}

/// The end of a write that bumps `environments` (already locked): bumps
/// them, appends `change` with their new versions, and commits.
pub(super) async fn commit_bumping(
    mut tx: Tx,
    project: &str,
    environments: &[String],
    change: NewChange<'_>,
    meta: &WriteMeta,
) -> StoreResult<()> {
    let versions = bump(&mut tx, project, environments).await?;
    commit(tx, change, versions, meta).await
}

/// Appends the change and `versions`, the environment versions it
/// produced (in creation order), as the last step of a write; returns its
/// id.
pub(super) async fn append(
    conn: &mut PgConnection,
    change: NewChange<'_>,
    versions: Vec<EnvironmentVersion>,
    meta: &WriteMeta,
) -> StoreResult<u64> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHANGE_LOG_LOCK)
        .execute(&mut *conn)
        .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO changes \
         (project, environment, resource, key, action, actor, reason, at, before, after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(change.project)
    .bind(change.environment)
    .bind(codec::enum_name(&change.resource)?)
    .bind(change.key)
    .bind(codec::enum_name(&change.action)?)
    .bind(&meta.actor)
    .bind(&meta.reason)
    .bind(meta.at)
    .bind(change.before)
    .bind(change.after)
    .fetch_one(&mut *conn)
    .await?;
    if let (Some(project), false) = (change.project, versions.is_empty()) {
        let environments: Vec<&str> = versions.iter().map(|v| v.environment.as_str()).collect();
        let numbers = versions
            .iter()
            .map(|v| codec::signed(v.version))
            .collect::<StoreResult<Vec<_>>>()?;
        sqlx::query(
            "INSERT INTO environment_versions (project, environment, version, change_id) \
             SELECT $1, e, v, $4 FROM UNNEST($2::text[], $3::bigint[]) AS u(e, v)",
        )
        .bind(project)
        .bind(environments)
        .bind(numbers)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    codec::unsigned(id, "changes.id")
}

/// Maps a unique violation (SQLSTATE 23505) to `AlreadyExists(what)`.
pub(super) fn exists(what: impl FnOnce() -> String) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            StoreError::AlreadyExists(what())
        }
        _ => StoreError::Database(error),
    }
}

pub(super) fn not_found_project(key: &str) -> StoreError {
    StoreError::NotFound(format!("project {key}"))
}

/// `NotFound` unless the project exists.
pub(super) async fn project_exists(conn: &mut PgConnection, key: &str) -> StoreResult<()> {
    sqlx::query("SELECT 1 FROM projects WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| not_found_project(key))?;
    Ok(())
}

/// `NotFound` for a missing object of a project: the project's when it is
/// the project that is missing, else `what`'s.
pub(super) async fn not_found_in(
    conn: &mut PgConnection,
    project: &str,
    what: String,
) -> StoreError {
    match project_exists(conn, project).await {
        Ok(()) => StoreError::NotFound(what),
        Err(error) => error,
    }
}

/// Every row `sql` (binds: $1 project) finds in one consistent read;
/// `NotFound` when the project is missing.
pub(super) async fn rows_in_project(
    pool: &PgPool,
    sql: &'static str,
    project: &str,
) -> StoreResult<Vec<PgRow>> {
    let mut tx = begin_read(pool).await?;
    project_exists(&mut tx, project).await?;
    let found = sqlx::query(sql).bind(project).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(found)
}

/// The row `sql` (binds: $1 project, $2 key) finds, if any.
async fn find_keyed(
    conn: &mut PgConnection,
    sql: &'static str,
    project: &str,
    key: &str,
) -> StoreResult<Option<PgRow>> {
    Ok(sqlx::query(sql)
        .bind(project)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?)
}

/// The row `sql` (binds: $1 project, $2 key) finds, typically locking it
/// in a project already locked; `NotFound` for `what` `key` when none.
pub(super) async fn keyed_row(
    conn: &mut PgConnection,
    sql: &'static str,
    project: &str,
    key: &str,
    what: &str,
) -> StoreResult<PgRow> {
    find_keyed(conn, sql, project, key)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("{what} {key}")))
}

/// The row `sql` (binds: $1 project, $2 key) finds; when none, `NotFound`
/// for the project if it is missing, else for `what` `key`.
pub(super) async fn row_in_project(
    conn: &mut PgConnection,
    sql: &'static str,
    project: &str,
    key: &str,
    what: &str,
) -> StoreResult<PgRow> {
    match find_keyed(conn, sql, project, key).await? {
        Some(row) => Ok(row),
        None => Err(not_found_in(conn, project, format!("{what} {key}")).await),
    }
}

/// Runs `sql` (binds: $1 project, $2 key) for its effect: deleting the
/// object.
pub(super) async fn execute_keyed(
    conn: &mut PgConnection,
    sql: &'static str,
    project: &str,
    key: &str,
) -> StoreResult<()> {
    sqlx::query(sql)
        .bind(project)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
