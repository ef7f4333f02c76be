//! The replica's buffer of evaluation counts: `POST /api/v1/usage` adds to
//! it in memory, and a background task writes it to the store every few
//! seconds (`--usage-flush-interval-ms`) and once more on shutdown, so a
//! report costs the database nothing on the request path.
//!
//! The buffer is sharded by key, each shard a short-held mutex around a map
//! that sums counts per (project, environment, flag, variant, hour) and
//! keeps the latest evaluation time; many SDKs reporting at once rarely
//! touch the same shard. It is bounded: past [`MAX_PENDING`] distinct keys
//! new keys are dropped (and counted) until the next flush empties it. A
//! flush that fails puts its counts back for the next one.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;
use tracing::{debug, warn};

use crate::store::{Store, StoreResult, UsageIncrement, hour_of};

/// How often a replica writes its buffered counts by default.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(5);

/// Distinct keys held between two flushes, at most.
pub const MAX_PENDING: usize = 100_000;

/// Shards of the buffer; a power of two near the core counts servers have.
const SHARDS: usize = 16;

/// What the counts of one entry are added under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    project: String,
    environment: String,
    flag: String,
    variant: Option<String>,
    hour: OffsetDateTime,
}

/// What has been summed for a key since the last flush.
#[derive(Debug, Clone, Copy)]
struct Pending {
    count: u64,
    last_evaluated: OffsetDateTime,
}

/// The buffer; cloning shares it.
#[derive(Debug, Clone)]
pub struct UsageBuffer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    shards: Vec<Mutex<HashMap<Key, Pending>>>,
    hasher: RandomState,
    /// Distinct keys across shards (approximate under races, never far).
    pending: AtomicUsize,
}

/// One entry of a report, already checked against the snapshot.
#[derive(Debug, Clone)]
pub struct Evaluations<'a> {
    pub flag: &'a str,
    pub variant: Option<&'a str>,
    pub count: u64,
}

impl UsageBuffer {
    /// An empty buffer that flushes into `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        UsageBuffer {
            inner: Arc::new(Inner {
                store,
                shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
                hasher: RandomState::new(),
                pending: AtomicUsize::new(0),
            }),
        }
    }

    /// Adds `count` evaluations of `flag` in `project`/`environment`, made
    /// no later than `at`. Returns `false` (nothing added) when the buffer
    /// is full.
    pub fn add(
        &self,
        project: &str,
        environment: &str,
        evaluations: &Evaluations<'_>,
        at: OffsetDateTime,
    ) -> bool {
        let key = Key {
            project: project.to_owned(),
            environment: environment.to_owned(),
            flag: evaluations.flag.to_owned(),
            variant: evaluations.variant.map(str::to_owned),
            hour: hour_of(at),
        };
        let mut shard = self.shard(&key);
        match shard.entry(key) {
            Entry::Occupied(mut held) => {
                let held = held.get_mut();
                held.count = held.count.saturating_add(evaluations.count);
                held.last_evaluated = held.last_evaluated.max(at);
                true
            }
            Entry::Vacant(slot) => {
                if self.inner.pending.fetch_add(1, Ordering::Relaxed) >= MAX_PENDING {
                    self.inner.pending.fetch_sub(1, Ordering::Relaxed);
                    return false;
                }
                slot.insert(Pending {
                    count: evaluations.count,
                    last_evaluated: at,
                });
                true
            }
        }
    }

    /// Writes everything buffered to the store; returns how many
    /// increments were stored (those of flags deleted meanwhile are not).
    /// On failure the counts go back into the buffer.
    pub async fn flush(&self) -> StoreResult<u64> {
        let mut taken = Vec::new();
        for shard in &self.inner.shards {
            let drained = std::mem::take(&mut *lock(shard));
            self.inner
                .pending
                .fetch_sub(drained.len(), Ordering::Relaxed);
            taken.extend(drained);
        }
        if taken.is_empty() {
            return Ok(0);
        }
        let increments: Vec<UsageIncrement> = taken
            .iter()
            .map(|(key, pending)| UsageIncrement {
                project: key.project.clone(),
                environment: key.environment.clone(),
                flag: key.flag.clone(),
                variant: key.variant.clone(),
                hour: key.hour,
                count: pending.count,
                last_evaluated: pending.last_evaluated,
            })
            .collect();
        match self.inner.store.record_usage(&increments).await {
            Ok(stored) => {
                metrics::counter!("usage_flushes_total", "outcome" => "ok").increment(1);
                debug!(stored, buffered = increments.len(), "usage flushed");
                Ok(stored)
            }
            Err(error) => {
                metrics::counter!("usage_flushes_total", "outcome" => "failed").increment(1);
                for (key, pending) in taken {
                    self.put_back(key, pending);
                }
                Err(error)
            }
        }
    }

    /// Flushes every `every` until `stop` completes, then once more, so
    /// counts accepted before shutdown are stored. Failures are logged and
    /// retried at the next tick.
    pub async fn run_flusher(&self, every: Duration, stop: impl Future<Output = ()>) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => break,
                _ = ticks.tick() => {
                    if let Err(error) = self.flush().await {
                        warn!(%error, "could not store evaluation counts; retrying");
                    }
                }
            }
        }
        if let Err(error) = self.flush().await {
            warn!(%error, "could not store evaluation counts on shutdown; they are lost");
        }
    }

    /// Distinct keys waiting for the next flush.
    pub fn pending(&self) -> usize {
        self.inner.pending.load(Ordering::Relaxed)
    }

    fn shard(&self, key: &Key) -> MutexGuard<'_, HashMap<Key, Pending>> {
        let index = self.inner.hasher.hash_one(key) as usize % SHARDS;
        lock(&self.inner.shards[index])
    }

    /// Re-adds what a failed flush took (past the bound or not: it was
    /// accepted already).
    fn put_back(&self, key: Key, pending: Pending) {
        let mut shard = self.shard(&key);
        match shard.entry(key) {
            Entry::Occupied(mut held) => {
                let held = held.get_mut();
                held.count = held.count.saturating_add(pending.count);
                held.last_evaluated = held.last_evaluated.max(pending.last_evaluated);
            }
            Entry::Vacant(slot) => {
                self.inner.pending.fetch_add(1, Ordering::Relaxed);
                slot.insert(pending);
            }
        }
    }
}

/// A shard's map; a panic while holding it cannot leave a map half-written
/// (every update is one insert or one field write), so poisoning is ignored.
fn lock(shard: &Mutex<HashMap<Key, Pending>>) -> MutexGuard<'_, HashMap<Key, Pending>> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
