//! Users: `/api/v1/users[/{username}]`.
//!
//! Admins (not tokens limited to environments) list, create, change and
//! delete users (people change their own password in `account.rs`).
//! Passwords are hashed with argon2id off the async runtime
//! and follow the password policy (12 characters to 1024 bytes); hashes
//! are never shown. Every change drops the user from this replica's auth
//! cache, so a new role, a disabled account or a deletion counts at once
//! (within the cache's TTL on other replicas). No change may leave the
//! install without an enabled admin (409).
//!
//! Sessions are not revoked by a password change (they cannot be, one by
//! one); they end within their hour. Disabling a user ends them at once.

use std::sync::Arc;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json as JsonBody, Router};
use serde::Deserialize;
use tracing::info;
use utoipa::{OpenApi, ToSchema};

use super::admin_schemas::{RoleSchema, UserPageSchema, UserSchema};
use super::error::{ApiError, ErrorBody};
use super::json::Json;
use super::paging::PageQuery;
use super::resource::{Admin, Created, Problems, Query, page_of};
use super::write::{Versioned, WriteOptions};
use crate::auth::{AuthState, PasswordError, check_policy};
use crate::store::{Paged, Role, Store, StoreError, UserRecord};

/// Longest username, in bytes.
pub const MAX_USERNAME_BYTES: usize = 64;

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(list_users, create_user, get_user, put_user, delete_user),
    components(schemas(
        NewUser,
        UserUpdate,
        RoleSchema,
        UserSchema,
        UserPageSchema
    )),
    tags((name = "users", description = "People who log in, and their roles"))
)]
pub struct Doc;

/// `/api/v1/users` and `/api/v1/users/{username}`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
{
    Router::new()
        .route("/api/v1/users", get(list_users).post(create_user))
        .route(
            "/api/v1/users/{username}",
            get(get_user).put(put_user).delete(delete_user),
        )
}

/// A new user.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 1 to 64 of `a-z 0-9 . _ - @ +`, starting with a letter or digit; not `me`.
    pub username: String,
    /// 12 characters to 1024 bytes.
    pub password: String,
    #[schema(value_type = RoleSchema)]
    pub role: Role,
    #[serde(default)]
    pub disabled: bool,
}

/// Changes to a user; fields left out stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[serde(default)]
    #[schema(value_type = Option<RoleSchema>)]
    pub role: Option<Role>,
    /// Disabled users cannot log in, and their sessions stop working.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// A new password (a reset by an admin).
    #[serde(default)]
    pub password: Option<String>,
}

// `Debug` by hand: passwords never reach a log.
impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish()
    }
}

impl std::fmt::Debug for UserUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserUpdate")
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// Reports a username that is not `[a-z0-9][a-z0-9._@+-]*`, at most 64
/// bytes, and not `me` (which names the caller in `/users/me/...`).
fn check_username(problems: &mut Problems, username: &str) {
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let valid = username.as_bytes().first().is_some_and(|&b| allowed(b))
        && username.len() <= MAX_USERNAME_BYTES
        && username
            .bytes()
            .all(|b| allowed(b) || matches!(b, b'.' | b'_' | b'-' | b'@' | b'+'));
    if !valid {
        problems.add(
            "/username",
            format!("use 1 to {MAX_USERNAME_BYTES} lowercase letters, digits, '.', '_', '-', '@' or '+', starting with a letter or a digit"),
        );
    } else if username == "me" {
        problems.add("/username", "`me` is reserved: it names the caller");
    }
}

pub(crate) fn check_password(problems: &mut Problems, path: &str, password: &str) {
    if let Err(err) = check_policy(password) {
        problems.add(path, err.to_string());
    }
}

/// The argon2id hash of a password that passed the policy, computed on
/// the blocking pool.
pub(crate) async fn hash(auth: &AuthState, password: String) -> Result<String, ApiError> {
    let passwords = auth.passwords().clone();
    tokio::task::spawn_blocking(move || passwords.hash(&password))
        .await
        .map_err(|err| ApiError::Internal(format!("password hashing failed: {err}")))?
        .map_err(|err| match err {
            PasswordError::Hash(cause) => ApiError::Internal(cause),
            policy => ApiError::invalid("/password", policy.to_string()),
        })
}

/// The same 409 the store gives a stale `If-Match`, checked before the
/// handler's own refusals (the store's order: not found, version, state).
fn check_version(options: &WriteOptions, current: u64) -> Result<(), ApiError> {
    match options.if_match {
        Some(expected) if expected != current => {
            Err(StoreError::Conflict { expected, current }.into())
        }
        _ => Ok(()),
    }
}

/// Lists users by username.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    params(PageQuery),
    security(("user" = [])),
    responses(
        (status = 200, description = "One page of users", body = UserPageSchema),
        (status = 400, description = "Malformed paging", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
    )
)]
async fn list_users(
    Admin(_principal): Admin,
    State(store): State<Arc<dyn Store>>,
    Query(paging): Query<PageQuery>,
) -> Result<JsonBody<Paged<UserRecord>>, ApiError> {
    Ok(JsonBody(page_of(store.list_users().await?, paging)?))
}

/// Creates a user with a password and a role.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    request_body = NewUser,
    params(("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log")),
    security(("user" = [])),
    responses(
        (status = 201, description = "Created; `Location` is its URL, `ETag` its version", body = UserSchema),
        (status = 400, description = "Malformed JSON or headers", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 409, description = "A user with this name exists", body = ErrorBody),
        (status = 413, description = "Body over 2 MiB", body = ErrorBody),
        (status = 415, description = "Body is not application/json", body = ErrorBody),
        (status = 422, description = "Unknown field, bad username, role or password, with JSON pointers", body = ErrorBody),
    )
)]
async fn create_user(
    Admin(principal): Admin,
    State(auth): State<AuthState>,
    State(store): State<Arc<dyn Store>>,
    options: WriteOptions,
    Json(body): Json<NewUser>,
) -> Result<Created<UserRecord>, ApiError> {
    let mut problems = Problems::default();
    check_username(&mut problems, &body.username);
    check_password(&mut problems, "/password", &body.password);
    problems.finish()?;
    let now = auth.now();
    let user = UserRecord {
        id: String::new(),
        username: body.username,
        password_hash: hash(&auth, body.password).await?,
        role: body.role,
        disabled: body.disabled,
        version: 0,
        created_at: now,
        updated_at: now,
    };
    let meta = options.meta(&principal, now, None);
    let created = store.create_user(&user, &meta).await?;
    auth.cache().invalidate_user(&created.username);
    info!(username = %created.username, role = ?created.role, actor = %meta.actor, "user created");
    Ok(Created {
        location: format!("/api/v1/users/{}", created.username),
        version: Some(created.version),
        body: created,
        secret: false,
    })
}

/// One user; its `ETag` is its version.
#[utoipa::path(
    get,
    path = "/api/v1/users/{username}",
    tag = "users",
    params(("username" = String, Path, description = "Username")),
    security(("user" = [])),
    responses(
        (status = 200, description = "The user", body = UserSchema),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
async fn get_user(
    Admin(_principal): Admin,
    State(store): State<Arc<dyn Store>>,
    Path(username): Path<String>,
) -> Result<Versioned<UserRecord>, ApiError> {
    let user = store.get_user(&username).await?;
    Ok(Versioned(user.version, user))
}

/// Changes a user's role, disables or enables them, or resets their password.
#[utoipa::path(
    put,
    path = "/api/v1/users/{username}",
    tag = "users",
    params(
        ("username" = String, Path, description = "Username"),
        ("If-Match" = Option<String>, Header, description = "The version the change is based on"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    request_body = UserUpdate,
    security(("user" = [])),
    responses(
        (status = 200, description = "Updated; `ETag` is the new version", body = UserSchema),
        (status = 400, description = "Malformed JSON or headers", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "`If-Match` is stale, or this would leave no enabled admin", body = ErrorBody),
        (status = 413, description = "Body over 2 MiB", body = ErrorBody),
        (status = 415, description = "Body is not application/json", body = ErrorBody),
        (status = 422, description = "Unknown field, bad role or password, with JSON pointers", body = ErrorBody),
    )
)]
async fn put_user(
    Admin(principal): Admin,
    State(auth): State<AuthState>,
    State(store): State<Arc<dyn Store>>,
    Path(username): Path<String>,
    options: WriteOptions,
    Json(body): Json<UserUpdate>,
) -> Result<Versioned<UserRecord>, ApiError> {
    let mut problems = Problems::default();
    if let Some(password) = &body.password {
        check_password(&mut problems, "/password", password);
    }
    problems.finish()?;
    let current = store.get_user(&username).await?;
    check_version(&options, current.version)?;
    let mut updated = current.clone();
    updated.role = body.role.unwrap_or(current.role);
    updated.disabled = body.disabled.unwrap_or(current.disabled);
    // The store refuses to leave no enabled admin, checked inside its
    // write so that two admins demoting each other cannot both succeed.
    if let Some(password) = body.password {
        updated.password_hash = hash(&auth, password).await?;
    }
    let mut meta = options.meta(&principal, auth.now(), None);
    // Written only over the version read above, so a concurrent change
    // is a 409 rather than silently undone.
    meta.expected_version = Some(current.version);
    let after = store.update_user(&updated, &meta).await?;
    auth.cache().invalidate_user(&username);
    info!(%username, role = ?after.role, disabled = after.disabled, actor = %meta.actor, "user changed");
    Ok(Versioned(after.version, after))
}

/// Deletes a user; their sessions stop working.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{username}",
    tag = "users",
    params(
        ("username" = String, Path, description = "Username"),
        ("If-Match" = Option<String>, Header, description = "The version the deletion is based on"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    security(("user" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed headers", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "`If-Match` is stale, or this is the last enabled admin", body = ErrorBody),
    )
)]
async fn delete_user(
    Admin(principal): Admin,
    State(auth): State<AuthState>,
    State(store): State<Arc<dyn Store>>,
    Path(username): Path<String>,
    options: WriteOptions,
) -> Result<StatusCode, ApiError> {
    let current = store.get_user(&username).await?;
    check_version(&options, current.version)?;
    // The store refuses to delete the last enabled admin (in its write).
    let mut meta = options.meta(&principal, auth.now(), None);
    meta.expected_version = Some(current.version);
    store.delete_user(&username, &meta).await?;
    auth.cache().invalidate_user(&username);
    info!(%username, actor = %meta.actor, "user deleted");
    Ok(StatusCode::NO_CONTENT)
}
