//! The state a client's handles share with its background tasks: the
//! installed snapshot (compiled, with its usage counters), the provider
//! state, and who to tell about changes.

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use tokio::sync::{broadcast, watch};
use vexil_engine::{CompiledSnapshot, changed_flags};
use vexil_proto::Snapshot;

use crate::changes::ChangeEvent;
use crate::usage::{CounterTable, UsageLedger};

/// Where a client stands, with OpenFeature/flagd's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderState {
    /// Starting: no snapshot from the server yet (a bootstrap, if any, is
    /// served meanwhile). Also the state after `close()`.
    NotReady,
    /// Serving a current snapshot: connected, or offline by choice.
    Ready,
    /// Disconnected (or never connected within the init timeout), still
    /// serving the last snapshot or the bootstrap.
    Stale,
    /// Nothing to serve ever arrived within the init timeout, or the server
    /// rejected the SDK key (close 4401/4403) and the client stopped trying.
    Error,
}

impl ProviderState {
    /// OpenFeature's name: `NOT_READY`, `READY`, `STALE`, `ERROR`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderState::NotReady => "NOT_READY",
            ProviderState::Ready => "READY",
            ProviderState::Stale => "STALE",
            ProviderState::Error => "ERROR",
        }
    }
}

impl std::fmt::Display for ProviderState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A callback registered with `on_change`.
type Listener = Box<dyn Fn(&ChangeEvent) + Send + Sync>;

/// What evaluation loads: one pointer swap installs all of it.
#[derive(Debug)]
pub(crate) struct Installed {
    pub(crate) compiled: Arc<CompiledSnapshot>,
    pub(crate) counters: CounterTable,
    /// `false` until a bootstrap or a server snapshot is installed; typed
    /// calls then answer `PROVIDER_NOT_READY`.
    pub(crate) has_data: bool,
}

pub(crate) struct Shared {
    pub(crate) installed: ArcSwap<Installed>,
    /// The snapshot behind `installed`, uncompiled: patches apply to it and
    /// change events diff against it. Locked only by installs.
    source: Mutex<Arc<Snapshot>>,
    state: watch::Sender<ProviderState>,
    changes: broadcast::Sender<ChangeEvent>,
    listeners: Mutex<Vec<Listener>>,
    pub(crate) usage: UsageLedger,
    /// Whether evaluations are counted (not when nothing would report them).
    pub(crate) counting: bool,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("installed", &self.installed)
            .field("state", &*self.state.borrow())
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// A client state serving `snapshot` (or nothing) in `state`.
    pub(crate) fn new(snapshot: Option<Snapshot>, state: ProviderState, counting: bool) -> Self {
        let has_data = snapshot.is_some();
        let snapshot = snapshot.unwrap_or_default();
        let (counters, _) = CounterTable::for_snapshot(&snapshot, &CounterTable::default());
        Shared {
            installed: ArcSwap::from_pointee(Installed {
                compiled: Arc::new(CompiledSnapshot::compile(&snapshot)),
                counters,
                has_data,
            }),
            source: Mutex::new(Arc::new(snapshot)),
            state: watch::Sender::new(state),
            changes: broadcast::channel(64).0,
            listeners: Mutex::new(Vec::new()),
            usage: UsageLedger::default(),
            counting,
        }
    }

    /// Compiles `snapshot`, swaps it in and tells subscribers what changed.
    /// Evaluations in progress finish on the snapshot they started with.
    pub(crate) fn install(&self, snapshot: Snapshot) -> ChangeEvent {
        let mut source = self.source.lock().unwrap_or_else(|p| p.into_inner());
        let event = ChangeEvent {
            version: snapshot.version,
            flags: changed_flags(&source, &snapshot),
        };
        let previous = self.installed.load();
        let (counters, retired) = CounterTable::for_snapshot(&snapshot, &previous.counters);
        self.installed.store(Arc::new(Installed {
            compiled: Arc::new(CompiledSnapshot::compile(&snapshot)),
            counters,
            has_data: true,
        }));
        self.usage.retire(retired);
        *source = Arc::new(snapshot);
        drop(source);

        let _ = self.changes.send(event.clone());
        for listener in self
            .listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            // A panicking callback must not take the stream down with it.
            let call = std::panic::AssertUnwindSafe(|| listener(&event));
            if std::panic::catch_unwind(call).is_err() {
                tracing::error!(version = event.version, "an on_change callback panicked");
            }
        }
        event
    }

    /// The snapshot being served, uncompiled.
    pub(crate) fn source(&self) -> Arc<Snapshot> {
        Arc::clone(&self.source.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub(crate) fn state(&self) -> ProviderState {
        *self.state.borrow()
    }

    pub(crate) fn set_state(&self, state: ProviderState) {
        self.state.send_if_modified(|current| {
            let changed = *current != state;
            *current = state;
            changed
        });
    }

    /// Moves to `to` only from `from` (so a late timeout never undoes READY).
    pub(crate) fn transition(&self, from: ProviderState, to: ProviderState) {
        self.state.send_if_modified(|current| {
            let applies = *current == from && from != to;
            if applies {
                *current = to;
            }
            applies
        });
    }

    pub(crate) fn watch_state(&self) -> watch::Receiver<ProviderState> {
        self.state.subscribe()
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<ChangeEvent> {
        self.changes.subscribe()
    }

    pub(crate) fn add_listener(&self, listener: Listener) {
        self.listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(listener);
    }

    /// Counts one evaluation of `flag_key` that served `variant` (`None`:
    /// the caller's default).
    #[inline]
    pub(crate) fn count(&self, installed: &Installed, flag_key: &str, variant: Option<&str>) {
        if self.counting && !installed.counters.record(flag_key, variant) {
            self.usage.record_missing(flag_key);
        }
    }
}
