//! Evaluation counts and last-evaluated times (telemetry, no change log).
//!
//! A batch of increments is one `BEGIN IMMEDIATE` transaction of upserts
//! that add to the stored count; an increment whose flag or environment is
//! gone inserts nothing (the `WHERE EXISTS`) and is skipped.

use sqlx::Row;
use time::OffsetDateTime;

use super::SqliteStore;
use super::codec::{nanos, timestamp};
use crate::store::usage::{count_column, variant_column, variant_from_column};
use crate::store::{LastEvaluated, StoreError, StoreResult, UsageBucket, UsageIncrement};

/// Both the flag and the environment still exist (?1 project, ?2
/// environment, ?3 flag).
const BOTH_EXIST: &str = "EXISTS (SELECT 1 FROM flags WHERE project = ?1 AND key = ?3) \
     AND EXISTS (SELECT 1 FROM environments WHERE project = ?1 AND key = ?2)";

impl SqliteStore {
    pub(super) async fn record_usage_impl(
        &self,
        increments: &[UsageIncrement],
    ) -> StoreResult<u64> {
        if increments.is_empty() {
            return Ok(0);
        }
        let add = format!(
            "INSERT INTO flag_usage (project, environment, flag, variant, hour, count) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE {BOTH_EXIST} \
             ON CONFLICT (project, flag, environment, hour, variant) DO UPDATE SET count = \
               CASE WHEN flag_usage.count > 9223372036854775807 - excluded.count \
                    THEN 9223372036854775807 ELSE flag_usage.count + excluded.count END"
        );
        let latest = format!(
            "INSERT INTO flag_last_evaluated (project, environment, flag, at) \
             SELECT ?1, ?2, ?3, ?4 WHERE {BOTH_EXIST} \
             ON CONFLICT (project, flag, environment) DO UPDATE SET \
               at = max(flag_last_evaluated.at, excluded.at)"
        );
        let mut stored = 0;
        let mut tx = self.begin_write().await?;
        for increment in increments {
            let added = sqlx::query(sqlx::AssertSqlSafe(add.clone()))
                .bind(&increment.project)
                .bind(&increment.environment)
                .bind(&increment.flag)
                .bind(variant_column(increment.variant.as_deref()))
                .bind(nanos(increment.hour)?)
                .bind(count_column(increment.count))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if added == 0 {
                continue;
            }
            stored += 1;
            sqlx::query(sqlx::AssertSqlSafe(latest.clone()))
                .bind(&increment.project)
                .bind(&increment.environment)
                .bind(&increment.flag)
                .bind(nanos(increment.last_evaluated)?)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(stored)
    }

    pub(super) async fn flag_usage_impl(
        &self,
        project: &str,
        flag: &str,
        environment: Option<&str>,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<UsageBucket>> {
        let rows = sqlx::query(
            "SELECT environment, variant, hour, count FROM flag_usage \
             WHERE project = ?1 AND flag = ?2 AND (?3 IS NULL OR environment = ?3) \
               AND hour >= ?4 AND hour < ?5 \
             ORDER BY hour, environment, variant",
        )
        .bind(project)
        .bind(flag)
        .bind(environment)
        .bind(nanos(from)?)
        .bind(nanos(to)?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let count: i64 = row.try_get("count")?;
                Ok(UsageBucket {
                    environment: row.try_get("environment")?,
                    variant: variant_from_column(row.try_get("variant")?),
                    hour: timestamp(row.try_get("hour")?)?,
                    count: u64::try_from(count)
                        .map_err(|_| StoreError::Corrupt(format!("usage count {count}")))?,
                })
            })
            .collect()
    }

    pub(super) async fn last_evaluated_impl(
        &self,
        project: &str,
        flags: &[String],
    ) -> StoreResult<Vec<LastEvaluated>> {
        if flags.is_empty() {
            return Ok(Vec::new());
        }
        let keys = serde_json::to_string(flags)
            .map_err(|e| StoreError::Corrupt(format!("flag keys: {e}")))?;
        let rows = sqlx::query(
            "SELECT flag, environment, at FROM flag_last_evaluated \
             WHERE project = ?1 AND flag IN (SELECT value FROM json_each(?2)) \
             ORDER BY flag, environment",
        )
        .bind(project)
        .bind(keys)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(LastEvaluated {
                    flag: row.try_get("flag")?,
                    environment: row.try_get("environment")?,
                    at: timestamp(row.try_get("at")?)?,
                })
            })
            .collect()
    }
}
