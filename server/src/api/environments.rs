//! Environments of a project:
//! `/api/v1/projects/{project}/environments[/{environment}]`.
//!
//! Anyone logged in reads them; admins (not limited to environments)
//! create, rename, mark `production` and delete them. An environment's
//! `ETag` is its change counter, which every flag or segment change of the
//! project also bumps: an `If-Match` read before such a change is stale.
//! Deleting an environment deletes its flag configs and revokes its SDK
//! keys, so a new environment of the same name does not inherit them.
//!
//! Every write checks, in order: credentials (401), the admin role (403),
//! the headers (400), the body (415, 413, 400, 422), then the store: not
//! found (404), an existing key or a stale `If-Match` (409).

use std::sync::Arc;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json as JsonBody, Router};
use serde::Deserialize;
use tracing::info;
use utoipa::{OpenApi, ToSchema};
use vexil_proto::Environment;
use vexil_proto::validate::validate_environment;

use super::admin_schemas::{EnvironmentPageSchema, EnvironmentRecordSchema};
use super::error::{ApiError, ErrorBody};
use super::json::Json;
use super::paging::PageQuery;
use super::resource::{Admin, Created, Problems, Query, page_of};
use super::write::{Versioned, WriteOptions};
use crate::auth::{AuthState, Principal};
use crate::store::{EnvironmentRecord, Paged, Store};
use crate::stream::Streams;

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(
        list_environments,
        create_environment,
        get_environment,
        put_environment,
        delete_environment
    ),
    components(schemas(
        NewEnvironment,
        EnvironmentUpdate,
        EnvironmentRecordSchema,
        EnvironmentPageSchema
    )),
    tags((name = "environments", description = "A project's environments (development, staging, production, ...)"))
)]
pub struct Doc;

/// `/api/v1/projects/{project}/environments` and `/…/{environment}`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
    Streams: FromRef<S>,
{
    Router::new()
        .route(
            "/api/v1/projects/{project}/environments",
            get(list_environments).post(create_environment),
        )
        .route(
            "/api/v1/projects/{project}/environments/{environment}",
            get(get_environment)
                .put(put_environment)
                .delete(delete_environment),
        )
}

/// A new environment (also inside a new project's `environments`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnvironment {
    /// `[a-z0-9][a-z0-9._-]{0,127}`; cannot change later.
    pub key: String,
    pub name: String,
    /// Marks environments where changes need more care, and which API
    /// tokens can be kept out of.
    #[serde(default)]
    pub production: bool,
}

impl NewEnvironment {
    pub fn into_environment(self) -> Environment {
        Environment {
            key: self.key,
            name: self.name,
            production: self.production,
            version: 0,
        }
    }
}

/// The whole of an environment's changeable state. `production` is
/// required, so a rename cannot clear it by leaving it out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentUpdate {
    /// May be given; must then be the environment's own key.
    #[serde(default)]
    pub key: Option<String>,
    pub name: String,
    pub production: bool,
}

/// Lists a project's environments in creation order.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/environments",
    tag = "environments",
    params(("project" = String, Path, description = "Project key"), PageQuery),
    security(("user" = [])),
    responses(
        (status = 200, description = "One page of environments", body = EnvironmentPageSchema),
        (status = 400, description = "Malformed paging", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
    )
)]
async fn list_environments(
    _principal: Principal,
    State(store): State<Arc<dyn Store>>,
    Path(project): Path<String>,
    Query(paging): Query<PageQuery>,
) -> Result<JsonBody<Paged<EnvironmentRecord>>, ApiError> {
    let environments = store.list_environments(&project).await?;
    Ok(JsonBody(page_of(environments, paging)?))
}

/// Creates an environment at version 1, with every flag of the project
/// disabled there (its default config).
#[utoipa::path(
    post,
    path = "/api/v1/projects/{project}/environments",
    tag = "environments",
    params(("project" = String, Path, description = "Project key")),
    request_body = NewEnvironment,
    security(("user" = [])),
    responses(
        (status = 201, description = "Created; `Location` is its URL, `ETag` its version", body = EnvironmentRecordSchema),
        (status = 400, description = "Malformed JSON or headers", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
        (status = 409, description = "An environment with this key exists", body = ErrorBody),
        (status = 413, description = "Body over 2 MiB", body = ErrorBody),
        (status = 415, description = "Body is not application/json", body = ErrorBody),
        (status = 422, description = "Unknown field, invalid key or empty name, with JSON pointers", body = ErrorBody),
    )
)]
async fn create_environment(
    Admin(principal): Admin,
    State(auth): State<AuthState>,
    State(store): State<Arc<dyn Store>>,
    Path(project): Path<String>,
    options: WriteOptions,
    Json(body): Json<NewEnvironment>,
) -> Result<Created<EnvironmentRecord>, ApiError> {
    let environment = body.into_environment();
    validate_environment(&environment)?;
    let meta = options.meta(&principal, auth.now(), None);
    let created = store
        .create_environment(&project, &environment, &meta)
        .await?;
    Ok(Created {
        location: environment_url(&project, &created.environment.key),
        version: Some(created.environment.version),
        body: created,
        secret: false,
    })
}

/// One environment; its `ETag` is its version.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/environments/{environment}",
    tag = "environments",
    params(
        ("project" = String, Path, description = "Project key"),
        ("environment" = String, Path, description = "Environment key"),
    ),
    security(("user" = [])),
    responses(
        (status = 200, description = "The environment", body = EnvironmentRecordSchema),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 404, description = "No such project or environment", body = ErrorBody),
    )
)]
async fn get_environment(
    _principal: Principal,
    State(store): State<Arc<dyn Store>>,
    Path((project, environment)): Path<(String, String)>,
) -> Result<Versioned<EnvironmentRecord>, ApiError> {
    let record = store.get_environment(&project, &environment).await?;
    Ok(Versioned(record.environment.version, record))
}

/// Renames an environment or changes `production`. The key cannot change.
#[utoipa::path(
    put,
    path = "/api/v1/projects/{project}/environments/{environment}",
    tag = "environments",
    params(
        ("project" = String, Path, description = "Project key"),
        ("environment" = String, Path, description = "Environment key"),
        ("If-Match" = Option<String>, Header, description = "The version the change is based on"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    request_body = EnvironmentUpdate,
    security(("user" = [])),
    responses(
        (status = 200, description = "Updated; `ETag` is the new version", body = EnvironmentRecordSchema),
        (status = 400, description = "Malformed JSON or headers", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 404, description = "No such project or environment", body = ErrorBody),
        (status = 409, description = "`If-Match` is stale", body = ErrorBody),
        (status = 413, description = "Body over 2 MiB", body = ErrorBody),
        (status = 415, description = "Body is not application/json", body = ErrorBody),
        (status = 422, description = "Unknown field, another key or an empty name, with JSON pointers", body = ErrorBody),
    )
)]
async fn put_environment(
    Admin(principal): Admin,
    State(auth): State<AuthState>,
    State(store): State<Arc<dyn Store>>,
    Path((project, key)): Path<(String, String)>,
    options: WriteOptions,
    Json(body): Json<EnvironmentUpdate>,
) -> Result<Versioned<EnvironmentRecord>, ApiError> {
    let mut problems = Problems::default();
    if body.key.as_deref().is_some_and(|given| given != key) {
        problems.add("/key", format!("the key cannot change; this is `{key}`"));
    }
    let environment = Environment {
        key,
        name: body.name,
        production: body.production,
        version: 0,
    };
    // The key comes from the path: one that is not a key names no
    // environment, which the store answers with 404.
    if let Err(errors) = validate_environment(&environment) {
        problems.0.extend(
            errors
                .0
                .into_iter()
                .filter(|problem| problem.path != "/key"),
        );
    }
    problems.finish()?;
    let meta = options.meta(&principal, auth.now(), None);
    let updated = store
        .update_environment(&project, &environment, &meta)
        .await?;
    Ok(Versioned(updated.environment.version, updated))
}

/// Deletes an environment with its flag configs, and revokes its SDK keys.
#[utoipa::path(
    delete,
    path = "/api/v1/projects/{project}/environments/{environment}",
    tag = "environments",
    params(
        ("project" = String, Path, description = "Project key"),
        ("environment" = String, Path, description = "Environment key"),
        ("If-Match" = Option<String>, Header, description = "The version the deletion is based on"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    security(("user" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed headers", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 404, description = "No such project or environment", body = ErrorBody),
        (status = 409, description = "`If-Match` is stale", body = ErrorBody),
    )
)]
async fn delete_environment(
    Admin(principal): Admin,
    State(auth): State<AuthState>,
    State(store): State<Arc<dyn Store>>,
    State(streams): State<Streams>,
    Path((project, key)): Path<(String, String)>,
    options: WriteOptions,
) -> Result<StatusCode, ApiError> {
    let meta = options.meta(&principal, auth.now(), None);
    // The store revokes the environment's SDK keys in the same
    // transaction; they stop working on this replica at once (other
    // replicas within the auth cache's TTL).
    let revoked = store.delete_environment(&project, &key, &meta).await?;
    streams.environment_deleted(&project, &key);
    for id in &revoked {
        auth.cache().invalidate_token(id);
    }
    if !revoked.is_empty() {
        info!(
            project,
            environment = key,
            revoked = revoked.len(),
            "SDK keys of a deleted environment revoked"
        );
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) fn environment_url(project: &str, environment: &str) -> String {
    format!("/api/v1/projects/{project}/environments/{environment}")
}
