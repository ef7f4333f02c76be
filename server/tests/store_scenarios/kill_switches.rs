//! Kill switches and health events: CRUD audited without a version bump,
//! a transition that writes the flag's config in the same transaction
//! (one environment version, one change), a stale transition changing
//! nothing, events stored once per key, and switches going with their flag.

use std::sync::Arc;

use serde_json::json;
use vexil_proto::FlagConfig;
use vexil_server::killswitch::{
    Action, Cause, KillSwitch, MatchOp, Matcher, Restore, Status, SwitchState, Trigger,
};
use vexil_server::store::{
    HealthEvent, HealthEventFilter, HealthEventKind, ResourceKind, Store, SwitchTransition,
};

use crate::common::*;

fn spec(flag: &str) -> KillSwitch {
    KillSwitch {
        name: "checkout errors".into(),
        flag: flag.into(),
        environment: "production".into(),
        trigger: Trigger::Alert {
            matchers: vec![Matcher {
                label: "alertname".into(),
                op: MatchOp::Eq,
                value: "CheckoutErrors".into(),
            }],
        },
        action: Action::Disable,
        restore: Restore::Manual,
    }
}

fn tripped(config: &FlagConfig) -> SwitchState {
    SwitchState {
        status: Status::Tripped,
        tripped_at: Some(at(60)),
        tripped_by: vec![Cause::Alert {
            fingerprint: "f1".into(),
            alertname: "CheckoutErrors".into(),
            starts_at: at(30),
        }],
        restore_config: Some(config.clone()),
        tripped_version: Some(config.version + 1),
    }
}

pub async fn kill_switch_crud_is_audited(store: Arc<dyn Store>) {
    add_flag(&*store, "default", "checkout", 1).await;
    let before = versions(&*store, "default").await;
    let changes = change_count(&*store, Some("default")).await;
    let created = store
        .create_kill_switch("default", "ks1", &spec("checkout"), &meta("u", 2))
        .await
        .unwrap();
    assert_eq!((created.version, created.state.status), (1, Status::Armed));
    assert_already_exists(
        store
            .create_kill_switch("default", "ks1", &spec("checkout"), &meta("u", 2))
            .await,
    );
    assert_eq!(
        store.get_kill_switch("default", "ks1").await.unwrap(),
        created
    );
    let mut renamed = spec("checkout");
    renamed.name = "renamed".into();
    assert_conflict(
        store
            .update_kill_switch("default", "ks1", &renamed, &if_match(meta("u", 3), 7))
            .await,
        7,
        1,
    );
    let updated = store
        .update_kill_switch("default", "ks1", &renamed, &if_match(meta("u", 3), 1))
        .await
        .unwrap();
    assert_eq!(
        (updated.version, updated.spec.name.as_str()),
        (2, "renamed")
    );
    assert_eq!(
        store.list_kill_switches(Some("default")).await.unwrap(),
        vec![updated.clone()]
    );
    assert_eq!(store.list_kill_switches(None).await.unwrap(), vec![updated]);
    assert_not_found(store.list_kill_switches(Some("nope")).await);
    store
        .delete_kill_switch("default", "ks1", &meta("u", 4))
        .await
        .unwrap();
    assert_not_found(store.get_kill_switch("default", "ks1").await);
    // Three changes of the switch, none bumping an environment.
    assert_eq!(versions(&*store, "default").await, before);
    let log = all_changes(&*store, Some("default")).await;
    assert_eq!(log.len() as u64, changes + 3);
    assert!(
        log[..3]
            .iter()
            .all(|c| c.resource == ResourceKind::KillSwitch
                && c.key == "ks1"
                && c.versions.is_empty())
    );
}

pub async fn transitions_write_the_flag_in_one_change(store: Arc<dyn Store>) {
    add_flag(&*store, "default", "checkout", 1).await;
    let on = store
        .put_flag_config(
            "default",
            "checkout",
            "production",
            &serving_on(),
            &meta("u", 2),
        )
        .await
        .unwrap();
    store
        .create_kill_switch("default", "ks1", &spec("checkout"), &meta("u", 3))
        .await
        .unwrap();
    let before = versions(&*store, "default").await;
    let changes = change_count(&*store, Some("default")).await;
    let off = FlagConfig {
        enabled: false,
        ..on.clone()
    };
    let state = tripped(&on);
    let transition = SwitchTransition {
        project: "default",
        id: "ks1",
        switch_version: 1,
        state: &state,
        config: Some(&off),
    };
    let trip = because(
        if_match(meta("automation:alertmanager", 60), on.version),
        "alert",
    );
    let record = store
        .transition_kill_switch(&transition, &trip)
        .await
        .unwrap();
    assert_eq!((record.version, &record.state), (2, &state));
    let stored = store
        .get_flag_config("default", "checkout", "production")
        .await
        .unwrap();
    assert_eq!(
        stored,
        FlagConfig {
            version: on.version + 1,
            ..off.clone()
        }
    );
    assert_eq!(
        versions(&*store, "default").await,
        bumped(&before, &["production"])
    );
    let log = all_changes(&*store, Some("default")).await;
    assert_eq!(log.len() as u64, changes + 1);
    assert_eq!(
        (
            log[0].resource,
            log[0].actor.as_str(),
            log[0].reason.as_deref()
        ),
        (
            ResourceKind::FlagConfig,
            "automation:alertmanager",
            Some("alert")
        )
    );

    // Decided on a stale switch version: a conflict, and nothing changes.
    let again = store.transition_kill_switch(&transition, &trip).await;
    assert_conflict(again, 1, 2);
    assert_eq!(
        store.get_kill_switch("default", "ks1").await.unwrap(),
        record
    );
    assert_eq!(log.len(), all_changes(&*store, Some("default")).await.len());

    // A config the flag cannot take rolls the switch's state back too.
    let bad = FlagConfig::new("off", vexil_proto::Serve::Variant("nope".into()));
    let armed = SwitchState::default();
    let broken = SwitchTransition {
        project: "default",
        id: "ks1",
        switch_version: 2,
        state: &armed,
        config: Some(&bad),
    };
    assert!(
        store
            .transition_kill_switch(&broken, &meta("a", 70))
            .await
            .is_err()
    );
    assert_eq!(
        store.get_kill_switch("default", "ks1").await.unwrap(),
        record
    );

    // Without a config: a change of the switch itself, no version bump.
    let before = versions(&*store, "default").await;
    let reset = SwitchTransition {
        project: "default",
        id: "ks1",
        switch_version: 2,
        state: &armed,
        config: None,
    };
    let rearmed = store
        .transition_kill_switch(&reset, &meta("u", 80))
        .await
        .unwrap();
    assert_eq!((rearmed.version, rearmed.state.status), (3, Status::Armed));
    assert_eq!(versions(&*store, "default").await, before);
    let log = all_changes(&*store, Some("default")).await;
    assert_eq!(
        (log[0].resource, log[0].actor.as_str()),
        (ResourceKind::KillSwitch, "u")
    );
}

pub async fn health_events_are_stored_once(store: Arc<dyn Store>) {
    let event = |key: &str, kind, environment: Option<&str>, secs| HealthEvent {
        id: 0,
        kind,
        key: key.into(),
        environment: environment.map(str::to_owned),
        actor: "token:i1".into(),
        body: json!({"service": "checkout", "key": key}),
        received_at: at(secs),
    };
    let deploy = event("d1", HealthEventKind::Deploy, Some("production"), 10);
    assert!(store.record_health_event(&deploy).await.unwrap());
    assert!(
        !store
            .record_health_event(&event("d1", HealthEventKind::Deploy, Some("staging"), 11))
            .await
            .unwrap()
    );
    assert!(
        store
            .record_health_event(&event("d2", HealthEventKind::Deploy, Some("staging"), 20))
            .await
            .unwrap()
    );
    assert!(
        store
            .record_health_event(&event("a1", HealthEventKind::Alert, None, 30))
            .await
            .unwrap()
    );
    let all = store
        .list_health_events(&HealthEventFilter {
            limit: 10,
            ..HealthEventFilter::default()
        })
        .await
        .unwrap();
    let keys: Vec<&str> = all.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["a1", "d2", "d1"]);
    assert_eq!(all[2].body, deploy.body);
    assert_eq!(all[2].environment.as_deref(), Some("production"));
    assert_eq!(all[2].received_at, at(10));
    assert_eq!(all[2].actor, "token:i1");
    let production = store
        .list_health_events(&HealthEventFilter {
            kind: Some(HealthEventKind::Deploy),
            environments: Some(vec!["production".into()]),
            since: Some(at(0)),
            until: Some(at(15)),
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(production.len(), 1);
    assert_eq!(production[0].key, "d1");
    let limited = store
        .list_health_events(&HealthEventFilter {
            limit: 1,
            ..HealthEventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(limited[0].key, "a1");
}

pub async fn switches_go_with_their_flag(store: Arc<dyn Store>) {
    add_flag(&*store, "default", "checkout", 1).await;
    store
        .create_kill_switch("default", "ks1", &spec("checkout"), &meta("u", 2))
        .await
        .unwrap();
    set_archived(&*store, "default", "checkout", true, 3).await;
    store
        .delete_flag("default", "checkout", &meta("u", 4))
        .await
        .unwrap();
    assert!(
        store
            .list_kill_switches(Some("default"))
            .await
            .unwrap()
            .is_empty()
    );
}
