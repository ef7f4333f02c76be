//! Tripping and releasing switches as alerts and deploys come in.
//!
//! Each alert and deploy is stored once under its idempotency key
//! (`store::HealthEvent`); only a first receipt acts, so Alertmanager
//! re-sending a firing alert trips nothing a second time. Each transition
//! is decided on the switch's version and committed with the flag's new
//! config in one transaction; a concurrent transition makes it a conflict,
//! and it is decided again from what committed (at most [`ATTEMPTS`]
//! times).
//!
//! The seam for rollout plans: [`firing`] says whether any switch bound to
//! a flag in an environment is tripped (a guard is firing).

use serde::Serialize;
use time::OffsetDateTime;
use tracing::{info, warn};
use utoipa::ToSchema;

use super::action;
use super::alertmanager::{Alert, AlertStatus};
use super::deploy::{DeployEvent, DeployHealth, DeployStatus};
use super::matchers;
use super::model::{Cause, KillSwitchRecord, Restore, Status, SwitchState, Trigger};
use crate::store::{Store, StoreError, StoreResult, SwitchTransition, WriteMeta};

/// How often a transition is decided again after a concurrent one.
const ATTEMPTS: usize = 3;

/// Actor of changes an alert caused.
pub const ALERTMANAGER: &str = "automation:alertmanager";
/// Actor of changes a deploy event caused.
pub const DEPLOY: &str = "automation:deploy";

/// What an event did to one switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// It was armed; the action was applied to the flag.
    Tripped,
    /// Already tripped; this alert now also holds it.
    Held,
    /// Already tripped by this cause; nothing changed.
    Unchanged,
    /// An alert that held it resolved; others still hold it, or restore
    /// is manual.
    Released,
    /// `on_resolve`: the config from before the trip is back, re-armed.
    Restored,
    /// `on_resolve`, but the flag was edited since the trip: re-armed,
    /// the person's edit kept.
    Rearmed,
    /// The action could not be applied (the flag or variant is gone, the
    /// flag is archived); the switch stays as it was.
    Failed,
}

/// One switch an event matched, and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Matched {
    pub project: String,
    pub kill_switch: String,
    pub flag: String,
    pub environment: String,
    /// The alert's fingerprint, for alerts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    pub effect: Effect,
}

/// Whether any switch bound to `flag` in `environment` of `project` is
/// tripped: the guard rollout plans consult before advancing.
pub async fn firing(
    store: &dyn Store,
    project: &str,
    flag: &str,
    environment: &str,
) -> StoreResult<bool> {
    Ok(store
        .list_kill_switches(Some(project))
        .await?
        .iter()
        .any(|s| {
            s.spec.flag == flag
                && s.spec.environment == environment
                && s.state.status == Status::Tripped
        }))
}

/// Acts on one alert received for the first time.
pub async fn on_alert(
    store: &dyn Store,
    switches: &[KillSwitchRecord],
    alert: &Alert,
    now: OffsetDateTime,
) -> StoreResult<Vec<Matched>> {
    let mut matched = Vec::new();
    for switch in switches {
        let Trigger::Alert { matchers: list } = &switch.spec.trigger else {
            continue;
        };
        let Ok(compiled) = matchers::compile(list, "") else {
            warn!(kill_switch = %switch.id, "stored matchers do not compile; skipped");
            continue;
        };
        if !matchers::all_match(&compiled, &alert.labels) {
            continue;
        }
        let cause = Cause::Alert {
            fingerprint: alert.fingerprint.clone(),
            alertname: alert.name().to_owned(),
            starts_at: alert.starts_at,
        };
        let same = |c: &Cause| matches!(c, Cause::Alert { fingerprint, .. } if *fingerprint == alert.fingerprint);
        let effect = match alert.status {
            AlertStatus::Firing => {
                let meta = meta(ALERTMANAGER, alert.reason("tripped"), now);
                engage(store, switch, cause, &same, meta).await?
            }
            AlertStatus::Resolved => {
                let meta = meta(
                    ALERTMANAGER,
                    alert.reason("restored after resolved alert"),
                    now,
                );
                release(store, switch, &same, meta).await?
            }
        };
        if let Some(effect) = effect {
            matched.push(describe(switch, Some(&alert.fingerprint), effect));
        }
    }
    Ok(matched)
}

/// Acts on one deploy event received for the first time: a bad status of
/// the bound service in the switch's environment trips it; a later
/// successful, not unhealthy deploy of the service counts as resolved.
pub async fn on_deploy(
    store: &dyn Store,
    switches: &[KillSwitchRecord],
    event: &DeployEvent,
    now: OffsetDateTime,
) -> StoreResult<Vec<Matched>> {
    let mut matched = Vec::new();
    for switch in switches {
        let Trigger::Deploy { service, statuses } = &switch.spec.trigger else {
            continue;
        };
        if *service != event.service || switch.spec.environment != event.environment {
            continue;
        }
        let same =
            |c: &Cause| matches!(c, Cause::Deploy { service, .. } if *service == event.service);
        let healthy = event.health != Some(DeployHealth::Unhealthy);
        let effect = if statuses.contains(&event.status) {
            let cause = Cause::Deploy {
                service: event.service.clone(),
                version: event.version.clone(),
                status: event.status,
            };
            let reason = format!(
                "tripped by deploy of {} {} to {}: {}",
                event.service,
                event.version,
                event.environment,
                super::deploy::status_name(event.status)
            );
            engage(store, switch, cause, &same, meta(DEPLOY, reason, now)).await?
        } else if event.status == DeployStatus::Succeeded && healthy {
            let reason = format!(
                "restored after deploy of {} {} to {} succeeded",
                event.service, event.version, event.environment
            );
            release(store, switch, &same, meta(DEPLOY, reason, now)).await?
        } else {
            None
        };
        if let Some(effect) = effect {
            matched.push(describe(switch, None, effect));
        }
    }
    Ok(matched)
}

fn meta(actor: &str, reason: String, at: OffsetDateTime) -> WriteMeta {
    WriteMeta {
        actor: actor.to_owned(),
        reason: Some(reason),
        at,
        expected_version: None,
    }
}

fn describe(switch: &KillSwitchRecord, fingerprint: Option<&String>, effect: Effect) -> Matched {
    Matched {
        project: switch.project.clone(),
        kill_switch: switch.id.clone(),
        flag: switch.spec.flag.clone(),
        environment: switch.spec.environment.clone(),
        fingerprint: fingerprint.cloned(),
        effect,
    }
}

/// A firing cause: trips an armed switch (applying its action), or adds
/// the cause to a tripped one.
async fn engage(
    store: &dyn Store,
    switch: &KillSwitchRecord,
    cause: Cause,
    same: &(dyn Fn(&Cause) -> bool + Sync),
    meta: WriteMeta,
) -> StoreResult<Option<Effect>> {
    let mut current = switch.clone();
    for _ in 0..ATTEMPTS {
        let (project, id) = (current.project.as_str(), current.id.as_str());
        let attempt = if current.state.status == Status::Tripped {
            if current.state.tripped_by.iter().any(same) {
                return Ok(Some(Effect::Unchanged));
            }
            let mut state = current.state.clone();
            state.tripped_by.push(cause.clone());
            let transition = SwitchTransition {
                project,
                id,
                switch_version: current.version,
                state: &state,
                config: None,
            };
            store
                .transition_kill_switch(&transition, &meta)
                .await
                .map(|_| Effect::Held)
        } else {
            let spec = &current.spec;
            let before = store
                .get_flag_config(project, &spec.flag, &spec.environment)
                .await;
            let before = match before {
                Ok(config) => config,
                Err(error) => return failed(&current, error),
            };
            let after = action::apply(&spec.action, &before);
            let state = SwitchState {
                status: Status::Tripped,
                tripped_at: Some(meta.at),
                tripped_by: vec![cause.clone()],
                restore_config: Some(before.clone()),
                tripped_version: Some(before.version + 1),
            };
            let transition = SwitchTransition {
                project,
                id,
                switch_version: current.version,
                state: &state,
                config: Some(&after),
            };
            let meta = WriteMeta {
                expected_version: Some(before.version),
                ..meta.clone()
            };
            store
                .transition_kill_switch(&transition, &meta)
                .await
                .map(|_| Effect::Tripped)
        };
        match attempt {
            Ok(effect) => {
                info!(kill_switch = %id, flag = %current.spec.flag,
                    environment = %current.spec.environment, ?effect, "kill switch engaged");
                return Ok(Some(effect));
            }
            Err(StoreError::Conflict { .. }) => {
                current = store.get_kill_switch(&switch.project, &switch.id).await?;
            }
            Err(error @ (StoreError::Database(_) | StoreError::Corrupt(_))) => return Err(error),
            Err(error) => return failed(&current, error),
        }
    }
    Ok(Some(Effect::Unchanged))
}

/// A cleared cause: drops it from a tripped switch; when nothing holds the
/// switch any more and it restores `on_resolve`, puts the config from
/// before the trip back (unless the flag was edited since).
async fn release(
    store: &dyn Store,
    switch: &KillSwitchRecord,
    same: &(dyn Fn(&Cause) -> bool + Sync),
    meta: WriteMeta,
) -> StoreResult<Option<Effect>> {
    let mut current = switch.clone();
    for _ in 0..ATTEMPTS {
        if current.state.status != Status::Tripped || !current.state.tripped_by.iter().any(same) {
            return Ok(None);
        }
        let (project, id) = (current.project.as_str(), current.id.as_str());
        let mut state = current.state.clone();
        state.tripped_by.retain(|c| !same(c));
        let spec = &current.spec;
        let restore = state.tripped_by.is_empty() && spec.restore == Restore::OnResolve;
        let mut config = None;
        let mut effect = Effect::Released;
        let mut write_meta = meta.clone();
        if restore {
            let now = store
                .get_flag_config(project, &spec.flag, &spec.environment)
                .await;
            let unchanged = matches!(&now, Ok(c) if Some(c.version) == state.tripped_version);
            effect = Effect::Rearmed;
            if unchanged && let (Some(previous), Ok(now)) = (&state.restore_config, &now) {
                config = Some(previous.clone());
                write_meta.expected_version = Some(now.version);
                effect = Effect::Restored;
            }
            state = SwitchState::default();
        }
        let transition = SwitchTransition {
            project,
            id,
            switch_version: current.version,
            state: &state,
            config: config.as_ref(),
        };
        match store.transition_kill_switch(&transition, &write_meta).await {
            Ok(_) => {
                info!(kill_switch = %id, ?effect, "kill switch released");
                return Ok(Some(effect));
            }
            Err(StoreError::Conflict { .. }) => {
                current = store.get_kill_switch(&switch.project, &switch.id).await?;
            }
            Err(error @ (StoreError::Database(_) | StoreError::Corrupt(_))) => return Err(error),
            Err(error) => return failed(&current, error),
        }
    }
    Ok(Some(Effect::Unchanged))
}

fn failed(switch: &KillSwitchRecord, error: StoreError) -> StoreResult<Option<Effect>> {
    warn!(kill_switch = %switch.id, project = %switch.project, flag = %switch.spec.flag,
        %error, "kill switch could not act on its flag");
    Ok(Some(Effect::Failed))
}
