//! How a PostgreSQL row reads as [`Columns`]: native types (`TIMESTAMPTZ`,
//! `BIGINT`, `BOOLEAN`, `JSONB`) straight from the driver; the records are
//! put together by `store::records`.

use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use crate::store::StoreResult;
use crate::store::codec::from_value;
use crate::store::records::Columns;

fn get<'r, T>(row: &'r PgRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    Ok(row.try_get(column)?)
}

impl Columns for PgRow {
    fn text(&self, column: &str) -> StoreResult<String> {
        get(self, column)
    }

    fn optional_text(&self, column: &str) -> StoreResult<Option<String>> {
        get(self, column)
    }

    fn boolean(&self, column: &str) -> StoreResult<bool> {
        get(self, column)
    }

    fn integer(&self, column: &str) -> StoreResult<i64> {
        get(self, column)
    }

    fn time(&self, column: &str) -> StoreResult<OffsetDateTime> {
        get(self, column)
    }

    fn optional_time(&self, column: &str) -> StoreResult<Option<OffsetDateTime>> {
        get(self, column)
    }

    fn optional_json<T: DeserializeOwned>(
        &self,
        column: &str,
        what: &str,
    ) -> StoreResult<Option<T>> {
        get::<Option<Value>>(self, column)?
            .map(|value| from_value(value, what))
            .transpose()
    }
}
