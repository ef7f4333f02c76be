//! Users, tokens and secrets.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use vexil_server::store::{
    ChangeAction, ResourceKind, Role, Store, TokenFilter, TokenKind, TokenRecord,
};

use crate::common::*;

fn token(id: &str, kind: TokenKind, secs: i64) -> TokenRecord {
    TokenRecord {
        id: id.into(),
        kind,
        name: format!("token {id}"),
        role: None,
        project: None,
        environments: Vec::new(),
        created_by: "user:admin".into(),
        created_at: at(secs),
        expires_at: at(secs + 86_400),
        last_used_at: None,
        revoked_at: None,
    }
}

pub async fn users(store: Arc<dyn Store>) {
    let store = &*store;
    let created = store
        .create_user(&user("bob", Role::Admin), &meta("system", 1))
        .await
        .unwrap();
    assert!(!created.id.is_empty());
    assert_eq!(
        (created.username.as_str(), created.role, created.disabled),
        ("bob", Role::Admin, false)
    );
    assert_eq!(created.password_hash, "$argon2id$v=19$hash-of-bob");
    assert_eq!(
        (created.version, created.created_at, created.updated_at),
        (1, at(1), at(1))
    );
    assert_eq!(store.get_user("bob").await.unwrap(), created);
    assert_already_exists(
        store
            .create_user(&user("bob", Role::Viewer), &meta("system", 2))
            .await,
    );
    let alice = store
        .create_user(&user("alice", Role::Viewer), &meta("user:bob", 3))
        .await
        .unwrap();
    assert_ne!(alice.id, created.id);
    assert_eq!(store.count_users().await.unwrap(), 2);
    let names: Vec<_> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["alice", "bob"]);

    let mut edited = alice.clone();
    edited.role = Role::Editor;
    edited.disabled = true;
    edited.password_hash = "$argon2id$new".into();
    assert_conflict(
        store
            .update_user(&edited, &if_match(meta("user:bob", 4), 2))
            .await,
        2,
        1,
    );
    let updated = store
        .update_user(&edited, &if_match(meta("user:bob", 4), 1))
        .await
        .unwrap();
    assert_eq!(
        (
            updated.role,
            updated.disabled,
            updated.password_hash.as_str()
        ),
        (Role::Editor, true, "$argon2id$new")
    );
    assert_eq!(
        (
            updated.id.as_str(),
            updated.version,
            updated.created_at,
            updated.updated_at
        ),
        (alice.id.as_str(), 2, at(3), at(4))
    );
    assert_not_found(
        store
            .update_user(&user("nobody", Role::Viewer), &meta("u", 5))
            .await,
    );

    assert_conflict(
        store
            .delete_user("alice", &if_match(meta("user:bob", 5), 1))
            .await,
        1,
        2,
    );
    store
        .delete_user("alice", &meta("user:bob", 5))
        .await
        .unwrap();
    assert_not_found(store.get_user("alice").await);
    assert_not_found(store.delete_user("alice", &meta("user:bob", 6)).await);
    assert_eq!(store.count_users().await.unwrap(), 1);

    let log = all_changes(store, None).await;
    let summary: Vec<_> = log
        .iter()
        .map(|c| (c.resource, c.key.as_str(), c.action, c.actor.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                ResourceKind::User,
                "alice",
                ChangeAction::Deleted,
                "user:bob"
            ),
            (
                ResourceKind::User,
                "alice",
                ChangeAction::Updated,
                "user:bob"
            ),
            (
                ResourceKind::User,
                "alice",
                ChangeAction::Created,
                "user:bob"
            ),
            (ResourceKind::User, "bob", ChangeAction::Created, "system"),
        ]
    );
    assert_eq!(log[1].before.as_ref().unwrap()["role"], "viewer");
    assert_eq!(log[1].after.as_ref().unwrap()["role"], "editor");
}

pub async fn tokens(store: Arc<dyn Store>) {
    let store = &*store;
    let mut api = token("t-api", TokenKind::Api, 1);
    api.role = Some(Role::Editor);
    api.environments = vec!["staging".into()];
    let mut sdk = token("t-sdk", TokenKind::Sdk, 2);
    sdk.project = Some("default".into());
    sdk.environments = vec!["production".into()];
    let hook = token("t-hook", TokenKind::Integration, 3);
    for t in [&api, &sdk, &hook] {
        assert_eq!(
            &store
                .create_token(t, &meta("user:admin", 10))
                .await
                .unwrap(),
            t
        );
    }
    assert_eq!(store.get_token("t-sdk").await.unwrap(), sdk);
    assert_already_exists(store.create_token(&api, &meta("user:admin", 11)).await);
    let mut orphan = token("t-orphan", TokenKind::Sdk, 4);
    orphan.project = Some("nope".into());
    assert_not_found(store.create_token(&orphan, &meta("user:admin", 11)).await);

    let ids = |filter: TokenFilter| async move {
        let listed = store.list_tokens(&filter).await.unwrap();
        listed.into_iter().map(|t| t.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(TokenFilter::default()).await,
        ["t-api", "t-sdk", "t-hook"]
    );
    assert_eq!(
        ids(TokenFilter {
            kind: Some(TokenKind::Sdk),
            ..TokenFilter::default()
        })
        .await,
        ["t-sdk"]
    );
    assert_eq!(
        ids(TokenFilter {
            project: Some("default".into()),
            ..TokenFilter::default()
        })
        .await,
        ["t-sdk"]
    );
    let staging = TokenFilter {
        environment: Some("staging".into()),
        ..TokenFilter::default()
    };
    assert_eq!(ids(staging).await, ["t-api"]);

    let revoked = store
        .revoke_token("t-api", &meta("user:admin", 20))
        .await
        .unwrap();
    assert_eq!(
        revoked,
        TokenRecord {
            revoked_at: Some(at(20)),
            ..api.clone()
        }
    );
    // Revoking again changes nothing.
    let again = store
        .revoke_token("t-api", &meta("user:admin", 21))
        .await
        .unwrap();
    assert_eq!(again.revoked_at, Some(at(20)));
    assert_not_found(store.revoke_token("nope", &meta("user:admin", 21)).await);
    assert_eq!(ids(TokenFilter::default()).await, ["t-sdk", "t-hook"]);
    let everything = TokenFilter {
        include_revoked: true,
        ..TokenFilter::default()
    };
    assert_eq!(ids(everything).await, ["t-api", "t-sdk", "t-hook"]);

    let before = all_changes(store, Some("default")).await.len();
    store.touch_token("t-sdk", at(30)).await.unwrap();
    store.touch_token("t-sdk", at(31)).await.unwrap();
    assert_eq!(
        store.get_token("t-sdk").await.unwrap().last_used_at,
        Some(at(31))
    );
    assert_not_found(store.touch_token("nope", at(32)).await);
    assert_eq!(
        all_changes(store, Some("default")).await.len(),
        before,
        "a touch is not a change"
    );

    // SDK keys belong to their project's log; the rest to the accounts log.
    let project_log = all_changes(store, Some("default")).await;
    let sdk_created = project_log
        .iter()
        .find(|c| c.resource == ResourceKind::Token)
        .unwrap();
    assert_eq!(
        (
            sdk_created.key.as_str(),
            sdk_created.action,
            sdk_created.versions.len()
        ),
        ("t-sdk", ChangeAction::Created, 0)
    );
    let accounts = all_changes(store, None).await;
    let summary: Vec<_> = accounts
        .iter()
        .map(|c| (c.key.as_str(), c.action))
        .collect();
    assert_eq!(
        summary,
        [
            ("t-api", ChangeAction::Revoked),
            ("t-hook", ChangeAction::Created),
            ("t-api", ChangeAction::Created)
        ]
    );
    assert_eq!(
        accounts[0].after,
        Some(serde_json::to_value(&revoked).unwrap())
    );
    // Tokens bump no environment.
    let versions: Vec<u64> = versions(store, "default")
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(versions, [1, 1, 1]);
}

pub async fn secrets_are_stable(store: Arc<dyn Store>) {
    let store = &*store;
    let calls = AtomicUsize::new(0);
    let generate = || {
        calls.fetch_add(1, Ordering::SeqCst);
        "first-secret".to_string()
    };
    assert_eq!(
        store.secret("jwt", &generate).await.unwrap(),
        "first-secret"
    );
    let other = || "second-secret".to_string();
    assert_eq!(store.secret("jwt", &other).await.unwrap(), "first-secret");
    assert_eq!(
        store.secret("other", &other).await.unwrap(),
        "second-secret"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(
        all_changes(store, None).await.is_empty(),
        "secrets are not in the change log"
    );
}
