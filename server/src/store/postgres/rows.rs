//! Rows into records. Stored data that does not decode (a negative
//! version, JSON of the wrong shape, an unknown enum name) is
//! [`StoreError::Corrupt`], never a panic.

use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use vexil_proto::{Environment, Flag, FlagConfig, Project, Segment};

use crate::store::{
    Change, EnvironmentRecord, FlagRecord, ProjectRecord, SegmentRecord, StoreResult, TokenRecord,
    UserRecord, codec,
};

fn get<'r, T>(row: &'r PgRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    Ok(row.try_get(column)?)
}

fn version(row: &PgRow, column: &str) -> StoreResult<u64> {
    codec::unsigned(get(row, column)?, column)
}

/// Decodes stored JSON into `T`; `column` names it in the error.
fn parse<T: DeserializeOwned>(value: Value, column: &str) -> StoreResult<T> {
    codec::from_value(value, column)
}

/// Decodes an enum stored by its name.
fn parse_name<T: DeserializeOwned>(name: String, column: &str) -> StoreResult<T> {
    codec::from_name(&name, column)
}

pub(super) fn project(row: &PgRow) -> StoreResult<ProjectRecord> {
    Ok(ProjectRecord {
        project: Project {
            key: get(row, "key")?,
            name: get(row, "name")?,
            description: get(row, "description")?,
        },
        version: version(row, "version")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) fn environment(row: &PgRow) -> StoreResult<EnvironmentRecord> {
    Ok(EnvironmentRecord {
        project: get(row, "project")?,
        environment: Environment {
            key: get(row, "key")?,
            name: get(row, "name")?,
            production: get(row, "production")?,
            version: version(row, "version")?,
        },
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) fn flag(row: &PgRow) -> StoreResult<FlagRecord> {
    Ok(FlagRecord {
        flag: Flag {
            key: get(row, "key")?,
            name: get(row, "name")?,
            description: get(row, "description")?,
            tags: parse(get(row, "tags")?, "flags.tags")?,
            owner: get(row, "owner")?,
            kind: parse_name(get(row, "kind")?, "flags.kind")?,
            variants: parse(get(row, "variants")?, "flags.variants")?,
            temporary: get(row, "temporary")?,
        },
        version: version(row, "version")?,
        archived: get(row, "archived")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

/// A flag config from its `config` JSON and its version column (the
/// authoritative version); `None` when `config` is NULL (an outer join
/// found no config).
pub(super) fn config(row: &PgRow, version_column: &str) -> StoreResult<Option<FlagConfig>> {
    let Some(stored) = get::<Option<Value>>(row, "config")? else {
        return Ok(None);
    };
    let mut config: FlagConfig = parse(stored, "flag_configs.config")?;
    config.version = version(row, version_column)?;
    Ok(Some(config))
}

pub(super) fn segment(row: &PgRow) -> StoreResult<SegmentRecord> {
    Ok(SegmentRecord {
        segment: Segment {
            key: get(row, "key")?,
            name: get(row, "name")?,
            description: get(row, "description")?,
            included: parse(get(row, "included")?, "segments.included")?,
            excluded: parse(get(row, "excluded")?, "segments.excluded")?,
            rules: parse(get(row, "rules")?, "segments.rules")?,
            version: version(row, "version")?,
        },
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

/// A change without its `versions` (they live in `environment_versions`).
pub(super) fn change(row: &PgRow) -> StoreResult<Change> {
    Ok(Change {
        id: version(row, "id")?,
        project: get(row, "project")?,
        environment: get(row, "environment")?,
        resource: parse_name(get(row, "resource")?, "changes.resource")?,
        key: get(row, "key")?,
        action: parse_name(get(row, "action")?, "changes.action")?,
        actor: get(row, "actor")?,
        reason: get(row, "reason")?,
        at: get(row, "at")?,
        before: get(row, "before")?,
        after: get(row, "after")?,
        versions: Vec::new(),
    })
}

pub(super) fn user(row: &PgRow) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: get(row, "id")?,
        username: get(row, "username")?,
        password_hash: get(row, "password_hash")?,
        role: parse_name(get(row, "role")?, "users.role")?,
        disabled: get(row, "disabled")?,
        version: version(row, "version")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) fn token(row: &PgRow) -> StoreResult<TokenRecord> {
    let role: Option<String> = get(row, "role")?;
    Ok(TokenRecord {
        id: get(row, "id")?,
        kind: parse_name(get(row, "kind")?, "tokens.kind")?,
        name: get(row, "name")?,
        role: role.map(|r| parse_name(r, "tokens.role")).transpose()?,
        project: get(row, "project")?,
        environments: parse(get(row, "environments")?, "tokens.environments")?,
        created_by: get(row, "created_by")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        last_used_at: get::<Option<OffsetDateTime>>(row, "last_used_at")?,
        revoked_at: get::<Option<OffsetDateTime>>(row, "revoked_at")?,
    })
}
