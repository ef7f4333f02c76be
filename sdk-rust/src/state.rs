//! The state a client shares between its handles (and, with the streaming
//! issue, its connection task): the current compiled snapshot and the
//! provider state.

use std::sync::Arc;

use arc_swap::ArcSwap;
use vexil_engine::CompiledSnapshot;
use vexil_proto::Snapshot;

/// Where a client stands, with OpenFeature/flagd's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderState {
    /// No snapshot yet; evaluations return the default with `PROVIDER_NOT_READY`.
    NotReady,
    /// Serving a current snapshot.
    Ready,
    /// Disconnected, still serving the last snapshot.
    Stale,
    /// No snapshot ever arrived, or the SDK key was revoked.
    Error,
}

/// The swappable snapshot. Readers `load` it without locking; `install`
/// compiles a new one off to the side and swaps one pointer.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) snapshot: ArcSwap<CompiledSnapshot>,
}

impl Shared {
    pub(crate) fn new(snapshot: &Snapshot) -> Self {
        Shared {
            snapshot: ArcSwap::from_pointee(CompiledSnapshot::compile(snapshot)),
        }
    }

    pub(crate) fn install(&self, snapshot: &Snapshot) {
        self.snapshot
            .store(Arc::new(CompiledSnapshot::compile(snapshot)));
    }

    /// An offline client always has its bootstrap snapshot. The streaming
    /// client will track connection state here.
    pub(crate) fn provider_state(&self) -> ProviderState {
        ProviderState::Ready
    }
}
