//! Archiving and deleting flags, segments and the references that keep
//! them, and what a snapshot holds.

use std::sync::Arc;

use vexil_proto::{FlagConfig, Segment, SnapshotFlag, Target};
use vexil_server::store::{ChangeAction, FlagFilter, ResourceKind, Store, default_config};

use crate::common::*;

pub async fn archived_flags(store: Arc<dyn Store>) {
    let store = &*store;
    add_flag(store, "default", "old", 1).await;
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

    let restored = set_archived(store, "default", "old", false, 5).await;
    assert_eq!((restored.archived, restored.version), (false, 3));
    let snapshot = store.snapshot("default", "production").await.unwrap();
    let keys: Vec<_> = snapshot.flags.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, ["old"]);
    let log = all_changes(store, Some("default")).await;
    assert_eq!(
        (log[0].action, log[1].action),
        (ChangeAction::Restored, ChangeAction::Archived)
    );

    set_archived(store, "default", "old", true, 6).await;
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
    add_flag(store, "default", "old", 9).await;
}

pub async fn segments(store: Arc<dyn Store>) {
    let store = &*store;
    let beta = Segment {
        description: "Opted in".into(),
        excluded: vec!["mallory".into()],
        ..segment("beta", &["alice"])
    };
    let before = versions(store, "default").await;
    let created = add_segment(store, "default", &beta, 1).await;
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
    add_segment(store, "default", &alpha, 2).await;
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
    add_flag(store, "default", "gated", 4).await;
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
    set_archived(store, "default", "gated", true, 6).await;
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
    set_archived(store, "default", "gated", false, 10).await;
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
    add_flag(store, "default", "gone", 3).await;
    set_archived(store, "default", "gone", true, 4).await;
    let segment = segment("beta", &["alice"]);
    add_segment(store, "default", &segment, 5).await;
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
