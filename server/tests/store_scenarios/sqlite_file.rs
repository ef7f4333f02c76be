//! SQLite only: what a database file keeps across reopening, and how
//! hand-edited data reads back.

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use vexil_server::store::sqlite::SqliteStore;
use vexil_server::store::{Role, Store};

use crate::TempDir;
use crate::common::*;

/// SQLite only: everything survives closing and reopening the file, the
/// default project is created once, and not again after being deleted.
pub async fn reopen() {
    let dir = TempDir::new();
    let path = dir.0.join("vexil.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let flag = add_flag(&store, "default", "kept", 1).await;
    let secret = store.secret("jwt", &|| "s3cret".to_string()).await.unwrap();
    store
        .create_user(&user("keeper", Role::Admin), &meta("system", 2))
        .await
        .unwrap();
    let changes = all_changes(&store, Some("default")).await;
    let envs = versions(&store, "default").await;
    store.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.get_flag("default", "kept").await.unwrap(), flag);
    assert_eq!(
        store.secret("jwt", &|| "other".to_string()).await.unwrap(),
        secret
    );
    assert_eq!(store.count_users().await.unwrap(), 1);
    assert_eq!(all_changes(&store, Some("default")).await, changes);
    assert_eq!(versions(&store, "default").await, envs);
    assert_eq!(store.list_projects().await.unwrap().len(), 1);
    store
        .delete_project("default", &meta("user:keeper", 3))
        .await
        .unwrap();
    store.close().await;

    let store = SqliteStore::open_url(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert!(store.list_projects().await.unwrap().is_empty());
    store.close().await;

    corrupt_sqlite(&path).await;

    let memory = SqliteStore::open_url("sqlite::memory:").await.unwrap();
    assert_eq!(versions(&memory, "default").await.len(), 3);
    add_flag(&memory, "default", "m", 1).await;
    assert_eq!(
        memory
            .list_flags("default", &Default::default())
            .await
            .unwrap()
            .total,
        1
    );
}

/// Data edited by hand reads back as `Corrupt`, never a panic.
async fn corrupt_sqlite(path: &std::path::Path) {
    let store = SqliteStore::open(path).await.unwrap();
    let environments = [environment("dev", false)];
    store
        .create_project(&project("p"), &environments, &meta("u", 1))
        .await
        .unwrap();
    for key in ["json", "type", "config"] {
        add_flag(&store, "p", key, 2).await;
    }
    store.close().await;

    let options = SqliteConnectOptions::new().filename(path);
    let mut raw = SqliteConnection::connect_with(&options).await.unwrap();
    for edit in [
        "UPDATE flags SET variants = '[{\"key\": 1' WHERE key = 'json'",
        "UPDATE flags SET version = 'seven' WHERE key = 'type'",
        "UPDATE flag_configs SET config = '{}' WHERE flag = 'config'",
    ] {
        sqlx::query(edit).execute(&mut raw).await.unwrap();
    }
    raw.close().await.unwrap();

    let store = SqliteStore::open(path).await.unwrap();
    assert_corrupt(store.get_flag("p", "json").await);
    assert_corrupt(store.get_flag("p", "type").await);
    assert_corrupt(store.get_flag_config("p", "config", "dev").await);
    assert_corrupt(store.snapshot("p", "dev").await);
    assert_corrupt(store.list_flags("p", &Default::default()).await);
    store.close().await;
}

/// SQLite only: a crowd of concurrent writers on one file all commit (the
/// store queues them in order; none fails with "database is locked"), and
/// the change log holds each once.
pub async fn concurrent_creates_all_commit() {
    let dir = TempDir::new();
    let store = std::sync::Arc::new(SqliteStore::open(&dir.0.join("vexil.db")).await.unwrap());
    let before = all_changes(store.as_ref(), Some("default")).await.len();
    let writers: Vec<_> = (0..200)
        .map(|i| {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .create_flag(
                        "default",
                        &boolean_flag(&format!("crowd-{i}")),
                        &[],
                        &meta("u", 1),
                    )
                    .await
            })
        })
        .collect();
    for writer in writers {
        writer
            .await
            .unwrap()
            .expect("every concurrent create commits");
    }
    let changes = all_changes(store.as_ref(), Some("default")).await;
    assert_eq!(changes.len(), before + 200);
    let listed = store
        .list_flags("default", &Default::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 200);
    store.close().await;
}
