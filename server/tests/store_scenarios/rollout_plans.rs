//! Rollout plans: a `PUT` that writes the plan's exposure into the flag's
//! config as one change (one environment version), reads in key order,
//! moves conditional on the plan's version (with or without exposure), and
//! plans going with their flag or environment; the fixtures
//! `rollout_races` shares.

use std::sync::Arc;
use std::time::Duration;

use vexil_proto::{Clause, FlagConfig, Operator, Rollout, Rule, Scalar, Serve, WeightedVariant};
use vexil_server::rollout::{
    Exposure, Note, PlanState, PlanStatus, RegionPlan, RolloutPlan, RolloutPlanRecord, Stage,
};
use vexil_server::store::{
    ChangeAction, EnvironmentVersion, PlanPut, PlanTransition, ResourceKind, Store, StoreError,
    StoreResult, WriteMeta,
};

use crate::common::*;

/// How many times the race scenarios race: enough for both orders (and
/// true overlap on PostgreSQL) to come up.
pub(crate) const RACES: u64 = 20;

pub(crate) fn stage(percent: f64) -> Stage {
    Stage {
        percent,
        hold: Duration::from_secs(3600),
    }
}

/// `on` to 10 % then 100 %, in `eu-west-1` then `us-east-1`.
pub(crate) fn regional() -> RolloutPlan {
    RolloutPlan {
        variant: "on".into(),
        control: None,
        bucket_by: None,
        stages: vec![stage(10.0), stage(100.0)],
        regions: vec![
            RegionPlan {
                region: "eu-west-1".into(),
                stages: Vec::new(),
            },
            RegionPlan {
                region: "us-east-1".into(),
                stages: Vec::new(),
            },
        ],
        region_attribute: "region".into(),
        guards: Default::default(),
    }
}

/// `on` to 25 % then 100 %, everywhere at once.
pub(crate) fn everywhere() -> RolloutPlan {
    RolloutPlan {
        stages: vec![stage(25.0), stage(100.0)],
        regions: Vec::new(),
        ..regional()
    }
}

/// `stage` of `region`, running since `at(secs)`.
pub(crate) fn running(region: usize, stage: usize, secs: i64) -> PlanState {
    PlanState {
        region,
        stage,
        ..PlanState::start(at(secs))
    }
}

/// A rollout serving `on` to `weight` (in 1/100 000) and `off` to the rest.
pub(crate) fn ramp(weight: u32) -> Serve {
    Serve::Rollout(Rollout {
        bucket_by: None,
        salt: None,
        weights: vec![
            WeightedVariant {
                variant: "on".into(),
                weight,
            },
            WeightedVariant {
                variant: "off".into(),
                weight: 100_000 - weight,
            },
        ],
        fallback: None,
        algorithm: 1,
    })
}

/// The rule a regional plan writes for `region`.
pub(crate) fn region_rule(region: &str, weight: u32) -> Rule {
    Rule {
        id: format!("region-{region}"),
        description: format!("Rollout plan: {region}"),
        clauses: vec![Clause {
            attribute: "region".into(),
            op: Operator::In,
            values: vec![Scalar::String(region.into())],
            negate: false,
        }],
        serve: ramp(weight),
    }
}

/// Puts `spec` in `state` on `flag` in `environment` of `default`, with
/// the exposure that state has.
pub(crate) async fn put(
    store: &dyn Store,
    (flag, environment): (&str, &str),
    spec: &RolloutPlan,
    state: &PlanState,
    meta: &WriteMeta,
) -> StoreResult<(RolloutPlanRecord, bool)> {
    put_in(store, ("default", flag, environment), spec, state, meta).await
}

pub(crate) async fn put_in(
    store: &dyn Store,
    (project, flag, environment): (&str, &str, &str),
    spec: &RolloutPlan,
    state: &PlanState,
    meta: &WriteMeta,
) -> StoreResult<(RolloutPlanRecord, bool)> {
    let exposure = Exposure::of(spec, state);
    let put = PlanPut {
        project,
        flag,
        environment,
        spec,
        state,
        exposure: &exposure,
    };
    store.put_rollout_plan(&put, meta).await
}

/// Moves `checkout`'s plan in `production` from `plan_version` to `state`,
/// writing its exposure when `expose`.
pub(crate) async fn move_plan(
    store: &dyn Store,
    plan_version: u64,
    state: &PlanState,
    (expose, unless_tripped): (bool, bool),
    meta: &WriteMeta,
) -> StoreResult<RolloutPlanRecord> {
    let exposure = Exposure::of(&regional(), state);
    let transition = PlanTransition {
        project: "default",
        flag: "checkout",
        environment: "production",
        plan_version,
        state,
        exposure: expose.then_some(&exposure),
        unless_tripped,
    };
    store.transition_rollout_plan(&transition, meta).await
}

pub(crate) async fn production_config(store: &dyn Store, flag: &str) -> FlagConfig {
    store
        .get_flag_config("default", flag, "production")
        .await
        .unwrap()
}

/// Panics unless `result` is `NotFound` with exactly `message`.
#[track_caller]
pub(crate) fn assert_not_found_named<T: std::fmt::Debug>(result: StoreResult<T>, message: &str) {
    match result {
        Err(StoreError::NotFound(m)) if m == message => {}
        other => panic!("expected NotFound({message:?}), got {other:?}"),
    }
}

/// Panics unless `result` is `Refused` with exactly `message`.
#[track_caller]
pub(crate) fn assert_refused_with<T: std::fmt::Debug>(result: StoreResult<T>, message: &str) {
    match result {
        Err(StoreError::Refused(m)) if m == message => {}
        other => panic!("expected Refused({message:?}), got {other:?}"),
    }
}

/// `checkout` in `production`: a people rule first, then enabled.
pub(crate) async fn checkout_with_a_rule(store: &dyn Store) -> FlagConfig {
    add_flag(store, "default", "checkout", 1).await;
    add_segment(store, "default", &segment("testers", &["ann"]), 2).await;
    store
        .put_flag_config(
            "default",
            "checkout",
            "production",
            &serving_segment("testers"),
            &meta("u", 3),
        )
        .await
        .unwrap()
}

/// [`checkout_with_a_rule`], with the regional plan started on it in
/// production (plan version 1, stage 1 of eu-west-1 at 0 %).
pub(crate) async fn checkout_with_a_running_plan(store: &dyn Store) -> FlagConfig {
    let people = checkout_with_a_rule(store).await;
    put(
        store,
        ("checkout", "production"),
        &regional(),
        &running(0, 0, 10),
        &meta("u", 10),
    )
    .await
    .unwrap();
    people
}

/// Everything a refused or conflicting write must leave as it was: every
/// plan, the configs of `checkout` and `other`, the change count and the
/// environment versions.
pub(crate) type Everything = (
    Vec<RolloutPlanRecord>,
    Vec<FlagConfig>,
    u64,
    Vec<(String, u64)>,
);

pub(crate) async fn everything(store: &dyn Store) -> Everything {
    let plans = store.list_rollout_plans(None).await.unwrap();
    let mut configs = Vec::new();
    for flag in ["checkout", "other"] {
        for environment in ["development", "staging", "production"] {
            if let Ok(config) = store.get_flag_config("default", flag, environment).await {
                configs.push(config);
            }
        }
    }
    let changes = change_count(store, Some("default")).await;
    (plans, configs, changes, versions(store, "default").await)
}

pub async fn rollout_plan_put_writes_the_exposure_in_one_change(store: Arc<dyn Store>) {
    let people = checkout_with_a_rule(&*store).await;
    let before = versions(&*store, "default").await;
    let changes = change_count(&*store, Some("default")).await;
    let write = because(meta("user:ann", 10), "ramp checkout");
    let (created, was_new) = put(
        &*store,
        ("checkout", "production"),
        &regional(),
        &running(0, 0, 10),
        &write,
    )
    .await
    .unwrap();
    let expected = RolloutPlanRecord {
        project: "default".into(),
        flag: "checkout".into(),
        environment: "production".into(),
        spec: regional(),
        state: running(0, 0, 10),
        version: 1,
        created_at: at(10),
        updated_at: at(10),
    };
    assert!(was_new);
    assert_eq!(created, expected);
    // The region rules come after the people's rule, at 10 % and 0 %.
    let exposed = FlagConfig {
        version: people.version + 1,
        rules: vec![
            people.rules[0].clone(),
            region_rule("eu-west-1", 10_000),
            region_rule("us-east-1", 0),
        ],
        ..people.clone()
    };
    assert_eq!(production_config(&*store, "checkout").await, exposed);
    let after = bumped(&before, &["production"]);
    assert_eq!(versions(&*store, "default").await, after);
    let log = all_changes(&*store, Some("default")).await;
    assert_eq!(log.len() as u64, changes + 1);
    let change = &log[0];
    assert_eq!(
        summary(change),
        (
            ResourceKind::FlagConfig,
            "checkout",
            Some("production"),
            ChangeAction::Updated,
            "user:ann",
            Some("ramp checkout"),
        )
    );
    assert_eq!(change.at, at(10));
    let production = after.iter().find(|(e, _)| e == "production").unwrap();
    assert_eq!(
        change.versions,
        vec![EnvironmentVersion {
            environment: "production".into(),
            version: production.1,
        }]
    );

    // A second put starts over in place: same rules, new shares, version 2.
    let (replaced, was_new) = put(
        &*store,
        ("checkout", "production"),
        &regional(),
        &running(1, 0, 20),
        &if_match(meta("user:ann", 20), 1),
    )
    .await
    .unwrap();
    assert!(!was_new);
    assert_eq!(
        replaced,
        RolloutPlanRecord {
            state: running(1, 0, 20),
            version: 2,
            updated_at: at(20),
            ..expected
        }
    );
    assert_eq!(
        store
            .get_rollout_plan("default", "checkout", "production")
            .await
            .unwrap(),
        replaced
    );
    assert_eq!(
        production_config(&*store, "checkout").await,
        FlagConfig {
            version: people.version + 2,
            rules: vec![
                people.rules[0].clone(),
                region_rule("eu-west-1", 100_000),
                region_rule("us-east-1", 10_000),
            ],
            ..people.clone()
        }
    );
    assert_eq!(
        versions(&*store, "default").await,
        bumped(&after, &["production"])
    );
    assert_eq!(change_count(&*store, Some("default")).await, changes + 2);

    // Everywhere: the default serve, the rules left alone.
    add_flag(&*store, "default", "other", 30).await;
    let untouched = production_config(&*store, "other").await;
    let (plan, was_new) = put(
        &*store,
        ("other", "production"),
        &everywhere(),
        &running(0, 0, 31),
        &meta("u", 31),
    )
    .await
    .unwrap();
    assert_eq!((was_new, plan.version), (true, 1));
    assert_eq!(
        production_config(&*store, "other").await,
        FlagConfig {
            version: untouched.version + 1,
            default_serve: ramp(25_000),
            ..untouched
        }
    );
}

pub async fn rollout_plan_puts_that_fail_change_nothing(store: Arc<dyn Store>) {
    checkout_with_a_rule(&*store).await;
    add_flag(&*store, "default", "other", 4).await;
    let state = running(0, 0, 10);
    put(
        &*store,
        ("checkout", "production"),
        &regional(),
        &state,
        &meta("u", 10),
    )
    .await
    .unwrap();
    let unchanged = everything(&*store).await;
    let key = ("checkout", "production");

    // A stale If-Match, and an If-Match on a plan that does not exist.
    let stale = if_match(meta("u", 11), 7);
    assert_conflict(put(&*store, key, &regional(), &state, &stale).await, 7, 1);
    let missing = if_match(meta("u", 11), 1);
    assert_not_found_named(
        put(
            &*store,
            ("checkout", "development"),
            &regional(),
            &state,
            &missing,
        )
        .await,
        "rollout plan of flag checkout in environment development",
    );
    assert_eq!(everything(&*store).await, unchanged);

    // What the plan would go on.
    let write = meta("u", 12);
    assert_not_found_named(
        put(&*store, ("nope", "production"), &regional(), &state, &write).await,
        "flag nope",
    );
    assert_not_found_named(
        put(&*store, ("checkout", "nope"), &regional(), &state, &write).await,
        "environment nope",
    );
    assert_not_found_named(
        put_in(
            &*store,
            ("nope", "checkout", "production"),
            &regional(),
            &state,
            &write,
        )
        .await,
        "project nope",
    );
    assert_eq!(everything(&*store).await, unchanged);

    // An archived flag takes no plan.
    set_archived(&*store, "default", "other", true, 13).await;
    let unchanged = everything(&*store).await;
    assert_refused_with(
        put(
            &*store,
            ("other", "production"),
            &everywhere(),
            &state,
            &write,
        )
        .await,
        "flag other is archived: restore it first",
    );
    assert_eq!(everything(&*store).await, unchanged);
}

pub async fn rollout_plans_are_read_in_key_order(store: Arc<dyn Store>) {
    two_env_project(&*store, "beta").await;
    add_flag(&*store, "default", "b-flag", 1).await;
    add_flag(&*store, "default", "a-flag", 2).await;
    store
        .create_flag("beta", &boolean_flag("z-flag"), &[], &meta("u", 3))
        .await
        .unwrap();
    let state = running(0, 0, 10);
    let put_plan = async |key: (&str, &str, &str), spec: RolloutPlan| {
        put_in(&*store, key, &spec, &state, &meta("u", 10))
            .await
            .unwrap()
            .0
    };
    let b_prod = put_plan(("default", "b-flag", "production"), everywhere()).await;
    let a_prod = put_plan(("default", "a-flag", "production"), regional()).await;
    let a_dev = put_plan(("default", "a-flag", "development"), everywhere()).await;
    let z_prod = put_plan(("beta", "z-flag", "production"), everywhere()).await;
    let defaults = vec![a_dev.clone(), a_prod.clone(), b_prod.clone()];
    assert_eq!(
        store.list_rollout_plans(Some("default")).await.unwrap(),
        defaults
    );
    assert_eq!(
        store.list_rollout_plans(Some("beta")).await.unwrap(),
        vec![z_prod.clone()]
    );
    let mut all = vec![z_prod.clone()];
    all.extend(defaults);
    assert_eq!(store.list_rollout_plans(None).await.unwrap(), all);
    for plan in &all {
        assert_eq!(
            &store
                .get_rollout_plan(&plan.project, &plan.flag, &plan.environment)
                .await
                .unwrap(),
            plan
        );
    }
    assert_not_found_named(
        store
            .get_rollout_plan("default", "b-flag", "development")
            .await,
        "rollout plan of flag b-flag in environment development",
    );
    assert_not_found_named(
        store
            .get_rollout_plan("default", "nope", "production")
            .await,
        "rollout plan of flag nope in environment production",
    );
    assert_not_found_named(
        store.get_rollout_plan("nope", "a-flag", "production").await,
        "project nope",
    );
    assert_not_found_named(store.list_rollout_plans(Some("nope")).await, "project nope");
}

pub async fn rollout_moves_write_the_config_or_the_plan(store: Arc<dyn Store>) {
    let people = checkout_with_a_running_plan(&*store).await;

    // A stage with exposure: a change of the config, one version.
    let before = versions(&*store, "default").await;
    let changes = change_count(&*store, Some("default")).await;
    let next = running(0, 1, 20);
    let stage = because(meta("automation:rollout", 20), "stage 2");
    let moved = move_plan(&*store, 1, &next, (true, true), &stage)
        .await
        .unwrap();
    assert_eq!(
        (moved.version, &moved.state, moved.updated_at),
        (2, &next, at(20))
    );
    assert_eq!(moved.created_at, at(10));
    assert_eq!(
        production_config(&*store, "checkout").await,
        FlagConfig {
            version: people.version + 2,
            rules: vec![
                people.rules[0].clone(),
                region_rule("eu-west-1", 100_000),
                region_rule("us-east-1", 0),
            ],
            ..people.clone()
        }
    );
    let after = bumped(&before, &["production"]);
    assert_eq!(versions(&*store, "default").await, after);
    let log = all_changes(&*store, Some("default")).await;
    assert_eq!(log.len() as u64, changes + 1);
    assert_eq!(
        (
            log[0].resource,
            log[0].environment.as_deref(),
            log[0].actor.as_str(),
            log[0].reason.as_deref(),
            log[0].versions.len(),
        ),
        (
            ResourceKind::FlagConfig,
            Some("production"),
            "automation:rollout",
            Some("stage 2"),
            1,
        )
    );

    // A pause without exposure: a change of the plan, no version.
    let config = production_config(&*store, "checkout").await;
    let paused = PlanState {
        status: PlanStatus::Paused,
        note: Some(Note {
            actor: "user:ann".into(),
            at: at(30),
            reason: "looking".into(),
        }),
        ..next.clone()
    };
    let pause = because(meta("user:ann", 30), "looking");
    let record = move_plan(&*store, 2, &paused, (false, false), &pause)
        .await
        .unwrap();
    assert_eq!((record.version, &record.state), (3, &paused));
    assert_eq!(production_config(&*store, "checkout").await, config);
    assert_eq!(versions(&*store, "default").await, after);
    let log = all_changes(&*store, Some("default")).await;
    assert_eq!(log.len() as u64, changes + 2);
    let change = &log[0];
    assert_eq!(
        summary(change),
        (
            ResourceKind::RolloutPlan,
            "checkout",
            Some("production"),
            ChangeAction::Updated,
            "user:ann",
            Some("looking"),
        )
    );
    assert!(change.versions.is_empty());
    let (was, is) = (change.before.as_ref(), change.after.as_ref());
    assert_eq!(
        (
            was.unwrap()["version"].clone(),
            is.unwrap()["version"].clone()
        ),
        (2.into(), 3.into())
    );
    assert_eq!(is.unwrap()["state"]["status"], "paused");

    // Decided on version 2: a conflict, and neither plan nor config moves.
    let unchanged = everything(&*store).await;
    assert_conflict(
        move_plan(&*store, 2, &next, (true, true), &stage).await,
        2,
        3,
    );
    assert_conflict(
        move_plan(&*store, 2, &next, (false, false), &stage).await,
        2,
        3,
    );
    assert_eq!(everything(&*store).await, unchanged);
    assert_not_found_named(
        store
            .transition_rollout_plan(
                &PlanTransition {
                    environment: "development",
                    ..PlanTransition {
                        project: "default",
                        flag: "checkout",
                        environment: "production",
                        plan_version: 3,
                        state: &next,
                        exposure: None,
                        unless_tripped: false,
                    }
                },
                &stage,
            )
            .await,
        "rollout plan of flag checkout in environment development",
    );
    assert_eq!(everything(&*store).await, unchanged);
}

pub async fn rollout_plans_are_deleted_and_go_with_their_flag(store: Arc<dyn Store>) {
    checkout_with_a_rule(&*store).await;
    add_flag(&*store, "default", "other", 4).await;
    let state = running(0, 0, 10);
    let put_plan = async |flag: &str, environment: &str| {
        put(
            &*store,
            (flag, environment),
            &regional(),
            &state,
            &meta("u", 10),
        )
        .await
        .unwrap()
        .0
    };
    let plan = put_plan("checkout", "production").await;
    put_plan("checkout", "staging").await;
    put_plan("checkout", "development").await;
    put_plan("other", "production").await;
    let kept = put_plan("other", "development").await;

    // Deleting leaves the config as the plan last wrote it.
    let config = production_config(&*store, "checkout").await;
    let before = versions(&*store, "default").await;
    let changes = change_count(&*store, Some("default")).await;
    let key = ("default", "checkout", "production");
    let unchanged = everything(&*store).await;
    assert_conflict(
        store
            .delete_rollout_plan(key.0, key.1, key.2, &if_match(meta("u", 20), 5))
            .await,
        5,
        1,
    );
    assert_eq!(everything(&*store).await, unchanged);
    let delete = because(if_match(meta("user:ann", 21), 1), "done");
    store
        .delete_rollout_plan(key.0, key.1, key.2, &delete)
        .await
        .unwrap();
    assert_not_found_named(
        store.get_rollout_plan(key.0, key.1, key.2).await,
        "rollout plan of flag checkout in environment production",
    );
    assert_eq!(production_config(&*store, "checkout").await, config);
    assert_eq!(versions(&*store, "default").await, before);
    let log = all_changes(&*store, Some("default")).await;
    assert_eq!(log.len() as u64, changes + 1);
    let change = &log[0];
    assert_eq!(
        summary(change),
        (
            ResourceKind::RolloutPlan,
            "checkout",
            Some("production"),
            ChangeAction::Deleted,
            "user:ann",
            Some("done"),
        )
    );
    assert!(change.versions.is_empty());
    assert_eq!(change.before.as_ref().unwrap()["version"], 1);
    assert_eq!(
        change.before.as_ref().unwrap()["state"],
        serde_json::to_value(&plan.state).unwrap()
    );
    assert_eq!(change.after, None);
    assert_not_found_named(
        store
            .delete_rollout_plan(key.0, key.1, key.2, &meta("u", 22))
            .await,
        "rollout plan of flag checkout in environment production",
    );
    assert_not_found_named(
        store
            .delete_rollout_plan("nope", key.1, key.2, &meta("u", 22))
            .await,
        "project nope",
    );
    assert_not_found_named(
        store
            .delete_rollout_plan(key.0, key.1, "nope", &meta("u", 22))
            .await,
        "environment nope",
    );

    // An environment's plans go with it; a flag's with the flag.
    store
        .delete_environment("default", "staging", &meta("u", 30))
        .await
        .unwrap();
    set_archived(&*store, "default", "checkout", true, 31).await;
    store
        .delete_flag("default", "checkout", &meta("u", 32))
        .await
        .unwrap();
    let left: Vec<(String, String)> = store
        .list_rollout_plans(Some("default"))
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.flag, p.environment))
        .collect();
    assert_eq!(
        left,
        [
            ("other".to_string(), "development".to_string()),
            ("other".to_string(), "production".to_string()),
        ]
    );
    assert_eq!(
        store
            .get_rollout_plan("default", "other", "development")
            .await
            .unwrap(),
        kept
    );
}
