//! Flag configs, one per flag and environment: reading them, and the two
//! writes (replace, toggle), each bumping only its environment.

use sqlx::postgres::{PgConnection, PgPool, PgRow};
use vexil_proto::FlagConfig;

use super::write::{self, ProjectLock};
use super::{flags, log};
use crate::store::changes::NewChange;
use crate::store::configs::ConfigWrite;
use crate::store::records::Columns;
use crate::store::{
    FlagRecord, StoreError, StoreResult, WriteMeta, checks, codec, default_config, records,
};

pub(super) async fn get(
    pool: &PgPool,
    project: &str,
    flag: &str,
    environment: &str,
) -> StoreResult<FlagConfig> {
    let mut conn = pool.acquire().await?;
    let record = flags::flag_row(&mut conn, project, flag).await?;
    let row = sqlx::query(
        "SELECT c.config, c.version FROM environments e LEFT JOIN flag_configs c \
         ON c.project = e.project AND c.environment = e.key AND c.flag = $3 \
         WHERE e.project = $1 AND e.key = $2",
    )
    .bind(project)
    .bind(environment)
    .bind(flag)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("environment {environment}")))?;
    or_default(&row, "version", &record)
}

pub(super) async fn list(
    pool: &PgPool,
    project: &str,
    flag: &str,
) -> StoreResult<Vec<(String, FlagConfig)>> {
    let mut conn = pool.acquire().await?;
    let record = flags::flag_row(&mut conn, project, flag).await?;
    let found = sqlx::query(
        "SELECT e.key AS environment, c.config, c.version FROM environments e \
         LEFT JOIN flag_configs c \
         ON c.project = e.project AND c.environment = e.key AND c.flag = $2 \
         WHERE e.project = $1 ORDER BY e.position",
    )
    .bind(project)
    .bind(flag)
    .fetch_all(&mut *conn)
    .await?;
    found
        .iter()
        .map(|row| {
            Ok((
                row.text("environment")?,
                or_default(row, "version", &record)?,
            ))
        })
        .collect()
}

/// The config in `row` (its `config` and `version_column`), or the flag's
/// default config where an outer join found none.
pub(super) fn or_default(
    row: &PgRow,
    version_column: &str,
    flag: &FlagRecord,
) -> StoreResult<FlagConfig> {
    Ok(
        records::optional_config(row, version_column, &flag.flag.key)?
            .unwrap_or_else(|| default_config(&flag.flag)),
    )
}

/// `put_flag_config` and `set_flag_enabled`: one write to a flag's config
/// in one environment, bumping the config's version and its environment's.
pub(super) async fn write_config(
    pool: &PgPool,
    project: &str,
    flag: &str,
    environment: &str,
    edit: ConfigWrite<'_>,
    meta: &WriteMeta,
) -> StoreResult<FlagConfig> {
    let mut tx = write::begin(pool).await?;
    let (after, change) = write_config_in(&mut tx, project, flag, environment, edit, meta).await?;
    write::commit_bumping(tx, project, &[environment.to_string()], change, meta).await?;
    Ok(after)
}

/// A config write inside the caller's transaction (which commits it with
/// `commit_bumping` of `environment`): the config after it and the change.
pub(super) async fn write_config_in<'a>(
    tx: &mut PgConnection,
    project: &'a str,
    flag: &'a str,
    environment: &'a str,
    edit: ConfigWrite<'_>,
    meta: &WriteMeta,
) -> StoreResult<(FlagConfig, NewChange<'a>)> {
    write::lock_project(&mut *tx, project, ProjectLock::Share).await?;
    write::lock_environment(&mut *tx, project, environment).await?;
    let sql = "SELECT * FROM flags WHERE project = $1 AND key = $2 FOR SHARE";
    let record = records::flag(&write::keyed_row(&mut *tx, sql, project, flag, "flag").await?)?;
    let row = sqlx::query(
        "SELECT config, version FROM flag_configs \
         WHERE project = $1 AND flag = $2 AND environment = $3 FOR UPDATE",
    )
    .bind(project)
    .bind(flag)
    .bind(environment)
    .fetch_optional(&mut *tx)
    .await?;
    let before = match &row {
        Some(row) => or_default(row, "version", &record)?,
        None => default_config(&record.flag),
    };
    checks::check_version(meta, before.version)?;
    checks::refuse_archived(&record)?;
    let (after, action) = edit.apply(&before);
    if edit.names_anything() {
        // Read after the locks: a segment delete, a flag's archive or
        // delete, a variant removal and another config write in this
        // environment all lock this environment too, so what this reads
        // cannot change before the config commits.
        let snapshot = log::snapshot_in(&mut *tx, project, environment).await?;
        checks::check_config(&record, &after, &snapshot)?;
    }
    store(&mut *tx, project, flag, environment, &after).await?;
    let change = NewChange::flag_config(project, flag, environment, action, &before, &after)?;
    Ok((after, change))
}

/// Inserts or replaces a config, its version column taken from `config`.
pub(super) async fn store(
    conn: &mut PgConnection,
    project: &str,
    flag: &str,
    environment: &str,
    config: &FlagConfig,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO flag_configs (project, flag, environment, config, version) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (project, flag, environment) \
         DO UPDATE SET config = EXCLUDED.config, version = EXCLUDED.version",
    )
    .bind(project)
    .bind(flag)
    .bind(environment)
    .bind(codec::to_value(config)?)
    .bind(codec::signed(config.version)?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
