//! `POST /api/v1/auth/login`: a username and password for a session JWT.

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{OpenApi, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::json::Json;
use crate::auth::AuthState;

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(paths(login), components(schemas(LoginRequest, LoginResponse)))]
pub struct Doc;

/// `/api/v1/auth/login`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: axum::extract::FromRef<S>,
{
    Router::new().route("/api/v1/auth/login", post(login))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// A session: send `token` as `Authorization: Bearer` until `expires_at`.
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
    pub username: String,
    /// `viewer`, `editor` or `admin`.
    #[schema(value_type = String)]
    pub role: crate::store::Role,
}

impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginResponse")
            .field("token", &"[redacted]")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Logs in. Unknown users and wrong passwords get the same 401.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 401, description = "Wrong username or password, or a disabled account", body = ErrorBody),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 422, description = "Unknown or missing fields", body = ErrorBody),
    )
)]
async fn login(
    State(auth): State<AuthState>,
    Json(request): Json<LoginRequest>,
) -> Result<axum::Json<LoginResponse>, ApiError> {
    let session = auth.login(&request.username, &request.password).await?;
    Ok(axum::Json(LoginResponse {
        token: session.token,
        expires_at: session.expires_at,
        username: session.user.username,
        role: session.user.role,
    }))
}
