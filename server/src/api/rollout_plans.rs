//! Rollout plans:
//! `/api/v1/projects/{project}/flags/{flag}/environments/{environment}/rollout-plan`
//! (GET PUT DELETE, POST `…/pause`, `…/resume`, `…/abort`) and the
//! project's list at `/api/v1/projects/{project}/rollout-plans`.
//!
//! A plan acts in one environment, so writing one needs an editor allowed
//! in it. `PUT` starts the plan (over again, when one exists) at its first
//! stage and writes that exposure into the flag's config; every later
//! exposure is written by the server as the plan moves, with the actor
//! `automation:rollout`. `DELETE` removes the plan and leaves the config
//! as it is. Times come from the advancer's clock.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::{OpenApi, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::json::Json;
use super::resource::Created;
use super::write::{Versioned, WriteOptions};
use crate::auth::{AuthState, Principal};
use crate::killswitch::{Cause, MatchOp, Matcher};
use crate::rollout::moves::{self, Action};
use crate::rollout::{
    AlertGuard, Exposure, Guards, Note, PlanState, PlanStatus, RegionPlan, RolloutConfig,
    RolloutPlan, RolloutPlanRecord, Share, Stage, guards, schedule, validate,
};
use crate::store::{PlanPut, Role, Store};

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(list_plans, get_plan, put_plan, delete_plan, pause_plan, resume_plan, abort_plan),
    components(schemas(
        RolloutPlan, Stage, RegionPlan, Guards, AlertGuard, Matcher, MatchOp, PlanState,
        PlanStatus, Note, Cause, Share, PlanView
    )),
    tags((name = "rollout-plans", description = "Guarded rollouts, region by region"))
)]
pub struct Doc;

const LIST: &str = "/api/v1/projects/{project}/rollout-plans";
const ONE: &str = "/api/v1/projects/{project}/flags/{flag}/environments/{environment}/rollout-plan";

/// The rollout-plan routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
    RolloutConfig: FromRef<S>,
{
    Router::new()
        .route(LIST, get(list_plans))
        .route(ONE, get(get_plan).put(put_plan).delete(delete_plan))
        .route(&format!("{ONE}/pause"), post(pause_plan))
        .route(&format!("{ONE}/resume"), post(resume_plan))
        .route(&format!("{ONE}/abort"), post(abort_plan))
}

/// A plan with what it serves now and when it moves next.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    #[serde(flatten)]
    pub plan: RolloutPlanRecord,
    /// Where it is, in words: `stage 2 of 4 in eu-west-1 (region 1 of 3)`.
    pub position: String,
    /// The share of each region (or of everyone) served the variant now.
    pub exposure: Vec<Share>,
    /// When the current stage's hold ends, while running.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_step_at: Option<OffsetDateTime>,
}

impl From<RolloutPlanRecord> for PlanView {
    fn from(plan: RolloutPlanRecord) -> Self {
        let running = plan.state.status == PlanStatus::Running && !plan.state.rolled_back;
        PlanView {
            position: schedule::position(&plan.spec, &plan.state),
            exposure: Exposure::of(&plan.spec, &plan.state).shares,
            next_step_at: running
                .then(|| schedule::due(&plan.spec, &plan.state))
                .flatten(),
            plan,
        }
    }
}

type Key = (String, String, String);

/// A project's plans, by flag and environment.
#[utoipa::path(
    get, path = "/api/v1/projects/{project}/rollout-plans", tag = "rollout-plans",
    params(("project" = String, Path, description = "Project key")),
    security(("user" = [])),
    responses(
        (status = 200, description = "Every plan of the project", body = [PlanView]),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
    )
)]
async fn list_plans(
    State(store): State<Arc<dyn Store>>,
    _principal: Principal,
    Path(project): Path<String>,
) -> Result<axum::Json<Vec<PlanView>>, ApiError> {
    let plans = store.list_rollout_plans(Some(&project)).await?;
    Ok(axum::Json(plans.into_iter().map(PlanView::from).collect()))
}

/// The flag's plan in the environment.
#[utoipa::path(
    get, path = "/api/v1/projects/{project}/flags/{flag}/environments/{environment}/rollout-plan",
    tag = "rollout-plans",
    params(
        ("project" = String, Path, description = "Project key"),
        ("flag" = String, Path, description = "Flag key"),
        ("environment" = String, Path, description = "Environment key"),
    ),
    security(("user" = [])),
    responses(
        (status = 200, description = "The plan", body = PlanView, headers(
            ("ETag" = String, description = "Its version, for `If-Match`"))),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 404, description = "No such project or plan", body = ErrorBody),
    )
)]
async fn get_plan(
    State(store): State<Arc<dyn Store>>,
    _principal: Principal,
    Path((project, flag, environment)): Path<Key>,
) -> Result<Versioned<PlanView>, ApiError> {
    let plan = store
        .get_rollout_plan(&project, &flag, &environment)
        .await?;
    Ok(Versioned(plan.version, plan.into()))
}

/// Starts a plan (or starts it over): its first stage's exposure is
/// written into the flag's config at once.
#[utoipa::path(
    put, path = "/api/v1/projects/{project}/flags/{flag}/environments/{environment}/rollout-plan",
    tag = "rollout-plans",
    params(
        ("project" = String, Path, description = "Project key"),
        ("flag" = String, Path, description = "Flag key"),
        ("environment" = String, Path, description = "Environment key"),
        ("If-Match" = Option<String>, Header, description = "The plan version the change is based on; stale is 409"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    request_body(content = RolloutPlan),
    security(("user" = [])),
    responses(
        (status = 200, description = "Replaced and started over", body = PlanView, headers(
            ("ETag" = String, description = "Its new version"))),
        (status = 201, description = "Created and started", body = PlanView, headers(
            ("Location" = String, description = "The plan's URL"),
            ("ETag" = String, description = "Its version"))),
        (status = 400, description = "Malformed JSON or headers", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor of the environment", body = ErrorBody),
        (status = 404, description = "No such project, flag or environment", body = ErrorBody),
        (status = 409, description = "Stale `If-Match`, an archived flag, or a kill switch on the flag is tripped", body = ErrorBody),
        (status = 422, description = "Unknown fields, unknown variants, no stages, percents that go down, \
            duplicate regions, matchers that do not compile; `details` has a JSON pointer per problem",
            body = ErrorBody),
    )
)]
async fn put_plan(
    State(store): State<Arc<dyn Store>>,
    State(rollouts): State<RolloutConfig>,
    principal: Principal,
    Path((project, flag, environment)): Path<Key>,
    request: Request,
) -> Result<Response, ApiError> {
    principal.require_role(Role::Editor)?;
    principal.require_env_write(&project, &environment)?;
    let options = WriteOptions::from_headers(request.headers())?;
    let Json(spec) = Json::<RolloutPlan>::from_request(request, &()).await?;
    let record = store.get_flag(&project, &flag).await?;
    store.get_environment(&project, &environment).await?;
    let problems = validate::problems(&record.flag, &spec);
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    let now = rollouts.clock.now();
    let state = PlanState::start(now);
    // A new plan knows no alert yet: only a tripped switch holds it back.
    let switches = store.list_kill_switches(Some(&project)).await?;
    let tripped = guards::tripped_switch(&switches, &project, &flag, &environment);
    if let Some(why) = tripped.filter(|_| spec.guards.kill_switches) {
        return Err(ApiError::Conflict(format!(
            "a guard is firing: {why}; start the plan once it has cleared"
        )));
    }
    let exposure = Exposure::of(&spec, &state);
    let mut meta = options.meta(&principal, now, None);
    let started = format!(
        "rollout plan started: {}, serving {}",
        schedule::position(&spec, &state),
        exposure.describe()
    );
    meta.reason = Some(match meta.reason.take() {
        Some(given) => format!("{started}: {given}"),
        None => started,
    });
    let put = PlanPut {
        project: &project,
        flag: &flag,
        environment: &environment,
        spec: &spec,
        state: &state,
        exposure: &exposure,
    };
    let (plan, created) = store.put_rollout_plan(&put, &meta).await?;
    let version = plan.version;
    let view = PlanView::from(plan);
    Ok(if created {
        Created {
            location: format!(
                "/api/v1/projects/{project}/flags/{flag}/environments/{environment}/rollout-plan"
            ),
            version: Some(version),
            body: view,
            secret: false,
        }
        .into_response()
    } else {
        Versioned(version, view).into_response()
    })
}

/// Removes the plan; the flag's config stays as the plan left it.
#[utoipa::path(
    delete, path = "/api/v1/projects/{project}/flags/{flag}/environments/{environment}/rollout-plan",
    tag = "rollout-plans",
    params(
        ("project" = String, Path, description = "Project key"),
        ("flag" = String, Path, description = "Flag key"),
        ("environment" = String, Path, description = "Environment key"),
        ("If-Match" = Option<String>, Header, description = "The plan version the deletion is based on; stale is 409"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    security(("user" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor of the environment", body = ErrorBody),
        (status = 404, description = "No such project or plan", body = ErrorBody),
        (status = 409, description = "Stale `If-Match`", body = ErrorBody),
    )
)]
async fn delete_plan(
    State(store): State<Arc<dyn Store>>,
    State(rollouts): State<RolloutConfig>,
    principal: Principal,
    Path((project, flag, environment)): Path<Key>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    principal.require_role(Role::Editor)?;
    principal.require_env_write(&project, &environment)?;
    let options = WriteOptions::from_headers(&headers)?;
    let meta = options.meta(&principal, rollouts.clock.now(), None);
    store
        .delete_rollout_plan(&project, &flag, &environment, &meta)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A person's pause, resume or abort.
async fn act(
    store: &dyn Store,
    rollouts: &RolloutConfig,
    principal: &Principal,
    (project, flag, environment): &Key,
    headers: &HeaderMap,
    action: Action,
) -> Result<Versioned<PlanView>, ApiError> {
    principal.require_role(Role::Editor)?;
    principal.require_env_write(project, environment)?;
    let options = WriteOptions::from_headers(headers)?;
    let current = store.get_rollout_plan(project, flag, environment).await?;
    options.check(current.version)?;
    let firing = match action {
        Action::Resume => guards::firing_now(store, &current).await?,
        Action::Pause | Action::Abort => None,
    };
    let meta = options.meta(principal, rollouts.clock.now(), None);
    let (plan, _) = moves::by_person(store, &current, action, firing, &meta).await?;
    Ok(Versioned(plan.version, plan.into()))
}

/// Holds a running plan where it is (its exposure stays).
#[utoipa::path(
    post, path = "/api/v1/projects/{project}/flags/{flag}/environments/{environment}/rollout-plan/pause",
    tag = "rollout-plans",
    params(
        ("project" = String, Path, description = "Project key"),
        ("flag" = String, Path, description = "Flag key"),
        ("environment" = String, Path, description = "Environment key"),
        ("If-Match" = Option<String>, Header, description = "Optional: the plan version; stale is 409"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log and the plan's note"),
    ),
    security(("user" = [])),
    responses(
        (status = 200, description = "Paused", body = PlanView),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor of the environment", body = ErrorBody),
        (status = 404, description = "No such project or plan", body = ErrorBody),
        (status = 409, description = "Not running, or stale `If-Match`", body = ErrorBody),
    )
)]
async fn pause_plan(
    State(store): State<Arc<dyn Store>>,
    State(rollouts): State<RolloutConfig>,
    principal: Principal,
    Path(key): Path<Key>,
    headers: HeaderMap,
) -> Result<Versioned<PlanView>, ApiError> {
    act(
        &*store,
        &rollouts,
        &principal,
        &key,
        &headers,
        Action::Pause,
    )
    .await
}

/// Goes on from where a plan paused: its current stage's exposure is
/// served again and its hold starts over.
#[utoipa::path(
    post, path = "/api/v1/projects/{project}/flags/{flag}/environments/{environment}/rollout-plan/resume",
    tag = "rollout-plans",
    params(
        ("project" = String, Path, description = "Project key"),
        ("flag" = String, Path, description = "Flag key"),
        ("environment" = String, Path, description = "Environment key"),
        ("If-Match" = Option<String>, Header, description = "Optional: the plan version; stale is 409"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    security(("user" = [])),
    responses(
        (status = 200, description = "Running again", body = PlanView),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor of the environment", body = ErrorBody),
        (status = 404, description = "No such project or plan", body = ErrorBody),
        (status = 409, description = "Not paused, a guard still firing, or stale `If-Match`", body = ErrorBody),
    )
)]
async fn resume_plan(
    State(store): State<Arc<dyn Store>>,
    State(rollouts): State<RolloutConfig>,
    principal: Principal,
    Path(key): Path<Key>,
    headers: HeaderMap,
) -> Result<Versioned<PlanView>, ApiError> {
    act(
        &*store,
        &rollouts,
        &principal,
        &key,
        &headers,
        Action::Resume,
    )
    .await
}

/// Stops a plan for good and rolls its exposure back to 0; a new `PUT`
/// starts again.
#[utoipa::path(
    post, path = "/api/v1/projects/{project}/flags/{flag}/environments/{environment}/rollout-plan/abort",
    tag = "rollout-plans",
    params(
        ("project" = String, Path, description = "Project key"),
        ("flag" = String, Path, description = "Flag key"),
        ("environment" = String, Path, description = "Environment key"),
        ("If-Match" = Option<String>, Header, description = "Optional: the plan version; stale is 409"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log and the plan's note"),
    ),
    security(("user" = [])),
    responses(
        (status = 200, description = "Aborted, exposure at 0", body = PlanView),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor of the environment", body = ErrorBody),
        (status = 404, description = "No such project or plan", body = ErrorBody),
        (status = 409, description = "Already completed or aborted, or stale `If-Match`", body = ErrorBody),
    )
)]
async fn abort_plan(
    State(store): State<Arc<dyn Store>>,
    State(rollouts): State<RolloutConfig>,
    principal: Principal,
    Path(key): Path<Key>,
    headers: HeaderMap,
) -> Result<Versioned<PlanView>, ApiError> {
    act(
        &*store,
        &rollouts,
        &principal,
        &key,
        &headers,
        Action::Abort,
    )
    .await
}
