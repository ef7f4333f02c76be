//! The server's error type. The API error (one JSON shape, `status_code()`)
//! arrives with the REST API; this covers starting and running the server.

use std::net::SocketAddr;

/// Why the server could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The listen address is taken or not ours to bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// Accepting or serving connections failed.
    #[error("serving failed: {0}")]
    Serve(#[source] std::io::Error),
    /// The database could not be opened, migrated or reached.
    #[error("storage: {0}")]
    Storage(#[source] crate::store::StoreError),
    /// `--database-url` names a database Vexil does not support.
    #[error("unsupported --database-url scheme `{0}`: use postgres:// or sqlite://")]
    UnsupportedDatabase(String),
    /// `--redis-url` is not a Redis URL (the message never shows the URL,
    /// which may hold a password).
    #[error("invalid --redis-url: {0}")]
    Redis(String),
    /// An account could not be created (password policy, taken name).
    #[error("{0}")]
    Account(String),
    /// The JWT signing key could not be loaded or created.
    #[error("signing key: {0}")]
    Keys(#[from] crate::auth::KeyError),
    /// The subcommand exists but its feature has not landed yet.
    #[error("`vexil {0}` is not implemented yet: it arrives with the control-plane issue")]
    NotImplemented(&'static str),
}
