//! Every way a plan moves, each one write: a stage starting, completion, a
//! guard pausing it (exposure rolled back to 0), and people pausing,
//! resuming and aborting it. Moves are conditional on the plan's version;
//! a `Conflict` means someone else moved it first.

use time::OffsetDateTime;

use super::exposure::Exposure;
use super::model::{Note, PlanState, PlanStatus, RolloutPlanRecord};
use super::schedule::{self, ACTOR};
use crate::store::{PlanTransition, Store, StoreError, StoreResult, WriteMeta};

/// A committed move, for the caller to refresh snapshots and streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub project: String,
    pub flag: String,
    pub environment: String,
    /// Whether the flag's config changed (a new environment version).
    pub config_changed: bool,
}

/// What kind of move, which decides whether exposure is written and
/// whether a tripped kill switch refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Exposure goes up (a stage, a resume): refused while a switch is
    /// tripped.
    Raise,
    /// Exposure goes to 0 (a guard, an abort).
    Lower,
    /// The config stays as it is (pause, completion, firing bookkeeping).
    Keep,
}

async fn commit(
    store: &dyn Store,
    plan: &RolloutPlanRecord,
    state: PlanState,
    kind: Kind,
    meta: WriteMeta,
) -> StoreResult<(RolloutPlanRecord, Moved)> {
    let exposure = Exposure::of(&plan.spec, &state);
    let transition = PlanTransition {
        project: &plan.project,
        flag: &plan.flag,
        environment: &plan.environment,
        plan_version: plan.version,
        state: &state,
        exposure: (kind != Kind::Keep).then_some(&exposure),
        unless_tripped: kind == Kind::Raise,
    };
    let after = store.transition_rollout_plan(&transition, &meta).await?;
    let moved = Moved {
        project: plan.project.clone(),
        flag: plan.flag.clone(),
        environment: plan.environment.clone(),
        config_changed: kind != Kind::Keep,
    };
    Ok((after, moved))
}

fn meta(actor: &str, reason: String, at: OffsetDateTime) -> WriteMeta {
    WriteMeta {
        actor: actor.to_owned(),
        reason: Some(reason.chars().take(1_000).collect()),
        at,
        expected_version: None,
    }
}

/// Takes the scheduled step of a running plan at `now`, if one is due.
pub async fn step(
    store: &dyn Store,
    plan: &RolloutPlanRecord,
    now: OffsetDateTime,
) -> StoreResult<Option<Moved>> {
    match schedule::next(&plan.spec, &plan.state, now) {
        schedule::Step::Idle | schedule::Step::Wait(_) => Ok(None),
        schedule::Step::Advance(state) => {
            let exposure = Exposure::of(&plan.spec, &state).describe();
            let position = schedule::position(&plan.spec, &state);
            let reason = format!("rollout plan: {position} started, serving {exposure}");
            let (_, moved) =
                commit(store, plan, state, Kind::Raise, meta(ACTOR, reason, now)).await?;
            Ok(Some(moved))
        }
        schedule::Step::Complete(state) => {
            let reason = "rollout plan completed: every stage held with its guards quiet";
            let meta = meta(ACTOR, reason.to_owned(), now);
            let (_, moved) = commit(store, plan, state, Kind::Keep, meta).await?;
            Ok(Some(moved))
        }
    }
}

/// A guard fired: a running plan pauses with its exposure rolled back to
/// 0 (`why` goes into the change log); a paused one is rolled back too if
/// it is not already.
pub async fn guard_fired(
    store: &dyn Store,
    plan: &RolloutPlanRecord,
    state: PlanState,
    why: &str,
    now: OffsetDateTime,
) -> StoreResult<(RolloutPlanRecord, Moved)> {
    let active = matches!(plan.state.status, PlanStatus::Running | PlanStatus::Paused);
    if !active || plan.state.rolled_back {
        return commit(
            store,
            plan,
            state,
            Kind::Keep,
            meta(ACTOR, why.to_owned(), now),
        )
        .await;
    }
    let reason = format!("rollout plan paused and rolled back to 0 %: {why}");
    let state = PlanState {
        status: PlanStatus::Paused,
        rolled_back: true,
        note: Some(Note {
            actor: ACTOR.to_owned(),
            at: now,
            reason: why.to_owned(),
        }),
        ..state
    };
    commit(store, plan, state, Kind::Lower, meta(ACTOR, reason, now)).await
}

/// Records guard bookkeeping (an alert joining or leaving `firing`)
/// without moving the plan.
pub async fn note_firing(
    store: &dyn Store,
    plan: &RolloutPlanRecord,
    state: PlanState,
    why: String,
    now: OffsetDateTime,
) -> StoreResult<(RolloutPlanRecord, Moved)> {
    commit(store, plan, state, Kind::Keep, meta(ACTOR, why, now)).await
}

/// What people do to a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Pause,
    Resume,
    Abort,
}

/// A person's pause, resume or abort of `plan` at `now`. `Refused` when
/// the plan is not in a state the action applies to, or (resume) while a
/// guard is still firing: `firing` is why, if one is.
pub async fn by_person(
    store: &dyn Store,
    plan: &RolloutPlanRecord,
    action: Action,
    firing: Option<String>,
    who: &WriteMeta,
) -> StoreResult<(RolloutPlanRecord, Moved)> {
    let status = plan.state.status;
    let note = |default: &str| Note {
        actor: who.actor.clone(),
        at: who.at,
        reason: who.reason.clone().unwrap_or_else(|| default.to_owned()),
    };
    let refuse = |what: &str| {
        Err(StoreError::Refused(format!(
            "the plan is {}; only a {what} plan can be {}",
            status_name(status),
            action_done(action)
        )))
    };
    let position = schedule::position(&plan.spec, &plan.state);
    let (state, kind, reason) = match action {
        Action::Pause => {
            if status != PlanStatus::Running {
                return refuse("running");
            }
            let state = PlanState {
                status: PlanStatus::Paused,
                note: Some(note("paused")),
                ..plan.state.clone()
            };
            (
                state,
                Kind::Keep,
                format!("rollout plan paused at {position}"),
            )
        }
        Action::Resume => {
            if status != PlanStatus::Paused {
                return refuse("paused");
            }
            if let Some(why) = firing {
                return Err(StoreError::Refused(format!(
                    "a guard is still firing: {why}; resume once it has cleared"
                )));
            }
            let state = PlanState {
                status: PlanStatus::Running,
                rolled_back: false,
                stage_started_at: who.at,
                note: None,
                ..plan.state.clone()
            };
            let exposure = Exposure::of(&plan.spec, &state).describe();
            let reason = format!("rollout plan resumed at {position}, serving {exposure}");
            (state, Kind::Raise, reason)
        }
        Action::Abort => {
            if matches!(status, PlanStatus::Aborted | PlanStatus::Completed) {
                return refuse("running or paused");
            }
            let state = PlanState {
                status: PlanStatus::Aborted,
                rolled_back: true,
                note: Some(note("aborted")),
                ..plan.state.clone()
            };
            let reason = format!("rollout plan aborted at {position}, rolled back to 0 %");
            (state, Kind::Lower, reason)
        }
    };
    let reason = match &who.reason {
        Some(given) => format!("{reason}: {given}"),
        None => reason,
    };
    let meta = WriteMeta {
        reason: Some(reason.chars().take(1_000).collect()),
        expected_version: None,
        ..who.clone()
    };
    commit(store, plan, state, kind, meta).await
}

fn status_name(status: PlanStatus) -> &'static str {
    match status {
        PlanStatus::Running => "running",
        PlanStatus::Paused => "paused",
        PlanStatus::Completed => "completed",
        PlanStatus::Aborted => "aborted",
    }
}

fn action_done(action: Action) -> &'static str {
    match action {
        Action::Pause => "paused",
        Action::Resume => "resumed",
        Action::Abort => "aborted",
    }
}
