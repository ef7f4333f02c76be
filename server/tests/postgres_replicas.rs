//! What only PostgreSQL has to get right: several replicas sharing one
//! database. Replicas starting together migrate and create the default
//! project once and agree on secrets; writers of every kind running at once
//! (flag definitions, configs, segments, new environments) neither deadlock
//! nor leave a gap in any environment's versions. The single-store
//! behaviour is the shared scenario suite's (`store_scenarios`).
//!
//! Each test creates its own database `vexil_test_<uuid>` on the server
//! named by `VEXIL_TEST_POSTGRES_URL` and drops it at the end; without that
//! variable every test is skipped (loudly). The scenario suite's
//! `fresh_db` module does both.

use std::collections::BTreeSet;
use std::sync::Arc;

use time::OffsetDateTime;
use time::macros::datetime;
use vexil_proto::{Environment, Flag, FlagConfig, FlagKind, Segment, Serve, Variant};
use vexil_server::store::postgres::PostgresStore;
use vexil_server::store::{ChangeFilter, FlagFilter, Store, WriteMeta};

#[path = "store_scenarios/fresh_db.rs"]
mod fresh_db;

use fresh_db::{FreshDatabase, postgres_url};

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

#[tokio::test(flavor = "multi_thread")]
async fn replicas_starting_together_migrate_and_bootstrap_once() {
    let Some(server) = postgres_url("replicas_starting_together_migrate_and_bootstrap_once") else {
        return;
    };
    let db = FreshDatabase::create(&server).await;
    let url = Arc::new(db.url().to_string());
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
    db.drop(&store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mixed_writers_neither_deadlock_nor_skip_versions() {
    let Some(server) = postgres_url("mixed_writers_neither_deadlock_nor_skip_versions") else {
        return;
    };
    let db = FreshDatabase::create(&server).await;
    let store = PostgresStore::connect(db.url()).await.unwrap();
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
    db.drop(&store).await;
}
