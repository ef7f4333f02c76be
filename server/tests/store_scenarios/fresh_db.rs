//! A database of its own for each PostgreSQL test, on the server
//! `VEXIL_TEST_POSTGRES_URL` names (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`), or a loud skip without it.
//! Shared by the scenario suite and `postgres_replicas.rs` (which includes
//! this file by path).

use std::io::Write;
use std::str::FromStr;
use std::sync::Once;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use vexil_server::store::postgres::PostgresStore;

const POSTGRES_URL_VAR: &str = "VEXIL_TEST_POSTGRES_URL";

/// The skip notice is printed once, not once per PostgreSQL test.
static SKIP_NOTICE: Once = Once::new();

/// The test server's URL, or `None` after saying that `test` is skipped.
pub fn postgres_url(test: &str) -> Option<String> {
    let Ok(url) = std::env::var(POSTGRES_URL_VAR) else {
        // Straight to stderr, once per run: libtest captures `eprintln!`
        // of passing tests, and a skipped backend must not go unnoticed.
        SKIP_NOTICE.call_once(|| {
            let _ = writeln!(
                std::io::stderr().lock(),
                "\n*** PostgreSQL tests SKIPPED: {POSTGRES_URL_VAR} is not set. Set it \
                 (e.g. postgres://postgres@127.0.0.1:5432/test) to run them too; \
                 only what needs no PostgreSQL was tested. ***\n"
            );
        });
        eprintln!("PostgreSQL run of `{test}` SKIPPED: {POSTGRES_URL_VAR} is not set");
        return None;
    };
    Some(url)
}

/// `vexil_test_<random>` on the test server, until [`FreshDatabase::drop`].
#[derive(Debug)]
pub struct FreshDatabase {
    server: PgConnectOptions,
    name: String,
    url: String,
}

impl FreshDatabase {
    /// Creates the database next to the one `server_url` names.
    pub async fn create(server_url: &str) -> FreshDatabase {
        let server = PgConnectOptions::from_str(server_url).unwrap();
        let name = format!("vexil_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = server.connect().await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let url = with_database(server_url, &name);
        FreshDatabase { server, name, url }
    }

    /// Its URL, for [`PostgresStore::connect`].
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Closes `store` and drops the database (`WITH (FORCE)`: even when a
    /// failed test left connections open).
    pub async fn drop(self, store: &PostgresStore) {
        store.pool().close().await;
        let mut admin = self.server.connect().await.unwrap();
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        sqlx::query(sqlx::AssertSqlSafe(drop))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
    }
}

/// `url` with its database (the path) replaced by `name`, query kept.
pub fn with_database(url: &str, name: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let authority_start = head.find("://").map_or(0, |i| i + 3);
    let base = match head[authority_start..].find('/') {
        Some(slash) => &head[..authority_start + slash],
        None => head,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}
