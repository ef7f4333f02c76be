//! A plan's guards: alerts matching its matchers (tracked in the plan's
//! `firing` list as Alertmanager sends them) and tripped kill switches on
//! its flag and environment. A guard firing on a running plan pauses it
//! and rolls its exposure back to 0 at once; a resolved alert leaves the
//! plan paused (people resume it).

use time::OffsetDateTime;
use tracing::{info, warn};

use super::model::{PlanStatus, RolloutPlanRecord};
use super::moves::{self, Moved};
use crate::killswitch::alertmanager::{Alert, AlertStatus};
use crate::killswitch::{Cause, KillSwitchRecord, Status, matchers};
use crate::store::{Store, StoreError, StoreResult};

/// How often a guard's bookkeeping is decided again after a concurrent
/// move.
const ATTEMPTS: usize = 3;

/// Why `plan`'s guards fire, if they do: an alert that has not resolved,
/// or a tripped switch (among `switches`) on its flag and environment.
pub fn firing(plan: &RolloutPlanRecord, switches: &[KillSwitchRecord]) -> Option<String> {
    if let Some(cause) = plan.state.firing.first() {
        return Some(match cause {
            Cause::Alert {
                alertname,
                fingerprint,
                ..
            } => format!("alert {alertname} (fingerprint {fingerprint}) is firing"),
            Cause::Deploy {
                service, version, ..
            } => format!("deploy of {service} {version} failed"),
        });
    }
    if !plan.spec.guards.kill_switches {
        return None;
    }
    tripped_switch(switches, &plan.project, &plan.flag, &plan.environment)
}

/// Why a switch (among `switches`) on `flag` in `environment` holds a plan
/// back, if one is tripped.
pub fn tripped_switch(
    switches: &[KillSwitchRecord],
    project: &str,
    flag: &str,
    environment: &str,
) -> Option<String> {
    switches
        .iter()
        .find(|s| {
            s.project == project
                && s.spec.flag == flag
                && s.spec.environment == environment
                && s.state.status == Status::Tripped
        })
        .map(|s| format!("kill switch {} ({}) is tripped", s.spec.name, s.id))
}

/// [`firing`], reading the project's switches.
pub async fn firing_now(
    store: &dyn Store,
    plan: &RolloutPlanRecord,
) -> StoreResult<Option<String>> {
    let switches = if plan.spec.guards.kill_switches {
        store.list_kill_switches(Some(&plan.project)).await?
    } else {
        Vec::new()
    };
    Ok(firing(plan, &switches))
}

/// Whether `alert` matches any of `plan`'s alert guards.
fn guards_match(plan: &RolloutPlanRecord, alert: &Alert) -> bool {
    plan.spec
        .guards
        .alerts
        .iter()
        .any(|guard| match matchers::compile(&guard.matchers, "") {
            Ok(compiled) => matchers::all_match(&compiled, &alert.labels),
            Err(_) => {
                warn!(flag = %plan.flag, environment = %plan.environment,
                    "stored guard matchers do not compile; skipped");
                false
            }
        })
}

/// Acts on one alert received for the first time: plans whose guards it
/// matches note it as firing (pausing and rolling back a running plan) or
/// as resolved.
pub async fn on_alert(
    store: &dyn Store,
    alert: &Alert,
    now: OffsetDateTime,
) -> StoreResult<Vec<Moved>> {
    let mut moved = Vec::new();
    for plan in store.list_rollout_plans(None).await? {
        let active = matches!(plan.state.status, PlanStatus::Running | PlanStatus::Paused);
        if !active || !guards_match(&plan, alert) {
            continue;
        }
        match on_alert_for(store, plan, alert, now).await {
            Ok(Some(m)) => moved.push(m),
            Ok(None) => {}
            Err(error @ (StoreError::Database(_) | StoreError::Corrupt(_))) => return Err(error),
            Err(error) => warn!(%error, "a rollout guard could not act"),
        }
    }
    Ok(moved)
}

async fn on_alert_for(
    store: &dyn Store,
    mut plan: RolloutPlanRecord,
    alert: &Alert,
    now: OffsetDateTime,
) -> StoreResult<Option<Moved>> {
    let same = |c: &Cause| matches!(c, Cause::Alert { fingerprint, .. } if *fingerprint == alert.fingerprint);
    for _ in 0..ATTEMPTS {
        let mut state = plan.state.clone();
        let present = state.firing.iter().any(same);
        let attempt = match alert.status {
            AlertStatus::Firing if present => return Ok(None),
            AlertStatus::Firing => {
                state.firing.push(Cause::Alert {
                    fingerprint: alert.fingerprint.clone(),
                    alertname: alert.name().to_owned(),
                    starts_at: alert.starts_at,
                });
                let why = alert.reason("guard fired");
                moves::guard_fired(store, &plan, state, &why, now).await
            }
            AlertStatus::Resolved if !present => return Ok(None),
            AlertStatus::Resolved => {
                state.firing.retain(|c| !same(c));
                let why = alert.reason("rollout guard cleared");
                moves::note_firing(store, &plan, state, why, now).await
            }
        };
        match attempt {
            Ok((after, m)) => {
                info!(flag = %after.flag, environment = %after.environment,
                    status = ?after.state.status, "rollout guard acted");
                return Ok(Some(m));
            }
            Err(StoreError::Conflict { .. }) => {
                plan = store
                    .get_rollout_plan(&plan.project, &plan.flag, &plan.environment)
                    .await?;
            }
            Err(error) => return Err(error),
        }
    }
    Ok(None)
}
