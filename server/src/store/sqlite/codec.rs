//! Between SQLite's columns and the store's records: timestamps as unix
//! nanoseconds, versions as `i64`, JSON and enum names as text. Anything
//! that does not read back is [`StoreError::Corrupt`], never a panic.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite};
use time::OffsetDateTime;
use vexil_proto::{Environment, Flag, FlagConfig, Project, Segment};

use crate::store::codec::{from_json, from_name, unsigned};
use crate::store::{
    EnvironmentRecord, FlagRecord, ProjectRecord, SegmentRecord, StoreError, StoreResult,
    TokenRecord, UserRecord,
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

fn time_col(row: &SqliteRow, column: &str) -> StoreResult<OffsetDateTime> {
    timestamp(col(row, column)?)
}

fn opt_time_col(row: &SqliteRow, column: &str) -> StoreResult<Option<OffsetDateTime>> {
    col::<Option<i64>>(row, column)?.map(timestamp).transpose()
}

fn version_col(row: &SqliteRow, column: &str) -> StoreResult<u64> {
    unsigned(col(row, column)?, column)
}

pub(super) const PROJECT_COLUMNS: &str = "key, name, description, version, created_at, updated_at";

pub(super) fn project(row: &SqliteRow) -> StoreResult<ProjectRecord> {
    Ok(ProjectRecord {
        project: Project {
            key: col(row, "key")?,
            name: col(row, "name")?,
            description: col(row, "description")?,
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
        project: col(row, "project")?,
        environment: Environment {
            key: col(row, "key")?,
            name: col(row, "name")?,
            production: col(row, "production")?,
            version: version_col(row, "version")?,
        },
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

pub(super) const FLAG_COLUMNS: &str = "key, name, description, tags, owner, kind, variants, \
     temporary, version, archived, created_at, updated_at";

pub(super) fn flag(row: &SqliteRow) -> StoreResult<FlagRecord> {
    let key: String = col(row, "key")?;
    let tags: String = col(row, "tags")?;
    let kind: String = col(row, "kind")?;
    let variants: String = col(row, "variants")?;
    Ok(FlagRecord {
        flag: Flag {
            tags: from_json(&tags, &format!("tags of flag {key}"))?,
            kind: from_name(&kind, &format!("kind of flag {key}"))?,
            variants: from_json(&variants, &format!("variants of flag {key}"))?,
            name: col(row, "name")?,
            description: col(row, "description")?,
            owner: col(row, "owner")?,
            temporary: col(row, "temporary")?,
            key,
        },
        version: version_col(row, "version")?,
        archived: col(row, "archived")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

/// A config from its `config` and `version` columns (the column wins over
/// the JSON's own `version`).
pub(super) fn flag_config(row: &SqliteRow, flag: &str) -> StoreResult<FlagConfig> {
    let text: String = col(row, "config")?;
    let mut config: FlagConfig = from_json(&text, &format!("config of flag {flag}"))?;
    config.version = version_col(row, "version")?;
    Ok(config)
}

pub(super) const SEGMENT_COLUMNS: &str =
    "key, name, description, included, excluded, rules, version, created_at, updated_at";

pub(super) fn segment(row: &SqliteRow) -> StoreResult<SegmentRecord> {
    let key: String = col(row, "key")?;
    let included: String = col(row, "included")?;
    let excluded: String = col(row, "excluded")?;
    let rules: String = col(row, "rules")?;
    Ok(SegmentRecord {
        segment: Segment {
            included: from_json(&included, &format!("included keys of segment {key}"))?,
            excluded: from_json(&excluded, &format!("excluded keys of segment {key}"))?,
            rules: from_json(&rules, &format!("rules of segment {key}"))?,
            name: col(row, "name")?,
            description: col(row, "description")?,
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
    let role: String = col(row, "role")?;
    Ok(UserRecord {
        id: col(row, "id")?,
        username: col(row, "username")?,
        password_hash: col(row, "password_hash")?,
        role: from_name(&role, "user role")?,
        disabled: col(row, "disabled")?,
        version: version_col(row, "version")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

pub(super) const TOKEN_COLUMNS: &str = "id, kind, name, role, project, environments, created_by, \
     created_at, expires_at, last_used_at, revoked_at";

pub(super) fn token(row: &SqliteRow) -> StoreResult<TokenRecord> {
    let id: String = col(row, "id")?;
    let kind: String = col(row, "kind")?;
    let role: Option<String> = col(row, "role")?;
    let environments: String = col(row, "environments")?;
    Ok(TokenRecord {
        kind: from_name(&kind, "token kind")?,
        role: role.map(|r| from_name(&r, "token role")).transpose()?,
        environments: from_json(&environments, &format!("environments of token {id}"))?,
        name: col(row, "name")?,
        project: col(row, "project")?,
        created_by: col(row, "created_by")?,
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
