//! Quick checks of the PostgreSQL backend until the shared scenario suite
//! runs against it. Each test creates its own database `vexil_test_<uuid>`
//! on the server named by `VEXIL_TEST_POSTGRES_URL` and drops it at the end;
//! without that variable every test is skipped (loudly).

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::json;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use time::OffsetDateTime;
use time::macros::datetime;
use vexil_proto::{
    Clause, Environment, Flag, FlagConfig, FlagKind, Operator, Project, Rule, Scalar, Segment,
    Serve, Variant,
};
use vexil_server::store::postgres::PostgresStore;
use vexil_server::store::{
    ChangeAction, ChangeFilter, FlagFilter, Page, ResourceKind, Role, Store, StoreError,
    TokenFilter, TokenKind, TokenRecord, UserRecord, WriteMeta,
};

/// A database of its own on the test server, dropped by [`TestDb::drop_db`].
struct TestDb {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDb {
    async fn create() -> Option<TestDb> {
        let Ok(admin_url) = std::env::var("VEXIL_TEST_POSTGRES_URL") else {
            eprintln!(
                "!!! SKIPPED: set VEXIL_TEST_POSTGRES_URL (e.g. \
                 postgres://postgres@127.0.0.1:5432/test) to run the PostgreSQL checks"
            );
            return None;
        };
        let name = format!("vexil_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let (base, query) = match admin_url.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (admin_url.as_str(), String::new()),
        };
        let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
        let url = format!("{server}/{name}{query}");
        Some(TestDb {
            admin_url,
            name,
            url,
        })
    }

    async fn drop_db(self, store: PostgresStore) {
        store.pool().close().await;
        let mut conn = PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

const AT: OffsetDateTime = datetime!(2026-11-22 10:00:00.123456 UTC);

fn meta(expected_version: Option<u64>) -> WriteMeta {
    WriteMeta {
        actor: "user:alice".into(),
        reason: Some("testing".into()),
        at: AT,
        expected_version,
    }
}

fn boolean_flag(key: &str, tags: &[&str]) -> Flag {
    Flag {
        key: key.into(),
        name: format!("Flag {key}"),
        description: format!("what {key} does"),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        owner: Some("team-a".into()),
        kind: FlagKind::Boolean,
        variants: Variant::boolean_pair(),
        temporary: true,
    }
}

fn on_config() -> FlagConfig {
    FlagConfig::new("off", Serve::Variant("on".into()))
}

fn segment_rule_config(segment: &str) -> FlagConfig {
    FlagConfig {
        rules: vec![Rule {
            id: "r1".into(),
            description: String::new(),
            clauses: vec![Clause {
                attribute: "key".into(),
                op: Operator::InSegment,
                values: vec![Scalar::String(segment.into())],
                negate: false,
            }],
            serve: Serve::Variant("on".into()),
        }],
        ..on_config()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fresh_database_has_the_default_project() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = PostgresStore::connect(&db.url).await.unwrap();
    let projects = store.list_projects().await.unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].project.key, "default");
    let envs = store.list_environments("default").await.unwrap();
    let keys: Vec<_> = envs
        .iter()
        .map(|e| (e.environment.key.as_str(), e.environment.production))
        .collect();
    assert_eq!(
        keys,
        [
            ("development", false),
            ("staging", false),
            ("production", true)
        ]
    );
    assert!(envs.iter().all(|e| e.environment.version == 1));
    let log = store
        .list_changes(Some("default"), &ChangeFilter::default())
        .await
        .unwrap();
    assert_eq!(log.total, 1);
    assert_eq!(log.items[0].actor, "system");
    assert_eq!(log.items[0].versions.len(), 3);
    // A second start changes nothing.
    let again = PostgresStore::connect(&db.url).await.unwrap();
    assert_eq!(again.list_projects().await.unwrap().len(), 1);
    again.pool().close().await;
    db.drop_db(store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn replicas_starting_together_migrate_and_bootstrap_once() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let url = Arc::new(db.url.clone());
    let starts: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PostgresStore::connect(&url).await })
        })
        .collect();
    let mut stores = Vec::new();
    for start in starts {
        stores.push(start.await.unwrap().unwrap());
    }
    let store = stores.pop().unwrap();
    for other in stores {
        other.pool().close().await;
    }
    assert_eq!(store.list_projects().await.unwrap().len(), 1);
    let log = store
        .list_changes(Some("default"), &ChangeFilter::default())
        .await
        .unwrap();
    assert_eq!(log.total, 1);
    // Secrets too: every replica reads the one value stored first.
    let secrets: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let generate = move || format!("secret-{i}");
                store.secret("jwt", &generate).await
            })
        })
        .collect();
    let mut values = BTreeSet::new();
    for secret in secrets {
        values.insert(secret.await.unwrap().unwrap());
    }
    assert_eq!(values.len(), 1);
    db.drop_db(store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn flags_configs_segments_and_the_change_log() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = PostgresStore::connect(&db.url).await.unwrap();
    let flag = boolean_flag("new-checkout", &["checkout", "web"]);
    let created = store
        .create_flag(
            "default",
            &flag,
            &[("production".into(), on_config())],
            &meta(None),
        )
        .await
        .unwrap();
    assert_eq!(created.version, 1);
    assert_eq!(created.created_at, AT);
    assert_eq!(
        store.get_flag("default", "new-checkout").await.unwrap(),
        created
    );
    assert!(matches!(
        store.create_flag("default", &flag, &[], &meta(None)).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let configs = store
        .list_flag_configs("default", "new-checkout")
        .await
        .unwrap();
    let envs: Vec<_> = configs
        .iter()
        .map(|(e, c)| (e.as_str(), c.enabled, c.version))
        .collect();
    assert_eq!(
        envs,
        [
            ("development", false, 1),
            ("staging", false, 1),
            ("production", true, 1)
        ]
    );

    // If-Match on a config.
    let stale = store
        .put_flag_config(
            "default",
            "new-checkout",
            "production",
            &on_config(),
            &meta(Some(7)),
        )
        .await;
    assert!(matches!(
        stale,
        Err(StoreError::Conflict {
            expected: 7,
            current: 1
        })
    ));
    let toggled = store
        .set_flag_enabled(
            "default",
            "new-checkout",
            "production",
            false,
            &meta(Some(1)),
        )
        .await
        .unwrap();
    assert_eq!((toggled.enabled, toggled.version), (false, 2));

    // Versions: create bumped all three, the toggle production only.
    let versions = store.environment_versions().await.unwrap();
    let versions: Vec<_> = versions
        .iter()
        .map(|(p, e, v)| (p.as_str(), e.as_str(), *v))
        .collect();
    assert_eq!(
        versions,
        [
            ("default", "development", 2),
            ("default", "staging", 2),
            ("default", "production", 3)
        ]
    );
    let since = store
        .changes_since("default", "production", 1)
        .await
        .unwrap();
    let since: Vec<_> = since
        .iter()
        .map(|(v, c)| (*v, c.resource, c.action))
        .collect();
    assert_eq!(
        since,
        [
            (2, ResourceKind::Flag, ChangeAction::Created),
            (3, ResourceKind::FlagConfig, ChangeAction::Toggled)
        ]
    );
    let snapshot = store.snapshot("default", "production").await.unwrap();
    assert_eq!(snapshot.version, 3);
    assert_eq!(snapshot.flags.len(), 1);
    assert!(!snapshot.flags[0].config.enabled);

    // Segments: in use, refused.
    let segment = Segment {
        key: "beta".into(),
        name: "Beta".into(),
        description: String::new(),
        included: vec!["u1".into()],
        excluded: vec![],
        rules: vec![],
        version: 0,
    };
    store
        .create_segment("default", &segment, &meta(None))
        .await
        .unwrap();
    store
        .put_flag_config(
            "default",
            "new-checkout",
            "staging",
            &segment_rule_config("beta"),
            &meta(None),
        )
        .await
        .unwrap();
    assert!(matches!(
        store.delete_segment("default", "beta", &meta(None)).await,
        Err(StoreError::Refused(_))
    ));

    // The flag list: filters and paging.
    for key in ["a-flag", "b-flag", "c-flag"] {
        store
            .create_flag("default", &boolean_flag(key, &["web"]), &[], &meta(None))
            .await
            .unwrap();
    }
    let web = FlagFilter {
        tag: Some("web".into()),
        page: Page {
            page: 2,
            per_page: 2,
        },
        ..FlagFilter::default()
    };
    let page = store.list_flags("default", &web).await.unwrap();
    assert_eq!(page.total, 4);
    let keys: Vec<_> = page.items.iter().map(|f| f.flag.key.as_str()).collect();
    assert_eq!(keys, ["c-flag", "new-checkout"]);
    let query = FlagFilter {
        query: Some("CHECKOUT".into()),
        ..FlagFilter::default()
    };
    assert_eq!(store.list_flags("default", &query).await.unwrap().total, 1);

    // Archive, refused writes, delete.
    assert!(matches!(
        store.delete_flag("default", "a-flag", &meta(None)).await,
        Err(StoreError::Refused(_))
    ));
    store
        .set_flag_archived("default", "a-flag", true, &meta(Some(1)))
        .await
        .unwrap();
    assert!(matches!(
        store
            .set_flag_enabled("default", "a-flag", "production", true, &meta(None))
            .await,
        Err(StoreError::Refused(_))
    ));
    assert_eq!(
        store
            .snapshot("default", "production")
            .await
            .unwrap()
            .flags
            .len(),
        3
    );
    store
        .delete_flag("default", "a-flag", &meta(Some(2)))
        .await
        .unwrap();
    assert!(matches!(
        store.get_flag("default", "a-flag").await,
        Err(StoreError::NotFound(_))
    ));

    // The flag's own history, newest first.
    let history = store
        .list_changes(
            Some("default"),
            &ChangeFilter {
                flag: Some("new-checkout".into()),
                ..ChangeFilter::default()
            },
        )
        .await
        .unwrap();
    let actions: Vec<_> = history.items.iter().map(|c| c.action).collect();
    assert_eq!(
        actions,
        [
            ChangeAction::Updated,
            ChangeAction::Toggled,
            ChangeAction::Created
        ]
    );
    assert_eq!(
        history.items[1].before.as_ref().unwrap()["enabled"],
        json!(true)
    );
    assert!(history.items.windows(2).all(|w| w[0].id > w[1].id));

    // A new environment gets default configs for every flag.
    let qa = Environment {
        key: "qa".into(),
        name: "QA".into(),
        production: false,
        version: 0,
    };
    let env = store
        .create_environment("default", &qa, &meta(None))
        .await
        .unwrap();
    assert_eq!(env.environment.version, 1);
    let config = store
        .get_flag_config("default", "new-checkout", "qa")
        .await
        .unwrap();
    assert!(!config.enabled);
    assert_eq!(
        store.snapshot("default", "qa").await.unwrap().flags.len(),
        3
    );
    db.drop_db(store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_writers_on_one_config_serialize() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = PostgresStore::connect(&db.url).await.unwrap();
    store
        .create_flag("default", &boolean_flag("hot", &[]), &[], &meta(None))
        .await
        .unwrap();
    let start = store
        .get_environment("default", "production")
        .await
        .unwrap();
    let start_version = start.environment.version;
    let start_log = store
        .list_changes(Some("default"), &ChangeFilter::default())
        .await
        .unwrap()
        .total;

    let writers: Vec<_> = (0..50)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let seen = store
                    .get_flag_config("default", "hot", "production")
                    .await
                    .unwrap();
                let config = FlagConfig {
                    enabled: i % 2 == 0,
                    ..seen.clone()
                };
                store
                    .put_flag_config(
                        "default",
                        "hot",
                        "production",
                        &config,
                        &meta(Some(seen.version)),
                    )
                    .await
            })
        })
        .collect();
    let mut committed = 0;
    for writer in writers {
        match writer.await.unwrap() {
            Ok(_) => committed += 1,
            Err(StoreError::Conflict { .. }) => {}
            Err(other) => panic!("neither committed nor a conflict: {other}"),
        }
    }
    assert!(committed >= 1);
    eprintln!("{committed} of 50 writers committed, the others got a conflict");

    let config = store
        .get_flag_config("default", "hot", "production")
        .await
        .unwrap();
    assert_eq!(config.version, 1 + committed);
    let end = store
        .get_environment("default", "production")
        .await
        .unwrap();
    assert_eq!(end.environment.version, start_version + committed);
    let since = store
        .changes_since("default", "production", start_version)
        .await
        .unwrap();
    let produced: Vec<u64> = since.iter().map(|(v, _)| *v).collect();
    let expected: Vec<u64> = (start_version + 1..=start_version + committed).collect();
    assert_eq!(produced, expected);
    assert!(since.windows(2).all(|w| w[0].1.id < w[1].1.id));
    let log = store
        .list_changes(Some("default"), &ChangeFilter::default())
        .await
        .unwrap()
        .total;
    assert_eq!(log, start_log + committed);
    db.drop_db(store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mixed_writers_neither_deadlock_nor_skip_versions() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = PostgresStore::connect(&db.url).await.unwrap();
    for key in ["f0", "f1", "f2"] {
        store
            .create_flag("default", &boolean_flag(key, &[]), &[], &meta(None))
            .await
            .unwrap();
    }
    let environments = ["development", "staging", "production"];
    let writers: Vec<_> = (0..60)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let flag = format!("f{}", i % 3);
                let env = environments[i % 3];
                match i % 6 {
                    0 => store
                        .update_flag("default", &boolean_flag(&flag, &["x"]), &meta(None))
                        .await
                        .map(drop),
                    1 => store
                        .set_flag_enabled("default", &flag, env, i % 2 == 0, &meta(None))
                        .await
                        .map(drop),
                    2 => store
                        .put_flag_config("default", &flag, env, &on_config(), &meta(None))
                        .await
                        .map(drop),
                    3 => {
                        let segment = Segment {
                            key: format!("s{i}"),
                            name: "S".into(),
                            description: String::new(),
                            included: vec![],
                            excluded: vec![],
                            rules: vec![],
                            version: 0,
                        };
                        store
                            .create_segment("default", &segment, &meta(None))
                            .await
                            .map(drop)
                    }
                    4 => {
                        let env = Environment {
                            key: format!("e{i}"),
                            name: "E".into(),
                            production: false,
                            version: 0,
                        };
                        store
                            .create_environment("default", &env, &meta(None))
                            .await
                            .map(drop)
                    }
                    _ => store
                        .create_flag(
                            "default",
                            &boolean_flag(&format!("n{i}"), &[]),
                            &[],
                            &meta(None),
                        )
                        .await
                        .map(drop),
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap().unwrap();
    }
    // Every environment's versions 1..=current were each produced by one
    // change, and every flag has a config in every environment.
    let flags = store
        .list_flags("default", &FlagFilter::default())
        .await
        .unwrap();
    for env in store.list_environments("default").await.unwrap() {
        let key = &env.environment.key;
        let since = store.changes_since("default", key, 0).await.unwrap();
        let produced: Vec<u64> = since.iter().map(|(v, _)| *v).collect();
        let expected: Vec<u64> = (1..=env.environment.version).collect();
        assert_eq!(produced, expected, "environment {key}");
        let snapshot = store.snapshot("default", key).await.unwrap();
        assert_eq!(
            snapshot.flags.len() as u64,
            flags.total,
            "environment {key}"
        );
    }
    db.drop_db(store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn users_and_tokens() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = PostgresStore::connect(&db.url).await.unwrap();
    let user = UserRecord {
        id: String::new(),
        username: "alice".into(),
        password_hash: "$argon2id$stub".into(),
        role: Role::Admin,
        disabled: false,
        version: 0,
        created_at: AT,
        updated_at: AT,
    };
    let created = store.create_user(&user, &meta(None)).await.unwrap();
    assert_eq!(created.version, 1);
    assert!(matches!(
        store.create_user(&user, &meta(None)).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let disabled = UserRecord {
        disabled: true,
        ..created.clone()
    };
    assert!(matches!(
        store.update_user(&disabled, &meta(Some(5))).await,
        Err(StoreError::Conflict { .. })
    ));
    let updated = store.update_user(&disabled, &meta(Some(1))).await.unwrap();
    assert!(updated.disabled);
    assert_eq!(store.count_users().await.unwrap(), 1);

    let token = TokenRecord {
        id: "jti-1".into(),
        kind: TokenKind::Sdk,
        name: "web".into(),
        role: None,
        project: Some("default".into()),
        environments: vec!["production".into()],
        created_by: "user:alice".into(),
        created_at: AT,
        expires_at: datetime!(2027-11-22 10:00 UTC),
        last_used_at: None,
        revoked_at: None,
    };
    store.create_token(&token, &meta(None)).await.unwrap();
    store.touch_token("jti-1", AT).await.unwrap();
    let production = TokenFilter {
        environment: Some("production".into()),
        ..TokenFilter::default()
    };
    assert_eq!(store.list_tokens(&production).await.unwrap().len(), 1);
    let revoked = store.revoke_token("jti-1", &meta(None)).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(AT));
    assert_eq!(revoked.last_used_at, Some(AT));
    assert!(store.list_tokens(&production).await.unwrap().is_empty());

    let accounts = store
        .list_changes(None, &ChangeFilter::default())
        .await
        .unwrap();
    let actions: Vec<_> = accounts
        .items
        .iter()
        .map(|c| (c.resource, c.action))
        .collect();
    assert_eq!(
        actions,
        [
            (ResourceKind::User, ChangeAction::Updated),
            (ResourceKind::User, ChangeAction::Created)
        ]
    );
    assert!(
        accounts.items[1]
            .after
            .as_ref()
            .unwrap()
            .get("password_hash")
            .is_none()
    );

    // A project goes with everything in it; its change log stays.
    let project = Project {
        key: "shop".into(),
        name: "Shop".into(),
        description: String::new(),
    };
    store
        .create_project(&project, &[], &meta(None))
        .await
        .unwrap();
    store.delete_project("shop", &meta(Some(1))).await.unwrap();
    assert!(matches!(
        store.list_environments("shop").await,
        Err(StoreError::NotFound(_))
    ));
    let log = store
        .list_changes(Some("shop"), &ChangeFilter::default())
        .await
        .unwrap();
    assert_eq!(log.total, 2);
    db.drop_db(store).await;
}
