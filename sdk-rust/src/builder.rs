//! Configuring and starting a client.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use vexil_proto::Snapshot;

use crate::client::{Client, Lifecycle};
use crate::endpoint::{Endpoint, SdkKey, tls_config};
use crate::error::Error;
use crate::reporter::{self, ReporterConfig};
use crate::state::{ProviderState, Shared};
use crate::stream::{self, StreamConfig};

/// Builds a [`Client`]: `Client::builder(sdk_key).url(..).build().await`.
#[must_use]
pub struct ClientBuilder {
    /// Sent as bearer on the stream and the usage reports; never logged.
    sdk_key: String,
    url: Option<String>,
    bootstrap: Option<Bootstrap>,
    offline: bool,
    init_timeout: Duration,
    backoff: (Duration, Duration),
    usage_interval: Duration,
    send_usage: bool,
}

#[derive(Debug)]
enum Bootstrap {
    Snapshot(Snapshot),
    File(PathBuf),
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("sdk_key", &"<redacted>")
            .field("url", &self.url)
            .field("bootstrap", &self.bootstrap)
            .field("offline", &self.offline)
            .field("init_timeout", &self.init_timeout)
            .field("backoff", &self.backoff)
            .field("usage_interval", &self.usage_interval)
            .field("send_usage", &self.send_usage)
            .finish()
    }
}

impl ClientBuilder {
    pub(crate) fn new(sdk_key: String) -> Self {
        ClientBuilder {
            sdk_key,
            url: None,
            bootstrap: None,
            offline: false,
            init_timeout: Duration::from_secs(5),
            backoff: (Duration::from_millis(500), Duration::from_secs(30)),
            usage_interval: Duration::from_secs(60),
            send_usage: true,
        }
    }

    /// The server's base URL, `http://` or `https://` (the stream is at
    /// `/api/v1/stream` over `ws://` or `wss://`).
    pub fn url(mut self, base: impl Into<String>) -> Self {
        self.url = Some(base.into());
        self
    }

    /// Serves this snapshot until the server's arrives (or for good, offline).
    pub fn bootstrap(mut self, snapshot: Snapshot) -> Self {
        self.bootstrap = Some(Bootstrap::Snapshot(snapshot));
        self
    }

    /// Serves the snapshot JSON file at `path` (what `GET /api/v1/snapshot`
    /// returns) until the server's arrives. Read by `build`.
    pub fn bootstrap_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.bootstrap = Some(Bootstrap::File(path.into()));
        self
    }

    /// Never connects and never reports: serves the bootstrap, `READY`.
    pub fn offline(mut self, offline: bool) -> Self {
        self.offline = offline;
        self
    }

    /// How long `build` waits for the first snapshot (default 5 s).
    pub fn init_timeout(mut self, timeout: Duration) -> Self {
        self.init_timeout = timeout;
        self
    }

    /// Reconnect delays: attempt `n` waits a random time up to
    /// `min(max, min · 2ⁿ)` (defaults 500 ms and 30 s).
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff = (min, max);
        self
    }

    /// How often evaluation counts are reported (default 60 s; at least 1 s).
    pub fn usage_interval(mut self, interval: Duration) -> Self {
        self.usage_interval = interval.max(Duration::from_secs(1));
        self
    }

    /// Whether evaluation counts are counted and reported (default true).
    pub fn send_usage(mut self, send: bool) -> Self {
        self.send_usage = send;
        self
    }

    /// Starts the client and waits until it is `READY`, the key is
    /// rejected (`ERROR`), or the init timeout passes. After a timeout the
    /// client is `STALE` serving its bootstrap, or `ERROR` serving defaults
    /// when it has none; either way it keeps connecting in the background
    /// and turns `READY` when the first snapshot arrives.
    ///
    /// Errors are configuration errors only: a missing URL, a bad URL, an
    /// unreadable bootstrap file. Needs a tokio runtime.
    pub async fn build(self) -> Result<Client, Error> {
        let bootstrap = match self.bootstrap {
            None => None,
            Some(Bootstrap::Snapshot(snapshot)) => Some(snapshot),
            Some(Bootstrap::File(path)) => Some(read_bootstrap_file(&path)?),
        };
        if self.offline {
            let snapshot = bootstrap.ok_or(Error::NoBootstrap)?;
            return Ok(Client::from_snapshot(&snapshot));
        }
        let endpoint = Endpoint::parse(self.url.as_deref().ok_or(Error::NoUrl)?)?;
        let tls = tls_config()?;
        let has_bootstrap = bootstrap.is_some();
        let shared = Arc::new(Shared::new(
            bootstrap,
            ProviderState::NotReady,
            self.send_usage,
        ));
        let (lifecycle, stopped) = Lifecycle::new();
        if self.send_usage {
            let http = reporter::http_client(&tls);
            let config = ReporterConfig {
                url: endpoint.usage.clone(),
                sdk_key: SdkKey::new(self.sdk_key.clone()),
                interval: self.usage_interval,
                http,
            };
            lifecycle.spawn(reporter::run(config, Arc::clone(&shared), stopped.clone()));
        }
        let config = StreamConfig {
            endpoint,
            sdk_key: SdkKey::new(self.sdk_key),
            tls,
            backoff_min: self.backoff.0,
            backoff_max: self.backoff.1,
        };
        lifecycle.spawn(stream::run(config, Arc::clone(&shared), stopped));

        let client = Client::new(Arc::clone(&shared), lifecycle);
        let mut states = client.state_changes();
        let started = states.wait_for(|state| *state != ProviderState::NotReady);
        if tokio::time::timeout(self.init_timeout, started)
            .await
            .is_err()
        {
            let fallback = if has_bootstrap {
                ProviderState::Stale
            } else {
                ProviderState::Error
            };
            shared.transition(ProviderState::NotReady, fallback);
        }
        Ok(client)
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
