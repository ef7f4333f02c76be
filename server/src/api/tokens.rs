//! API and integration tokens: `/api/v1/tokens[/{id}]`.
//!
//! Admins only (and not tokens limited to environments, so a limited admin
//! token cannot mint an unlimited one). A token is a JWT whose `jti` is its
//! record's id; the JWT is in the answer that creates it and nowhere else
//! (the store keeps only the record), so lists and reads show records.
//! Revoking keeps the record (with `revoked_at`) and makes the token stop
//! working at once on this replica, within the auth cache's TTL on others.
//! SDK keys are tokens too, but live under their environment
//! (`sdk_keys.rs`); here they are 404.

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json as JsonBody, Router};
use serde::{Deserialize, Serialize};
use time::Duration;
use tracing::info;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::admin_schemas::{
    IssuedTokenSchema, RoleSchema, TokenKindSchema, TokenPageSchema, TokenSchema,
};
use super::error::{ApiError, ErrorBody};
use super::json::Json;
use super::paging::PageQuery;
use super::resource::{Admin, Created, Problems, Query, check_name, page_of};
use super::write::WriteOptions;
use crate::auth::AuthState;
use crate::store::{Paged, Role, Store, TokenFilter, TokenKind, TokenRecord, WriteMeta};

/// Lifetime of a token created without `expires_in_days`.
pub const DEFAULT_EXPIRY_DAYS: u32 = 90;
/// Longest lifetime a token may be given: ten years.
pub const MAX_EXPIRY_DAYS: u32 = 3650;
/// Most environments an API token may be limited to.
pub const MAX_TOKEN_ENVIRONMENTS: usize = 100;

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(list_tokens, create_token, get_token, revoke_token),
    components(schemas(
        NewToken,
        ApiTokenKind,
        RoleSchema,
        TokenKindSchema,
        TokenSchema,
        TokenPageSchema,
        IssuedTokenSchema
    )),
    tags((name = "tokens", description = "API and integration tokens"))
)]
pub struct Doc;

/// `/api/v1/tokens` and `/api/v1/tokens/{id}`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
{
    Router::new()
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}", get(get_token).delete(revoke_token))
}

/// The kinds of token made here (SDK keys are made under their environment).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiTokenKind {
    /// The REST API, with a role.
    #[default]
    Api,
    /// Posts health events (Alertmanager, deploys) and nothing else.
    Integration,
}

impl From<ApiTokenKind> for TokenKind {
    fn from(kind: ApiTokenKind) -> Self {
        match kind {
            ApiTokenKind::Api => TokenKind::Api,
            ApiTokenKind::Integration => TokenKind::Integration,
        }
    }
}

/// A new API or integration token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Shown in lists ("ci-deploy", "alertmanager-prod").
    pub name: String,
    #[serde(default)]
    pub kind: ApiTokenKind,
    /// Required for API tokens; integration tokens have none.
    #[serde(default)]
    #[schema(value_type = Option<RoleSchema>)]
    pub role: Option<Role>,
    /// API tokens: the only environments (keys, in any project) it may
    /// change; empty or left out for all. A limited token cannot change
    /// flag definitions, segments, or anything an admin manages.
    #[serde(default)]
    pub environments: Vec<String>,
    /// 1 to 3650; default 90.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// A token's record plus its JWT, answered once, at creation.
#[derive(Serialize)]
pub struct IssuedToken {
    pub token: String,
    #[serde(flatten)]
    pub record: TokenRecord,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"[redacted]")
            .field("record", &self.record)
            .finish()
    }
}

/// Which tokens to list.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// Only this kind (`api` or `integration`).
    #[param(value_type = Option<ApiTokenKind>)]
    pub kind: Option<ApiTokenKind>,
    /// Include revoked tokens (default false).
    #[serde(default)]
    pub include_revoked: bool,
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Items per page (default 50, at most 200).
    pub per_page: Option<u32>,
}

/// Checks `expires_in_days` and turns it into a lifetime.
pub(crate) fn lifetime(
    problems: &mut Problems,
    days: Option<u32>,
    default: u32,
) -> Option<Duration> {
    let days = days.unwrap_or(default);
    if (1..=MAX_EXPIRY_DAYS).contains(&days) {
        Some(Duration::days(days.into()))
    } else {
        problems.add(
            "/expires_in_days",
            format!("must be between 1 and {MAX_EXPIRY_DAYS} days"),
        );
        None
    }
}

/// Stores the record and signs its JWT. The token is never logged.
pub(crate) async fn issue(
    auth: &AuthState,
    store: &dyn Store,
    record: TokenRecord,
    meta: &WriteMeta,
) -> Result<IssuedToken, ApiError> {
    let record = store.create_token(&record, meta).await?;
    let token = auth.keys().issue_token(&record)?;
    info!(token_id = %record.id, kind = ?record.kind, actor = %meta.actor, "token created");
    Ok(IssuedToken { token, record })
}

impl NewToken {
    fn into_record(self, auth: &AuthState, created_by: String) -> Result<TokenRecord, ApiError> {
        let mut problems = Problems::default();
        check_name(&mut problems, "/name", &self.name);
        match (self.kind, self.role) {
            (ApiTokenKind::Api, None) => problems.add(
                "/role",
                "an API token needs a role: viewer, editor or admin",
            ),
            (ApiTokenKind::Integration, Some(_)) => problems.add(
                "/role",
                "integration tokens have no role: they may only post health events",
            ),
            _ => {}
        }
        if self.kind == ApiTokenKind::Integration && !self.environments.is_empty() {
            problems.add(
                "/environments",
                "integration tokens cannot be limited to environments",
            );
        }
        if self.environments.len() > MAX_TOKEN_ENVIRONMENTS {
            problems.add(
                "/environments",
                format!("the limit is {MAX_TOKEN_ENVIRONMENTS} environments"),
            );
        }
        let mut seen = HashSet::new();
        for (index, key) in self.environments.iter().enumerate() {
            if !vexil_proto::keys::is_valid_key(key) {
                problems.add(
                    format!("/environments/{index}"),
                    "is not a valid environment key",
                );
            } else if !seen.insert(key.as_str()) {
                problems.add(
                    format!("/environments/{index}"),
                    format!("environment `{key}` is listed twice"),
                );
            }
        }
        let lifetime = lifetime(&mut problems, self.expires_in_days, DEFAULT_EXPIRY_DAYS);
        problems.finish()?;
        let now = auth.now();
        Ok(TokenRecord {
            id: uuid::Uuid::new_v4().to_string(),
            kind: self.kind.into(),
            name: self.name.trim().to_owned(),
            role: self.role,
            project: None,
            environments: self.environments,
            created_by,
            created_at: now,
            expires_at: now + lifetime.unwrap_or_default(),
            last_used_at: None,
            revoked_at: None,
        })
    }
}

/// Lists API and integration tokens, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "tokens",
    params(TokenQuery),
    security(("user" = [])),
    responses(
        (status = 200, description = "One page of token records (never the tokens)", body = TokenPageSchema),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
    )
)]
async fn list_tokens(
    Admin(_principal): Admin,
    State(store): State<Arc<dyn Store>>,
    Query(query): Query<TokenQuery>,
) -> Result<JsonBody<Paged<TokenRecord>>, ApiError> {
    let filter = TokenFilter {
        kind: query.kind.map(TokenKind::from),
        include_revoked: query.include_revoked,
        ..TokenFilter::default()
    };
    let tokens = store.list_tokens(&filter).await?;
    let tokens = tokens
        .into_iter()
        .filter(|token| token.kind != TokenKind::Sdk)
        .collect();
    let paging = PageQuery {
        page: query.page,
        per_page: query.per_page,
    };
    Ok(JsonBody(page_of(tokens, paging)?))
}

/// Creates a token. The answer holds the JWT, shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "tokens",
    request_body = NewToken,
    params(("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log")),
    security(("user" = [])),
    responses(
        (status = 201, description = "Created; `token` is the JWT, never shown again; `Location` is the record's URL", body = IssuedTokenSchema),
        (status = 400, description = "Malformed JSON or headers", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 413, description = "Body over 2 MiB", body = ErrorBody),
        (status = 415, description = "Body is not application/json", body = ErrorBody),
        (status = 422, description = "Unknown field, missing role, bad environment key or lifetime, with JSON pointers", body = ErrorBody),
    )
)]
async fn create_token(
    Admin(principal): Admin,
    State(auth): State<AuthState>,
    State(store): State<Arc<dyn Store>>,
    options: WriteOptions,
    Json(body): Json<NewToken>,
) -> Result<Created<IssuedToken>, ApiError> {
    let record = body.into_record(&auth, principal.actor())?;
    let meta = options.meta(&principal, record.created_at, None);
    let issued = issue(&auth, &*store, record, &meta).await?;
    Ok(Created {
        location: format!("/api/v1/tokens/{}", issued.record.id),
        version: None,
        body: issued,
        secret: true,
    })
}

/// The token's record (never the token itself).
#[utoipa::path(
    get,
    path = "/api/v1/tokens/{id}",
    tag = "tokens",
    params(("id" = String, Path, description = "Token id (the JWT's `jti`)")),
    security(("user" = [])),
    responses(
        (status = 200, description = "The record", body = TokenSchema),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 404, description = "No such API or integration token", body = ErrorBody),
    )
)]
async fn get_token(
    Admin(_principal): Admin,
    State(store): State<Arc<dyn Store>>,
    Path(id): Path<String>,
) -> Result<JsonBody<TokenRecord>, ApiError> {
    Ok(JsonBody(api_token(&*store, &id).await?))
}

/// Revokes a token: it stops working, and stays listed with `revoked_at`.
/// Revoking a revoked token changes nothing.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "tokens",
    params(
        ("id" = String, Path, description = "Token id (the JWT's `jti`)"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    security(("user" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Malformed headers", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 404, description = "No such API or integration token", body = ErrorBody),
    )
)]
async fn revoke_token(
    Admin(principal): Admin,
    State(auth): State<AuthState>,
    State(store): State<Arc<dyn Store>>,
    Path(id): Path<String>,
    options: WriteOptions,
) -> Result<StatusCode, ApiError> {
    api_token(&*store, &id).await?;
    let meta = options.meta(&principal, auth.now(), None);
    store.revoke_token(&id, &meta).await?;
    auth.cache().invalidate_token(&id);
    info!(token_id = %id, actor = %meta.actor, "token revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// An API or integration token's record; SDK keys are 404 here.
async fn api_token(store: &dyn Store, id: &str) -> Result<TokenRecord, ApiError> {
    match store.get_token(id).await? {
        record if record.kind != TokenKind::Sdk => Ok(record),
        _ => Err(ApiError::NotFound(format!("token {id}"))),
    }
}
