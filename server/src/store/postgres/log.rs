//! Reading what the writes produced: snapshots, the change log, and the
//! environment versions replicas poll.

use std::collections::HashMap;

use sqlx::postgres::{PgConnection, PgPool};
use sqlx::{AssertSqlSafe, Row};
use vexil_proto::{Snapshot, SnapshotFlag};

use super::{configs, write};
use crate::store::{Change, ChangeFilter, EnvironmentVersion, Paged, StoreResult, codec, records};

pub(super) async fn snapshot(
    pool: &PgPool,
    project: &str,
    environment: &str,
) -> StoreResult<Snapshot> {
    // One consistent view: the version, flags and segments read below are
    // exactly what that version's change left.
    let mut tx = write::begin_read(pool).await?;
    let snapshot = snapshot_in(&mut tx, project, environment).await?;
    tx.commit().await?;
    Ok(snapshot)
}

/// The environment's snapshot as `tx` (a read transaction, or a write
/// checking a config after its locks) sees it.
pub(super) async fn snapshot_in(
    tx: &mut PgConnection,
    project: &str,
    environment: &str,
) -> StoreResult<Snapshot> {
    let version = environment_version(&mut *tx, project, environment).await?;
    let flag_rows = sqlx::query(
        "SELECT f.*, c.config, c.version AS config_version FROM flags f \
         LEFT JOIN flag_configs c \
         ON c.project = f.project AND c.flag = f.key AND c.environment = $2 \
         WHERE f.project = $1 AND NOT f.archived ORDER BY f.key",
    )
    .bind(project)
    .bind(environment)
    .fetch_all(&mut *tx)
    .await?;
    let segment_rows = sqlx::query("SELECT * FROM segments WHERE project = $1 ORDER BY key")
        .bind(project)
        .fetch_all(&mut *tx)
        .await?;
    let mut flags = Vec::with_capacity(flag_rows.len());
    for row in &flag_rows {
        let record = records::flag(row)?;
        let config = configs::or_default(row, "config_version", &record)?;
        flags.push(SnapshotFlag {
            key: record.flag.key,
            kind: record.flag.kind,
            variants: record.flag.variants,
            config,
        });
    }
    let segments = segment_rows
        .iter()
        .map(|row| Ok(records::segment(row)?.segment))
        .collect::<StoreResult<_>>()?;
    Ok(Snapshot {
        environment: environment.to_string(),
        version,
        flags,
        segments,
    })
}

/// The change log's filter, shared by its count and its page. Binds: $1
/// project (NULL: accounts and tokens), $2 flag, $3 environment, $4 actor,
/// $5 since, $6 until.
const CHANGES_WHERE: &str = "WHERE (project = $1 OR ($1::text IS NULL AND project IS NULL)) \
     AND ($2::text IS NULL OR (key = $2 AND resource IN ('flag', 'flag_config'))) \
     AND ($3::text IS NULL OR environment = $3) \
     AND ($4::text IS NULL OR actor = $4) \
     AND ($5::timestamptz IS NULL OR at >= $5) \
     AND ($6::timestamptz IS NULL OR at < $6)";

pub(super) async fn list_changes(
    pool: &PgPool,
    project: Option<&str>,
    filter: &ChangeFilter,
) -> StoreResult<Paged<Change>> {
    let mut tx = write::begin_read(pool).await?;
    let filtered = |sql: String| {
        sqlx::query(AssertSqlSafe(sql))
            .bind(project)
            .bind(&filter.flag)
            .bind(&filter.environment)
            .bind(&filter.actor)
            .bind(filter.since)
            .bind(filter.until)
    };
    let total: i64 = filtered(format!("SELECT count(*) FROM changes {CHANGES_WHERE}"))
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    let (page, per_page, offset) = filter.page.window();
    let found = filtered(format!(
        "SELECT * FROM changes {CHANGES_WHERE} ORDER BY id DESC LIMIT $7 OFFSET $8"
    ))
    .bind(i64::from(per_page))
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    let mut items = found
        .iter()
        .map(records::change)
        .collect::<StoreResult<Vec<_>>>()?;
    attach_versions(&mut tx, &mut items).await?;
    tx.commit().await?;
    records::paged(items, total, page, per_page)
}

pub(super) async fn changes_since(
    pool: &PgPool,
    project: &str,
    environment: &str,
    after_version: u64,
) -> StoreResult<Vec<(u64, Change)>> {
    let mut tx = write::begin_read(pool).await?;
    environment_version(&mut tx, project, environment).await?;
    let found = sqlx::query(
        "SELECT c.*, ev.version AS produced FROM environment_versions ev \
         JOIN changes c ON c.id = ev.change_id \
         WHERE ev.project = $1 AND ev.environment = $2 AND ev.version > $3 \
         ORDER BY ev.version",
    )
    .bind(project)
    .bind(environment)
    .bind(i64::try_from(after_version).unwrap_or(i64::MAX))
    .fetch_all(&mut *tx)
    .await?;
    let mut produced = Vec::with_capacity(found.len());
    let mut changes = Vec::with_capacity(found.len());
    for row in &found {
        produced.push(codec::unsigned(
            row.try_get("produced")?,
            "environment_versions",
        )?);
        changes.push(records::change(row)?);
    }
    attach_versions(&mut tx, &mut changes).await?;
    tx.commit().await?;
    Ok(produced.into_iter().zip(changes).collect())
}

/// Fills in each change's `versions`, in its environments' creation order
/// (versions of environments deleted since are gone with them).
async fn attach_versions(conn: &mut PgConnection, changes: &mut [Change]) -> StoreResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let ids = changes
        .iter()
        .map(|c| codec::signed(c.id))
        .collect::<StoreResult<Vec<_>>>()?;
    let found = sqlx::query_as::<_, (i64, String, i64)>(
        "SELECT ev.change_id, ev.environment, ev.version FROM environment_versions ev \
         JOIN environments e ON e.project = ev.project AND e.key = ev.environment \
         WHERE ev.change_id = ANY($1) ORDER BY ev.change_id, e.position",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let index: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    for (id, environment, version) in found {
        if let Some(&i) = index.get(&id) {
            changes[i].versions.push(EnvironmentVersion {
                environment,
                version: codec::unsigned(version, "environment_versions.version")?,
            });
        }
    }
    Ok(())
}

/// The environment's version; `NotFound` for it, or for its project when
/// that is missing.
async fn environment_version(
    conn: &mut PgConnection,
    project: &str,
    environment: &str,
) -> StoreResult<u64> {
    let version: Option<i64> =
        sqlx::query_scalar("SELECT version FROM environments WHERE project = $1 AND key = $2")
            .bind(project)
            .bind(environment)
            .fetch_optional(&mut *conn)
            .await?;
    match version {
        Some(version) => codec::unsigned(version, "environments.version"),
        None => Err(write::not_found_in(conn, project, format!("environment {environment}")).await),
    }
}

pub(super) async fn environment_versions(pool: &PgPool) -> StoreResult<Vec<(String, String, u64)>> {
    let found = sqlx::query_as::<_, (String, String, i64)>(
        "SELECT project, key, version FROM environments ORDER BY project, position",
    )
    .fetch_all(pool)
    .await?;
    found
        .into_iter()
        .map(|(project, key, version)| {
            Ok((
                project,
                key,
                codec::unsigned(version, "environments.version")?,
            ))
        })
        .collect()
}
