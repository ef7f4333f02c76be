//! SDK keys: `/api/v1/projects/{project}/environments/{environment}/sdk-keys[/{id}]`.
//!
//! An SDK key reads one environment's flags (stream, snapshot, evaluate,
//! OFREP) and nothing else. Admins only, reads included: a key exposes
//! every rule and targeted context key of its environment, and revoking one
//! stops the applications using it, so managing keys is administration, as
//! in LaunchDarkly. The key (a JWT) is in the answer that creates it and
//! nowhere else; lists show records. A key lives until revoked or until it
//! expires: ten years unless `expires_in_days` says otherwise, since an SDK
//! key that expires quietly turns every flag of a running application to
//! its default.

use std::sync::Arc;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json as JsonBody, Router};
use serde::Deserialize;
use tracing::info;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::admin_schemas::{IssuedTokenSchema, TokenPageSchema, TokenSchema};
use super::environments::environment_url;
use super::error::{ApiError, ErrorBody};
use super::json::Json;
use super::paging::PageQuery;
use super::resource::{Admin, Created, Problems, Query, check_name, page_of};
use super::tokens::{IssuedToken, MAX_EXPIRY_DAYS, issue, lifetime};
use super::write::WriteOptions;
use crate::auth::AuthState;
use crate::store::{Paged, Store, StoreError, TokenFilter, TokenKind, TokenRecord};
use crate::stream::Streams;

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(list_sdk_keys, create_sdk_key, get_sdk_key, revoke_sdk_key),
    components(schemas(NewSdkKey, TokenSchema, TokenPageSchema, IssuedTokenSchema)),
    tags((name = "sdk-keys", description = "SDK keys: read one environment's flags"))
)]
pub struct Doc;

/// `/api/v1/projects/{project}/environments/{environment}/sdk-keys[/{id}]`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
    Streams: FromRef<S>,
{
    Router::new()
        .route(
            "/api/v1/projects/{project}/environments/{environment}/sdk-keys",
            get(list_sdk_keys).post(create_sdk_key),
        )
        .route(
            "/api/v1/projects/{project}/environments/{environment}/sdk-keys/{id}",
            get(get_sdk_key).delete(revoke_sdk_key),
        )
}

/// A new SDK key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSdkKey {
    /// Shown in lists ("checkout-service", "ios-app").
    pub name: String,
    /// 1 to 3650; default 3650 (ten years: until revoked, in practice).
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// Which keys to list.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SdkKeyQuery {
    /// Include revoked keys (default false).
    #[serde(default)]
    pub include_revoked: bool,
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Items per page (default 50, at most 200).
    pub per_page: Option<u32>,
}

/// Lists the environment's SDK keys, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/environments/{environment}/sdk-keys",
    tag = "sdk-keys",
    params(
        ("project" = String, Path, description = "Project key"),
        ("environment" = String, Path, description = "Environment key"),
        SdkKeyQuery,
    ),
    security(("user" = [])),
    responses(
        (status = 200, description = "One page of key records (never the keys)", body = TokenPageSchema),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 404, description = "No such project or environment", body = ErrorBody),
    )
)]
async fn list_sdk_keys(
    Admin(_principal): Admin,
    State(store): State<Arc<dyn Store>>,
    Path((project, environment)): Path<(String, String)>,
    Query(query): Query<SdkKeyQuery>,
) -> Result<JsonBody<Paged<TokenRecord>>, ApiError> {
    store.get_environment(&project, &environment).await?;
    let filter = TokenFilter {
        kind: Some(TokenKind::Sdk),
        project: Some(project),
        environment: Some(environment),
        include_revoked: query.include_revoked,
    };
    let keys = store.list_tokens(&filter).await?;
    let paging = PageQuery {
        page: query.page,
        per_page: query.per_page,
    };
    Ok(JsonBody(page_of(keys, paging)?))
}

/// Creates an SDK key. The answer holds the key, shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/projects/{project}/environments/{environment}/sdk-keys",
    tag = "sdk-keys",
    params(
        ("project" = String, Path, description = "Project key"),
        ("environment" = String, Path, description = "Environment key"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    request_body = NewSdkKey,
    security(("user" = [])),
    responses(
        (status = 201, description = "Created; `token` is the SDK key, never shown again; `Location` is the record's URL", body = IssuedTokenSchema),
        (status = 400, description = "Malformed JSON or headers", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 404, description = "No such project or environment", body = ErrorBody),
        (status = 413, description = "Body over 2 MiB", body = ErrorBody),
        (status = 415, description = "Body is not application/json", body = ErrorBody),
        (status = 422, description = "Unknown field, empty name or bad lifetime, with JSON pointers", body = ErrorBody),
    )
)]
async fn create_sdk_key(
    Admin(principal): Admin,
    State(auth): State<AuthState>,
    State(store): State<Arc<dyn Store>>,
    Path((project, environment)): Path<(String, String)>,
    options: WriteOptions,
    Json(body): Json<NewSdkKey>,
) -> Result<Created<IssuedToken>, ApiError> {
    let mut problems = Problems::default();
    check_name(&mut problems, "/name", &body.name);
    let lifetime = lifetime(&mut problems, body.expires_in_days, MAX_EXPIRY_DAYS);
    problems.finish()?;
    store.get_environment(&project, &environment).await?;
    let now = auth.now();
    let record = TokenRecord {
        id: uuid::Uuid::new_v4().to_string(),
        kind: TokenKind::Sdk,
        name: body.name.trim().to_owned(),
        role: None,
        project: Some(project.clone()),
        environments: vec![environment.clone()],
        created_by: principal.actor(),
        created_at: now,
        expires_at: now + lifetime.unwrap_or_default(),
        last_used_at: None,
        revoked_at: None,
    };
    let meta = options.meta(&principal, now, None);
    let issued = issue(&auth, &*store, record, &meta).await?;
    Ok(Created {
        location: sdk_key_url(&project, &environment, &issued.record.id),
        version: None,
        body: issued,
        secret: true,
    })
}

/// One SDK key's record (never the key itself).
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/environments/{environment}/sdk-keys/{id}",
    tag = "sdk-keys",
    params(
        ("project" = String, Path, description = "Project key"),
        ("environment" = String, Path, description = "Environment key"),
        ("id" = String, Path, description = "The key's id (its `jti`)"),
    ),
    security(("user" = [])),
    responses(
        (status = 200, description = "The record", body = TokenSchema),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 404, description = "No such SDK key in this environment", body = ErrorBody),
    )
)]
async fn get_sdk_key(
    Admin(_principal): Admin,
    State(store): State<Arc<dyn Store>>,
    Path((project, environment, id)): Path<(String, String, String)>,
) -> Result<JsonBody<TokenRecord>, ApiError> {
    Ok(JsonBody(
        sdk_key(&*store, &project, &environment, &id).await?,
    ))
}

/// Revokes an SDK key: applications using it are refused from now on
/// (streams close with 4403). It stays listed with `revoked_at`; revoking
/// it again changes nothing.
#[utoipa::path(
    delete,
    path = "/api/v1/projects/{project}/environments/{environment}/sdk-keys/{id}",
    tag = "sdk-keys",
    params(
        ("project" = String, Path, description = "Project key"),
        ("environment" = String, Path, description = "Environment key"),
        ("id" = String, Path, description = "The key's id (its `jti`)"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    security(("user" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Malformed headers", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 404, description = "No such SDK key in this environment", body = ErrorBody),
    )
)]
async fn revoke_sdk_key(
    Admin(principal): Admin,
    State(auth): State<AuthState>,
    State(store): State<Arc<dyn Store>>,
    State(streams): State<Streams>,
    Path((project, environment, id)): Path<(String, String, String)>,
    options: WriteOptions,
) -> Result<StatusCode, ApiError> {
    sdk_key(&*store, &project, &environment, &id).await?;
    let meta = options.meta(&principal, auth.now(), None);
    store.revoke_token(&id, &meta).await?;
    auth.cache().invalidate_token(&id);
    let closed = streams.revoke_key(&id);
    info!(sdk_key = %id, project, environment, actor = %meta.actor, closed_streams = closed, "SDK key revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// The record of SDK key `id` of this environment; anything else is 404.
async fn sdk_key(
    store: &dyn Store,
    project: &str,
    environment: &str,
    id: &str,
) -> Result<TokenRecord, ApiError> {
    let not_found = || ApiError::NotFound(format!("SDK key {id}"));
    let record = match store.get_token(id).await {
        Ok(record) => record,
        Err(StoreError::NotFound(_)) => return Err(not_found()),
        Err(err) => return Err(err.into()),
    };
    let here = record.kind == TokenKind::Sdk
        && record.project.as_deref() == Some(project)
        && record.environments == [environment];
    if here { Ok(record) } else { Err(not_found()) }
}

fn sdk_key_url(project: &str, environment: &str, id: &str) -> String {
    format!("{}/sdk-keys/{id}", environment_url(project, environment))
}
