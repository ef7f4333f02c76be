//! Evaluation counts and last-evaluated times (telemetry, no change log).
//!
//! Each increment is its own short transaction: it locks its environment
//! row, then its flag row, `FOR KEY SHARE` (what the foreign keys would
//! take anyway, in the order writers take theirs, so a flush never
//! deadlocks a write), skips the increment when either is gone, then
//! upserts, adding to the stored count. Increments are independent: a
//! flush that fails half-way keeps what it stored.

use sqlx::Row;
use sqlx::postgres::PgPool;
use time::OffsetDateTime;

use super::write;
use crate::store::usage::{count_column, variant_column, variant_from_column};
use crate::store::{LastEvaluated, StoreError, StoreResult, UsageBucket, UsageIncrement};

pub(super) async fn record(pool: &PgPool, increments: &[UsageIncrement]) -> StoreResult<u64> {
    let mut stored = 0;
    for increment in increments {
        if record_one(pool, increment).await? {
            stored += 1;
        }
    }
    Ok(stored)
}

/// Adds one increment; `false` when its flag or environment is gone.
async fn record_one(pool: &PgPool, increment: &UsageIncrement) -> StoreResult<bool> {
    let mut tx = write::begin(pool).await?;
    let environment =
        sqlx::query("SELECT 1 FROM environments WHERE project = $1 AND key = $2 FOR KEY SHARE")
            .bind(&increment.project)
            .bind(&increment.environment)
            .fetch_optional(&mut *tx)
            .await?;
    let flag = sqlx::query("SELECT 1 FROM flags WHERE project = $1 AND key = $2 FOR KEY SHARE")
        .bind(&increment.project)
        .bind(&increment.flag)
        .fetch_optional(&mut *tx)
        .await?;
    if environment.is_none() || flag.is_none() {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO flag_usage (project, environment, flag, variant, hour, count) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (project, flag, environment, hour, variant) DO UPDATE SET count = \
           CASE WHEN flag_usage.count > 9223372036854775807 - excluded.count \
                THEN 9223372036854775807 ELSE flag_usage.count + excluded.count END",
    )
    .bind(&increment.project)
    .bind(&increment.environment)
    .bind(&increment.flag)
    .bind(variant_column(increment.variant.as_deref()))
    .bind(increment.hour)
    .bind(count_column(increment.count))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO flag_last_evaluated (project, environment, flag, at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (project, flag, environment) DO UPDATE SET \
           at = GREATEST(flag_last_evaluated.at, excluded.at)",
    )
    .bind(&increment.project)
    .bind(&increment.environment)
    .bind(&increment.flag)
    .bind(increment.last_evaluated)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn flag_usage(
    pool: &PgPool,
    project: &str,
    flag: &str,
    environment: Option<&str>,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> StoreResult<Vec<UsageBucket>> {
    let rows = sqlx::query(
        "SELECT environment, variant, hour, count FROM flag_usage \
         WHERE project = $1 AND flag = $2 AND ($3::text IS NULL OR environment = $3) \
           AND hour >= $4 AND hour < $5 \
         ORDER BY hour, environment, variant",
    )
    .bind(project)
    .bind(flag)
    .bind(environment)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let count: i64 = row.try_get("count")?;
            Ok(UsageBucket {
                environment: row.try_get("environment")?,
                variant: variant_from_column(row.try_get("variant")?),
                hour: row.try_get("hour")?,
                count: u64::try_from(count)
                    .map_err(|_| StoreError::Corrupt(format!("usage count {count}")))?,
            })
        })
        .collect()
}

pub(super) async fn last_evaluated(
    pool: &PgPool,
    project: &str,
    flags: &[String],
) -> StoreResult<Vec<LastEvaluated>> {
    if flags.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT flag, environment, at FROM flag_last_evaluated \
         WHERE project = $1 AND flag = ANY($2) ORDER BY flag, environment",
    )
    .bind(project)
    .bind(flags)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(LastEvaluated {
                flag: row.try_get("flag")?,
                environment: row.try_get("environment")?,
                at: row.try_get("at")?,
            })
        })
        .collect()
}
