//! Rows into records, for any backend. A backend implements [`Columns`] for
//! its row type (how it stores timestamps, JSON and integers); the records
//! are put together here once. Stored data that does not decode is
//! [`StoreError::Corrupt`], never a panic.

use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use vexil_proto::{Environment, Flag, FlagConfig, Project, Segment};

use super::codec::{from_name, unsigned};
use super::{
    Change, EnvironmentRecord, FlagRecord, Paged, ProjectRecord, SegmentRecord, StoreError,
    StoreResult, TokenRecord, UserRecord,
};

/// The columns of one row as the record builders read them, by name.
pub(super) trait Columns {
    fn text(&self, column: &str) -> StoreResult<String>;
    fn optional_text(&self, column: &str) -> StoreResult<Option<String>>;
    fn boolean(&self, column: &str) -> StoreResult<bool>;
    fn integer(&self, column: &str) -> StoreResult<i64>;
    fn time(&self, column: &str) -> StoreResult<OffsetDateTime>;
    fn optional_time(&self, column: &str) -> StoreResult<Option<OffsetDateTime>>;
    /// A JSON column decoded into `T` (`None` when NULL); `what` names it
    /// in the error.
    fn optional_json<T: DeserializeOwned>(
        &self,
        column: &str,
        what: &str,
    ) -> StoreResult<Option<T>>;

    /// A JSON column that is never NULL.
    fn json<T: DeserializeOwned>(&self, column: &str, what: &str) -> StoreResult<T> {
        self.optional_json(column, what)?
            .ok_or_else(|| StoreError::Corrupt(format!("{what}: NULL")))
    }

    /// A version or counter (stored signed).
    fn version(&self, column: &str) -> StoreResult<u64> {
        unsigned(self.integer(column)?, column)
    }

    /// An enum stored by its name.
    fn name<T: DeserializeOwned>(&self, column: &str, what: &str) -> StoreResult<T> {
        from_name(&self.text(column)?, what)
    }
}

/// One page of a list: its `items`, and `total` as the count query
/// returned it.
pub(super) fn paged<T>(
    items: Vec<T>,
    total: i64,
    page: u32,
    per_page: u32,
) -> StoreResult<Paged<T>> {
    Ok(Paged {
        items,
        total: unsigned(total, "count")?,
        page,
        per_page,
    })
}

pub(super) fn project(row: &impl Columns) -> StoreResult<ProjectRecord> {
    Ok(ProjectRecord {
        project: Project {
            key: row.text("key")?,
            name: row.text("name")?,
            description: row.text("description")?,
        },
        version: row.version("version")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

pub(super) fn environment(row: &impl Columns) -> StoreResult<EnvironmentRecord> {
    Ok(EnvironmentRecord {
        project: row.text("project")?,
        environment: Environment {
            key: row.text("key")?,
            name: row.text("name")?,
            production: row.boolean("production")?,
            version: row.version("version")?,
        },
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

pub(super) fn flag(row: &impl Columns) -> StoreResult<FlagRecord> {
    let key = row.text("key")?;
    Ok(FlagRecord {
        flag: Flag {
            name: row.text("name")?,
            description: row.text("description")?,
            tags: row.json("tags", &format!("tags of flag {key}"))?,
            owner: row.optional_text("owner")?,
            kind: row.name("kind", &format!("kind of flag {key}"))?,
            variants: row.json("variants", &format!("variants of flag {key}"))?,
            temporary: row.boolean("temporary")?,
            key,
        },
        version: row.version("version")?,
        archived: row.boolean("archived")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

/// A config of `flag` from its `config` JSON and `version_column` (the
/// column wins over the JSON's own `version`); `None` when `config` is NULL
/// (an outer join found no config).
pub(super) fn optional_config(
    row: &impl Columns,
    version_column: &str,
    flag: &str,
) -> StoreResult<Option<FlagConfig>> {
    let Some(mut config) = row.optional_json::<FlagConfig>("config", &config_of(flag))? else {
        return Ok(None);
    };
    config.version = row.version(version_column)?;
    Ok(Some(config))
}

/// A config of `flag` that must be there.
pub(super) fn config(
    row: &impl Columns,
    version_column: &str,
    flag: &str,
) -> StoreResult<FlagConfig> {
    optional_config(row, version_column, flag)?
        .ok_or_else(|| StoreError::Corrupt(format!("{}: NULL", config_of(flag))))
}

fn config_of(flag: &str) -> String {
    format!("config of flag {flag}")
}

pub(super) fn segment(row: &impl Columns) -> StoreResult<SegmentRecord> {
    let key = row.text("key")?;
    Ok(SegmentRecord {
        segment: Segment {
            name: row.text("name")?,
            description: row.text("description")?,
            included: row.json("included", &format!("included keys of segment {key}"))?,
            excluded: row.json("excluded", &format!("excluded keys of segment {key}"))?,
            rules: row.json("rules", &format!("rules of segment {key}"))?,
            version: row.version("version")?,
            key,
        },
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

/// A change without its `versions` (each backend keeps them in
/// `environment_versions`).
pub(super) fn change(row: &impl Columns) -> StoreResult<Change> {
    let id = row.version("id")?;
    let what = format!("change {id}");
    Ok(Change {
        project: row.optional_text("project")?,
        environment: row.optional_text("environment")?,
        resource: row.name("resource", &what)?,
        key: row.text("key")?,
        action: row.name("action", &what)?,
        actor: row.text("actor")?,
        reason: row.optional_text("reason")?,
        at: row.time("at")?,
        before: row.optional_json("before", &what)?,
        after: row.optional_json("after", &what)?,
        versions: Vec::new(),
        id,
    })
}

pub(super) fn user(row: &impl Columns) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: row.text("id")?,
        username: row.text("username")?,
        password_hash: row.text("password_hash")?,
        role: row.name("role", "user role")?,
        disabled: row.boolean("disabled")?,
        version: row.version("version")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

pub(super) fn token(row: &impl Columns) -> StoreResult<TokenRecord> {
    let id = row.text("id")?;
    Ok(TokenRecord {
        kind: row.name("kind", "token kind")?,
        name: row.text("name")?,
        role: row
            .optional_text("role")?
            .map(|role| from_name(&role, "token role"))
            .transpose()?,
        project: row.optional_text("project")?,
        environments: row.json("environments", &format!("environments of token {id}"))?,
        created_by: row.text("created_by")?,
        created_at: row.time("created_at")?,
        expires_at: row.time("expires_at")?,
        last_used_at: row.optional_time("last_used_at")?,
        revoked_at: row.optional_time("revoked_at")?,
        id,
    })
}
