//! Projects: `/api/v1/projects[/{project}]`.
//!
//! Anyone logged in reads them; admins (not limited to environments)
//! create, rename and delete them. A new project gets the environments its
//! body lists, or `development`, `staging` and `production` (the last
//! marked `production`). Deleting a project deletes everything in it (its
//! environments, flags, segments and SDK keys); its change log stays.
//!
//! Every write checks, in order: credentials (401), the admin role (403),
//! the headers (400), the body (415, 413, 400, 422), then the store: not
//! found (404), an existing key or a stale `If-Match` (409).

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json as JsonBody, Router};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};
use vexil_proto::validate::{validate_environment, validate_project};
use vexil_proto::{Environment, Project};

use super::admin_schemas::{ProjectPageSchema, ProjectRecordSchema, ProjectSchema};
use super::environments::NewEnvironment;
use super::error::{ApiError, ErrorBody};
use super::json::Json;
use super::paging::PageQuery;
use super::resource::{Admin, Created, Problems, Query, page_of};
use super::write::{Versioned, WriteOptions};
use crate::auth::{AuthState, Principal};
use crate::store::{Paged, ProjectRecord, Store, TokenFilter, TokenKind};

/// Most environments a new project may list.
pub const MAX_ENVIRONMENTS: usize = 100;

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(list_projects, create_project, get_project, put_project, delete_project),
    components(schemas(
        NewProject,
        ProjectUpdate,
        ProjectSchema,
        ProjectRecordSchema,
        ProjectPageSchema
    )),
    tags((name = "projects", description = "Projects: flags, segments and environments together"))
)]
pub struct Doc;

/// `/api/v1/projects` and `/api/v1/projects/{project}`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
{
    Router::new()
        .route("/api/v1/projects", get(list_projects).post(create_project))
        .route(
            "/api/v1/projects/{project}",
            get(get_project).put(put_project).delete(delete_project),
        )
}

/// A new project: proto's `Project`, and optionally its environments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    /// `[a-z0-9][a-z0-9._-]{0,127}`; cannot change later.
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Left out: `development`, `staging` and `production` (marked
    /// `production`). An empty list makes a project without environments.
    #[serde(default)]
    pub environments: Option<Vec<NewEnvironment>>,
}

/// What a project's update may change: its name and description.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectUpdate {
    /// May be given; must then be the project's own key.
    #[serde(default)]
    pub key: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: String,
}

impl NewProject {
    /// The documents to store, or every problem with its pointer.
    fn into_documents(self) -> Result<(Project, Vec<Environment>), ApiError> {
        let project = Project {
            key: self.key,
            name: self.name,
            description: self.description,
        };
        let mut problems = Problems::default();
        problems.nested("", validate_project(&project));
        let environments = match self.environments {
            Some(environments) => environments
                .into_iter()
                .map(NewEnvironment::into_environment)
                .collect(),
            None => default_environments(),
        };
        if environments.len() > MAX_ENVIRONMENTS {
            problems.add(
                "/environments",
                format!(
                    "has {} environments; the limit is {MAX_ENVIRONMENTS}",
                    environments.len()
                ),
            );
        }
        let mut seen = HashSet::new();
        for (index, environment) in environments.iter().take(MAX_ENVIRONMENTS).enumerate() {
            let at = format!("/environments/{index}");
            problems.nested(&at, validate_environment(environment));
            if !seen.insert(environment.key.as_str()) {
                problems.add(
                    format!("{at}/key"),
                    format!("environment `{}` is listed twice", environment.key),
                );
            }
        }
        problems.finish()?;
        Ok((project, environments))
    }
}

/// What a project gets when its body names no environments.
pub fn default_environments() -> Vec<Environment> {
    [
        ("development", "Development", false),
        ("staging", "Staging", false),
        ("production", "Production", true),
    ]
    .into_iter()
    .map(|(key, name, production)| Environment {
        key: key.into(),
        name: name.into(),
        production,
        version: 0,
    })
    .collect()
}

/// Lists projects by key.
#[utoipa::path(
    get,
    path = "/api/v1/projects",
    tag = "projects",
    params(PageQuery),
    security(("user" = [])),
    responses(
        (status = 200, description = "One page of projects", body = ProjectPageSchema),
        (status = 400, description = "Malformed paging", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
    )
)]
async fn list_projects(
    _principal: Principal,
    State(store): State<Arc<dyn Store>>,
    Query(paging): Query<PageQuery>,
) -> Result<JsonBody<Paged<ProjectRecord>>, ApiError> {
    let projects = store.list_projects().await?;
    Ok(JsonBody(page_of(projects, paging)?))
}

/// Creates a project with its environments, each at version 1.
#[utoipa::path(
    post,
    path = "/api/v1/projects",
    tag = "projects",
    request_body = NewProject,
    params(("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log")),
    security(("user" = [])),
    responses(
        (status = 201, description = "Created; `Location` is its URL, `ETag` its version", body = ProjectRecordSchema),
        (status = 400, description = "Malformed JSON or headers", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 409, description = "A project with this key exists", body = ErrorBody),
        (status = 413, description = "Body over 2 MiB", body = ErrorBody),
        (status = 415, description = "Body is not application/json", body = ErrorBody),
        (status = 422, description = "Unknown field, invalid key, empty name or duplicate environment, with JSON pointers", body = ErrorBody),
    )
)]
async fn create_project(
    Admin(principal): Admin,
    State(auth): State<AuthState>,
    State(store): State<Arc<dyn Store>>,
    options: WriteOptions,
    Json(body): Json<NewProject>,
) -> Result<Created<ProjectRecord>, ApiError> {
    let (project, environments) = body.into_documents()?;
    let meta = options.meta(&principal, auth.now(), None);
    let created = store.create_project(&project, &environments, &meta).await?;
    Ok(Created {
        location: project_url(&created.project.key),
        version: Some(created.version),
        body: created,
        secret: false,
    })
}

/// One project; its `ETag` is its version.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}",
    tag = "projects",
    params(("project" = String, Path, description = "Project key")),
    security(("user" = [])),
    responses(
        (status = 200, description = "The project", body = ProjectRecordSchema),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
    )
)]
async fn get_project(
    _principal: Principal,
    State(store): State<Arc<dyn Store>>,
    Path(project): Path<String>,
) -> Result<Versioned<ProjectRecord>, ApiError> {
    let record = store.get_project(&project).await?;
    Ok(Versioned(record.version, record))
}

/// Renames a project or changes its description. The key cannot change.
#[utoipa::path(
    put,
    path = "/api/v1/projects/{project}",
    tag = "projects",
    params(
        ("project" = String, Path, description = "Project key"),
        ("If-Match" = Option<String>, Header, description = "The version the change is based on"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    request_body = ProjectUpdate,
    security(("user" = [])),
    responses(
        (status = 200, description = "Updated; `ETag` is the new version", body = ProjectRecordSchema),
        (status = 400, description = "Malformed JSON or headers", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
        (status = 409, description = "`If-Match` is stale", body = ErrorBody),
        (status = 413, description = "Body over 2 MiB", body = ErrorBody),
        (status = 415, description = "Body is not application/json", body = ErrorBody),
        (status = 422, description = "Unknown field, another key or an empty name, with JSON pointers", body = ErrorBody),
    )
)]
async fn put_project(
    Admin(principal): Admin,
    State(auth): State<AuthState>,
    State(store): State<Arc<dyn Store>>,
    Path(key): Path<String>,
    options: WriteOptions,
    Json(body): Json<ProjectUpdate>,
) -> Result<Versioned<ProjectRecord>, ApiError> {
    let mut problems = Problems::default();
    if body.key.as_deref().is_some_and(|given| given != key) {
        problems.add("/key", format!("the key cannot change; this is `{key}`"));
    }
    let project = Project {
        key,
        name: body.name,
        description: body.description,
    };
    // The key comes from the path: one that is not a key names no
    // project, which the store answers with 404.
    if let Err(errors) = validate_project(&project) {
        problems.0.extend(
            errors
                .0
                .into_iter()
                .filter(|problem| problem.path != "/key"),
        );
    }
    problems.finish()?;
    let meta = options.meta(&principal, auth.now(), None);
    let updated = store.update_project(&project, &meta).await?;
    Ok(Versioned(updated.version, updated))
}

/// Deletes a project with everything in it; its change log stays.
#[utoipa::path(
    delete,
    path = "/api/v1/projects/{project}",
    tag = "projects",
    params(
        ("project" = String, Path, description = "Project key"),
        ("If-Match" = Option<String>, Header, description = "The version the deletion is based on"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    security(("user" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed headers", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, or a token limited to environments", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
        (status = 409, description = "`If-Match` is stale", body = ErrorBody),
    )
)]
async fn delete_project(
    Admin(principal): Admin,
    State(auth): State<AuthState>,
    State(store): State<Arc<dyn Store>>,
    Path(key): Path<String>,
    options: WriteOptions,
) -> Result<StatusCode, ApiError> {
    // The store deletes the project's SDK keys with it; this replica's
    // auth cache must forget them too.
    let filter = TokenFilter {
        kind: Some(TokenKind::Sdk),
        project: Some(key.clone()),
        environment: None,
        include_revoked: false,
    };
    let keys = store.list_tokens(&filter).await?;
    let meta = options.meta(&principal, auth.now(), None);
    store.delete_project(&key, &meta).await?;
    for sdk_key in &keys {
        auth.cache().invalidate_token(&sdk_key.id);
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) fn project_url(project: &str) -> String {
    format!("/api/v1/projects/{project}")
}
