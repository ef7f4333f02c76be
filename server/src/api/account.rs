//! The caller's own account: `PUT /api/v1/users/me/password`.
//!
//! Anyone logged in changes their password given the current one (checked
//! with argon2 off the async runtime, like a login); the new one follows
//! the password policy. API tokens have no password (403). A wrong current
//! password is a 422 on `/current_password`, not a 401, so a client does
//! not take it for an expired session. Other sessions of the user are not
//! ended (sessions cannot be revoked one by one; they last an hour).

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::put;
use serde::Deserialize;
use tracing::info;
use utoipa::{OpenApi, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::json::Json;
use super::resource::Problems;
use super::users::{check_password, hash};
use super::write::WriteOptions;
use crate::auth::{AuthState, Principal};
use crate::store::Store;

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(paths(change_own_password), components(schemas(PasswordChange)))]
pub struct Doc;

/// `/api/v1/users/me/password`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
{
    Router::new().route("/api/v1/users/me/password", put(change_own_password))
}

/// Changing one's own password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// 12 characters to 1024 bytes.
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange { [redacted] }")
    }
}

/// Changes the caller's own password, given the current one.
#[utoipa::path(
    put,
    path = "/api/v1/users/me/password",
    tag = "users",
    request_body = PasswordChange,
    security(("user" = [])),
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired session", body = ErrorBody),
        (status = 403, description = "An API token, which has no password", body = ErrorBody),
        (status = 409, description = "The account changed meanwhile; retry", body = ErrorBody),
        (status = 413, description = "Body over 2 MiB", body = ErrorBody),
        (status = 415, description = "Body is not application/json", body = ErrorBody),
        (status = 422, description = "Wrong current password (`/current_password`) or a new one against the policy (`/new_password`)", body = ErrorBody),
    )
)]
async fn change_own_password(
    principal: Principal,
    State(auth): State<AuthState>,
    State(store): State<Arc<dyn Store>>,
    options: WriteOptions,
    Json(body): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let Some(username) = principal.username() else {
        return Err(ApiError::Forbidden(format!(
            "{} is an API token, which has no password; only a logged-in user can change theirs",
            principal.actor()
        )));
    };
    let mut problems = Problems::default();
    check_password(&mut problems, "/new_password", &body.new_password);
    problems.finish()?;
    let user = store.get_user(username).await?;
    let passwords = auth.passwords().clone();
    let stored = user.password_hash.clone();
    let candidate = body.current_password;
    let matches = tokio::task::spawn_blocking(move || passwords.verify(&candidate, Some(&stored)))
        .await
        .map_err(|err| ApiError::Internal(format!("password check failed: {err}")))?;
    if !matches {
        info!(subject = %principal.actor(), "password change refused: wrong current password");
        return Err(ApiError::invalid(
            "/current_password",
            "is not your current password",
        ));
    }
    let mut updated = user.clone();
    updated.password_hash = hash(&auth, body.new_password).await?;
    let mut meta = options.meta(&principal, auth.now(), None);
    meta.expected_version = Some(user.version);
    store.update_user(&updated, &meta).await?;
    auth.cache().invalidate_user(username);
    info!(subject = %principal.actor(), "password changed");
    Ok(StatusCode::NO_CONTENT)
}
