//! One environment's feed: its current snapshot frame, a ring of recent
//! patch frames, and the connections subscribed to it.
//!
//! Publishing hands each new frame to every subscriber's bounded queue
//! with `try_send`, never waiting: a full queue marks that subscriber for
//! a resync (its writer drops what is queued and sends one fresh
//! snapshot), so one slow client never slows the others.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use tokio::sync::{mpsc, watch};

use super::frames::{PatchFrame, SnapshotFrame};
use crate::snapshots::CachedSnapshot;

/// What a connection's writer is told besides its frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// Nothing to do.
    Live,
    /// Its queue overflowed: drop the queue, send the current snapshot.
    Resync,
    /// Close with this code and reason (revoked key, deleted environment).
    Close(u16, String),
    /// The server shuts down: send `goodbye` with this hint, close 1012.
    Goodbye(u64),
}

impl Signal {
    /// Later signals only ever raise the stakes: a close is not undone by
    /// a resync.
    fn rank(&self) -> u8 {
        match self {
            Signal::Live => 0,
            Signal::Resync => 1,
            Signal::Close(..) | Signal::Goodbye(_) => 2,
        }
    }
}

/// Clears a handled resync (without waking the connection again).
pub fn resynced(control: &watch::Sender<Signal>) {
    control.send_if_modified(|current| {
        if *current == Signal::Resync {
            *current = Signal::Live;
        }
        false
    });
}

/// Raises `signal` on a connection unless it already has a stronger one.
pub fn raise(control: &watch::Sender<Signal>, signal: Signal) {
    control.send_if_modified(|current| {
        if signal.rank() > current.rank() || (signal == Signal::Resync && *current == Signal::Live)
        {
            *current = signal;
            true
        } else {
            false
        }
    });
}

#[derive(Debug)]
struct Subscriber {
    /// The SDK key's id, so revoking it finds its connections.
    key_id: String,
    frames: mpsc::Sender<PatchFrame>,
    control: Arc<watch::Sender<Signal>>,
}

/// Where a new subscriber starts.
#[derive(Debug)]
pub enum Start {
    /// New, unknown or future version: the snapshot.
    Snapshot(Arc<SnapshotFrame>),
    /// Patches from the ring (possibly none: already up to date).
    Patches(u64, Vec<PatchFrame>),
    /// Older than the ring: read the change log from `since` up to
    /// `snapshot`'s version.
    FromLog {
        since: u64,
        snapshot: Arc<CachedSnapshot>,
        frame: Arc<SnapshotFrame>,
    },
}

/// A subscription: frames to send, signals, and where to start.
#[derive(Debug)]
pub struct Subscription {
    pub id: u64,
    pub frames: mpsc::Receiver<PatchFrame>,
    pub control: watch::Receiver<Signal>,
    /// For the connection to clear a handled [`Signal::Resync`].
    pub signals: Arc<watch::Sender<Signal>>,
    pub start: Start,
}

#[derive(Debug)]
struct State {
    version: u64,
    current: Arc<CachedSnapshot>,
    ring: VecDeque<PatchFrame>,
    subscribers: HashMap<u64, Subscriber>,
    next_id: u64,
}

/// One environment's feed. Shared by the hub (which publishes) and every
/// connection to the environment (which read the snapshot frame).
#[derive(Debug)]
pub struct Feed {
    pub project: String,
    pub environment: String,
    ring_capacity: usize,
    queue_capacity: usize,
    /// The latest snapshot frame, for new clients and resyncs.
    snapshot: ArcSwap<SnapshotFrame>,
    state: Mutex<State>,
    /// One catch-up at a time, so patches are published in order.
    pub(super) catching_up: tokio::sync::Mutex<()>,
    /// Connections holding this feed (from before their `hello` until
    /// they end); the hub forgets a feed only when none does.
    pub(super) pins: std::sync::atomic::AtomicUsize,
}

impl Feed {
    pub fn new(current: Arc<CachedSnapshot>, ring_capacity: usize, queue_capacity: usize) -> Self {
        let frame = SnapshotFrame::from_cached(&current);
        Feed {
            project: current.project().to_owned(),
            environment: current.environment().to_owned(),
            ring_capacity,
            queue_capacity: queue_capacity.max(1),
            snapshot: ArcSwap::from_pointee(frame),
            state: Mutex::new(State {
                version: current.version(),
                current,
                ring: VecDeque::new(),
                subscribers: HashMap::new(),
                next_id: 0,
            }),
            catching_up: tokio::sync::Mutex::new(()),
            pins: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The version the feed has published up to.
    pub fn version(&self) -> u64 {
        self.state().version
    }

    /// The current snapshot frame.
    pub fn snapshot_frame(&self) -> Arc<SnapshotFrame> {
        self.snapshot.load_full()
    }

    /// How many connections are subscribed.
    pub fn subscribers(&self) -> usize {
        self.state().subscribers.len()
    }

    /// Subscribes a connection that holds `since` (if anything). It gets
    /// every frame published from now on, and a [`Start`] that bridges
    /// `since` to the current version.
    pub fn join(&self, key_id: &str, since: Option<u64>) -> Subscription {
        let (tx, frames) = mpsc::channel(self.queue_capacity);
        let (control_tx, control) = watch::channel(Signal::Live);
        let control_tx = Arc::new(control_tx);
        let mut state = self.state();
        let id = state.next_id;
        state.next_id += 1;
        state.subscribers.insert(
            id,
            Subscriber {
                key_id: key_id.to_owned(),
                frames: tx,
                control: Arc::clone(&control_tx),
            },
        );
        let start = match since {
            Some(since) if since >= 1 && since == state.version => Start::Patches(since, vec![]),
            Some(since) if since >= 1 && since < state.version => {
                match state.ring.iter().position(|f| f.from == since) {
                    Some(at) => {
                        Start::Patches(since, state.ring.iter().skip(at).cloned().collect())
                    }
                    None => Start::FromLog {
                        since,
                        snapshot: Arc::clone(&state.current),
                        frame: self.snapshot_frame(),
                    },
                }
            }
            _ => Start::Snapshot(self.snapshot_frame()),
        };
        Subscription {
            id,
            frames,
            control,
            signals: control_tx,
            start,
        }
    }

    /// Unsubscribes a connection that ended.
    pub fn leave(&self, id: u64) {
        self.state().subscribers.remove(&id);
    }

    /// Publishes `frames` (contiguous from the feed's version) and moves
    /// the feed to `current`. With no frames but a newer snapshot (the
    /// change log did not cover the gap), every subscriber resyncs.
    /// Returns how many subscribers overflowed.
    pub fn publish(&self, frames: Vec<PatchFrame>, current: Arc<CachedSnapshot>) -> usize {
        let frame = Arc::new(SnapshotFrame::from_cached(&current));
        let mut state = self.state();
        if current.version() <= state.version {
            return 0;
        }
        let contiguous = frames.first().is_some_and(|f| f.from == state.version)
            && frames.last().is_some_and(|f| f.to == current.version());
        self.snapshot.store(frame);
        state.version = current.version();
        state.current = current;
        if !contiguous {
            state.ring.clear();
            for subscriber in state.subscribers.values() {
                raise(&subscriber.control, Signal::Resync);
            }
            return 0;
        }
        for frame in &frames {
            if state.ring.len() == self.ring_capacity {
                state.ring.pop_front();
            }
            if self.ring_capacity > 0 {
                state.ring.push_back(frame.clone());
            }
        }
        let mut overflowed = 0;
        state.subscribers.retain(|_, subscriber| {
            for frame in &frames {
                match subscriber.frames.try_send(frame.clone()) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        overflowed += 1;
                        raise(&subscriber.control, Signal::Resync);
                        break;
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => return false,
                }
            }
            true
        });
        overflowed
    }

    /// Raises the signal `pick` chooses (by SDK key id) on each
    /// connection; returns on how many.
    pub fn signal(&self, pick: impl Fn(&str) -> Option<Signal>) -> usize {
        let state = self.state();
        let mut count = 0;
        for subscriber in state.subscribers.values() {
            if let Some(signal) = pick(&subscriber.key_id) {
                raise(&subscriber.control, signal);
                count += 1;
            }
        }
        count
    }

    /// The distinct SDK keys connected, for the revocation check.
    pub fn key_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .state()
            .subscribers
            .values()
            .map(|s| s.key_id.clone())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}
