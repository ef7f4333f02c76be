//! The state every handler can reach: one cloneable struct of `Arc`s.
//! Handlers take the part they need through `FromRef`, so a handler's
//! signature says what it touches.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::FromRef;

/// Shared by every request. Storage, the stream hub and auth join it with
/// the control-plane issue.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Whether this replica should get traffic; `/readyz` reports it.
    pub readiness: Readiness,
    /// Renders `/metrics`.
    pub metrics: crate::metrics::Metrics,
}

impl Default for AppState {
    fn default() -> Self {
        AppState {
            readiness: Readiness::default(),
            metrics: crate::metrics::Metrics::install(),
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
