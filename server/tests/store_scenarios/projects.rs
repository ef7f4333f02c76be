//! A fresh install, projects and environments.

use std::sync::Arc;

use vexil_server::store::{ChangeAction, FlagFilter, ResourceKind, Store, default_config};

use crate::common::*;

pub async fn fresh_install_has_the_default_project(store: Arc<dyn Store>) {
    let store = &*store;
    store.ping().await.unwrap();
    let projects = store.list_projects().await.unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].project.key, "default");
    assert_eq!(projects[0].version, 1);
    let environments = store.list_environments("default").await.unwrap();
    let summary: Vec<_> = environments
        .iter()
        .map(|e| {
            let env = &e.environment;
            (
                env.key.as_str(),
                env.production,
                env.version,
                e.project.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("development", false, 1, "default"),
            ("staging", false, 1, "default"),
            ("production", true, 1, "default"),
        ]
    );
    let mut all = store.environment_versions().await.unwrap();
    all.sort();
    assert_eq!(
        all,
        [
            ("default".to_string(), "development".to_string(), 1),
            ("default".into(), "production".into(), 1),
            ("default".into(), "staging".into(), 1),
        ]
    );
    // At most the system's own creation entry, and version 1 comes from it.
    let changes = all_changes(store, Some("default")).await;
    assert!(changes.len() <= 1, "{changes:?}");
    assert!(changes.iter().all(|c| c.actor == "system"), "{changes:?}");
    assert!(all_changes(store, None).await.is_empty());
    for env in ["development", "staging", "production"] {
        let since = store.changes_since("default", env, 0).await.unwrap();
        assert!(since.len() <= 1);
        assert!(since.iter().all(|(v, c)| *v == 1 && c.actor == "system"));
        let snapshot = store.snapshot("default", env).await.unwrap();
        assert_eq!(snapshot.environment, env);
        assert_eq!(snapshot.version, 1);
        assert!(snapshot.flags.is_empty() && snapshot.segments.is_empty());
    }
    let flags = store
        .list_flags("default", &FlagFilter::default())
        .await
        .unwrap();
    assert_eq!(
        (flags.items.len(), flags.total, flags.page, flags.per_page),
        (0, 0, 1, 50)
    );
    assert!(store.list_segments("default").await.unwrap().is_empty());
    assert_eq!(store.count_users().await.unwrap(), 0);
    assert_not_found(store.get_project("nope").await);
    assert_not_found(store.list_environments("nope").await);
    assert_not_found(store.get_environment("default", "nope").await);
    assert_not_found(store.snapshot("default", "nope").await);
}

pub async fn projects_and_environments(store: Arc<dyn Store>) {
    let store = &*store;
    let shop = project("shop");
    let envs = [environment("dev", false), environment("prod", true)];
    let created = store
        .create_project(&shop, &envs, &meta("user:admin", 10))
        .await
        .unwrap();
    assert_eq!(created.project, shop);
    assert_eq!(
        (created.version, created.created_at, created.updated_at),
        (1, at(10), at(10))
    );
    assert_eq!(store.get_project("shop").await.unwrap(), created);
    assert_already_exists(
        store
            .create_project(&shop, &[], &meta("user:admin", 11))
            .await,
    );
    let keys: Vec<_> = store
        .list_projects()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.project.key)
        .collect();
    assert_eq!(keys, ["default", "shop"]);
    assert_eq!(
        versions(store, "shop").await,
        [("dev".into(), 1), ("prod".into(), 1)]
    );

    let mut renamed = shop.clone();
    renamed.name = "Shop!".into();
    assert_conflict(
        store
            .update_project(&renamed, &if_match(meta("u", 12), 7))
            .await,
        7,
        1,
    );
    let updated = store
        .update_project(&renamed, &if_match(meta("user:admin", 12), 1))
        .await
        .unwrap();
    assert_eq!(updated.project.name, "Shop!");
    assert_eq!(
        (updated.version, updated.created_at, updated.updated_at),
        (2, at(10), at(12))
    );
    // Projects bump no environment.
    assert_eq!(
        versions(store, "shop").await,
        [("dev".into(), 1), ("prod".into(), 1)]
    );

    // A new environment starts at version 1 with every flag's default config.
    let flag = string_flag("banner");
    store
        .create_flag("shop", &flag, &[], &meta("u", 13))
        .await
        .unwrap();
    let qa = store
        .create_environment("shop", &environment("qa", false), &meta("u", 14))
        .await
        .unwrap();
    assert_eq!(
        (qa.project.as_str(), qa.environment.version, qa.created_at),
        ("shop", 1, at(14))
    );
    assert_eq!(store.get_environment("shop", "qa").await.unwrap(), qa);
    assert_eq!(
        store.get_flag_config("shop", "banner", "qa").await.unwrap(),
        default_config(&flag)
    );
    assert_already_exists(
        store
            .create_environment("shop", &environment("qa", true), &meta("u", 15))
            .await,
    );
    assert_not_found(
        store
            .create_environment("nope", &environment("qa", true), &meta("u", 15))
            .await,
    );
    assert_eq!(
        versions(store, "shop").await,
        [("dev".into(), 2), ("prod".into(), 2), ("qa".into(), 1)]
    );

    let mut renamed_qa = environment("qa", true);
    renamed_qa.name = "Quality".into();
    renamed_qa.version = 99; // ignored
    assert_conflict(
        store
            .update_environment("shop", &renamed_qa, &if_match(meta("u", 16), 2))
            .await,
        2,
        1,
    );
    let updated_qa = store
        .update_environment("shop", &renamed_qa, &if_match(meta("u", 16), 1))
        .await
        .unwrap();
    assert_eq!(updated_qa.environment.name, "Quality");
    assert!(updated_qa.environment.production);
    assert_eq!(updated_qa.environment.version, 2);
    assert_eq!(
        (updated_qa.created_at, updated_qa.updated_at),
        (at(14), at(16))
    );
    assert_eq!(
        store.get_environment("shop", "qa").await.unwrap(),
        updated_qa
    );

    store
        .delete_environment("shop", "qa", &meta("u", 17))
        .await
        .unwrap();
    assert_not_found(store.get_environment("shop", "qa").await);
    assert_not_found(store.get_flag_config("shop", "banner", "qa").await);
    let configs = store.list_flag_configs("shop", "banner").await.unwrap();
    let config_envs: Vec<_> = configs.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(config_envs, ["dev", "prod"]);
    assert_not_found(store.delete_environment("shop", "qa", &meta("u", 18)).await);

    assert_conflict(
        store
            .delete_project("shop", &if_match(meta("u", 19), 1))
            .await,
        1,
        2,
    );
    store
        .delete_project("shop", &meta("user:admin", 19))
        .await
        .unwrap();
    assert_not_found(store.get_project("shop").await);
    assert_not_found(store.get_flag("shop", "banner").await);
    assert_not_found(store.list_flags("shop", &FlagFilter::default()).await);
    // The change log outlives the project.
    let log = all_changes(store, Some("shop")).await;
    assert_eq!(log.len(), 7);
    assert_eq!(
        (log[0].resource, log[0].action),
        (ResourceKind::Project, ChangeAction::Deleted)
    );
    assert_eq!(log[0].after, None);
    assert_eq!(log[0].before.as_ref().unwrap()["name"], "Shop!");
    // The key can be used again, from version 1.
    store
        .create_project(&shop, &envs, &meta("user:admin", 20))
        .await
        .unwrap();
    assert_eq!(
        versions(store, "shop").await,
        [("dev".into(), 1), ("prod".into(), 1)]
    );
    assert_eq!(
        store.changes_since("shop", "dev", 0).await.unwrap().len(),
        1
    );
}
