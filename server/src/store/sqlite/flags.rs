//! Flags (definitions, archive state) and their configs per environment.

use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::{AssertSqlSafe, Row, Sqlite, SqliteConnection};
use vexil_proto::{Flag, FlagConfig};

use super::SqliteStore;
use super::codec::{self, FLAG_COLUMNS, nanos};
use super::log::{Bump, commit};
use super::projects::{environment_row, project_row};
use super::rows::{delete_in_project, row_in_project};
use super::segments::snapshot_in;
use crate::store::changes::{NewChange, archive_action};
use crate::store::checks::{
    StoredConfig, check_archiving, check_config, check_config_environments, check_deletable,
    check_variants_kept, check_version, refuse_archived,
};
use crate::store::codec::{enum_name, signed, to_json};
use crate::store::configs::{ConfigWrite, initial_config};
use crate::store::records::{self, Columns};
use crate::store::{
    ChangeAction, FlagFilter, FlagRecord, Paged, StoreError, StoreResult, WriteMeta,
};

pub(super) async fn flag_row(
    conn: &mut SqliteConnection,
    project: &str,
    key: &str,
) -> StoreResult<FlagRecord> {
    let row = row_in_project(conn, ("flags", FLAG_COLUMNS), project, key, "flag").await?;
    records::flag(&row)
}

async fn config_row(
    conn: &mut SqliteConnection,
    project: &str,
    flag: &str,
    environment: &str,
) -> StoreResult<FlagConfig> {
    let row = sqlx::query(
        "SELECT config, version FROM flag_configs \
         WHERE project = ?1 AND flag = ?2 AND environment = ?3",
    )
    .bind(project)
    .bind(flag)
    .bind(environment)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| {
        StoreError::Corrupt(format!(
            "flag {flag} has no config in environment {environment}"
        ))
    })?;
    records::config(&row, "version", flag)
}

/// Every stored config of the project, for [`check_variants_kept`].
async fn stored_configs(
    conn: &mut SqliteConnection,
    project: &str,
) -> StoreResult<Vec<StoredConfig>> {
    let rows = sqlx::query(
        "SELECT flag, environment, config, version FROM flag_configs WHERE project = ?1 \
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

/// Inserts the first config of `flag` in `environment` (at version 1).
pub(super) async fn insert_config(
    conn: &mut SqliteConnection,
    project: &str,
    flag: &str,
    environment: &str,
    config: &FlagConfig,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO flag_configs (project, flag, environment, config, version) \
         VALUES (?1, ?2, ?3, ?4, 1)",
    )
    .bind(project)
    .bind(flag)
    .bind(environment)
    .bind(to_json(config)?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `sql` with the definition's columns bound: ?1 project, ?2 key, ?3 name,
/// ?4 description, ?5 tags, ?6 owner, ?7 kind, ?8 variants, ?9 temporary,
/// ?10 the write's time (`at`, unix nanoseconds).
fn bind_definition(
    sql: &'static str,
    project: &str,
    flag: &Flag,
    at: i64,
) -> StoreResult<Query<'static, Sqlite, SqliteArguments>> {
    Ok(sqlx::query(sql)
        .bind(project)
        .bind(&flag.key)
        .bind(&flag.name)
        .bind(&flag.description)
        .bind(to_json(&flag.tags)?)
        .bind(flag.owner.as_deref())
        .bind(enum_name(&flag.kind)?)
        .bind(to_json(&flag.variants)?)
        .bind(flag.temporary)
        .bind(at))
}

const FLAG_FILTER: &str = "project = ?1 AND archived = ?2 \
     AND (?3 IS NULL OR instr(lower(key), ?3) > 0 OR instr(lower(name), ?3) > 0 \
          OR instr(lower(description), ?3) > 0) \
     AND (?4 IS NULL OR EXISTS (SELECT 1 FROM json_each(flags.tags) WHERE value = ?4)) \
     AND (?5 IS NULL OR NOT EXISTS (SELECT 1 FROM flag_last_evaluated AS l \
          WHERE l.project = flags.project AND l.flag = flags.key AND l.at >= ?5))";

impl SqliteStore {
    pub(super) async fn list_flags_impl(
        &self,
        project: &str,
        filter: &FlagFilter,
    ) -> StoreResult<Paged<FlagRecord>> {
        let archived = filter.archived.unwrap_or(false);
        let query = filter.query.as_deref().map(str::to_lowercase);
        let (page, per_page, offset) = filter.page.window();
        let unevaluated_since = filter.unevaluated_since.map(nanos).transpose()?;
        let filtered = |sql: String| {
            sqlx::query(AssertSqlSafe(sql))
                .bind(project)
                .bind(archived)
                .bind(query.as_deref())
                .bind(filter.tag.as_deref())
                .bind(unevaluated_since)
        };
        let mut tx = self.pool.begin().await?;
        project_row(&mut tx, project).await?;
        let total: i64 = filtered(format!("SELECT count(*) FROM flags WHERE {FLAG_FILTER}"))
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let rows = filtered(format!(
            "SELECT {FLAG_COLUMNS} FROM flags WHERE {FLAG_FILTER} \
             ORDER BY key LIMIT ?6 OFFSET ?7"
        ))
        .bind(i64::from(per_page))
        .bind(offset)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let items = rows.iter().map(records::flag).collect::<StoreResult<_>>()?;
        records::paged(items, total, page, per_page)
    }

    pub(super) async fn get_flag_impl(&self, project: &str, key: &str) -> StoreResult<FlagRecord> {
        let mut conn = self.pool.acquire().await?;
        flag_row(&mut conn, project, key).await
    }

    pub(super) async fn create_flag_impl(
        &self,
        project: &str,
        flag: &Flag,
        configs: &[(String, FlagConfig)],
        meta: &WriteMeta,
    ) -> StoreResult<FlagRecord> {
        let at = nanos(meta.at)?;
        let mut tx = self.begin_write().await?;
        project_row(&mut tx, project).await?;
        let environments: Vec<String> =
            sqlx::query_scalar("SELECT key FROM environments WHERE project = ?1")
                .bind(project)
                .fetch_all(&mut *tx)
                .await?;
        check_config_environments(configs, &environments)?;
        let insert = "INSERT INTO flags (project, key, name, description, tags, owner, kind, \
                 variants, temporary, version, archived, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, 0, ?10, ?10)";
        bind_definition(insert, project, flag, at)?
            .execute(&mut *tx)
            .await
            .map_err(codec::unique(|| format!("flag {}", flag.key)))?;
        for environment in &environments {
            let config = initial_config(flag, configs, environment);
            insert_config(&mut tx, project, &flag.key, environment, &config).await?;
        }
        let created = flag_row(&mut tx, project, &flag.key).await?;
        let action = ChangeAction::Created;
        let change = NewChange::flag(project, &flag.key, action, None, Some(&created))?;
        commit(tx, meta, change, Bump::Project(project)).await?;
        Ok(created)
    }

    pub(super) async fn update_flag_impl(
        &self,
        project: &str,
        flag: &Flag,
        meta: &WriteMeta,
    ) -> StoreResult<FlagRecord> {
        let mut tx = self.begin_write().await?;
        let before = flag_row(&mut tx, project, &flag.key).await?;
        check_version(meta, before.version)?;
        refuse_archived(&before)?;
        check_variants_kept(&before.flag, flag, &stored_configs(&mut tx, project).await?)?;
        let update = "UPDATE flags SET name = ?3, description = ?4, tags = ?5, owner = ?6, \
                 kind = ?7, variants = ?8, temporary = ?9, version = version + 1, \
                 updated_at = ?10 \
             WHERE project = ?1 AND key = ?2";
        bind_definition(update, project, flag, nanos(meta.at)?)?
            .execute(&mut *tx)
            .await?;
        let after = flag_row(&mut tx, project, &flag.key).await?;
        let action = ChangeAction::Updated;
        let change = NewChange::flag(project, &flag.key, action, Some(&before), Some(&after))?;
        commit(tx, meta, change, Bump::Project(project)).await?;
        Ok(after)
    }

    pub(super) async fn set_flag_archived_impl(
        &self,
        project: &str,
        key: &str,
        archived: bool,
        meta: &WriteMeta,
    ) -> StoreResult<FlagRecord> {
        let mut tx = self.begin_write().await?;
        let before = flag_row(&mut tx, project, key).await?;
        check_version(meta, before.version)?;
        check_archiving(&before, archived)?;
        sqlx::query(
            "UPDATE flags SET archived = ?3, version = version + 1, updated_at = ?4 \
             WHERE project = ?1 AND key = ?2",
        )
        .bind(project)
        .bind(key)
        .bind(archived)
        .bind(nanos(meta.at)?)
        .execute(&mut *tx)
        .await?;
        let after = flag_row(&mut tx, project, key).await?;
        let action = archive_action(archived);
        let change = NewChange::flag(project, key, action, Some(&before), Some(&after))?;
        commit(tx, meta, change, Bump::Project(project)).await?;
        Ok(after)
    }

    pub(super) async fn delete_flag_impl(
        &self,
        project: &str,
        key: &str,
        meta: &WriteMeta,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let before = flag_row(&mut tx, project, key).await?;
        check_version(meta, before.version)?;
        check_deletable(&before)?;
        delete_in_project(&mut tx, "flags", project, key).await?;
        let change = NewChange::flag(project, key, ChangeAction::Deleted, Some(&before), None)?;
        commit(tx, meta, change, Bump::Project(project)).await
    }

    pub(super) async fn get_flag_config_impl(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
    ) -> StoreResult<FlagConfig> {
        let mut tx = self.pool.begin().await?;
        flag_row(&mut tx, project, flag).await?;
        environment_row(&mut tx, project, environment).await?;
        let config = config_row(&mut tx, project, flag, environment).await?;
        tx.commit().await?;
        Ok(config)
    }

    pub(super) async fn list_flag_configs_impl(
        &self,
        project: &str,
        flag: &str,
    ) -> StoreResult<Vec<(String, FlagConfig)>> {
        let mut tx = self.pool.begin().await?;
        flag_row(&mut tx, project, flag).await?;
        let rows = sqlx::query(
            "SELECT c.environment, c.config, c.version FROM flag_configs c \
             JOIN environments e ON e.project = c.project AND e.key = c.environment \
             WHERE c.project = ?1 AND c.flag = ?2 ORDER BY e.position",
        )
        .bind(project)
        .bind(flag)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.text("environment")?,
                    records::config(row, "version", flag)?,
                ))
            })
            .collect()
    }

    /// `put_flag_config` and `set_flag_enabled`: one write each, bumping
    /// the config's version and its environment's.
    pub(super) async fn write_flag_config(
        &self,
        project: &str,
        flag: &str,
        environment: &str,
        edit: ConfigWrite<'_>,
        meta: &WriteMeta,
    ) -> StoreResult<FlagConfig> {
        let mut tx = self.begin_write().await?;
        let (after, change) =
            write_config_in(&mut tx, project, flag, environment, edit, meta).await?;
        commit(tx, meta, change, Bump::Environment(project, environment)).await?;
        Ok(after)
    }
}

/// A config write inside the caller's write transaction: the config after
/// it and the change to append (with `Bump::Environment`) before commit.
pub(super) async fn write_config_in<'a>(
    tx: &mut SqliteConnection,
    project: &'a str,
    flag: &'a str,
    environment: &'a str,
    edit: ConfigWrite<'_>,
    meta: &WriteMeta,
) -> StoreResult<(FlagConfig, NewChange<'a>)> {
    let definition = flag_row(&mut *tx, project, flag).await?;
    environment_row(&mut *tx, project, environment).await?;
    let before = config_row(&mut *tx, project, flag, environment).await?;
    check_version(meta, before.version)?;
    refuse_archived(&definition)?;
    let (after, action) = edit.apply(&before);
    if edit.names_anything() {
        // `BEGIN IMMEDIATE` holds the write lock: what this reads stays
        // as it is until the config commits.
        let snapshot = snapshot_in(&mut *tx, project, environment).await?;
        check_config(&definition, &after, &snapshot)?;
    }
    sqlx::query(
        "UPDATE flag_configs SET config = ?4, version = ?5 \
         WHERE project = ?1 AND flag = ?2 AND environment = ?3",
    )
    .bind(project)
    .bind(flag)
    .bind(environment)
    .bind(to_json(&after)?)
    .bind(signed(after.version)?)
    .execute(&mut *tx)
    .await?;
    let change = NewChange::flag_config(project, flag, environment, action, &before, &after)?;
    Ok((after, change))
}
