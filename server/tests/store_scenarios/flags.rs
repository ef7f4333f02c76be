//! Flags and their configs: which environments each write bumps, If-Match,
//! list filters and paging.

use std::sync::Arc;

use vexil_proto::Target;
use vexil_server::store::{FlagFilter, Page, Store, default_config};

use crate::common::*;

pub async fn flag_create_configures_every_environment(store: Arc<dyn Store>) {
    let store = &*store;
    let before = versions(store, "default").await;
    let mut flag = boolean_flag("new-checkout");
    flag.tags = vec!["web".into()];
    let given = serving_on();
    let created = store
        .create_flag(
            "default",
            &flag,
            &[("production".into(), given.clone())],
            &meta("user:ann", 5),
        )
        .await
        .unwrap();
    assert_eq!(created.flag, flag);
    assert_eq!((created.version, created.archived), (1, false));
    assert_eq!((created.created_at, created.updated_at), (at(5), at(5)));
    assert_eq!(
        store.get_flag("default", "new-checkout").await.unwrap(),
        created
    );
    let after = versions(store, "default").await;
    assert_eq!(
        after,
        bumped(&before, &["development", "staging", "production"])
    );

    let configs = store
        .list_flag_configs("default", "new-checkout")
        .await
        .unwrap();
    let production = vexil_proto::FlagConfig {
        version: 1,
        ..given
    };
    assert_eq!(
        configs,
        [
            ("development".to_string(), default_config(&flag)),
            ("staging".into(), default_config(&flag)),
            ("production".into(), production.clone()),
        ]
    );
    assert_eq!(
        store
            .get_flag_config("default", "new-checkout", "production")
            .await
            .unwrap(),
        production
    );
    assert_not_found(
        store
            .get_flag_config("default", "new-checkout", "nope")
            .await,
    );
    assert_not_found(store.get_flag_config("default", "nope", "production").await);
    assert_not_found(store.list_flag_configs("default", "nope").await);

    // Refused creates change nothing.
    let count = change_count(store, Some("default")).await;
    assert_already_exists(
        store
            .create_flag("default", &flag, &[], &meta("u", 6))
            .await,
    );
    let unknown_env = [("nope".to_string(), serving_on())];
    assert_not_found(
        store
            .create_flag(
                "default",
                &boolean_flag("other"),
                &unknown_env,
                &meta("u", 6),
            )
            .await,
    );
    assert_not_found(store.get_flag("default", "other").await);
    assert_not_found(
        store
            .create_flag("nope", &boolean_flag("other"), &[], &meta("u", 6))
            .await,
    );
    assert_eq!(versions(store, "default").await, after);
    assert_eq!(change_count(store, Some("default")).await, count);

    // An update bumps the definition's version and every environment.
    let mut edited = flag.clone();
    edited.description = "The new checkout".into();
    edited.owner = Some("payments".into());
    let updated = store
        .update_flag("default", &edited, &if_match(meta("user:ann", 7), 1))
        .await
        .unwrap();
    assert_eq!(updated.flag, edited);
    assert_eq!(
        (updated.version, updated.created_at, updated.updated_at),
        (2, at(5), at(7))
    );
    assert_eq!(
        versions(store, "default").await,
        bumped(&after, &["development", "staging", "production"])
    );
    assert_not_found(
        store
            .update_flag("default", &boolean_flag("nope"), &meta("u", 8))
            .await,
    );
}

pub async fn config_writes_bump_only_their_environment(store: Arc<dyn Store>) {
    let store = &*store;
    let flag = boolean_flag("f");
    store
        .create_flag("default", &flag, &[], &meta("u", 1))
        .await
        .unwrap();
    let before = versions(store, "default").await;

    let mut config = serving_on();
    config.version = 42; // ignored
    config.targets = vec![Target {
        variant: "on".into(),
        values: vec!["alice".into()],
    }];
    let put = store
        .put_flag_config(
            "default",
            "f",
            "production",
            &config,
            &if_match(meta("u", 2), 1),
        )
        .await
        .unwrap();
    assert_eq!(
        put,
        vexil_proto::FlagConfig {
            version: 2,
            ..config.clone()
        }
    );
    assert_eq!(
        store
            .get_flag_config("default", "f", "production")
            .await
            .unwrap(),
        put
    );
    let after_put = bumped(&before, &["production"]);
    assert_eq!(versions(store, "default").await, after_put);

    let toggled = store
        .set_flag_enabled("default", "f", "staging", true, &meta("u", 3))
        .await
        .unwrap();
    assert_eq!(
        toggled,
        vexil_proto::FlagConfig {
            enabled: true,
            version: 2,
            ..default_config(&flag)
        }
    );
    let after_toggle = bumped(&after_put, &["staging"]);
    assert_eq!(versions(store, "default").await, after_toggle);
    // A toggle that changes nothing still commits.
    let again = store
        .set_flag_enabled("default", "f", "staging", true, &if_match(meta("u", 4), 2))
        .await
        .unwrap();
    assert_eq!((again.enabled, again.version), (true, 3));
    assert_eq!(
        versions(store, "default").await,
        bumped(&after_toggle, &["staging"])
    );
    let off = store
        .set_flag_enabled("default", "f", "production", false, &meta("u", 5))
        .await
        .unwrap();
    assert_eq!(
        off,
        vexil_proto::FlagConfig {
            enabled: false,
            version: 3,
            ..config
        }
    );
    // The definition did not move.
    assert_eq!(store.get_flag("default", "f").await.unwrap().version, 1);
    assert_not_found(
        store
            .set_flag_enabled("default", "f", "nope", true, &meta("u", 6))
            .await,
    );
    assert_not_found(
        store
            .put_flag_config("default", "nope", "staging", &serving_on(), &meta("u", 6))
            .await,
    );
}

pub async fn stale_if_match_changes_nothing(store: Arc<dyn Store>) {
    let store = &*store;
    add_flag(store, "default", "f", 1).await;
    let segment = segment("beta", &["alice"]);
    add_segment(store, "default", &segment, 2).await;
    let envs = versions(store, "default").await;
    let count = change_count(store, Some("default")).await;
    let flag = store.get_flag("default", "f").await.unwrap();
    let config = store
        .get_flag_config("default", "f", "staging")
        .await
        .unwrap();

    let stale = |secs| if_match(meta("u", secs), 0);
    assert_conflict(
        store
            .update_flag("default", &boolean_flag("f"), &stale(3))
            .await,
        0,
        1,
    );
    assert_conflict(
        store
            .put_flag_config("default", "f", "staging", &serving_on(), &stale(3))
            .await,
        0,
        1,
    );
    assert_conflict(
        store
            .set_flag_enabled("default", "f", "staging", true, &stale(3))
            .await,
        0,
        1,
    );
    assert_conflict(
        store
            .set_flag_archived("default", "f", true, &stale(3))
            .await,
        0,
        1,
    );
    assert_conflict(
        store.update_segment("default", &segment, &stale(3)).await,
        0,
        1,
    );
    assert_conflict(
        store.delete_segment("default", "beta", &stale(3)).await,
        0,
        1,
    );
    assert_conflict(
        store
            .update_environment("default", &environment("staging", false), &stale(3))
            .await,
        0,
        envs[1].1,
    );

    assert_eq!(versions(store, "default").await, envs);
    assert_eq!(change_count(store, Some("default")).await, count);
    assert_eq!(store.get_flag("default", "f").await.unwrap(), flag);
    assert_eq!(
        store
            .get_flag_config("default", "f", "staging")
            .await
            .unwrap(),
        config
    );
    assert_eq!(
        store
            .get_segment("default", "beta")
            .await
            .unwrap()
            .segment
            .version,
        1
    );
}

pub async fn flag_list_filters_and_pages(store: Arc<dyn Store>) {
    let store = &*store;
    let mut alpha = boolean_flag("alpha");
    alpha.tags = vec!["web".into()];
    let mut beta = boolean_flag("beta");
    beta.name = "Beta CHECKOUT".into();
    beta.tags = vec!["web".into(), "checkout".into()];
    let mut gamma = boolean_flag("gamma");
    gamma.description = "Checkout flow".into();
    let mut delta = boolean_flag("delta-checkout");
    delta.tags = vec!["web".into()];
    for (i, flag) in [&gamma, &alpha, &delta, &beta].into_iter().enumerate() {
        store
            .create_flag("default", flag, &[], &meta("u", i as i64))
            .await
            .unwrap();
    }
    set_archived(store, "default", "delta-checkout", true, 9).await;

    let list = |filter: FlagFilter| async move {
        let paged = store.list_flags("default", &filter).await.unwrap();
        let keys: Vec<String> = paged.items.into_iter().map(|f| f.flag.key).collect();
        (keys, paged.total, paged.page, paged.per_page)
    };
    let all = list(FlagFilter::default()).await;
    assert_eq!(
        all,
        (
            vec!["alpha".into(), "beta".into(), "gamma".into()],
            3,
            1,
            50
        )
    );
    let query = |query: &str| FlagFilter {
        query: Some(query.into()),
        ..FlagFilter::default()
    };
    let tag = |tag: &str| FlagFilter {
        tag: Some(tag.into()),
        ..FlagFilter::default()
    };
    assert_eq!(list(query("checkout")).await.0, ["beta", "gamma"]);
    assert_eq!(list(query("ChecKout")).await.0, ["beta", "gamma"]);
    assert_eq!(list(query("lph")).await.0, ["alpha"]);
    assert_eq!(list(tag("web")).await.0, ["alpha", "beta"]);
    assert_eq!(list(tag("we")).await.1, 0);
    let archived = FlagFilter {
        archived: Some(true),
        ..FlagFilter::default()
    };
    assert_eq!(list(archived).await.0, ["delta-checkout"]);
    let live = FlagFilter {
        archived: Some(false),
        ..tag("web")
    };
    assert_eq!(list(live).await.0, ["alpha", "beta"]);
    let archived_query = FlagFilter {
        archived: Some(true),
        tag: Some("web".into()),
        ..query("CHECK")
    };
    assert_eq!(list(archived_query).await.0, ["delta-checkout"]);

    let page = |page, per_page| FlagFilter {
        page: Page { page, per_page },
        ..FlagFilter::default()
    };
    assert_eq!(
        list(page(1, 2)).await,
        (vec!["alpha".into(), "beta".into()], 3, 1, 2)
    );
    assert_eq!(list(page(2, 2)).await, (vec!["gamma".into()], 3, 2, 2));
    assert_eq!(list(page(3, 2)).await, (vec![], 3, 3, 2));
}
