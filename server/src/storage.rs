//! Opening the configured store: PostgreSQL for `postgres://` URLs, SQLite
//! for `sqlite://` URLs, and by default an SQLite file in the data
//! directory, created (with its migrations applied) on first start.

use std::sync::Arc;

use tracing::info;

use crate::config::StorageConfig;
use crate::error::ServerError;
use crate::store::Store;
use crate::store::postgres::PostgresStore;
use crate::store::sqlite::SqliteStore;

/// The database file inside `--data-dir`.
pub const SQLITE_FILE: &str = "vexil.db";

/// Connects to (or creates) the configured database and applies pending
/// migrations.
pub async fn open(config: &StorageConfig) -> Result<Arc<dyn Store>, ServerError> {
    let Some(url) = &config.database_url else {
        let path = config.data_dir.join(SQLITE_FILE);
        info!(path = %path.display(), "storage: embedded SQLite");
        let store = SqliteStore::open(&path)
            .await
            .map_err(ServerError::Storage)?;
        return Ok(Arc::new(store));
    };
    let scheme = url
        .expose()
        .split_once(':')
        .map(|(s, _)| s)
        .unwrap_or_default();
    match scheme {
        "postgres" | "postgresql" => {
            info!(url = %url, "storage: PostgreSQL");
            let store = PostgresStore::connect(url.expose())
                .await
                .map_err(ServerError::Storage)?;
            Ok(Arc::new(store))
        }
        "sqlite" => {
            info!(url = %url, "storage: SQLite");
            let store = SqliteStore::open_url(url.expose())
                .await
                .map_err(ServerError::Storage)?;
            Ok(Arc::new(store))
        }
        other => Err(ServerError::UnsupportedDatabase(other.to_owned())),
    }
}
