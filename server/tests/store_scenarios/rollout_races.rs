//! Rollout plans racing: moves refused while a kill switch on the flag is
//! tripped, exactly one of two moves decided on the same plan version
//! committing (one store, or two on one database: two replicas), and a
//! stage raise racing a trip (one wins, never both).

use std::sync::Arc;

use vexil_proto::FlagConfig;
use vexil_server::killswitch::{
    Action, KillSwitch, MatchOp, Matcher, Restore, Status, SwitchState, Trigger,
};
use vexil_server::rollout::{PlanState, PlanStatus};
use vexil_server::store::{ResourceKind, Store, SwitchTransition};

use crate::common::*;
use crate::rollout_plans::*;

fn switch(flag: &str, environment: &str) -> KillSwitch {
    KillSwitch {
        name: format!("{flag} in {environment}"),
        flag: flag.into(),
        environment: environment.into(),
        trigger: Trigger::Alert {
            matchers: vec![Matcher {
                label: "alertname".into(),
                op: MatchOp::Eq,
                value: "Errors".into(),
            }],
        },
        action: Action::Disable,
        restore: Restore::Manual,
    }
}

/// Creates the switch `id` and trips it, leaving the flag alone.
async fn trip(store: &dyn Store, id: &str, flag: &str, environment: &str, secs: i64) {
    store
        .create_kill_switch("default", id, &switch(flag, environment), &meta("u", secs))
        .await
        .unwrap();
    let state = SwitchState {
        status: Status::Tripped,
        tripped_at: Some(at(secs)),
        ..SwitchState::default()
    };
    let transition = SwitchTransition {
        project: "default",
        id,
        switch_version: 1,
        state: &state,
        config: None,
    };
    store
        .transition_kill_switch(&transition, &meta("automation:alertmanager", secs))
        .await
        .unwrap();
}

pub async fn rollout_raises_are_refused_while_a_switch_is_tripped(store: Arc<dyn Store>) {
    checkout_with_a_running_plan(&*store).await;
    add_flag(&*store, "default", "other", 4).await;
    // Tripped switches on the flag elsewhere, or on another flag here.
    trip(&*store, "ks-dev", "checkout", "development", 11).await;
    trip(&*store, "ks-other", "other", "production", 12).await;
    let raised = move_plan(&*store, 1, &running(0, 1, 20), (true, true), &meta("a", 20))
        .await
        .unwrap();
    assert_eq!(raised.version, 2);

    // One on the flag here: the raise is refused, whatever was decided.
    trip(&*store, "ks-prod", "checkout", "production", 30).await;
    let unchanged = everything(&*store).await;
    let next = running(1, 0, 40);
    assert_refused_with(
        move_plan(&*store, 2, &next, (true, true), &meta("a", 40)).await,
        "kill switch ks-prod on flag checkout in production is tripped",
    );
    assert_refused_with(
        move_plan(&*store, 2, &next, (false, true), &meta("a", 40)).await,
        "kill switch ks-prod on flag checkout in production is tripped",
    );
    assert_eq!(everything(&*store).await, unchanged);
    // A move that does not ask (a guard rolling back) still goes through.
    let rolled_back = PlanState {
        status: PlanStatus::Paused,
        rolled_back: true,
        ..running(0, 1, 41)
    };
    let lowered = move_plan(&*store, 2, &rolled_back, (true, false), &meta("a", 41))
        .await
        .unwrap();
    assert_eq!(lowered.version, 3);
}

/// Two moves decided on the same plan version, raced `RACES` times
/// through `a` and `b` (the same store, or two on one database):
/// exactly one commits, the other is a `Conflict`, and the log and the
/// environment version move by exactly one.
async fn race(a: &dyn Store, b: &dyn Store) {
    checkout_with_a_running_plan(a).await;
    for round in 0..RACES {
        let version = round + 1;
        let expose = round % 2 == 0;
        let before = versions(a, "default").await;
        let changes = change_count(a, Some("default")).await;
        let secs = 100 + round as i64;
        let state = running(0, (round % 2) as usize, secs);
        let (by_a, by_b) = (meta("replica-a", secs), meta("replica-b", secs));
        // Whichever is polled first tends to win on SQLite: take turns.
        let from_a = move_plan(a, version, &state, (expose, true), &by_a);
        let from_b = move_plan(b, version, &state, (expose, true), &by_b);
        let (left, right) = if round % 2 == 0 {
            tokio::join!(from_a, from_b)
        } else {
            let (right, left) = tokio::join!(from_b, from_a);
            (left, right)
        };
        let winner = match (&left, &right) {
            (Ok(plan), Err(_)) => {
                assert_conflict(right, version, version + 1);
                assert_eq!(plan.version, version + 1);
                "replica-a"
            }
            (Err(_), Ok(plan)) => {
                assert_conflict(left, version, version + 1);
                assert_eq!(plan.version, version + 1);
                "replica-b"
            }
            _ => panic!(
                "round {round}: expected one Ok and one Conflict, got {left:?} and {right:?}"
            ),
        };
        let plan = b
            .get_rollout_plan("default", "checkout", "production")
            .await
            .unwrap();
        assert_eq!((plan.version, &plan.state), (version + 1, &state));
        let bumps: &[&str] = if expose { &["production"] } else { &[] };
        assert_eq!(versions(b, "default").await, bumped(&before, bumps));
        let log = all_changes(b, Some("default")).await;
        assert_eq!(log.len() as u64, changes + 1, "round {round}");
        let kind = if expose {
            ResourceKind::FlagConfig
        } else {
            ResourceKind::RolloutPlan
        };
        assert_eq!((log[0].resource, log[0].actor.as_str()), (kind, winner));
    }
}

pub async fn rollout_moves_race_to_commit_once(store: Arc<dyn Store>) {
    race(&*store, &*store).await;
}

/// The race between two store instances (two replicas) on one database.
pub async fn rollout_moves_race_to_commit_once_across_stores(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    race(&*a, &*b).await;
}

/// A stage raise racing a kill switch's trip (which writes the flag's
/// config with `If-Match`), `RACES` times: either the raise commits first
/// and the trip, decided on the older config, is a `Conflict`, or the trip
/// commits first and the raise is refused. Never both: a trip cannot slip
/// in between the raise's check and its commit.
pub async fn rollout_raise_and_trip_race_one_wins(store: Arc<dyn Store>) {
    checkout_with_a_running_plan(&*store).await;
    let mut plan_version = 1;
    for round in 0..RACES {
        let secs = 100 + round as i64;
        let id = format!("ks-{round}");
        let spec = switch("checkout", "production");
        store
            .create_kill_switch("default", &id, &spec, &meta("u", secs))
            .await
            .unwrap();
        let config = production_config(&*store, "checkout").await;
        let before = versions(&*store, "default").await;
        let changes = change_count(&*store, Some("default")).await;
        let disabled = FlagConfig {
            enabled: false,
            ..config.clone()
        };
        let tripped = SwitchState {
            status: Status::Tripped,
            tripped_at: Some(at(secs)),
            ..SwitchState::default()
        };
        let transition = SwitchTransition {
            project: "default",
            id: &id,
            switch_version: 1,
            state: &tripped,
            config: Some(&disabled),
        };
        let by_switch = if_match(meta("automation:alertmanager", secs), config.version);
        let by_plan = meta("automation:rollout", secs);
        let state = running(0, (round % 2) as usize, secs);
        let trip = store.transition_kill_switch(&transition, &by_switch);
        let raise = move_plan(&*store, plan_version, &state, (true, true), &by_plan);
        let (trip, raise) = if round % 2 == 0 {
            tokio::join!(trip, raise)
        } else {
            let (raise, trip) = tokio::join!(raise, trip);
            (trip, raise)
        };
        let message = format!("kill switch {id} on flag checkout in production is tripped");
        let winner = match (&trip, &raise) {
            (Ok(_), Err(_)) => {
                assert_refused_with(raise, &message);
                "automation:alertmanager"
            }
            (Err(_), Ok(_)) => {
                assert_conflict(trip, config.version, config.version + 1);
                plan_version += 1;
                "automation:rollout"
            }
            _ => panic!("round {round}: expected one to win, got {trip:?} and {raise:?}"),
        };
        assert_eq!(
            store
                .get_rollout_plan("default", "checkout", "production")
                .await
                .unwrap()
                .version,
            plan_version
        );
        assert_eq!(
            versions(&*store, "default").await,
            bumped(&before, &["production"])
        );
        let log = all_changes(&*store, Some("default")).await;
        assert_eq!(log.len() as u64, changes + 1, "round {round}");
        assert_eq!(
            (log[0].resource, log[0].actor.as_str()),
            (ResourceKind::FlagConfig, winner)
        );
        store
            .delete_kill_switch("default", &id, &meta("u", secs))
            .await
            .unwrap();
    }
}
