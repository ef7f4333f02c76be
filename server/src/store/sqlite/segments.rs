//! Segments, and the per-environment snapshot SDKs evaluate.

use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Sqlite, SqliteConnection};
use vexil_proto::{FlagConfig, Operator, Segment, Snapshot, SnapshotFlag};

use super::SqliteStore;
use super::codec::{self, SEGMENT_COLUMNS, nanos};
use super::log::{Bump, commit};
use super::projects::{environment_row, project_row};
use super::rows::{delete_in_project, row_in_project};
use crate::store::changes::NewChange;
use crate::store::checks::{check_version, segment_in_use};
use crate::store::codec::to_json;
use crate::store::records::{self, Columns};
use crate::store::{ChangeAction, SegmentRecord, StoreResult, WriteMeta};

async fn segment_row(
    conn: &mut SqliteConnection,
    project: &str,
    key: &str,
) -> StoreResult<SegmentRecord> {
    let table = ("segments", SEGMENT_COLUMNS);
    records::segment(&row_in_project(conn, table, project, key, "segment").await?)
}

/// `sql` with the segment's columns bound: ?1 project, ?2 key, ?3 name,
/// ?4 description, ?5 included, ?6 excluded, ?7 rules, ?8 the write's time
/// (`at`, unix nanoseconds).
fn bind_segment(
    sql: &'static str,
    project: &str,
    segment: &Segment,
    at: i64,
) -> StoreResult<Query<'static, Sqlite, SqliteArguments>> {
    Ok(sqlx::query(sql)
        .bind(project)
        .bind(&segment.key)
        .bind(&segment.name)
        .bind(&segment.description)
        .bind(to_json(&segment.included)?)
        .bind(to_json(&segment.excluded)?)
        .bind(to_json(&segment.rules)?)
        .bind(at))
}

async fn segments_of(
    conn: &mut SqliteConnection,
    project: &str,
) -> StoreResult<Vec<SegmentRecord>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SEGMENT_COLUMNS} FROM segments WHERE project = ?1 ORDER BY key"
    )))
    .bind(project)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(records::segment).collect()
}

fn uses_segment(config: &FlagConfig, segment: &str) -> bool {
    config
        .rules
        .iter()
        .flat_map(|rule| &rule.clauses)
        .filter(|clause| clause.op == Operator::InSegment)
        .flat_map(|clause| &clause.values)
        .any(|value| value.as_str() == Some(segment))
}

impl SqliteStore {
    pub(super) async fn list_segments_impl(
        &self,
        project: &str,
    ) -> StoreResult<Vec<SegmentRecord>> {
        let mut tx = self.pool.begin().await?;
        project_row(&mut tx, project).await?;
        let segments = segments_of(&mut tx, project).await?;
        tx.commit().await?;
        Ok(segments)
    }

    pub(super) async fn get_segment_impl(
        &self,
        project: &str,
        key: &str,
    ) -> StoreResult<SegmentRecord> {
        let mut conn = self.pool.acquire().await?;
        segment_row(&mut conn, project, key).await
    }

    pub(super) async fn create_segment_impl(
        &self,
        project: &str,
        segment: &Segment,
        meta: &WriteMeta,
    ) -> StoreResult<SegmentRecord> {
        let mut tx = self.begin_write().await?;
        project_row(&mut tx, project).await?;
        let insert = "INSERT INTO segments (project, key, name, description, included, \
                 excluded, rules, version, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?8)";
        bind_segment(insert, project, segment, nanos(meta.at)?)?
            .execute(&mut *tx)
            .await
            .map_err(codec::unique(|| format!("segment {}", segment.key)))?;
        let created = segment_row(&mut tx, project, &segment.key).await?;
        let action = ChangeAction::Created;
        let change = NewChange::segment(project, &segment.key, action, None, Some(&created))?;
        commit(tx, meta, change, Bump::Project(project)).await?;
        Ok(created)
    }

    pub(super) async fn update_segment_impl(
        &self,
        project: &str,
        segment: &Segment,
        meta: &WriteMeta,
    ) -> StoreResult<SegmentRecord> {
        let mut tx = self.begin_write().await?;
        let before = segment_row(&mut tx, project, &segment.key).await?;
        check_version(meta, before.segment.version)?;
        let update = "UPDATE segments SET name = ?3, description = ?4, included = ?5, \
                 excluded = ?6, rules = ?7, version = version + 1, updated_at = ?8 \
             WHERE project = ?1 AND key = ?2";
        bind_segment(update, project, segment, nanos(meta.at)?)?
            .execute(&mut *tx)
            .await?;
        let after = segment_row(&mut tx, project, &segment.key).await?;
        let action = ChangeAction::Updated;
        let change =
            NewChange::segment(project, &segment.key, action, Some(&before), Some(&after))?;
        commit(tx, meta, change, Bump::Project(project)).await?;
        Ok(after)
    }

    pub(super) async fn delete_segment_impl(
        &self,
        project: &str,
        key: &str,
        meta: &WriteMeta,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let before = segment_row(&mut tx, project, key).await?;
        check_version(meta, before.segment.version)?;
        // The text search only narrows down; the parsed clauses decide.
        let rows = sqlx::query(
            "SELECT flag, environment, config, version FROM flag_configs \
             WHERE project = ?1 AND instr(config, ?2) > 0 ORDER BY flag, environment",
        )
        .bind(project)
        .bind(format!("\"{key}\""))
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let flag = row.text("flag")?;
            if uses_segment(&records::config(row, "version", &flag)?, key) {
                return Err(segment_in_use(key, &flag, &row.text("environment")?));
            }
        }
        delete_in_project(&mut tx, "segments", project, key).await?;
        let change = NewChange::segment(project, key, ChangeAction::Deleted, Some(&before), None)?;
        commit(tx, meta, change, Bump::Project(project)).await
    }

    pub(super) async fn snapshot_impl(
        &self,
        project: &str,
        environment: &str,
    ) -> StoreResult<Snapshot> {
        // One read transaction: the version and the contents are of the
        // same commit.
        let mut tx = self.pool.begin().await?;
        let snapshot = snapshot_in(&mut tx, project, environment).await?;
        tx.commit().await?;
        Ok(snapshot)
    }
}

/// The environment's snapshot as `conn` (a read transaction, or a write
/// checking a config) sees it.
pub(super) async fn snapshot_in(
    tx: &mut SqliteConnection,
    project: &str,
    environment: &str,
) -> StoreResult<Snapshot> {
    let env = environment_row(&mut *tx, project, environment).await?;
    let rows = sqlx::query(
        "SELECT f.key, f.kind, f.variants, c.config, c.version FROM flags f \
             JOIN flag_configs c ON c.project = f.project AND c.flag = f.key \
             WHERE f.project = ?1 AND c.environment = ?2 AND f.archived = 0 \
             ORDER BY f.key",
    )
    .bind(project)
    .bind(environment)
    .fetch_all(&mut *tx)
    .await?;
    let segments = segments_of(&mut *tx, project).await?;
    let flags = rows
        .iter()
        .map(|row| {
            let key = row.text("key")?;
            Ok(SnapshotFlag {
                kind: row.name("kind", &format!("kind of flag {key}"))?,
                variants: row.json("variants", &format!("variants of flag {key}"))?,
                config: records::config(row, "version", &key)?,
                key,
            })
        })
        .collect::<StoreResult<_>>()?;
    Ok(Snapshot {
        environment: environment.to_owned(),
        version: env.environment.version,
        flags,
        segments: segments.into_iter().map(|s| s.segment).collect(),
    })
}
