//! A flag's config in one environment:
//! `/api/v1/projects/{project}/flags/{flag}/environments/{environment}`,
//! and its one-click switch `…/toggle`.
//!
//! Writes here change one environment: they need an editor allowed in that
//! environment (`require_env_write`, so a token limited to `staging` edits
//! staging only), bump that environment's version alone, and answer with
//! the config's new version as `ETag`. The store validates a config
//! against the environment as its write transaction reads it (live flags
//! and the project's segments), so a rule naming a missing segment, or a
//! prerequisite on a missing or archived flag, is a 422 even when the
//! segment or flag goes away while the request is in flight.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, FromRequest, Path, Request, State};
use axum::routing::{get, post};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};
use vexil_proto::{FlagConfig, Problem};

use super::error::{ApiError, ErrorBody};
use super::flag_schemas::FlagConfigSchema;
use super::json::Json;
use super::write::{MAX_REASON_CHARS, Versioned, WriteOptions};
use crate::auth::{AuthState, Principal};
use crate::store::{Store, StoreError, WriteMeta};

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(get_config, put_config, toggle),
    components(schemas(FlagConfigSchema, Toggle)),
    tags((name = "configs", description = "A flag's targeting in one environment"))
)]
pub struct Doc;

/// `/api/v1/projects/{project}/flags/{flag}/environments/{environment}[/toggle]`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
{
    const CONFIG: &str = "/api/v1/projects/{project}/flags/{flag}/environments/{environment}";
    Router::new()
        .route(CONFIG, get(get_config).put(put_config))
        .route(&format!("{CONFIG}/toggle"), post(toggle))
}

/// The one-click switch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Toggle {
    /// The new state; sending the current one still records a change.
    enabled: bool,
    /// Why, for the change log; wins over `X-Vexil-Reason`.
    #[serde(default)]
    reason: Option<String>,
}

/// One flag's config in one environment.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/flags/{flag}/environments/{environment}",
    tag = "configs",
    params(
        ("project" = String, Path, description = "Project key"),
        ("flag" = String, Path, description = "Flag key"),
        ("environment" = String, Path, description = "Environment key"),
    ),
    security(("user" = [])),
    responses(
        (status = 200, description = "The config", body = FlagConfigSchema, headers(
            ("ETag" = String, description = "The config's version, for `If-Match`"))),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 404, description = "No such project, flag or environment", body = ErrorBody),
    )
)]
async fn get_config(
    State(store): State<Arc<dyn Store>>,
    _principal: Principal,
    Path((project, flag, environment)): Path<(String, String, String)>,
) -> Result<Versioned<FlagConfig>, ApiError> {
    let config = store.get_flag_config(&project, &flag, &environment).await?;
    Ok(Versioned(config.version, config))
}

/// Replaces a flag's config in one environment.
#[utoipa::path(
    put,
    path = "/api/v1/projects/{project}/flags/{flag}/environments/{environment}",
    tag = "configs",
    params(
        ("project" = String, Path, description = "Project key"),
        ("flag" = String, Path, description = "Flag key"),
        ("environment" = String, Path, description = "Environment key"),
        ("If-Match" = Option<String>, Header, description = "The config version the change is based on; stale is 409"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    request_body(content = FlagConfigSchema, description = "The whole config; its `version` is ignored"),
    security(("user" = [])),
    responses(
        (status = 200, description = "Replaced", body = FlagConfigSchema, headers(
            ("ETag" = String, description = "The config's new version"))),
        (status = 400, description = "Malformed JSON, `If-Match` or `X-Vexil-Reason`", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor, or a token not allowed in this environment", body = ErrorBody),
        (status = 404, description = "No such project, flag or environment", body = ErrorBody),
        (status = 409, description = "Stale `If-Match`, or the flag is archived", body = ErrorBody),
        (status = 413, description = "The body is over 2 MiB", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 422, description = "Unknown fields or an invalid config (unknown variant, bad regex, weights \
            not summing to 100000, missing segment, missing or archived prerequisite, cycle); \
            `details` has a JSON pointer per problem", body = ErrorBody),
    )
)]
async fn put_config(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<AuthState>,
    principal: Principal,
    Path((project, flag, environment)): Path<(String, String, String)>,
    request: Request,
) -> Result<Versioned<FlagConfig>, ApiError> {
    principal.require_env_write(&project, &environment)?;
    let options = WriteOptions::from_headers(request.headers())?;
    let Json(config) = Json::<FlagConfig>::from_request(request, &()).await?;
    // The store checks, in its transaction and in this order: not found,
    // stale If-Match, archived, then the config against the environment.
    let meta = options.meta(&principal, auth.now(), None);
    match store
        .put_flag_config(&project, &flag, &environment, &config, &meta)
        .await
    {
        Err(StoreError::Invalid(problems)) => {
            Err(explain_archived(&*store, &project, &config, problems).await)
        }
        result => {
            let stored = result?;
            Ok(Versioned(stored.version, stored))
        }
    }
}

/// Validation reports a prerequisite on an archived flag as a flag that
/// does not exist (archived flags are in no snapshot); say which it is.
async fn explain_archived(
    store: &dyn Store,
    project: &str,
    config: &FlagConfig,
    mut problems: Vec<Problem>,
) -> ApiError {
    for (i, prerequisite) in config.prerequisites.iter().enumerate() {
        let path = format!("/prerequisites/{i}/flag");
        if !problems.iter().any(|p| p.path == path) {
            continue;
        }
        let archived = matches!(
            store.get_flag(project, &prerequisite.flag).await,
            Ok(record) if record.archived
        );
        if !archived {
            continue;
        }
        for problem in problems.iter_mut().filter(|p| p.path == path) {
            problem.problem = format!(
                "flag `{}` is archived; restore it or remove this prerequisite",
                prerequisite.flag
            );
        }
    }
    ApiError::Invalid(problems)
}

/// Turns a flag on or off in one environment, leaving the rest of its
/// config as it is. `If-Match` is optional (the switch is meant to work
/// whatever else changed) but honoured when sent.
#[utoipa::path(
    post,
    path = "/api/v1/projects/{project}/flags/{flag}/environments/{environment}/toggle",
    tag = "configs",
    params(
        ("project" = String, Path, description = "Project key"),
        ("flag" = String, Path, description = "Flag key"),
        ("environment" = String, Path, description = "Environment key"),
        ("If-Match" = Option<String>, Header, description = "Optional: the config version the switch is based on; stale is 409"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log; the body's `reason` wins"),
    ),
    request_body(content = Toggle, description = "The new state and, optionally, why"),
    security(("user" = [])),
    responses(
        (status = 200, description = "Switched; every toggle is a change, even to the current state", body = FlagConfigSchema, headers(
            ("ETag" = String, description = "The config's new version"))),
        (status = 400, description = "Malformed JSON, `If-Match` or `X-Vexil-Reason`", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor, or a token not allowed in this environment", body = ErrorBody),
        (status = 404, description = "No such project, flag or environment", body = ErrorBody),
        (status = 409, description = "Stale `If-Match`, or the flag is archived", body = ErrorBody),
        (status = 413, description = "The body is over 2 MiB", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 422, description = "Unknown fields, or a reason over 1000 characters", body = ErrorBody),
    )
)]
async fn toggle(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<AuthState>,
    principal: Principal,
    Path((project, flag, environment)): Path<(String, String, String)>,
    request: Request,
) -> Result<Versioned<FlagConfig>, ApiError> {
    principal.require_env_write(&project, &environment)?;
    let options = WriteOptions::from_headers(request.headers())?;
    let Json(body) = Json::<Toggle>::from_request(request, &()).await?;
    let reason = body
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
        return Err(ApiError::invalid(
            "/reason",
            format!("is longer than {MAX_REASON_CHARS} characters"),
        ));
    }
    let meta: WriteMeta = options.meta(&principal, auth.now(), reason);
    let stored = store
        .set_flag_enabled(&project, &flag, &environment, body.enabled, &meta)
        .await?;
    Ok(Versioned(stored.version, stored))
}
