//! OpenAPI schemas of the records the project, environment, SDK-key, user
//! and token endpoints answer with.
//!
//! The records are the store's types (and proto's `Project` and
//! `Environment` inside them); neither depends on utoipa, so their schemas
//! are mirrored here, field for field. They are never constructed: they
//! only describe. A test serializes a fully populated value of each real
//! type and checks that the schema names exactly its fields, so the two
//! cannot drift apart unnoticed.

#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// A project: groups flags and segments with their environments.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Project)]
pub struct ProjectSchema {
    /// Stable identifier used in URLs: `[a-z0-9][a-z0-9._-]{0,127}`.
    pub key: String,
    /// Shown in the UI; may change freely.
    pub name: String,
    #[schema(default = "")]
    pub description: String,
}

/// A project as stored.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ProjectRecord)]
pub struct ProjectRecordSchema {
    #[serde(flatten)]
    pub project: ProjectSchema,
    /// Bumped by every write to the project itself: its `ETag`, and the
    /// `If-Match` of its writes.
    pub version: u64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: String,
}

/// One page of projects, ordered by key.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ProjectPage)]
pub struct ProjectPageSchema {
    pub items: Vec<ProjectRecordSchema>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// An environment of a project, as stored.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EnvironmentRecord)]
pub struct EnvironmentRecordSchema {
    /// The project's key.
    pub project: String,
    /// Stable identifier used in URLs and SDK keys.
    pub key: String,
    pub name: String,
    /// Changes here need more care; API tokens can be kept out.
    pub production: bool,
    /// The environment's change counter: bumped by every committed change
    /// that can alter its snapshot (flags, segments, its configs, itself).
    /// Its `ETag`, and the `If-Match` of writes to the environment.
    pub version: u64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: String,
}

/// One page of a project's environments, in creation order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EnvironmentPage)]
pub struct EnvironmentPageSchema {
    pub items: Vec<EnvironmentRecordSchema>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// A user's role; each includes the ones before it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Role)]
#[serde(rename_all = "snake_case")]
pub enum RoleSchema {
    /// Reads everything, changes nothing.
    Viewer,
    /// Edits flags, configs and segments.
    Editor,
    /// Also manages projects, environments, users and tokens.
    Admin,
}

/// A person who logs in. The password hash is never shown.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserSchema {
    pub id: String,
    pub username: String,
    pub role: RoleSchema,
    /// Disabled users cannot log in, and their sessions stop working.
    pub disabled: bool,
    /// Bumped by every write: its `ETag`, and the `If-Match` of its writes.
    pub version: u64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: String,
}

/// One page of users, ordered by username.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UserPage)]
pub struct UserPageSchema {
    pub items: Vec<UserSchema>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// What a stored token is for.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TokenKind)]
#[serde(rename_all = "snake_case")]
pub enum TokenKindSchema {
    /// The REST API, with a role, optionally limited to environments.
    Api,
    /// Posts health events only (Alertmanager, deploys).
    Integration,
    /// Reads one environment's flags: streams, snapshots, evaluation.
    Sdk,
}

/// A long-lived credential as stored; the secret itself is only in the
/// answer that created it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Token)]
pub struct TokenSchema {
    /// The JWT's `jti`; revoke by it.
    pub id: String,
    pub kind: TokenKindSchema,
    /// Shown in lists so people know which key is which.
    pub name: String,
    /// API tokens only.
    pub role: Option<RoleSchema>,
    /// SDK keys only: the project they read.
    pub project: Option<String>,
    /// API tokens: the environments they may change (empty: all); SDK
    /// keys: the one they read.
    pub environments: Vec<String>,
    /// `user:<name>` or `token:<id>`.
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: String,
    /// Written at most once a minute.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<String>,
}

/// One page of tokens, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TokenPage)]
pub struct TokenPageSchema {
    pub items: Vec<TokenSchema>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// A token just created: the record plus the secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IssuedToken)]
pub struct IssuedTokenSchema {
    /// The JWT to send as `Authorization: Bearer`. It cannot be shown
    /// again: store it now, or revoke it and create another.
    pub token: String,
    #[serde(flatten)]
    pub record: TokenSchema,
}

#[cfg(test)]
mod tests;
