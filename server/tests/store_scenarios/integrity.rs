//! What a write checks inside its own transaction, so that no concurrent
//! write can slip in between the check and the commit: a config naming a
//! variant, segment or prerequisite flag that does not exist is refused
//! with JSON-pointer paths; a definition may not drop a variant a config
//! uses; the last enabled admin stays; deleting an environment revokes its
//! SDK keys in the same transaction. And the races against those
//! checks: a segment delete racing a config that names the segment, a
//! variant's removal racing a config that serves it, and the last two
//! admins demoting each other, each end with exactly one write committed.

use std::sync::Arc;

use vexil_proto::{Flag, FlagConfig, Prerequisite, Problem, Serve};
use vexil_server::store::{
    ChangeAction, Role, Store, StoreError, StoreResult, TokenKind, TokenRecord, UserRecord,
};

use crate::common::*;

/// The `(path, problem)` pairs of an `Invalid`, or a panic.
fn problems<T: std::fmt::Debug>(result: StoreResult<T>) -> Vec<(String, String)> {
    match result {
        Err(StoreError::Invalid(problems)) => problems
            .into_iter()
            .map(|Problem { path, problem }| (path, problem))
            .collect(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

pub async fn configs_naming_what_does_not_exist_are_refused(store: Arc<dyn Store>) {
    add_flag(&*store, "default", "checkout", 1).await;
    add_flag(&*store, "default", "retired", 2).await;
    set_archived(&*store, "default", "retired", true, 3).await;
    let versions_before = versions(&*store, "default").await;
    let changes_before = change_count(&*store, Some("default")).await;
    let put = |config: FlagConfig| {
        let store = Arc::clone(&store);
        async move {
            store
                .put_flag_config("default", "checkout", "production", &config, &meta("u", 4))
                .await
        }
    };

    let unknown_variant = FlagConfig::new("of", Serve::Variant("on".into()));
    assert_eq!(
        problems(put(unknown_variant).await),
        [(
            "/off_variant".to_owned(),
            "variant \"of\" does not exist; the flag's variants are \"on\", \"off\"".to_owned()
        )]
    );
    assert_eq!(
        problems(put(serving_segment("nobody")).await),
        [(
            "/rules/0/clauses/0/values/0".to_owned(),
            "segment \"nobody\" does not exist".to_owned()
        )]
    );
    for (missing, prerequisite) in [("ghost", "ghost"), ("archived", "retired")] {
        let config = FlagConfig {
            prerequisites: vec![Prerequisite {
                flag: prerequisite.into(),
                variant: "on".into(),
            }],
            ..serving_on()
        };
        let found = problems(put(config).await);
        assert_eq!(found.len(), 1, "{missing}: {found:?}");
        assert_eq!(found[0].0, "/prerequisites/0/flag", "{missing}");
    }

    let stored = store
        .get_flag_config("default", "checkout", "production")
        .await
        .unwrap();
    assert_eq!((stored.version, stored.enabled), (1, false));
    assert_eq!(versions(&*store, "default").await, versions_before);
    assert_eq!(change_count(&*store, Some("default")).await, changes_before);
}

/// Rounds of the race; each has its own segment.
const ROUNDS: usize = 8;

pub async fn segment_delete_races_a_config_naming_it(store: Arc<dyn Store>) {
    add_flag(&*store, "default", "checkout", 1).await;
    for round in 0..ROUNDS {
        let key = format!("beta-{round}");
        add_segment(&*store, "default", &segment(&key, &["alice"]), 2).await;
        let deleting = {
            let store = Arc::clone(&store);
            let key = key.clone();
            tokio::spawn(async move { store.delete_segment("default", &key, &meta("u", 3)).await })
        };
        let configuring = {
            let store = Arc::clone(&store);
            let config = serving_segment(&key);
            tokio::spawn(async move {
                store
                    .put_flag_config("default", "checkout", "production", &config, &meta("u", 3))
                    .await
            })
        };
        let deleted = deleting.await.unwrap();
        let configured = configuring.await.unwrap();
        let exists = store.get_segment("default", &key).await.is_ok();
        let config = store
            .get_flag_config("default", "checkout", "production")
            .await
            .unwrap();
        let names_it = config
            == FlagConfig {
                version: config.version,
                ..serving_segment(&key)
            };
        match (&deleted, &configured) {
            (Ok(()), Err(StoreError::Invalid(problems))) => {
                assert_eq!(problems[0].path, "/rules/0/clauses/0/values/0");
                assert!(!exists && !names_it, "round {round}");
            }
            (Err(StoreError::Refused(why)), Ok(_)) => {
                assert!(why.contains(&key), "{why}");
                assert!(exists && names_it, "round {round}");
            }
            other => panic!("round {round}: not exactly one winner: {other:?}"),
        }
        // The next round starts from a config that names no segment.
        store
            .put_flag_config(
                "default",
                "checkout",
                "production",
                &serving_on(),
                &meta("u", 4),
            )
            .await
            .unwrap();
    }
}

pub async fn variants_in_use_cannot_be_removed(store: Arc<dyn Store>) {
    // Default configs serve the last variant (green) everywhere.
    let mut banner = string_flag("banner");
    banner
        .variants
        .insert(1, vexil_proto::Variant::new("red", "red"));
    store
        .create_flag("default", &banner, &[], &meta("u", 1))
        .await
        .unwrap();
    let serving_red = FlagConfig::new("blue", Serve::Variant("red".into()));
    store
        .put_flag_config("default", "banner", "staging", &serving_red, &meta("u", 2))
        .await
        .unwrap();
    add_flag(&*store, "default", "promo", 3).await;
    let needs_blue = FlagConfig {
        prerequisites: vec![Prerequisite {
            flag: "banner".into(),
            variant: "blue".into(),
        }],
        ..serving_on()
    };
    store
        .put_flag_config("default", "promo", "production", &needs_blue, &meta("u", 4))
        .await
        .unwrap();
    let stored = store.get_flag("default", "banner").await.unwrap();
    let versions_before = versions(&*store, "default").await;

    let without = |variant: &str| Flag {
        variants: banner
            .variants
            .iter()
            .filter(|v| v.key != variant)
            .cloned()
            .collect(),
        ..banner.clone()
    };
    assert_eq!(
        problems(store.update_flag("default", &without("red"), &meta("u", 5)).await),
        [(
            "/variants".to_owned(),
            "variant `red` is served by the flag's config in environment `staging`; change that config first".to_owned()
        )]
    );
    let found = problems(
        store
            .update_flag("default", &without("blue"), &meta("u", 5))
            .await,
    );
    assert!(
        found.contains(&(
            "/variants".to_owned(),
            "variant `blue` is required by a prerequisite of flag `promo` in environment `production`; change that prerequisite first".to_owned()
        )),
        "{found:?}"
    );

    assert_eq!(store.get_flag("default", "banner").await.unwrap(), stored);
    assert_eq!(versions(&*store, "default").await, versions_before);
    // A variant nothing uses can go.
    let mut extended = banner.clone();
    extended
        .variants
        .push(vexil_proto::Variant::new("gold", "gold"));
    store
        .update_flag("default", &extended, &meta("u", 6))
        .await
        .unwrap();
    store
        .update_flag("default", &banner, &meta("u", 7))
        .await
        .unwrap();
}

/// The refusal both backends give for the last enabled admin.
fn last_admin(username: &str) -> String {
    format!("`{username}` is the last enabled admin; make another user admin first")
}

pub async fn the_last_enabled_admin_stays(store: Arc<dyn Store>) {
    let admin = store
        .create_user(&user("root", Role::Admin), &meta("cli", 1))
        .await
        .unwrap();
    store
        .create_user(&user("ed", Role::Editor), &meta("cli", 1))
        .await
        .unwrap();
    let changes_before = change_count(&*store, None).await;
    let demoted = UserRecord {
        role: Role::Editor,
        ..admin.clone()
    };
    let disabled = UserRecord {
        disabled: true,
        ..admin.clone()
    };
    for refused in [
        store.update_user(&demoted, &meta("u", 2)).await,
        store.update_user(&disabled, &meta("u", 2)).await,
    ] {
        assert!(
            matches!(&refused, Err(StoreError::Refused(why)) if *why == last_admin("root")),
            "{refused:?}"
        );
    }
    let deleted = store.delete_user("root", &meta("u", 2)).await;
    assert!(
        matches!(&deleted, Err(StoreError::Refused(why)) if *why == last_admin("root")),
        "{deleted:?}"
    );
    assert_eq!(store.get_user("root").await.unwrap(), admin);
    assert_eq!(change_count(&*store, None).await, changes_before);
    // Other users, and admins with another admin beside them, change freely.
    store.delete_user("ed", &meta("u", 3)).await.unwrap();
    store
        .create_user(&user("second", Role::Admin), &meta("u", 4))
        .await
        .unwrap();
    store.update_user(&demoted, &meta("u", 5)).await.unwrap();
}

pub async fn the_last_two_admins_demoting_each_other_leave_one(store: Arc<dyn Store>) {
    for round in 0..ROUNDS {
        let (a, b) = (format!("a{round}"), format!("b{round}"));
        let mut admins = Vec::new();
        for name in [&a, &b] {
            let created = store
                .create_user(&user(name, Role::Admin), &meta("cli", 1))
                .await
                .unwrap();
            admins.push(created);
        }
        let demote = |admin: &UserRecord| {
            let store = Arc::clone(&store);
            let demoted = UserRecord {
                role: Role::Viewer,
                ..admin.clone()
            };
            tokio::spawn(async move { store.update_user(&demoted, &meta("u", 2)).await })
        };
        // The one admin an earlier round left steps down first, so that
        // `a` and `b` are the last two.
        let survivors_before = enabled_admins(&*store).await;
        let others: Vec<&String> = survivors_before
            .iter()
            .filter(|u| **u != a && **u != b)
            .collect();
        for other in others {
            let record = store.get_user(other).await.unwrap();
            store
                .update_user(
                    &UserRecord {
                        role: Role::Viewer,
                        ..record
                    },
                    &meta("u", 2),
                )
                .await
                .unwrap();
        }
        let (first, second) = (demote(&admins[0]), demote(&admins[1]));
        let outcomes = [first.await.unwrap(), second.await.unwrap()];
        let won = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {outcomes:?}");
        let refused = outcomes.iter().find_map(|o| o.as_ref().err()).unwrap();
        assert!(
            matches!(refused, StoreError::Refused(why) if why.contains("is the last enabled admin")),
            "{refused:?}"
        );
        assert_eq!(enabled_admins(&*store).await.len(), 1, "round {round}");
    }
}

async fn enabled_admins(store: &dyn Store) -> Vec<String> {
    store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.role == Role::Admin && !u.disabled)
        .map(|u| u.username)
        .collect()
}

/// A token of `kind` for `environments` of `default`.
fn token_for(id: &str, kind: TokenKind, environments: &[&str]) -> TokenRecord {
    TokenRecord {
        id: id.into(),
        kind,
        name: format!("token {id}"),
        role: (kind == TokenKind::Api).then_some(Role::Editor),
        project: Some("default".into()),
        environments: environments.iter().map(|e| (*e).to_owned()).collect(),
        created_by: "user:admin".into(),
        created_at: at(1),
        expires_at: at(86_400),
        last_used_at: None,
        revoked_at: None,
    }
}

pub async fn deleting_an_environment_revokes_its_sdk_keys(store: Arc<dyn Store>) {
    let tokens = [
        token_for("sdk-staging-1", TokenKind::Sdk, &["staging"]),
        token_for("sdk-staging-2", TokenKind::Sdk, &["staging"]),
        token_for("sdk-production", TokenKind::Sdk, &["production"]),
        token_for("api-staging", TokenKind::Api, &["staging"]),
    ];
    for token in &tokens {
        store.create_token(token, &meta("u", 1)).await.unwrap();
    }
    let staging = store.get_environment("default", "staging").await.unwrap();
    let stale = if_match(meta("u", 2), staging.environment.version + 1);
    assert!(matches!(
        store.delete_environment("default", "staging", &stale).await,
        Err(StoreError::Conflict { .. })
    ));
    for token in &tokens {
        assert_eq!(store.get_token(&token.id).await.unwrap().revoked_at, None);
    }

    let revoked = store
        .delete_environment("default", "staging", &meta("admin", 3))
        .await
        .unwrap();
    assert_eq!(revoked, ["sdk-staging-1", "sdk-staging-2"]);
    for token in &tokens {
        let stored = store.get_token(&token.id).await.unwrap();
        let expected = revoked.contains(&token.id).then_some(at(3));
        assert_eq!(stored.revoked_at, expected, "{}", token.id);
    }
    let log = all_changes(&*store, Some("default")).await;
    let revocations: Vec<_> = log
        .iter()
        .filter(|c| c.action == ChangeAction::Revoked)
        .map(|c| (c.key.as_str(), c.actor.as_str(), c.reason.as_deref(), c.at))
        .collect();
    let reason = Some("environment `staging` was deleted");
    assert_eq!(
        revocations,
        [
            ("sdk-staging-2", "admin", reason, at(3)),
            ("sdk-staging-1", "admin", reason, at(3)),
        ]
    );
}

pub async fn variant_removal_races_a_config_serving_it(store: Arc<dyn Store>) {
    let mut flag = string_flag("checkout");
    store
        .create_flag("default", &flag, &[], &meta("u", 0))
        .await
        .unwrap();
    let plain = FlagConfig::new("blue", Serve::Variant("green".into()));
    for round in 0..ROUNDS {
        let extra = format!("extra-{round}");
        flag.variants
            .push(vexil_proto::Variant::new(&extra, extra.as_str()));
        store
            .update_flag("default", &flag, &meta("u", 1))
            .await
            .unwrap();
        let without = Flag {
            variants: flag.variants[..2].to_vec(),
            ..flag.clone()
        };
        let removing = {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.update_flag("default", &without, &meta("u", 2)).await })
        };
        let serving = {
            let store = Arc::clone(&store);
            let config = FlagConfig::new("blue", Serve::Variant(extra.clone()));
            tokio::spawn(async move {
                store
                    .put_flag_config("default", "checkout", "staging", &config, &meta("u", 2))
                    .await
            })
        };
        let removed = removing.await.unwrap();
        let served = serving.await.unwrap();
        let stored = store.get_flag("default", "checkout").await.unwrap();
        let has_extra = stored.flag.variants.iter().any(|v| v.key == extra);
        let config = store
            .get_flag_config("default", "checkout", "staging")
            .await
            .unwrap();
        match (&removed, &served) {
            (Ok(_), Err(StoreError::Invalid(problems))) => {
                assert_eq!(problems[0].path, "/default_serve/variant", "round {round}");
                assert!(!has_extra && config.default_serve != Serve::Variant(extra.clone()));
            }
            (Err(StoreError::Invalid(problems)), Ok(_)) => {
                assert_eq!(problems[0].path, "/variants", "round {round}");
                assert!(has_extra && config.default_serve == Serve::Variant(extra.clone()));
            }
            other => panic!("round {round}: not exactly one winner: {other:?}"),
        }
        // The next round starts with two variants, served plainly.
        store
            .put_flag_config("default", "checkout", "staging", &plain, &meta("u", 3))
            .await
            .unwrap();
        flag.variants.truncate(2);
        store
            .update_flag("default", &flag, &meta("u", 3))
            .await
            .unwrap();
    }
}
