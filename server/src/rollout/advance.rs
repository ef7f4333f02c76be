//! The advancer every replica runs: each tick it reads the plans, pauses
//! running ones whose guards fire, and starts the next stage of those
//! whose hold has passed. Replicas race for the same moves on purpose;
//! each move is conditional on the plan's version, so one commits and the
//! others get `Conflict` and drop it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tracing::{debug, info, warn};

use super::guards;
use super::model::PlanStatus;
use super::moves::{self, Moved};
use crate::auth::Clock;
use crate::store::{Store, StoreError, StoreResult};
use crate::stream::Streams;

/// One pass over every plan at `now`: what moved.
pub async fn tick(store: &dyn Store, now: OffsetDateTime) -> StoreResult<Vec<Moved>> {
    let running: Vec<_> = store
        .list_rollout_plans(None)
        .await?
        .into_iter()
        .filter(|p| p.state.status == PlanStatus::Running)
        .collect();
    if running.is_empty() {
        return Ok(Vec::new());
    }
    let switches = store.list_kill_switches(None).await?;
    let mut moved = Vec::new();
    for plan in running {
        let result = match guards::firing(&plan, &switches) {
            Some(why) => moves::guard_fired(store, &plan, plan.state.clone(), &why, now)
                .await
                .map(|(_, m)| Some(m)),
            None => moves::step(store, &plan, now).await,
        };
        match result {
            Ok(Some(m)) => {
                info!(project = %m.project, flag = %m.flag, environment = %m.environment,
                    "rollout plan moved");
                moved.push(m);
            }
            Ok(None) => {}
            Err(StoreError::Conflict { .. }) => {
                metrics::counter!("vexil_rollout_conflicts_total").increment(1);
                debug!(flag = %plan.flag, environment = %plan.environment,
                    "rollout plan moved by someone else first");
            }
            // A switch tripped between the guard check and the write: the
            // next tick pauses the plan.
            Err(StoreError::Refused(why)) => info!(flag = %plan.flag, %why, "stage held"),
            Err(error @ (StoreError::Database(_) | StoreError::Corrupt(_))) => return Err(error),
            Err(error) => warn!(flag = %plan.flag, environment = %plan.environment, %error,
                "rollout plan could not move"),
        }
    }
    Ok(moved)
}

/// Tells this replica's snapshots and streams about moves that changed a
/// config (other replicas hear it through the doorbell).
pub fn refresh(streams: &Streams, moved: &[Moved]) {
    let changed = moved.iter().filter(|m| m.config_changed);
    streams.configs_committed(changed.map(|m| (m.project.as_str(), m.environment.as_str())));
}

/// Runs [`tick`] every `every` (reading the time from `clock`) until
/// `stop` completes. `/metrics` counts ticks (`vexil_rollout_ticks_total`),
/// the moves this replica committed (`vexil_rollout_moves_total`) and the
/// ones another replica made first (`vexil_rollout_conflicts_total`).
pub async fn run(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    every: Duration,
    streams: Streams,
    stop: impl Future<Output = ()>,
) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = interval.tick() => {
                match tick(&*store, clock.now()).await {
                    Ok(moved) => {
                        metrics::counter!("vexil_rollout_moves_total").increment(moved.len() as u64);
                        refresh(&streams, &moved);
                    }
                    Err(error) => warn!(%error, "rollout tick failed; trying again next tick"),
                }
                // Counted once the tick is done: a reader that saw it go up
                // twice knows a whole tick ran after it looked.
                metrics::counter!("vexil_rollout_ticks_total").increment(1);
            }
        }
    }
}
