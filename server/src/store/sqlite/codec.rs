//! Between SQLite's columns and the store's records: timestamps as unix
//! nanoseconds, versions as `i64`, JSON and enum names as text. Anything
//! that does not read back is [`StoreError::Corrupt`], never a panic.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;
use vexil_proto::{Environment, Flag, FlagConfig, Project, Segment};

use crate::store::{
    EnvironmentRecord, FlagRecord, ProjectRecord, SegmentRecord, StoreError, StoreResult,
    TokenRecord, UserRecord, WriteMeta,
};

/// A timestamp as stored: unix nanoseconds, which fit an `i64` until 2262.
pub(super) fn nanos(at: OffsetDateTime) -> StoreResult<i64> {
    i64::try_from(at.unix_timestamp_nanos())
        .map_err(|_| StoreError::Refused(format!("timestamp {at} is out of range")))
}

pub(super) fn timestamp(nanos: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .map_err(|e| StoreError::Corrupt(format!("timestamp {nanos}: {e}")))
}

/// A version as stored (`INTEGER` is signed).
pub(super) fn version(stored: i64) -> StoreResult<u64> {
    u64::try_from(stored).map_err(|_| StoreError::Corrupt(format!("negative version {stored}")))
}

/// `StoreError::Conflict` unless `meta` expects `current` (or nothing).
pub(super) fn check_version(meta: &WriteMeta, current: u64) -> StoreResult<()> {
    match meta.expected_version {
        Some(expected) if expected != current => Err(StoreError::Conflict { expected, current }),
        _ => Ok(()),
    }
}

/// Any serializable value as JSON text for a column.
pub(super) fn to_json<T: Serialize + ?Sized>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("cannot serialize: {e}")))
}

/// A record as the change log's `before`/`after`.
pub(super) fn to_value<T: Serialize>(value: &T) -> StoreResult<Value> {
    serde_json::to_value(value).map_err(|e| StoreError::Corrupt(format!("cannot serialize: {e}")))
}

/// A JSON column back into its type; `what` names it in the error.
pub(super) fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// A unit enum's serde name (`"boolean"`, `"admin"`, ...) for a text column.
pub(super) fn enum_name<T: Serialize>(value: &T) -> StoreResult<String> {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => Ok(name),
        _ => Err(StoreError::Corrupt("enum without a name".into())),
    }
}

/// A text column back into a unit enum.
pub(super) fn from_name<T: DeserializeOwned>(name: &str, what: &str) -> StoreResult<T> {
    serde_json::from_value(Value::String(name.to_owned()))
        .map_err(|e| StoreError::Corrupt(format!("{what} {name:?}: {e}")))
}

fn time_col(row: &SqliteRow, column: &str) -> StoreResult<OffsetDateTime> {
    timestamp(row.try_get(column)?)
}

fn opt_time_col(row: &SqliteRow, column: &str) -> StoreResult<Option<OffsetDateTime>> {
    row.try_get::<Option<i64>, _>(column)?
        .map(timestamp)
        .transpose()
}

fn version_col(row: &SqliteRow, column: &str) -> StoreResult<u64> {
    version(row.try_get(column)?)
}

pub(super) const PROJECT_COLUMNS: &str = "key, name, description, version, created_at, updated_at";

pub(super) fn project(row: &SqliteRow) -> StoreResult<ProjectRecord> {
    Ok(ProjectRecord {
        project: Project {
            key: row.try_get("key")?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
        },
        version: version_col(row, "version")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

pub(super) const ENVIRONMENT_COLUMNS: &str =
    "project, key, name, production, version, created_at, updated_at";

pub(super) fn environment(row: &SqliteRow) -> StoreResult<EnvironmentRecord> {
    Ok(EnvironmentRecord {
        project: row.try_get("project")?,
        environment: Environment {
            key: row.try_get("key")?,
            name: row.try_get("name")?,
            production: row.try_get("production")?,
            version: version_col(row, "version")?,
        },
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

pub(super) const FLAG_COLUMNS: &str = "key, name, description, tags, owner, kind, variants, \
     temporary, version, archived, created_at, updated_at";

pub(super) fn flag(row: &SqliteRow) -> StoreResult<FlagRecord> {
    let key: String = row.try_get("key")?;
    let tags: String = row.try_get("tags")?;
    let kind: String = row.try_get("kind")?;
    let variants: String = row.try_get("variants")?;
    Ok(FlagRecord {
        flag: Flag {
            tags: from_json(&tags, &format!("tags of flag {key}"))?,
            kind: from_name(&kind, &format!("kind of flag {key}"))?,
            variants: from_json(&variants, &format!("variants of flag {key}"))?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            owner: row.try_get("owner")?,
            temporary: row.try_get("temporary")?,
            key,
        },
        version: version_col(row, "version")?,
        archived: row.try_get("archived")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

/// A config from its `config` and `version` columns (the column wins over
/// the JSON's own `version`).
pub(super) fn flag_config(row: &SqliteRow, flag: &str) -> StoreResult<FlagConfig> {
    let text: String = row.try_get("config")?;
    let mut config: FlagConfig = from_json(&text, &format!("config of flag {flag}"))?;
    config.version = version_col(row, "version")?;
    Ok(config)
}

pub(super) const SEGMENT_COLUMNS: &str =
    "key, name, description, included, excluded, rules, version, created_at, updated_at";

pub(super) fn segment(row: &SqliteRow) -> StoreResult<SegmentRecord> {
    let key: String = row.try_get("key")?;
    let included: String = row.try_get("included")?;
    let excluded: String = row.try_get("excluded")?;
    let rules: String = row.try_get("rules")?;
    Ok(SegmentRecord {
        segment: Segment {
            included: from_json(&included, &format!("included keys of segment {key}"))?,
            excluded: from_json(&excluded, &format!("excluded keys of segment {key}"))?,
            rules: from_json(&rules, &format!("rules of segment {key}"))?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            version: version_col(row, "version")?,
            key,
        },
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

pub(super) const USER_COLUMNS: &str =
    "id, username, password_hash, role, disabled, version, created_at, updated_at";

pub(super) fn user(row: &SqliteRow) -> StoreResult<UserRecord> {
    let role: String = row.try_get("role")?;
    Ok(UserRecord {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        password_hash: row.try_get("password_hash")?,
        role: from_name(&role, "user role")?,
        disabled: row.try_get("disabled")?,
        version: version_col(row, "version")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

pub(super) const TOKEN_COLUMNS: &str = "id, kind, name, role, project, environments, created_by, \
     created_at, expires_at, last_used_at, revoked_at";

pub(super) fn token(row: &SqliteRow) -> StoreResult<TokenRecord> {
    let id: String = row.try_get("id")?;
    let kind: String = row.try_get("kind")?;
    let role: Option<String> = row.try_get("role")?;
    let environments: String = row.try_get("environments")?;
    Ok(TokenRecord {
        kind: from_name(&kind, "token kind")?,
        role: role.map(|r| from_name(&r, "token role")).transpose()?,
        environments: from_json(&environments, &format!("environments of token {id}"))?,
        name: row.try_get("name")?,
        project: row.try_get("project")?,
        created_by: row.try_get("created_by")?,
        created_at: time_col(row, "created_at")?,
        expires_at: time_col(row, "expires_at")?,
        last_used_at: opt_time_col(row, "last_used_at")?,
        revoked_at: opt_time_col(row, "revoked_at")?,
        id,
    })
}

/// Maps a unique-constraint violation to `AlreadyExists(what)`, anything
/// else to a database error.
pub(super) fn unique(what: impl FnOnce() -> String) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::AlreadyExists(what()),
        _ => StoreError::Database(error),
    }
}
