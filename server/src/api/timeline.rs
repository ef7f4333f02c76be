//! `GET /api/v1/projects/{project}/timeline`: deploys, kill-switch trips
//! and restores, rollout-plan moves and flag changes of a project
//! together, newest first, so an incident view can answer "what changed
//! right before the spike?".
//!
//! Entries come from two sources: the change log (an entry by
//! `automation:rollout` is a `rollout`: a plan moving; one by another
//! `automation:*` actor is a `trip`: a kill switch acting; anything else a
//! `change`) and the deploy events to the project's environments (deploys
//! name an environment key, not a project). Each source is read newest
//! first up to the end of the requested page, and the two are merged, so
//! paging is exact; `kinds` filters within the newest
//! [`MAX_WINDOW`] entries of each source.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, Path, State};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::paging::PageQuery;
use super::query::{Query, optional_time};
use crate::auth::{AuthState, Principal};
use crate::store::{
    Change, ChangeFilter, HealthEvent, HealthEventFilter, HealthEventKind, Page, Store,
};

/// The most entries read from each source for one page.
pub const MAX_WINDOW: u32 = 2_000;

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(timeline),
    components(schemas(TimelineKind, TimelineEntry, TimelinePage)),
    tags((name = "timeline", description = "Deploys, kill-switch trips and changes together"))
)]
pub struct Doc;

/// `/api/v1/projects/{project}/timeline`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
{
    Router::new().route("/api/v1/projects/{project}/timeline", get(timeline))
}

/// What a timeline entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    Deploy,
    /// A change made by automation (a kill switch tripping or restoring).
    Trip,
    /// A change a rollout plan made (a stage, a guard's rollback, completion).
    Rollout,
    /// Any other change of the change log.
    Change,
}

/// The timeline's filters, all optional.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TimelineQuery {
    /// One environment's deploys and changes.
    environment: Option<String>,
    /// RFC 3339; entries at or after it.
    #[serde(default, deserialize_with = "optional_time")]
    #[param(value_type = Option<String>)]
    from: Option<OffsetDateTime>,
    /// RFC 3339; entries strictly before it.
    #[serde(default, deserialize_with = "optional_time")]
    #[param(value_type = Option<String>)]
    to: Option<OffsetDateTime>,
    /// Comma-separated: `deploy`, `trip`, `rollout`, `change` (default: all).
    kinds: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// One entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub kind: TimelineKind,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// A change's actor (`automation:alertmanager`, `user:ada`); for a
    /// deploy, its service.
    pub actor: String,
    /// A change's reason; for a deploy, "service version status".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The change-log entry or the deploy event as received.
    #[schema(value_type = Object)]
    pub detail: Value,
}

/// One page of the timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelinePage {
    pub items: Vec<TimelineEntry>,
    pub page: u32,
    pub per_page: u32,
    /// Whether a next page has entries.
    pub has_more: bool,
}

/// The project's timeline, newest first.
#[utoipa::path(
    get, path = "/api/v1/projects/{project}/timeline", tag = "timeline",
    params(("project" = String, Path, description = "Project key"), TimelineQuery),
    security(("user" = [])),
    responses(
        (status = 200, description = "One page", body = TimelinePage),
        (status = 400, description = "A malformed time, kind or page", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 404, description = "No such project or environment", body = ErrorBody),
    )
)]
async fn timeline(
    State(store): State<Arc<dyn Store>>,
    _principal: Principal,
    Path(project): Path<String>,
    Query(query): Query<TimelineQuery>,
) -> Result<axum::Json<TimelinePage>, ApiError> {
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .page()?;
    let kinds = kinds(query.kinds.as_deref())?;
    let environments = match &query.environment {
        Some(environment) => {
            store.get_environment(&project, environment).await?;
            vec![environment.clone()]
        }
        None => store
            .list_environments(&project)
            .await?
            .into_iter()
            .map(|e| e.environment.key)
            .collect(),
    };
    // One more than the page's end, to know whether another page follows.
    let window = (page.page.saturating_mul(page.per_page) + 1).min(MAX_WINDOW);
    let mut entries = Vec::new();
    let from_log = [
        TimelineKind::Trip,
        TimelineKind::Rollout,
        TimelineKind::Change,
    ];
    if from_log.iter().any(|k| kinds.contains(k)) {
        let filter = ChangeFilter {
            environment: query.environment.clone(),
            since: query.from,
            until: query.to,
            page: Page {
                page: 1,
                per_page: window,
            },
            ..ChangeFilter::default()
        };
        let changes = store.list_changes(Some(&project), &filter).await?;
        entries.extend(changes.items.into_iter().map(from_change));
    }
    if kinds.contains(&TimelineKind::Deploy) {
        let filter = HealthEventFilter {
            kind: Some(HealthEventKind::Deploy),
            environments: Some(environments),
            since: query.from,
            until: query.to,
            limit: window,
        };
        let deploys = store.list_health_events(&filter).await?;
        entries.extend(deploys.into_iter().map(from_deploy));
    }
    entries.retain(|e| kinds.contains(&e.kind));
    entries.sort_by_key(|e| std::cmp::Reverse(e.at));
    let start = ((page.page - 1) * page.per_page) as usize;
    let has_more = entries.len() > start + page.per_page as usize;
    let items = entries
        .into_iter()
        .skip(start)
        .take(page.per_page as usize)
        .collect();
    Ok(axum::Json(TimelinePage {
        items,
        page: page.page,
        per_page: page.per_page,
        has_more,
    }))
}

fn kinds(text: Option<&str>) -> Result<Vec<TimelineKind>, ApiError> {
    let all = vec![
        TimelineKind::Deploy,
        TimelineKind::Trip,
        TimelineKind::Rollout,
        TimelineKind::Change,
    ];
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(all);
    };
    text.split(',')
        .map(|kind| match kind.trim() {
            "deploy" => Ok(TimelineKind::Deploy),
            "trip" => Ok(TimelineKind::Trip),
            "rollout" => Ok(TimelineKind::Rollout),
            "change" => Ok(TimelineKind::Change),
            other => Err(ApiError::BadRequest(format!(
                "`kinds` takes deploy, trip, rollout and change, comma-separated; not `{other}`"
            ))),
        })
        .collect()
}

fn from_change(change: Change) -> TimelineEntry {
    let kind = if change.actor == crate::rollout::schedule::ACTOR {
        TimelineKind::Rollout
    } else if change.actor.starts_with("automation:") {
        TimelineKind::Trip
    } else {
        TimelineKind::Change
    };
    TimelineEntry {
        kind,
        at: change.at,
        environment: change.environment.clone(),
        actor: change.actor.clone(),
        summary: change.reason.clone(),
        detail: serde_json::to_value(&change).unwrap_or(Value::Null),
    }
}

fn from_deploy(event: HealthEvent) -> TimelineEntry {
    let text = |name: &str| event.body.get(name).and_then(Value::as_str).unwrap_or("");
    let summary = format!("{} {} {}", text("service"), text("version"), text("status"));
    TimelineEntry {
        kind: TimelineKind::Deploy,
        at: event.received_at,
        environment: event.environment.clone(),
        actor: text("service").to_owned(),
        summary: Some(summary),
        detail: event.body,
    }
}
