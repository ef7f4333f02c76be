//! The change log and `changes_since`.

use std::sync::Arc;

use vexil_proto::FlagConfig;
use vexil_server::store::{
    ChangeAction, ChangeFilter, EnvironmentVersion, Page, ResourceKind, Role, Store, default_config,
};

use crate::common::*;

fn ev(environment: &str, version: u64) -> EnvironmentVersion {
    EnvironmentVersion {
        environment: environment.into(),
        version,
    }
}

pub async fn change_log_filters_and_content(store: Arc<dyn Store>) {
    let store = &*store;
    two_env_project(store, "audit").await;
    let flag = boolean_flag("f");
    let created = store
        .create_flag(
            "audit",
            &flag,
            &[],
            &because(meta("user:alice", 100), "launch"),
        )
        .await
        .unwrap();
    let put = store
        .put_flag_config(
            "audit",
            "f",
            "production",
            &serving_on(),
            &meta("user:bob", 200),
        )
        .await
        .unwrap();
    let toggle_meta = because(meta("automation:alertmanager", 300), "HighErrorRate");
    store
        .set_flag_enabled("audit", "f", "development", true, &toggle_meta)
        .await
        .unwrap();
    store
        .create_flag("audit", &boolean_flag("g"), &[], &meta("user:alice", 400))
        .await
        .unwrap();
    store
        .create_segment("audit", &segment("s", &[]), &meta("user:carol", 500))
        .await
        .unwrap();

    let keys =
        |changes: Vec<vexil_server::store::Change>| -> Vec<(ResourceKind, String, ChangeAction)> {
            changes
                .into_iter()
                .map(|c| (c.resource, c.key, c.action))
                .collect()
        };
    let list = |filter: ChangeFilter| async move {
        store.list_changes(Some("audit"), &filter).await.unwrap()
    };
    let all = list(ChangeFilter::default()).await;
    assert_eq!((all.total, all.page, all.per_page), (6, 1, 50));
    assert!(
        all.items.windows(2).all(|w| w[0].id > w[1].id),
        "newest first"
    );
    use ChangeAction::*;
    use ResourceKind as R;
    assert_eq!(
        keys(all.items.clone()),
        [
            (R::Segment, "s".into(), Created),
            (R::Flag, "g".into(), Created),
            (R::FlagConfig, "f".into(), Toggled),
            (R::FlagConfig, "f".into(), Updated),
            (R::Flag, "f".into(), Created),
            (R::Project, "audit".into(), Created),
        ]
    );

    // Content: who, when, why, what, and the versions produced.
    let flag_created = &all.items[4];
    assert_eq!(flag_created.project.as_deref(), Some("audit"));
    assert_eq!(flag_created.environment, None);
    assert_eq!(
        (flag_created.actor.as_str(), flag_created.reason.as_deref()),
        ("user:alice", Some("launch"))
    );
    assert_eq!(flag_created.at, at(100));
    assert_eq!(flag_created.before, None);
    assert_eq!(
        flag_created.after,
        Some(serde_json::to_value(&created).unwrap())
    );
    assert_eq!(
        flag_created.versions,
        [ev("development", 2), ev("production", 2)]
    );
    let config_put = &all.items[3];
    assert_eq!(config_put.environment.as_deref(), Some("production"));
    assert_eq!(
        (
            config_put.actor.as_str(),
            config_put.reason.as_deref(),
            config_put.at
        ),
        ("user:bob", None, at(200))
    );
    let old = FlagConfig {
        version: 1,
        ..default_config(&flag)
    };
    assert_eq!(config_put.before, Some(serde_json::to_value(&old).unwrap()));
    assert_eq!(config_put.after, Some(serde_json::to_value(&put).unwrap()));
    assert_eq!(config_put.versions, [ev("production", 3)]);
    let toggled = &all.items[2];
    assert_eq!(toggled.reason.as_deref(), Some("HighErrorRate"));
    assert_eq!(toggled.after.as_ref().unwrap()["enabled"], true);
    assert_eq!(toggled.before.as_ref().unwrap()["enabled"], false);
    assert_eq!(toggled.versions, [ev("development", 3)]);
    assert_eq!(
        all.items[5].versions,
        [ev("development", 1), ev("production", 1)]
    );
    assert_eq!(
        all.items[0].versions,
        [ev("development", 5), ev("production", 5)]
    );

    // Filters.
    let by_flag = list(ChangeFilter {
        flag: Some("f".into()),
        ..ChangeFilter::default()
    })
    .await;
    assert_eq!(by_flag.total, 3);
    assert_eq!(
        by_flag.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        [all.items[2].id, all.items[3].id, all.items[4].id]
    );
    let by_env = list(ChangeFilter {
        environment: Some("production".into()),
        ..ChangeFilter::default()
    })
    .await;
    assert_eq!(keys(by_env.items), [(R::FlagConfig, "f".into(), Updated)]);
    let by_actor = list(ChangeFilter {
        actor: Some("user:alice".into()),
        ..ChangeFilter::default()
    })
    .await;
    assert_eq!(
        keys(by_actor.items),
        [
            (R::Flag, "g".into(), Created),
            (R::Flag, "f".into(), Created)
        ]
    );
    // `since` is inclusive, `until` exclusive.
    let window = |since: Option<i64>, until: Option<i64>| ChangeFilter {
        since: since.map(at),
        until: until.map(at),
        ..ChangeFilter::default()
    };
    assert_eq!(
        keys(list(window(Some(200), Some(400))).await.items),
        [
            (R::FlagConfig, "f".into(), Toggled),
            (R::FlagConfig, "f".into(), Updated)
        ]
    );
    let since = list(window(Some(401), None)).await;
    assert_eq!(keys(since.items), [(R::Segment, "s".into(), Created)]);
    let until = list(window(None, Some(100))).await;
    assert_eq!(keys(until.items), [(R::Project, "audit".into(), Created)]);
    let combined = ChangeFilter {
        flag: Some("f".into()),
        actor: Some("user:bob".into()),
        environment: Some("production".into()),
        since: Some(at(200)),
        until: Some(at(201)),
        page: Page::default(),
    };
    assert_eq!(list(combined).await.total, 1);
    let page2 = list(ChangeFilter {
        page: Page {
            page: 2,
            per_page: 4,
        },
        ..ChangeFilter::default()
    })
    .await;
    assert_eq!((page2.total, page2.page, page2.per_page), (6, 2, 4));
    assert_eq!(page2.items, all.items[4..].to_vec());

    // Accounts and tokens have their own log (project `None`).
    store
        .create_user(&user("dora", Role::Editor), &meta("user:admin", 600))
        .await
        .unwrap();
    let accounts = all_changes(store, None).await;
    assert_eq!(accounts.len(), 1);
    let created_user = &accounts[0];
    assert_eq!(
        (
            created_user.resource,
            created_user.key.as_str(),
            created_user.action
        ),
        (R::User, "dora", Created)
    );
    assert_eq!(
        (created_user.project.as_deref(), created_user.versions.len()),
        (None, 0)
    );
    let after = created_user.after.as_ref().unwrap();
    assert_eq!(after["username"], "dora");
    assert!(after.get("password_hash").is_none(), "{after}");
    assert_eq!(all_changes(store, Some("audit")).await.len(), 6);
}

pub async fn changes_since_is_contiguous(store: Arc<dyn Store>) {
    let store = &*store;
    two_env_project(store, "p").await;
    add_flag(store, "p", "a", 1).await;
    add_flag(store, "p", "b", 2).await;
    for (i, enabled) in [true, false, true].into_iter().enumerate() {
        store
            .set_flag_enabled("p", "a", "production", enabled, &meta("u", 3 + i as i64))
            .await
            .unwrap();
    }
    store
        .set_flag_enabled("p", "b", "development", true, &meta("u", 9))
        .await
        .unwrap();
    set_archived(store, "p", "b", true, 10).await;

    let production = store.changes_since("p", "production", 0).await.unwrap();
    let produced: Vec<u64> = production.iter().map(|(v, _)| *v).collect();
    assert_eq!(produced, [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(
        store
            .get_environment("p", "production")
            .await
            .unwrap()
            .environment
            .version,
        7
    );
    assert!(production.windows(2).all(|w| w[0].1.id < w[1].1.id));
    for (version, change) in &production {
        assert!(
            change.versions.contains(&ev("production", *version)),
            "{change:?}"
        );
    }
    let actions: Vec<_> = production
        .iter()
        .map(|(_, c)| (c.resource, c.key.clone()))
        .collect();
    assert_eq!(
        actions,
        [
            (ResourceKind::Project, "p".to_string()),
            (ResourceKind::Flag, "a".into()),
            (ResourceKind::Flag, "b".into()),
            (ResourceKind::FlagConfig, "a".into()),
            (ResourceKind::FlagConfig, "a".into()),
            (ResourceKind::FlagConfig, "a".into()),
            (ResourceKind::Flag, "b".into()),
        ]
    );
    let tail = store.changes_since("p", "production", 4).await.unwrap();
    assert_eq!(tail, production[4..].to_vec());
    assert!(
        store
            .changes_since("p", "production", 7)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .changes_since("p", "production", 100)
            .await
            .unwrap()
            .is_empty()
    );
    let development = store.changes_since("p", "development", 3).await.unwrap();
    let produced: Vec<u64> = development.iter().map(|(v, _)| *v).collect();
    assert_eq!(produced, [4, 5]);
    assert_eq!(development[0].1.key, "b");
    assert_eq!(development[0].1.versions, [ev("development", 4)]);
    assert_not_found(store.changes_since("p", "nope", 0).await);
    assert_not_found(store.changes_since("nope", "production", 0).await);
}
