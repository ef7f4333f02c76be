//! Users, tokens (API tokens, integration tokens, SDK keys) and named
//! secrets. Account and token changes belong to no environment, and to no
//! project except SDK keys'; secrets are not changes at all.

use sqlx::SqliteConnection;
use time::OffsetDateTime;

use super::SqliteStore;
use super::codec::{self, TOKEN_COLUMNS, USER_COLUMNS, nanos};
use super::log::{Bump, commit, record};
use super::projects::project_row;
use super::rows::row_by_key;
use crate::store::changes::{NewChange, revoked_with_environment};
use crate::store::checks::{check_admin_remains, check_version};
use crate::store::codec::{enum_name, to_json, unsigned};
use crate::store::records;
use crate::store::{
    ChangeAction, StoreError, StoreResult, TokenFilter, TokenKind, TokenRecord, UserRecord,
    WriteMeta,
};

/// The enabled admins other than `username` (`BEGIN IMMEDIATE` holds the
/// write lock: none can change before the write commits).
async fn other_admins(conn: &mut SqliteConnection, username: &str) -> StoreResult<u64> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND username <> ?1",
    )
    .bind(username)
    .fetch_one(&mut *conn)
    .await?;
    unsigned(count, "count of admins")
}

async fn user_row(conn: &mut SqliteConnection, username: &str) -> StoreResult<UserRecord> {
    let table = ("users", USER_COLUMNS);
    records::user(&row_by_key(conn, table, "username", username, "user").await?)
}

async fn token_row(conn: &mut SqliteConnection, id: &str) -> StoreResult<TokenRecord> {
    records::token(&row_by_key(conn, ("tokens", TOKEN_COLUMNS), "id", id, "token").await?)
}

impl SqliteStore {
    pub(super) async fn secret_impl(
        &self,
        name: &str,
        generate: &(dyn Fn() -> String + Send + Sync),
    ) -> StoreResult<String> {
        let select = "SELECT value FROM settings WHERE name = ?1";
        let stored: Option<String> = sqlx::query_scalar(select)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(value) = stored {
            return Ok(value);
        }
        let mut tx = self.begin_write().await?;
        let stored: Option<String> = sqlx::query_scalar(select)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(value) = stored {
            return Ok(value);
        }
        let value = generate();
        sqlx::query("INSERT INTO settings (name, value) VALUES (?1, ?2)")
            .bind(name)
            .bind(&value)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(value)
    }

    pub(super) async fn list_users_impl(&self) -> StoreResult<Vec<UserRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(records::user).collect()
    }

    pub(super) async fn get_user_impl(&self, username: &str) -> StoreResult<UserRecord> {
        let mut conn = self.pool.acquire().await?;
        user_row(&mut conn, username).await
    }

    pub(super) async fn count_users_impl(&self) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        unsigned(count, "count")
    }

    pub(super) async fn create_user_impl(
        &self,
        user: &UserRecord,
        meta: &WriteMeta,
    ) -> StoreResult<UserRecord> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO users \
                 (id, username, password_hash, role, disabled, version, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&user.username)
        .bind(&user.password_hash)
        .bind(enum_name(&user.role)?)
        .bind(user.disabled)
        .bind(nanos(meta.at)?)
        .execute(&mut *tx)
        .await
        .map_err(codec::unique(|| format!("user {}", user.username)))?;
        let created = user_row(&mut tx, &user.username).await?;
        let change = NewChange::user(&user.username, ChangeAction::Created, None, Some(&created))?;
        commit(tx, meta, change, Bump::Nothing).await?;
        Ok(created)
    }

    pub(super) async fn update_user_impl(
        &self,
        user: &UserRecord,
        meta: &WriteMeta,
    ) -> StoreResult<UserRecord> {
        let mut tx = self.begin_write().await?;
        let before = user_row(&mut tx, &user.username).await?;
        check_version(meta, before.version)?;
        let after = UserRecord {
            role: user.role,
            disabled: user.disabled,
            ..before.clone()
        };
        let others = other_admins(&mut tx, &user.username).await?;
        check_admin_remains(&before, Some(&after), others)?;
        sqlx::query(
            "UPDATE users SET password_hash = ?2, role = ?3, disabled = ?4, \
                 version = version + 1, updated_at = ?5 \
             WHERE username = ?1",
        )
        .bind(&user.username)
        .bind(&user.password_hash)
        .bind(enum_name(&user.role)?)
        .bind(user.disabled)
        .bind(nanos(meta.at)?)
        .execute(&mut *tx)
        .await?;
        let after = user_row(&mut tx, &user.username).await?;
        let action = ChangeAction::Updated;
        let change = NewChange::user(&user.username, action, Some(&before), Some(&after))?;
        commit(tx, meta, change, Bump::Nothing).await?;
        Ok(after)
    }

    pub(super) async fn delete_user_impl(
        &self,
        username: &str,
        meta: &WriteMeta,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let before = user_row(&mut tx, username).await?;
        check_version(meta, before.version)?;
        check_admin_remains(&before, None, other_admins(&mut tx, username).await?)?;
        sqlx::query("DELETE FROM users WHERE username = ?1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        let change = NewChange::user(username, ChangeAction::Deleted, Some(&before), None)?;
        commit(tx, meta, change, Bump::Nothing).await
    }

    pub(super) async fn create_token_impl(
        &self,
        token: &TokenRecord,
        meta: &WriteMeta,
    ) -> StoreResult<TokenRecord> {
        let mut tx = self.begin_write().await?;
        if let Some(project) = &token.project {
            project_row(&mut tx, project).await?;
        }
        sqlx::query(
            "INSERT INTO tokens (id, kind, name, role, project, environments, created_by, \
                 created_at, expires_at, last_used_at, revoked_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, NULL)",
        )
        .bind(&token.id)
        .bind(enum_name(&token.kind)?)
        .bind(&token.name)
        .bind(token.role.as_ref().map(enum_name).transpose()?)
        .bind(token.project.as_deref())
        .bind(to_json(&token.environments)?)
        .bind(&token.created_by)
        .bind(nanos(token.created_at)?)
        .bind(nanos(token.expires_at)?)
        .execute(&mut *tx)
        .await
        .map_err(codec::unique(|| format!("token {}", token.id)))?;
        let created = token_row(&mut tx, &token.id).await?;
        let change = NewChange::token(&created, ChangeAction::Created, None, Some(&created))?;
        commit(tx, meta, change, Bump::Nothing).await?;
        Ok(created)
    }

    pub(super) async fn get_token_impl(&self, id: &str) -> StoreResult<TokenRecord> {
        let mut conn = self.pool.acquire().await?;
        token_row(&mut conn, id).await
    }

    pub(super) async fn list_tokens_impl(
        &self,
        filter: &TokenFilter,
    ) -> StoreResult<Vec<TokenRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens \
             WHERE (?1 IS NULL OR kind = ?1) \
               AND (?2 IS NULL OR project = ?2) \
               AND (?3 IS NULL OR EXISTS \
                    (SELECT 1 FROM json_each(tokens.environments) WHERE value = ?3)) \
               AND (?4 OR revoked_at IS NULL) \
             ORDER BY created_at, id"
        )))
        .bind(filter.kind.as_ref().map(enum_name).transpose()?)
        .bind(filter.project.as_deref())
        .bind(filter.environment.as_deref())
        .bind(filter.include_revoked)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(records::token).collect()
    }

    /// Revoking a revoked token changes nothing and logs nothing.
    pub(super) async fn revoke_token_impl(
        &self,
        id: &str,
        meta: &WriteMeta,
    ) -> StoreResult<TokenRecord> {
        let mut tx = self.begin_write().await?;
        let before = token_row(&mut tx, id).await?;
        if before.revoked_at.is_some() {
            return Ok(before);
        }
        sqlx::query("UPDATE tokens SET revoked_at = ?2 WHERE id = ?1")
            .bind(id)
            .bind(nanos(meta.at)?)
            .execute(&mut *tx)
            .await?;
        let after = token_row(&mut tx, id).await?;
        let change = NewChange::token(&after, ChangeAction::Revoked, Some(&before), Some(&after))?;
        commit(tx, meta, change, Bump::Nothing).await?;
        Ok(after)
    }

    pub(super) async fn touch_token_impl(&self, id: &str, at: OffsetDateTime) -> StoreResult<()> {
        let touched = sqlx::query("UPDATE tokens SET last_used_at = ?2 WHERE id = ?1")
            .bind(id)
            .bind(nanos(at)?)
            .execute(&self.pool)
            .await?;
        if touched.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("token {id}")));
        }
        Ok(())
    }
}

/// Revokes the live SDK keys of `environment` inside the caller's write
/// (deleting it), one change each; returns their ids.
pub(super) async fn revoke_environment_keys(
    conn: &mut SqliteConnection,
    project: &str,
    environment: &str,
    meta: &WriteMeta,
) -> StoreResult<Vec<String>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens \
         WHERE kind = ?1 AND project = ?2 AND revoked_at IS NULL \
           AND EXISTS (SELECT 1 FROM json_each(tokens.environments) WHERE value = ?3) \
         ORDER BY created_at, id"
    )))
    .bind(enum_name(&TokenKind::Sdk)?)
    .bind(project)
    .bind(environment)
    .fetch_all(&mut *conn)
    .await?;
    let meta = revoked_with_environment(meta, environment);
    let mut revoked = Vec::with_capacity(rows.len());
    for row in &rows {
        let before = records::token(row)?;
        sqlx::query("UPDATE tokens SET revoked_at = ?2 WHERE id = ?1")
            .bind(&before.id)
            .bind(nanos(meta.at)?)
            .execute(&mut *conn)
            .await?;
        let after = token_row(conn, &before.id).await?;
        let change = NewChange::token(&after, ChangeAction::Revoked, Some(&before), Some(&after))?;
        record(conn, &meta, change, Bump::Nothing).await?;
        revoked.push(before.id);
    }
    Ok(revoked)
}
