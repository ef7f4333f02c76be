//! The change log: appending one change per write with the environment
//! versions it produced, and reading it back (the audit list and the
//! stream's `changes_since`).

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, Row, SqliteConnection};

use super::codec::{col, nanos};
use super::{SqliteStore, WriteTx};
use crate::store::changes::NewChange;
use crate::store::codec::{enum_name, to_json, unsigned};
use crate::store::records;
use crate::store::{Change, ChangeFilter, EnvironmentVersion, Paged, StoreResult, WriteMeta};

/// Which environment versions a change produces.
#[derive(Debug, Clone, Copy)]
pub(super) enum Bump<'a> {
    /// Projects, users, tokens, and deleting an environment.
    Nothing,
    /// A flag definition or a segment: every environment of the project +1.
    Project(&'a str),
    /// A flag config, or the environment itself: that environment +1.
    Environment(&'a str, &'a str),
    /// Environments the change just created at version 1: every one of the
    /// project (a new project), or one (a new environment).
    Created(&'a str, Option<&'a str>),
}

/// The end of a write: [`record`]s the change, then commits.
pub(super) async fn commit(
    mut tx: WriteTx,
    meta: &WriteMeta,
    change: NewChange<'_>,
    bump: Bump<'_>,
) -> StoreResult<()> {
    record(&mut tx, meta, change, bump).await?;
    tx.commit().await?;
    Ok(())
}

/// Appends `change` and applies `bump`, inside the caller's write
/// transaction.
pub(super) async fn record(
    conn: &mut SqliteConnection,
    meta: &WriteMeta,
    change: NewChange<'_>,
    bump: Bump<'_>,
) -> StoreResult<()> {
    let before = change.before.as_ref().map(to_json).transpose()?;
    let after = change.after.as_ref().map(to_json).transpose()?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO changes \
             (project, environment, resource, key, action, actor, reason, at, before, after) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
    )
    .bind(change.project)
    .bind(change.environment)
    .bind(change.resource.as_str())
    .bind(change.key)
    .bind(enum_name(&change.action)?)
    .bind(&meta.actor)
    .bind(meta.reason.as_deref())
    .bind(nanos(meta.at)?)
    .bind(before)
    .bind(after)
    .fetch_one(&mut *conn)
    .await?;

    let (project, environment, increment) = match bump {
        Bump::Nothing => return Ok(()),
        Bump::Project(project) => (project, None, true),
        Bump::Environment(project, environment) => (project, Some(environment), true),
        Bump::Created(project, environment) => (project, environment, false),
    };
    if increment {
        sqlx::query(
            "UPDATE environments SET version = version + 1 \
             WHERE project = ?1 AND (?2 IS NULL OR key = ?2)",
        )
        .bind(project)
        .bind(environment)
        .execute(&mut *conn)
        .await?;
    }
    // The primary key (project, environment, version) refuses a duplicate,
    // which would roll the whole write back.
    sqlx::query(
        "INSERT INTO environment_versions (project, environment, version, change_id) \
         SELECT project, key, version, ?3 FROM environments \
         WHERE project = ?1 AND (?2 IS NULL OR key = ?2)",
    )
    .bind(project)
    .bind(environment)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const CHANGE_COLUMNS: &str = "c.id, c.project, c.environment, c.resource, c.key, c.action, \
     c.actor, c.reason, c.at, c.before, c.after";

/// Fills in each change's `versions`, in the environments' order.
async fn attach_versions(conn: &mut SqliteConnection, changes: &mut [Change]) -> StoreResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let ids: Vec<u64> = changes.iter().map(|c| c.id).collect();
    let rows = sqlx::query(
        "SELECT v.change_id, v.environment, v.version FROM environment_versions v \
         JOIN environments e ON e.project = v.project AND e.key = v.environment \
         WHERE v.change_id IN (SELECT value FROM json_each(?1)) \
         ORDER BY v.change_id, e.position",
    )
    .bind(to_json(&ids)?)
    .fetch_all(&mut *conn)
    .await?;
    let index: HashMap<u64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    for row in &rows {
        let id = unsigned(col(row, "change_id")?, "environment_versions.change_id")?;
        if let Some(&i) = index.get(&id) {
            changes[i].versions.push(EnvironmentVersion {
                environment: col(row, "environment")?,
                version: unsigned(col(row, "version")?, "environment_versions.version")?,
            });
        }
    }
    Ok(())
}

const CHANGE_FILTER: &str = "c.project IS ?1 \
     AND (?2 IS NULL OR (c.resource IN ('flag', 'flag_config') AND c.key = ?2)) \
     AND (?3 IS NULL OR c.environment = ?3) \
     AND (?4 IS NULL OR c.actor = ?4) \
     AND (?5 IS NULL OR c.at >= ?5) \
     AND (?6 IS NULL OR c.at < ?6)";

impl SqliteStore {
    pub(super) async fn list_changes_impl(
        &self,
        project: Option<&str>,
        filter: &ChangeFilter,
    ) -> StoreResult<Paged<Change>> {
        let since = filter.since.map(nanos).transpose()?;
        let until = filter.until.map(nanos).transpose()?;
        let (page, per_page, offset) = filter.page.window();
        let filtered = |sql: String| {
            sqlx::query(AssertSqlSafe(sql))
                .bind(project)
                .bind(filter.flag.as_deref())
                .bind(filter.environment.as_deref())
                .bind(filter.actor.as_deref())
                .bind(since)
                .bind(until)
        };
        let mut tx = self.pool.begin().await?;
        let total: i64 = filtered(format!(
            "SELECT count(*) FROM changes c WHERE {CHANGE_FILTER}"
        ))
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let rows = filtered(format!(
            "SELECT {CHANGE_COLUMNS} FROM changes c WHERE {CHANGE_FILTER} \
             ORDER BY c.id DESC LIMIT ?7 OFFSET ?8"
        ))
        .bind(i64::from(per_page))
        .bind(offset)
        .fetch_all(&mut *tx)
        .await?;
        let mut items = rows
            .iter()
            .map(records::change)
            .collect::<StoreResult<Vec<_>>>()?;
        attach_versions(&mut tx, &mut items).await?;
        tx.commit().await?;
        records::paged(items, total, page, per_page)
    }

    pub(super) async fn changes_since_impl(
        &self,
        project: &str,
        environment: &str,
        after_version: u64,
    ) -> StoreResult<Vec<(u64, Change)>> {
        let after = i64::try_from(after_version).unwrap_or(i64::MAX);
        let mut tx = self.pool.begin().await?;
        super::projects::environment_row(&mut tx, project, environment).await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT v.version AS produced, {CHANGE_COLUMNS} FROM environment_versions v \
             JOIN changes c ON c.id = v.change_id \
             WHERE v.project = ?1 AND v.environment = ?2 AND v.version > ?3 \
             ORDER BY v.version"
        )))
        .bind(project)
        .bind(environment)
        .bind(after)
        .fetch_all(&mut *tx)
        .await?;
        let mut produced = Vec::with_capacity(rows.len());
        let mut changes = Vec::with_capacity(rows.len());
        for row in &rows {
            produced.push(unsigned(
                col(row, "produced")?,
                "environment_versions.version",
            )?);
            changes.push(records::change(row)?);
        }
        attach_versions(&mut tx, &mut changes).await?;
        tx.commit().await?;
        Ok(produced.into_iter().zip(changes).collect())
    }
}
