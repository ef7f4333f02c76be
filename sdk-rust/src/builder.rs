//! Configuring and starting a client.

use std::path::{Path, PathBuf};

use vexil_proto::Snapshot;

use crate::client::Client;
use crate::error::Error;

/// Builds a [`Client`]. Today: offline, from a bootstrap snapshot. The
/// streaming issue adds the SDK key, the server URL and an async `build()`
/// that connects and keeps the snapshot current, with the bootstrap serving
/// until the first snapshot arrives.
#[derive(Debug, Default)]
#[must_use]
pub struct ClientBuilder {
    bootstrap: Option<Bootstrap>,
}

#[derive(Debug)]
enum Bootstrap {
    Snapshot(Snapshot),
    File(PathBuf),
}

impl ClientBuilder {
    /// Starts from this snapshot.
    pub fn bootstrap(mut self, snapshot: Snapshot) -> Self {
        self.bootstrap = Some(Bootstrap::Snapshot(snapshot));
        self
    }

    /// Starts from a snapshot JSON file (what `GET /api/v1/snapshot` returns).
    pub fn bootstrap_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.bootstrap = Some(Bootstrap::File(path.into()));
        self
    }

    /// A client that evaluates the bootstrap snapshot and never connects.
    pub fn build_offline(self) -> Result<Client, Error> {
        let snapshot = match self.bootstrap {
            None => return Err(Error::NoBootstrap),
            Some(Bootstrap::Snapshot(snapshot)) => snapshot,
            Some(Bootstrap::File(path)) => read_bootstrap_file(&path)?,
        };
        Ok(Client::from_snapshot(&snapshot))
    }
}

/// Reads and parses a snapshot JSON file.
pub(crate) fn read_bootstrap_file(path: &Path) -> Result<Snapshot, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::ReadBootstrap {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| Error::ParseBootstrap {
        path: path.to_owned(),
        source,
    })
}
