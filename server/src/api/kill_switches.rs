//! Kill switches: `/api/v1/projects/{project}/kill-switches[/{id}]` and
//! `…/{id}/reset`.
//!
//! A switch acts on one environment, so writing one needs an editor
//! allowed in that environment (a token limited to `staging` cannot bind
//! a switch to `production`). Writes are audited in the change log as
//! `kill_switch` changes and bump no environment version (the switch is
//! not in any snapshot; what it does to its flag is a flag-config change).

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use utoipa::OpenApi;

use super::error::{ApiError, ErrorBody};
use super::json::Json;
use super::paging::PageQuery;
use super::query::Query;
use super::resource::{Created, page_of};
use super::write::{Versioned, WriteOptions};
use crate::auth::{AuthState, Principal};
use crate::killswitch::deploy::DeployStatus;
use crate::killswitch::tripping::{Effect, Matched};
use crate::killswitch::{
    Action, Cause, KillSwitch, KillSwitchRecord, MatchOp, Matcher, Restore, Status, SwitchState,
    Trigger, validate,
};
use crate::store::{Paged, Store, SwitchTransition};

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(list_switches, create_switch, get_switch, put_switch, delete_switch, reset_switch),
    components(schemas(
        KillSwitch, KillSwitchRecord, Trigger, Matcher, MatchOp, Action, Restore, Status,
        SwitchState, Cause, DeployStatus, Effect, Matched
    )),
    tags((name = "kill-switches", description = "Alerts and deploys that turn a flag off"))
)]
pub struct Doc;

const LIST: &str = "/api/v1/projects/{project}/kill-switches";
const ONE: &str = "/api/v1/projects/{project}/kill-switches/{id}";

/// The kill-switch routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
{
    Router::new()
        .route(LIST, get(list_switches).post(create_switch))
        .route(ONE, get(get_switch).put(put_switch).delete(delete_switch))
        .route(&format!("{ONE}/reset"), post(reset_switch))
}

/// Reads the body and checks it against the project: 404 for a missing
/// project, 403 for an environment the caller may not write, 422 with
/// pointers for anything else.
async fn checked(
    store: &dyn Store,
    principal: &Principal,
    project: &str,
    request: Request,
) -> Result<(WriteOptions, KillSwitch), ApiError> {
    principal.require_role(crate::store::Role::Editor)?;
    let options = WriteOptions::from_headers(request.headers())?;
    let Json(spec) = Json::<KillSwitch>::from_request(request, &()).await?;
    store.get_project(project).await?;
    principal.require_env_write(project, &spec.environment)?;
    let problems = validate::problems(store, project, &spec).await?;
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    Ok((options, spec))
}

/// A project's kill switches with their state, oldest first.
#[utoipa::path(
    get, path = "/api/v1/projects/{project}/kill-switches", tag = "kill-switches",
    params(("project" = String, Path, description = "Project key"), PageQuery),
    security(("user" = [])),
    responses(
        (status = 200, description = "One page of switches", body = Object),
        (status = 400, description = "Malformed paging", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
    )
)]
async fn list_switches(
    State(store): State<Arc<dyn Store>>,
    _principal: Principal,
    Path(project): Path<String>,
    Query(paging): Query<PageQuery>,
) -> Result<axum::Json<Paged<KillSwitchRecord>>, ApiError> {
    paging.page()?;
    let all = store.list_kill_switches(Some(&project)).await?;
    Ok(axum::Json(page_of(all, paging)?))
}

/// Creates an armed kill switch.
#[utoipa::path(
    post, path = "/api/v1/projects/{project}/kill-switches", tag = "kill-switches",
    params(
        ("project" = String, Path, description = "Project key"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    request_body(content = KillSwitch),
    security(("user" = [])),
    responses(
        (status = 201, description = "Created, armed", body = KillSwitchRecord, headers(
            ("Location" = String, description = "The switch's URL"),
            ("ETag" = String, description = "The switch's version"))),
        (status = 400, description = "Malformed JSON or headers", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor of the switch's environment", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
        (status = 422, description = "Unknown fields, a missing flag, environment or variant, \
            a regex that does not compile, no matchers; `details` has a JSON pointer per problem",
            body = ErrorBody),
    )
)]
async fn create_switch(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<AuthState>,
    principal: Principal,
    Path(project): Path<String>,
    request: Request,
) -> Result<Created<KillSwitchRecord>, ApiError> {
    let (options, spec) = checked(&*store, &principal, &project, request).await?;
    let mut meta = options.meta(&principal, auth.now(), None);
    meta.expected_version = None;
    let id = uuid::Uuid::new_v4().to_string();
    let record = store
        .create_kill_switch(&project, &id, &spec, &meta)
        .await?;
    Ok(Created {
        location: format!("/api/v1/projects/{project}/kill-switches/{id}"),
        version: Some(record.version),
        body: record,
        secret: false,
    })
}

/// One kill switch with its state.
#[utoipa::path(
    get, path = "/api/v1/projects/{project}/kill-switches/{id}", tag = "kill-switches",
    params(
        ("project" = String, Path, description = "Project key"),
        ("id" = String, Path, description = "Kill switch id"),
    ),
    security(("user" = [])),
    responses(
        (status = 200, description = "The switch", body = KillSwitchRecord, headers(
            ("ETag" = String, description = "Its version, for `If-Match`"))),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 404, description = "No such project or switch", body = ErrorBody),
    )
)]
async fn get_switch(
    State(store): State<Arc<dyn Store>>,
    _principal: Principal,
    Path((project, id)): Path<(String, String)>,
) -> Result<Versioned<KillSwitchRecord>, ApiError> {
    let record = store.get_kill_switch(&project, &id).await?;
    Ok(Versioned(record.version, record))
}

/// Replaces a switch's trigger, action or binding; its state stays.
#[utoipa::path(
    put, path = "/api/v1/projects/{project}/kill-switches/{id}", tag = "kill-switches",
    params(
        ("project" = String, Path, description = "Project key"),
        ("id" = String, Path, description = "Kill switch id"),
        ("If-Match" = Option<String>, Header, description = "The version the change is based on; stale is 409"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    request_body(content = KillSwitch),
    security(("user" = [])),
    responses(
        (status = 200, description = "Replaced", body = KillSwitchRecord, headers(
            ("ETag" = String, description = "Its new version"))),
        (status = 400, description = "Malformed JSON or headers", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor of the environments involved", body = ErrorBody),
        (status = 404, description = "No such project or switch", body = ErrorBody),
        (status = 409, description = "Stale `If-Match`", body = ErrorBody),
        (status = 422, description = "Invalid switch; `details` has JSON pointers", body = ErrorBody),
    )
)]
async fn put_switch(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<AuthState>,
    principal: Principal,
    Path((project, id)): Path<(String, String)>,
    request: Request,
) -> Result<Versioned<KillSwitchRecord>, ApiError> {
    let current = store.get_kill_switch(&project, &id).await?;
    principal.require_env_write(&project, &current.spec.environment)?;
    let (options, spec) = checked(&*store, &principal, &project, request).await?;
    let meta = options.meta(&principal, auth.now(), None);
    let record = store
        .update_kill_switch(&project, &id, &spec, &meta)
        .await?;
    Ok(Versioned(record.version, record))
}

/// Deletes a switch (the flag keeps whatever config it has).
#[utoipa::path(
    delete, path = "/api/v1/projects/{project}/kill-switches/{id}", tag = "kill-switches",
    params(
        ("project" = String, Path, description = "Project key"),
        ("id" = String, Path, description = "Kill switch id"),
        ("If-Match" = Option<String>, Header, description = "The version the deletion is based on; stale is 409"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    security(("user" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor of the switch's environment", body = ErrorBody),
        (status = 404, description = "No such project or switch", body = ErrorBody),
        (status = 409, description = "Stale `If-Match`", body = ErrorBody),
    )
)]
async fn delete_switch(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<AuthState>,
    principal: Principal,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let current = store.get_kill_switch(&project, &id).await?;
    principal.require_env_write(&project, &current.spec.environment)?;
    let options = WriteOptions::from_headers(&headers)?;
    let meta = options.meta(&principal, auth.now(), None);
    store.delete_kill_switch(&project, &id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Re-arms a tripped switch. The flag is not touched: a person restores
/// it by editing it (the change log's trip entry has the config before).
#[utoipa::path(
    post, path = "/api/v1/projects/{project}/kill-switches/{id}/reset", tag = "kill-switches",
    params(
        ("project" = String, Path, description = "Project key"),
        ("id" = String, Path, description = "Kill switch id"),
        ("If-Match" = Option<String>, Header, description = "Optional: the switch version; stale is 409"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    security(("user" = [])),
    responses(
        (status = 200, description = "Armed", body = KillSwitchRecord, headers(
            ("ETag" = String, description = "Its new version"))),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor of the switch's environment", body = ErrorBody),
        (status = 404, description = "No such project or switch", body = ErrorBody),
        (status = 409, description = "Stale `If-Match`, or the switch changed meanwhile", body = ErrorBody),
    )
)]
async fn reset_switch(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<AuthState>,
    principal: Principal,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Versioned<KillSwitchRecord>, ApiError> {
    let current = store.get_kill_switch(&project, &id).await?;
    principal.require_env_write(&project, &current.spec.environment)?;
    let options = WriteOptions::from_headers(&headers)?;
    options.check(current.version)?;
    let meta = options.meta(&principal, auth.now(), None);
    let armed = SwitchState::default();
    let transition = SwitchTransition {
        project: &project,
        id: &id,
        switch_version: current.version,
        state: &armed,
        config: None,
    };
    let record = store.transition_kill_switch(&transition, &meta).await?;
    Ok(Versioned(record.version, record))
}
