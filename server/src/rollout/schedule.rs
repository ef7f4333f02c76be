//! When a running plan moves: the current stage's hold counts from when it
//! started; once it has passed, the next stage of the region starts, then
//! the next region's first stage, and after the last stage of the last
//! region has held, the plan is complete. One step per decision: a server
//! that was down for a day does not skip stages, it starts the next one
//! and holds it in full.

use time::OffsetDateTime;

use super::model::{Note, PlanState, PlanStatus, RolloutPlan};

/// The actor of everything the server does to a plan by itself.
pub const ACTOR: &str = "automation:rollout";

/// What a plan does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Not running: nothing moves it but people.
    Idle,
    /// The current stage holds until then.
    Wait(OffsetDateTime),
    /// The next stage (or region) starts: the state to move to.
    Advance(PlanState),
    /// The last stage held: the plan is done.
    Complete(PlanState),
}

/// When the current stage's hold ends; `None` if never (a hold past the
/// calendar, or a stage that does not exist).
pub fn due(spec: &RolloutPlan, state: &PlanState) -> Option<OffsetDateTime> {
    let phases = spec.phases();
    let stage = phases.get(state.region)?.1.get(state.stage)?;
    let hold = time::Duration::try_from(stage.hold).ok()?;
    state.stage_started_at.checked_add(hold)
}

/// The step `state` of `spec` takes at `now`.
pub fn next(spec: &RolloutPlan, state: &PlanState, now: OffsetDateTime) -> Step {
    if state.status != PlanStatus::Running || state.rolled_back {
        return Step::Idle;
    }
    let phases = spec.phases();
    let Some(due) = due(spec, state) else {
        // A stage that does not exist (the plan was stored by hand):
        // nothing to ramp to.
        return Step::Idle;
    };
    if now < due {
        return Step::Wait(due);
    }
    let stages = phases.get(state.region).map_or(0, |(_, s)| s.len());
    let started = |region, stage| PlanState {
        region,
        stage,
        stage_started_at: now,
        ..state.clone()
    };
    if state.stage + 1 < stages {
        Step::Advance(started(state.region, state.stage + 1))
    } else if state.region + 1 < phases.len() {
        Step::Advance(started(state.region + 1, 0))
    } else {
        Step::Complete(PlanState {
            status: PlanStatus::Completed,
            note: Some(Note {
                actor: ACTOR.to_owned(),
                at: now,
                reason: "every stage held with its guards quiet".to_owned(),
            }),
            ..state.clone()
        })
    }
}

/// Where `state` is, in words: `stage 2 of 3 in eu-west-1 (region 1 of
/// 2)`, or `stage 2 of 3`.
pub fn position(spec: &RolloutPlan, state: &PlanState) -> String {
    let phases = spec.phases();
    let Some((region, stages)) = phases.get(state.region) else {
        return format!("stage {}", state.stage + 1);
    };
    let stage = format!("stage {} of {}", state.stage + 1, stages.len());
    match region {
        Some(region) => format!(
            "{stage} in {region} (region {} of {})",
            state.region + 1,
            phases.len()
        ),
        None => stage,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::Duration;
    use time::macros::datetime;

    use super::*;

    const START: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

    fn spec() -> RolloutPlan {
        serde_json::from_value(json!({
            "variant": "on",
            "stages": [{"percent": 10, "hold": "1h"}, {"percent": 100, "hold": "30m"}],
            "regions": [{"region": "eu"}, {"region": "us"}],
        }))
        .unwrap()
    }

    #[test]
    fn stages_advance_after_their_hold_region_by_region_then_complete() {
        let spec = spec();
        let mut state = PlanState::start(START);
        assert_eq!(
            position(&spec, &state),
            "stage 1 of 2 in eu (region 1 of 2)"
        );
        let almost = START + Duration::hours(1) - Duration::seconds(1);
        assert_eq!(
            next(&spec, &state, almost),
            Step::Wait(START + Duration::hours(1))
        );
        // Late by a day: one step, and the next stage holds from now.
        let late = START + Duration::days(1);
        let Step::Advance(second) = next(&spec, &state, late) else {
            panic!("expected an advance");
        };
        assert_eq!(
            (second.region, second.stage, second.stage_started_at),
            (0, 1, late)
        );
        state = second;
        let Step::Advance(third) = next(&spec, &state, late + Duration::minutes(30)) else {
            panic!("expected the next region");
        };
        assert_eq!((third.region, third.stage), (1, 0));
        assert_eq!(
            position(&spec, &third),
            "stage 1 of 2 in us (region 2 of 2)"
        );
        let last = PlanState {
            stage: 1,
            ..third.clone()
        };
        let done = last.stage_started_at + Duration::minutes(30);
        let Step::Complete(completed) = next(&spec, &last, done) else {
            panic!("expected completion");
        };
        assert_eq!(completed.status, PlanStatus::Completed);
        assert_eq!(completed.note.unwrap().actor, ACTOR);
    }

    #[test]
    fn paused_rolled_back_or_broken_plans_stay_put() {
        let spec = spec();
        let later = START + Duration::days(2);
        let paused = PlanState {
            status: PlanStatus::Paused,
            ..PlanState::start(START)
        };
        assert_eq!(next(&spec, &paused, later), Step::Idle);
        let rolled_back = PlanState {
            rolled_back: true,
            ..PlanState::start(START)
        };
        assert_eq!(next(&spec, &rolled_back, later), Step::Idle);
        let nowhere = PlanState {
            region: 9,
            ..PlanState::start(START)
        };
        assert_eq!(next(&spec, &nowhere, later), Step::Idle);
        assert_eq!(position(&spec, &nowhere), "stage 1");
    }
}
