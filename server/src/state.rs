//! The state every handler can reach: one cloneable struct of `Arc`s.
//! Handlers take the part they need through `FromRef`, so a handler's
//! signature says what it touches.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::FromRef;

use crate::auth::AuthState;
use crate::metrics::Metrics;
use crate::rollout::RolloutConfig;
use crate::snapshots::SnapshotCache;
use crate::store::Store;
use crate::stream::{Doorbell, StreamConfig, Streams};
use crate::usage::UsageBuffer;

/// Shared by every request.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Whether this replica should get traffic; `/readyz` reports it.
    pub readiness: Readiness,
    /// Renders `/metrics`.
    pub metrics: Metrics,
    /// Where everything is stored.
    pub store: Arc<dyn Store>,
    /// Signing keys, the clock, and the token cache the auth extractors use.
    pub auth: AuthState,
    /// Compiled snapshots per environment, so evaluation never waits on
    /// the database; write handlers invalidate it after committing.
    pub snapshots: SnapshotCache,
    /// Evaluation counts SDKs reported, summed in memory until the next
    /// flush writes them (`launch` runs the flusher).
    pub usage: UsageBuffer,
    /// The SDK streams: feeds per environment, kept up to date after
    /// commits, doorbell notices and polls.
    pub streams: Streams,
    /// The rollout advancer's clock and tick; plan writes read the same
    /// clock, so a stage's hold counts in one time.
    pub rollouts: RolloutConfig,
}

impl AppState {
    /// State over `store`, with the auth keys and clock in `auth`; streams
    /// with the default limits and the local doorbell.
    pub fn new(store: Arc<dyn Store>, auth: AuthState) -> Self {
        Self::with_streams(store, auth, StreamConfig::default(), Doorbell::Local)
    }

    /// State whose streams use `config` and `doorbell`.
    pub fn with_streams(
        store: Arc<dyn Store>,
        auth: AuthState,
        config: StreamConfig,
        doorbell: Doorbell,
    ) -> Self {
        let snapshots = SnapshotCache::new(Arc::clone(&store));
        AppState {
            readiness: Readiness::default(),
            metrics: Metrics::install(),
            usage: UsageBuffer::new(Arc::clone(&store)),
            streams: Streams::new(Arc::clone(&store), snapshots.clone(), config, doorbell),
            snapshots,
            store,
            auth,
            rollouts: RolloutConfig::default(),
        }
    }
}

/// Ready once the server listens; not ready again while it drains on
/// shutdown, so a load balancer stops sending new requests first.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// Whether the replica takes traffic now.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// Marks the replica ready (or draining).
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::Release);
    }
}

impl FromRef<AppState> for Readiness {
    fn from_ref(state: &AppState) -> Self {
        state.readiness.clone()
    }
}

impl FromRef<AppState> for AuthState {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

impl FromRef<AppState> for Arc<dyn Store> {
    fn from_ref(state: &AppState) -> Self {
        Arc::clone(&state.store)
    }
}

impl FromRef<AppState> for SnapshotCache {
    fn from_ref(state: &AppState) -> Self {
        state.snapshots.clone()
    }
}

impl FromRef<AppState> for Metrics {
    fn from_ref(state: &AppState) -> Self {
        state.metrics.clone()
    }
}

impl FromRef<AppState> for UsageBuffer {
    fn from_ref(state: &AppState) -> Self {
        state.usage.clone()
    }
}

impl FromRef<AppState> for Streams {
    fn from_ref(state: &AppState) -> Self {
        state.streams.clone()
    }
}

impl FromRef<AppState> for RolloutConfig {
    fn from_ref(state: &AppState) -> Self {
        state.rollouts.clone()
    }
}
