//! Health events, posted with an integration token:
//! `POST /api/v1/integrations/alertmanager` (Alertmanager's webhook,
//! version 4) and `POST /api/v1/deploys`.
//!
//! Both answer `202 Accepted` once the event is stored and the switches it
//! matched have acted, with what matched. Both are idempotent: an event is
//! acted on the first time its key is received (an alert's fingerprint,
//! start and status; a deploy's `id`, else service, version, environment
//! and status), and a repeat answers with `duplicate` and changes nothing.
//! A malformed or partial body is refused whole (nothing stored, nothing
//! tripped).

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::json::Json;
use crate::auth::{AuthState, IntegrationToken};
use crate::killswitch::alertmanager::{Alert, AlertStatus, Webhook};
use crate::killswitch::deploy::{DeployEvent, DeployHealth, DeployStatus};
use crate::killswitch::tripping::{self, Effect, Matched};
use crate::rollout;
use crate::store::{HealthEvent, HealthEventKind, Store};
use crate::stream::Streams;

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(alertmanager, deploy),
    components(schemas(Webhook, Alert, AlertStatus, DeployEvent, DeployHealth, DeployStatus, Accepted, Paused)),
    tags((name = "health-events", description = "Alerts and deploys (integration tokens)"))
)]
pub struct Doc;

/// The health-event routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
    Streams: FromRef<S>,
{
    Router::new()
        .route("/api/v1/integrations/alertmanager", post(alertmanager))
        .route("/api/v1/deploys", post(deploy))
}

/// What an accepted event did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// Alerts (or the deploy) received for the first time and acted on.
    pub received: usize,
    /// Alerts (or the deploy) received before: ignored.
    pub duplicates: usize,
    /// The switches the new events matched, and what happened to each.
    pub matched: Vec<Matched>,
    /// Rollout plans an alert guard paused (their exposure rolled back).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paused: Vec<Paused>,
}

/// A rollout plan a guard paused.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paused {
    pub project: String,
    pub flag: String,
    pub environment: String,
}

impl From<&rollout::moves::Moved> for Paused {
    fn from(m: &rollout::moves::Moved) -> Self {
        Paused {
            project: m.project.clone(),
            flag: m.flag.clone(),
            environment: m.environment.clone(),
        }
    }
}

/// Receives an Alertmanager notification.
#[utoipa::path(
    post, path = "/api/v1/integrations/alertmanager", tag = "health-events",
    request_body(content = Webhook, description = "Alertmanager's webhook payload, version 4, as sent; fields it may add are ignored"),
    security(("integration" = [])),
    responses(
        (status = 202, description = "Stored; matching switches acted", body = Accepted),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 401, description = "No, bad or revoked token", body = ErrorBody),
        (status = 403, description = "Not an integration token", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "Partial or malformed payload (missing `alerts`, a bad `status`, \
            an alert without `fingerprint` or `labels`, another `version`); nothing is stored",
            body = ErrorBody),
    )
)]
async fn alertmanager(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<AuthState>,
    State(streams): State<Streams>,
    token: IntegrationToken,
    Json(webhook): Json<Webhook>,
) -> Result<(StatusCode, axum::Json<Accepted>), ApiError> {
    let problems = webhook.problems();
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    let now = auth.now();
    let switches = store.list_kill_switches(None).await?;
    let mut accepted = Accepted {
        received: 0,
        duplicates: 0,
        matched: Vec::new(),
        paused: Vec::new(),
    };
    for alert in &webhook.alerts {
        let event = HealthEvent {
            id: 0,
            kind: HealthEventKind::Alert,
            key: alert.key(),
            environment: None,
            actor: token.actor(),
            body: serde_json::to_value(alert).map_err(|e| ApiError::Internal(e.to_string()))?,
            received_at: now,
        };
        if !store.record_health_event(&event).await? {
            accepted.duplicates += 1;
            continue;
        }
        accepted.received += 1;
        let matched = tripping::on_alert(&*store, &switches, alert, now).await?;
        accepted.matched.extend(matched);
        let moved = rollout::guards::on_alert(&*store, alert, now).await?;
        accepted
            .paused
            .extend(moved.iter().filter(|m| m.config_changed).map(Paused::from));
        rollout::advance::refresh(&streams, &moved);
    }
    refresh(&streams, &accepted.matched);
    Ok((StatusCode::ACCEPTED, axum::Json(accepted)))
}

/// After a switch changed a flag: drops this replica's snapshots of its
/// environment, so evaluation here sees it at once, then catches this
/// replica's SDK streams of the project up and rings the other replicas'
/// doorbell, as a write under `/api/v1/projects/{p}/…` does (those
/// middlewares only know such paths; without this, streams would learn of
/// a trip only at the next version poll).
fn refresh(streams: &Streams, matched: &[Matched]) {
    let changed = matched
        .iter()
        .filter(|m| matches!(m.effect, Effect::Tripped | Effect::Restored));
    streams.configs_committed(changed.map(|m| (m.project.as_str(), m.environment.as_str())));
}

/// Receives a deploy event.
#[utoipa::path(
    post, path = "/api/v1/deploys", tag = "health-events",
    request_body(content = DeployEvent),
    security(("integration" = [])),
    responses(
        (status = 202, description = "Stored; matching switches acted", body = Accepted),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 401, description = "No, bad or revoked token", body = ErrorBody),
        (status = 403, description = "Not an integration token", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "Unknown fields, a bad status or health, empty names", body = ErrorBody),
    )
)]
async fn deploy(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<AuthState>,
    State(streams): State<Streams>,
    token: IntegrationToken,
    Json(event): Json<DeployEvent>,
) -> Result<(StatusCode, axum::Json<Accepted>), ApiError> {
    let problems = event.problems();
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    let now = auth.now();
    let stored = HealthEvent {
        id: 0,
        kind: HealthEventKind::Deploy,
        key: event.key(),
        environment: Some(event.environment.clone()),
        actor: token.actor(),
        body: serde_json::to_value(&event).map_err(|e| ApiError::Internal(e.to_string()))?,
        received_at: now,
    };
    let mut accepted = Accepted {
        received: 0,
        duplicates: 0,
        matched: Vec::new(),
        paused: Vec::new(),
    };
    if store.record_health_event(&stored).await? {
        accepted.received = 1;
        let switches = store.list_kill_switches(None).await?;
        accepted.matched = tripping::on_deploy(&*store, &switches, &event, now).await?;
    } else {
        accepted.duplicates = 1;
    }
    refresh(&streams, &accepted.matched);
    Ok((StatusCode::ACCEPTED, axum::Json(accepted)))
}
