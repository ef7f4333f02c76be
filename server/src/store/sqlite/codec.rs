//! How SQLite's columns read as [`Columns`]: timestamps as unix
//! nanoseconds, versions as `i64`, JSON and enum names as text (the records
//! are put together by `store::records`). Anything that does not read back
//! is [`StoreError::Corrupt`], never a panic.

use serde::de::DeserializeOwned;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite};
use time::OffsetDateTime;

use crate::store::codec::from_json;
use crate::store::records::Columns;
use crate::store::{StoreError, StoreResult};

/// A timestamp as stored: unix nanoseconds, which fit an `i64` until 2262.
pub(super) fn nanos(at: OffsetDateTime) -> StoreResult<i64> {
    i64::try_from(at.unix_timestamp_nanos())
        .map_err(|_| StoreError::Refused(format!("timestamp {at} is out of range")))
}

pub(super) fn timestamp(nanos: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .map_err(|e| StoreError::Corrupt(format!("timestamp {nanos}: {e}")))
}

/// A column's value; one that does not decode as `T` (text where a number
/// belongs, say) is corrupt data, not a database failure.
pub(super) fn col<'r, T>(row: &'r SqliteRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(column).map_err(|error| match error {
        sqlx::Error::ColumnDecode { index, source } => {
            StoreError::Corrupt(format!("column {index}: {source}"))
        }
        other => StoreError::Database(other),
    })
}

impl Columns for SqliteRow {
    fn text(&self, column: &str) -> StoreResult<String> {
        col(self, column)
    }

    fn optional_text(&self, column: &str) -> StoreResult<Option<String>> {
        col(self, column)
    }

    fn boolean(&self, column: &str) -> StoreResult<bool> {
        col(self, column)
    }

    fn integer(&self, column: &str) -> StoreResult<i64> {
        col(self, column)
    }

    fn time(&self, column: &str) -> StoreResult<OffsetDateTime> {
        timestamp(col(self, column)?)
    }

    fn optional_time(&self, column: &str) -> StoreResult<Option<OffsetDateTime>> {
        col::<Option<i64>>(self, column)?.map(timestamp).transpose()
    }

    fn optional_json<T: DeserializeOwned>(
        &self,
        column: &str,
        what: &str,
    ) -> StoreResult<Option<T>> {
        col::<Option<String>>(self, column)?
            .map(|text| from_json(&text, what))
            .transpose()
    }
}

// The columns each record is read from (`store::records`), in one place
// for every SELECT.

pub(super) const PROJECT_COLUMNS: &str = "key, name, description, version, created_at, updated_at";

pub(super) const ENVIRONMENT_COLUMNS: &str =
    "project, key, name, production, version, created_at, updated_at";

pub(super) const FLAG_COLUMNS: &str = "key, name, description, tags, owner, kind, variants, \
     temporary, version, archived, created_at, updated_at";

pub(super) const SEGMENT_COLUMNS: &str =
    "key, name, description, included, excluded, rules, version, created_at, updated_at";

pub(super) const USER_COLUMNS: &str =
    "id, username, password_hash, role, disabled, version, created_at, updated_at";

pub(super) const TOKEN_COLUMNS: &str = "id, kind, name, role, project, environments, created_by, \
     created_at, expires_at, last_used_at, revoked_at";

/// Maps a unique-constraint violation to `AlreadyExists(what)`, anything
/// else to a database error.
pub(super) fn unique(what: impl FnOnce() -> String) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::AlreadyExists(what()),
        _ => StoreError::Database(error),
    }
}
