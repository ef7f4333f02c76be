//! Users, tokens and named secrets. User and token writes go to the change
//! log but bump no environment.

use sqlx::postgres::{PgConnection, PgExecutor, PgPool, PgRow};
use time::OffsetDateTime;

use super::write;
use crate::store::changes::{NewChange, revoked_with_environment};
use crate::store::{
    ChangeAction, StoreError, StoreResult, TokenFilter, TokenKind, TokenRecord, UserRecord,
    WriteMeta, checks, codec, records,
};

pub(super) async fn secret(
    pool: &PgPool,
    name: &str,
    generate: &(dyn Fn() -> String + Send + Sync),
) -> StoreResult<String> {
    let select = sqlx::query_scalar("SELECT value FROM settings WHERE name = $1").bind(name);
    if let Some(value) = select.fetch_optional(pool).await? {
        return Ok(value);
    }
    // Replicas starting together may all get here; the first insert wins
    // and everyone reads the winner's value.
    sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(name)
        .bind(generate())
        .execute(pool)
        .await?;
    Ok(
        sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_one(pool)
            .await?,
    )
}

pub(super) async fn list_users(pool: &PgPool) -> StoreResult<Vec<UserRecord>> {
    let found = sqlx::query("SELECT * FROM users ORDER BY username")
        .fetch_all(pool)
        .await?;
    found.iter().map(records::user).collect()
}

pub(super) async fn get_user(pool: &PgPool, username: &str) -> StoreResult<UserRecord> {
    let sql = "SELECT * FROM users WHERE username = $1";
    records::user(&row_by_key(pool, sql, username, "user").await?)
}

pub(super) async fn count_users(pool: &PgPool) -> StoreResult<u64> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(pool)
        .await?;
    codec::unsigned(count, "count")
}

pub(super) async fn create_user(
    pool: &PgPool,
    user: &UserRecord,
    meta: &WriteMeta,
) -> StoreResult<UserRecord> {
    let mut tx = write::begin(pool).await?;
    let row = sqlx::query(
        "INSERT INTO users (id, username, password_hash, role, disabled, version, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $6) RETURNING *",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&user.username)
    .bind(&user.password_hash)
    .bind(codec::enum_name(&user.role)?)
    .bind(user.disabled)
    .bind(meta.at)
    .fetch_one(&mut *tx)
    .await
    .map_err(write::exists(|| format!("user {}", user.username)))?;
    let record = records::user(&row)?;
    let change = NewChange::user(&record.username, ChangeAction::Created, None, Some(&record))?;
    write::commit(tx, change, Vec::new(), meta).await?;
    Ok(record)
}

pub(super) async fn update_user(
    pool: &PgPool,
    user: &UserRecord,
    meta: &WriteMeta,
) -> StoreResult<UserRecord> {
    let mut tx = write::begin(pool).await?;
    let admins = lock_enabled_admins(&mut tx).await?;
    let before = lock_user(&mut tx, &user.username).await?;
    checks::check_version(meta, before.version)?;
    let others = others(&admins, &user.username);
    let after = UserRecord {
        role: user.role,
        disabled: user.disabled,
        ..before.clone()
    };
    checks::check_admin_remains(&before, Some(&after), others)?;
    let row = sqlx::query(
        "UPDATE users SET password_hash = $2, role = $3, disabled = $4, \
         version = version + 1, updated_at = $5 WHERE username = $1 RETURNING *",
    )
    .bind(&user.username)
    .bind(&user.password_hash)
    .bind(codec::enum_name(&user.role)?)
    .bind(user.disabled)
    .bind(meta.at)
    .fetch_one(&mut *tx)
    .await?;
    let after = records::user(&row)?;
    let action = ChangeAction::Updated;
    let change = NewChange::user(&user.username, action, Some(&before), Some(&after))?;
    write::commit(tx, change, Vec::new(), meta).await?;
    Ok(after)
}

pub(super) async fn delete_user(
    pool: &PgPool,
    username: &str,
    meta: &WriteMeta,
) -> StoreResult<()> {
    let mut tx = write::begin(pool).await?;
    let admins = lock_enabled_admins(&mut tx).await?;
    let before = lock_user(&mut tx, username).await?;
    checks::check_version(meta, before.version)?;
    checks::check_admin_remains(&before, None, others(&admins, username))?;
    sqlx::query("DELETE FROM users WHERE username = $1")
        .bind(username)
        .execute(&mut *tx)
        .await?;
    let change = NewChange::user(username, ChangeAction::Deleted, Some(&before), None)?;
    write::commit(tx, change, Vec::new(), meta).await
}

/// Locks every enabled admin's row, in username order, before the user
/// row a write changes: two writes demoting, disabling or deleting the
/// last two admins then run one after the other, and the second sees the
/// first's result (READ COMMITTED re-checks a locked row's `WHERE` once
/// the lock is granted). Taking this lock first keeps the order the same
/// in every user write, so they cannot deadlock.
async fn lock_enabled_admins(conn: &mut PgConnection) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT username FROM users WHERE role = 'admin' AND NOT disabled \
         ORDER BY username FOR UPDATE",
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// How many of `admins` are not `username`.
fn others(admins: &[String], username: &str) -> u64 {
    admins.iter().filter(|a| *a != username).count() as u64
}

async fn lock_user(conn: &mut PgConnection, username: &str) -> StoreResult<UserRecord> {
    let sql = "SELECT * FROM users WHERE username = $1 FOR UPDATE";
    records::user(&row_by_key(conn, sql, username, "user").await?)
}

/// The row `sql` (binds: $1 `key`) finds; `NotFound` for `what` `key` when
/// there is none.
async fn row_by_key<'c>(
    executor: impl PgExecutor<'c>,
    sql: &'static str,
    key: &str,
    what: &str,
) -> StoreResult<PgRow> {
    sqlx::query(sql)
        .bind(key)
        .fetch_optional(executor)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("{what} {key}")))
}

pub(super) async fn create_token(
    pool: &PgPool,
    token: &TokenRecord,
    meta: &WriteMeta,
) -> StoreResult<TokenRecord> {
    let mut tx = write::begin(pool).await?;
    if let Some(project) = &token.project {
        // Shared: the key's project cannot go away before this commits.
        write::lock_project(&mut tx, project, write::ProjectLock::Share).await?;
    }
    let role = token.role.as_ref().map(codec::enum_name).transpose()?;
    let row = sqlx::query(
        "INSERT INTO tokens (id, kind, name, role, project, environments, created_by, \
         created_at, expires_at, last_used_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL) RETURNING *",
    )
    .bind(&token.id)
    .bind(codec::enum_name(&token.kind)?)
    .bind(&token.name)
    .bind(role)
    .bind(&token.project)
    .bind(codec::to_value(&token.environments)?)
    .bind(&token.created_by)
    .bind(token.created_at)
    .bind(token.expires_at)
    .fetch_one(&mut *tx)
    .await
    .map_err(write::exists(|| format!("token {}", token.id)))?;
    let record = records::token(&row)?;
    let change = NewChange::token(&record, ChangeAction::Created, None, Some(&record))?;
    write::commit(tx, change, Vec::new(), meta).await?;
    Ok(record)
}

pub(super) async fn get_token(pool: &PgPool, id: &str) -> StoreResult<TokenRecord> {
    let sql = "SELECT * FROM tokens WHERE id = $1";
    records::token(&row_by_key(pool, sql, id, "token").await?)
}

pub(super) async fn list_tokens(
    pool: &PgPool,
    filter: &TokenFilter,
) -> StoreResult<Vec<TokenRecord>> {
    let kind = filter.kind.as_ref().map(codec::enum_name).transpose()?;
    let found = sqlx::query(
        "SELECT * FROM tokens WHERE ($1::text IS NULL OR kind = $1) \
         AND ($2::text IS NULL OR project = $2) \
         AND ($3::text IS NULL OR environments ? $3) \
         AND ($4 OR revoked_at IS NULL) \
         ORDER BY created_at, id",
    )
    .bind(kind)
    .bind(&filter.project)
    .bind(&filter.environment)
    .bind(filter.include_revoked)
    .fetch_all(pool)
    .await?;
    found.iter().map(records::token).collect()
}

pub(super) async fn revoke_token(
    pool: &PgPool,
    id: &str,
    meta: &WriteMeta,
) -> StoreResult<TokenRecord> {
    let mut tx = write::begin(pool).await?;
    let sql = "SELECT * FROM tokens WHERE id = $1 FOR UPDATE";
    let before = records::token(&row_by_key(&mut *tx, sql, id, "token").await?)?;
    // Revoking a revoked token changes nothing and logs nothing.
    if before.revoked_at.is_some() {
        return Ok(before);
    }
    let row = sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1 RETURNING *")
        .bind(id)
        .bind(meta.at)
        .fetch_one(&mut *tx)
        .await?;
    let after = records::token(&row)?;
    let change = NewChange::token(&after, ChangeAction::Revoked, Some(&before), Some(&after))?;
    write::commit(tx, change, Vec::new(), meta).await?;
    Ok(after)
}

pub(super) async fn touch_token(pool: &PgPool, id: &str, at: OffsetDateTime) -> StoreResult<()> {
    let done = sqlx::query("UPDATE tokens SET last_used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("token {id}")));
    }
    Ok(())
}

/// Locks the live SDK keys of `environment`, inside the caller's write
/// (deleting it), before that write appends to the change log: nothing is
/// locked after the change-log lock (see `write`).
pub(super) async fn lock_environment_keys(
    conn: &mut PgConnection,
    project: &str,
    environment: &str,
) -> StoreResult<Vec<TokenRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM tokens WHERE kind = $1 AND project = $2 AND revoked_at IS NULL \
         AND environments ? $3 ORDER BY created_at, id FOR UPDATE",
    )
    .bind(codec::enum_name(&TokenKind::Sdk)?)
    .bind(project)
    .bind(environment)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(records::token).collect()
}

/// Revokes `keys` (locked by [`lock_environment_keys`]) because
/// `environment` was deleted, one change each; returns their ids.
pub(super) async fn revoke_environment_keys(
    conn: &mut PgConnection,
    keys: Vec<TokenRecord>,
    environment: &str,
    meta: &WriteMeta,
) -> StoreResult<Vec<String>> {
    let meta = revoked_with_environment(meta, environment);
    let mut revoked = Vec::with_capacity(keys.len());
    for before in keys {
        let row = sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1 RETURNING *")
            .bind(&before.id)
            .bind(meta.at)
            .fetch_one(&mut *conn)
            .await?;
        let after = records::token(&row)?;
        let change = NewChange::token(&after, ChangeAction::Revoked, Some(&before), Some(&after))?;
        write::append(conn, change, Vec::new(), &meta).await?;
        revoked.push(before.id);
    }
    Ok(revoked)
}
