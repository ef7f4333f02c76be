//! What every write shares.
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

use sqlx::postgres::{PgConnection, PgPool};
use sqlx::{Postgres, Transaction};

use crate::store::changes::NewChange;
use crate::store::{
    EnvironmentRecord, EnvironmentVersion, ProjectRecord, StoreError, StoreResult, WriteMeta,
};
use crate::store::{codec, records};

pub(super) type Tx = Transaction<'static, Postgres>;

/// The advisory lock key serializing change-log appends ("vexil_ch").
const CHANGE_LOG_LOCK: i64 = 0x7665_7869_6c5f_6368;

/// Starts a write (READ COMMITTED: every statement sees what committed
/// before it, and rows locked `FOR UPDATE` are re-read once the lock is
/// granted).
pub(super) async fn begin(pool: &PgPool) -> StoreResult<Tx> {
    Ok(pool.begin().await?)
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

/// Locks every environment of the project, in creation order.
pub(super) async fn lock_environments(
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
    let row = sqlx::query("SELECT * FROM environments WHERE project = $1 AND key = $2 FOR UPDATE")
        .bind(project)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("environment {key}")))?;
    records::environment(&row)
}

/// Adds one to the version of each named environment (already locked by
/// this transaction) and returns the new versions, in creation order.
pub(super) async fn bump(
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

/// The keys of environment records, for [`bump`].
pub(super) fn keys(environments: &[EnvironmentRecord]) -> Vec<String> {
    environments
        .iter()
        .map(|e| e.environment.key.clone())
        .collect()
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
    let exists = sqlx::query("SELECT 1 FROM projects WHERE key = $1")
        .bind(project)
        .fetch_optional(&mut *conn)
        .await;
    match exists {
        Ok(Some(_)) => StoreError::NotFound(what),
        Ok(None) => not_found_project(project),
        Err(error) => StoreError::Database(error),
    }
}
