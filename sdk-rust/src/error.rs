//! Why a client could not be built.

use std::path::PathBuf;

/// Errors building a client. Evaluation itself never fails: it returns the
/// caller's default with a reason instead. Connection trouble after `build`
/// is not an error either: it shows in the [`ProviderState`](crate::ProviderState).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The builder was given nothing to evaluate from.
    #[error("no bootstrap snapshot: give the builder a snapshot or a bootstrap file")]
    NoBootstrap,
    /// An online client needs to know where the server is.
    #[error("no server URL: call .url(..) or .offline(true)")]
    NoUrl,
    /// The server URL is not an http(s) URL.
    #[error("invalid server URL {url}: {problem}")]
    InvalidUrl { url: String, problem: String },
    /// TLS could not be set up.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// The bootstrap file could not be read.
    #[error("cannot read bootstrap file {path}: {source}")]
    ReadBootstrap {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The bootstrap file is not a snapshot.
    #[error("bootstrap file {path} is not a valid snapshot: {source}")]
    ParseBootstrap {
        path: PathBuf,
        source: serde_json::Error,
    },
}
