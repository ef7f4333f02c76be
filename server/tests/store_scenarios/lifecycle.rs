//! Archiving and deleting flags, segments and the references that keep
//! them, and what a snapshot holds.

use std::sync::Arc;

use vexil_proto::{FlagConfig, Segment, SnapshotFlag, Target};
use vexil_server::store::{ChangeAction, FlagFilter, ResourceKind, Store, default_config};

use crate::common::*;

pub async fn archived_flags(store: Arc<dyn Store>) {
    let store = &*store;
    store
        .create_flag("default", &boolean_flag("old"), &[], &meta("u", 1))
        .await
        .unwrap();
    assert_refused(store.delete_flag("default", "old", &meta("u", 2)).await);
    assert_refused(
        store
            .set_flag_archived("default", "old", false, &meta("u", 2))
            .await,
    );
    let before = versions(store, "default").await;
    let count = change_count(store, Some("default")).await;

    let archived = store
        .set_flag_archived("default", "old", true, &if_match(meta("u", 3), 1))
        .await
        .unwrap();
    assert_eq!(
        (archived.archived, archived.version, archived.updated_at),
        (true, 2, at(3))
    );
    let all = ["development", "staging", "production"];
    let after_archive = bumped(&before, &all);
    assert_eq!(versions(store, "default").await, after_archive);
    assert!(
        store
            .snapshot("default", "production")
            .await
            .unwrap()
            .flags
            .is_empty()
    );
    let live = store
        .list_flags("default", &FlagFilter::default())
        .await
        .unwrap();
    assert_eq!(live.total, 0);
    let archived_only = FlagFilter {
        archived: Some(true),
        ..FlagFilter::default()
    };
    let listed = store.list_flags("default", &archived_only).await.unwrap();
    assert_eq!(listed.items, std::slice::from_ref(&archived));

    // Writes to an archived flag are refused and change nothing.
    assert_refused(
        store
            .update_flag("default", &boolean_flag("old"), &meta("u", 4))
            .await,
    );
    assert_refused(
        store
            .put_flag_config("default", "old", "staging", &serving_on(), &meta("u", 4))
            .await,
    );
    assert_refused(
        store
            .set_flag_enabled("default", "old", "staging", true, &meta("u", 4))
            .await,
    );
    assert_refused(
        store
            .set_flag_archived("default", "old", true, &meta("u", 4))
            .await,
    );
    assert_eq!(versions(store, "default").await, after_archive);
    assert_eq!(change_count(store, Some("default")).await, count + 1);

    let restored = store
        .set_flag_archived("default", "old", false, &meta("u", 5))
        .await
        .unwrap();
    assert_eq!((restored.archived, restored.version), (false, 3));
    let snapshot = store.snapshot("default", "production").await.unwrap();
    let keys: Vec<_> = snapshot.flags.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, ["old"]);
    let log = all_changes(store, Some("default")).await;
    assert_eq!(
        (log[0].action, log[1].action),
        (ChangeAction::Restored, ChangeAction::Archived)
    );

    store
        .set_flag_archived("default", "old", true, &meta("u", 6))
        .await
        .unwrap();
    let before_delete = versions(store, "default").await;
    assert_conflict(
        store
            .delete_flag("default", "old", &if_match(meta("u", 7), 1))
            .await,
        1,
        4,
    );
    store
        .delete_flag("default", "old", &if_match(meta("u", 7), 4))
        .await
        .unwrap();
    assert_not_found(store.get_flag("default", "old").await);
    assert_not_found(store.get_flag_config("default", "old", "staging").await);
    assert_eq!(
        versions(store, "default").await,
        bumped(&before_delete, &all)
    );
    let deleted = &all_changes(store, Some("default")).await[0];
    assert_eq!(
        (deleted.action, deleted.resource, deleted.key.as_str()),
        (ChangeAction::Deleted, ResourceKind::Flag, "old")
    );
    assert_eq!(deleted.before.as_ref().unwrap()["archived"], true);
    assert_eq!(deleted.after, None);
    assert_not_found(store.delete_flag("default", "old", &meta("u", 8)).await);
    // The key is free again.
    store
        .create_flag("default", &boolean_flag("old"), &[], &meta("u", 9))
        .await
        .unwrap();
}

pub async fn segments(store: Arc<dyn Store>) {
    let store = &*store;
    let beta = Segment {
        key: "beta".into(),
        name: "Beta testers".into(),
        description: "Opted in".into(),
        included: vec!["alice".into()],
        excluded: vec!["mallory".into()],
        rules: Vec::new(),
        version: 0,
    };
    let before = versions(store, "default").await;
    let created = store
        .create_segment("default", &beta, &meta("u", 1))
        .await
        .unwrap();
    assert_eq!(
        created.segment,
        Segment {
            version: 1,
            ..beta.clone()
        }
    );
    assert_eq!((created.created_at, created.updated_at), (at(1), at(1)));
    let all = ["development", "staging", "production"];
    assert_eq!(versions(store, "default").await, bumped(&before, &all));
    assert_already_exists(store.create_segment("default", &beta, &meta("u", 2)).await);
    let alpha = Segment {
        key: "alpha".into(),
        ..beta.clone()
    };
    store
        .create_segment("default", &alpha, &meta("u", 2))
        .await
        .unwrap();
    let keys: Vec<_> = store
        .list_segments("default")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.segment.key)
        .collect();
    assert_eq!(keys, ["alpha", "beta"]);
    assert_eq!(store.get_segment("default", "beta").await.unwrap(), created);
    assert_not_found(store.get_segment("default", "nope").await);

    let edited = Segment {
        included: vec!["alice".into(), "bob".into()],
        ..beta.clone()
    };
    let updated = store
        .update_segment("default", &edited, &if_match(meta("u", 3), 1))
        .await
        .unwrap();
    assert_eq!(
        updated.segment,
        Segment {
            version: 2,
            ..edited
        }
    );
    assert_eq!((updated.created_at, updated.updated_at), (at(1), at(3)));

    // Referenced by one config of an archived flag: still refused.
    store
        .create_flag("default", &boolean_flag("gated"), &[], &meta("u", 4))
        .await
        .unwrap();
    store
        .put_flag_config(
            "default",
            "gated",
            "staging",
            &serving_segment("beta"),
            &meta("u", 5),
        )
        .await
        .unwrap();
    store
        .set_flag_archived("default", "gated", true, &meta("u", 6))
        .await
        .unwrap();
    // Naming the segment elsewhere (a target key) is not a reference.
    let mut named = serving_on();
    named.targets = vec![Target {
        variant: "on".into(),
        values: vec!["alpha".into()],
    }];
    store
        .create_flag(
            "default",
            &boolean_flag("named"),
            &[("staging".into(), named)],
            &meta("u", 7),
        )
        .await
        .unwrap();
    let envs = versions(store, "default").await;
    let count = change_count(store, Some("default")).await;
    assert_refused(store.delete_segment("default", "beta", &meta("u", 8)).await);
    assert_eq!(versions(store, "default").await, envs);
    assert_eq!(change_count(store, Some("default")).await, count);
    assert_eq!(store.get_segment("default", "beta").await.unwrap(), updated);

    store
        .delete_segment("default", "alpha", &if_match(meta("u", 9), 1))
        .await
        .unwrap();
    assert_eq!(versions(store, "default").await, bumped(&envs, &all));
    store
        .set_flag_archived("default", "gated", false, &meta("u", 10))
        .await
        .unwrap();
    store
        .put_flag_config("default", "gated", "staging", &serving_on(), &meta("u", 11))
        .await
        .unwrap();
    store
        .delete_segment("default", "beta", &meta("u", 12))
        .await
        .unwrap();
    assert_not_found(store.get_segment("default", "beta").await);
    assert!(store.list_segments("default").await.unwrap().is_empty());
    assert_not_found(
        store
            .delete_segment("default", "beta", &meta("u", 13))
            .await,
    );
}

pub async fn snapshot_contents_and_version(store: Arc<dyn Store>) {
    let store = &*store;
    let boolean = boolean_flag("zeta");
    let string = string_flag("alpha");
    let blue = FlagConfig::new("green", vexil_proto::Serve::Variant("blue".into()));
    store
        .create_flag("default", &boolean, &[], &meta("u", 1))
        .await
        .unwrap();
    store
        .create_flag(
            "default",
            &string,
            &[("production".into(), blue.clone())],
            &meta("u", 2),
        )
        .await
        .unwrap();
    store
        .create_flag("default", &boolean_flag("gone"), &[], &meta("u", 3))
        .await
        .unwrap();
    store
        .set_flag_archived("default", "gone", true, &meta("u", 4))
        .await
        .unwrap();
    let segment = Segment {
        key: "beta".into(),
        name: "Beta".into(),
        description: String::new(),
        included: vec!["alice".into()],
        excluded: Vec::new(),
        rules: Vec::new(),
        version: 0,
    };
    store
        .create_segment("default", &segment, &meta("u", 5))
        .await
        .unwrap();
    store
        .set_flag_enabled("default", "zeta", "production", true, &meta("u", 6))
        .await
        .unwrap();

    let snapshot = store.snapshot("default", "production").await.unwrap();
    assert_eq!(snapshot.environment, "production");
    assert_eq!(snapshot.version, 1 + 5 + 1);
    assert_eq!(
        snapshot.version,
        store
            .get_environment("default", "production")
            .await
            .unwrap()
            .environment
            .version
    );
    let zeta = FlagConfig {
        enabled: true,
        version: 2,
        ..default_config(&boolean)
    };
    assert_eq!(
        snapshot.flags,
        [
            SnapshotFlag {
                key: "alpha".into(),
                kind: string.kind,
                variants: string.variants.clone(),
                config: FlagConfig { version: 1, ..blue }
            },
            SnapshotFlag::boolean("zeta", zeta),
        ]
    );
    assert_eq!(
        snapshot.segments,
        [Segment {
            version: 1,
            ..segment
        }]
    );
    let staging = store.snapshot("default", "staging").await.unwrap();
    assert_eq!(staging.version, 1 + 5);
    assert_eq!(staging.flags[1].config, default_config(&boolean));
}
