//! The replica's cache of compiled snapshots, one per environment, so
//! evaluation requests never touch the database on the hot path.
//!
//! Each `(project, environment)` has a slot holding the latest
//! [`CachedSnapshot`] in an `arc_swap`: a reader loads one pointer (no
//! lock), a refresh swaps one. The map of slots is itself copy-on-write
//! behind an `ArcSwap`; it changes only when an environment is first read
//! or disappears.
//!
//! Freshness comes two ways:
//! - **This replica's writes**: a handler that commits a change calls
//!   [`SnapshotCache::invalidate`] (or [`SnapshotCache::invalidate_project`])
//!   right after the commit. The next read of that environment reloads
//!   from the store before answering, so a client that wrote and then
//!   evaluates sees its own write.
//! - **Other replicas' writes**: [`SnapshotCache::run_poller`] reads
//!   [`Store::environment_versions`] every few seconds and reloads every
//!   cached environment that moved on; readers keep the old snapshot until
//!   the new one is swapped in. (The streaming issue adds a Redis doorbell
//!   on top; the poll stays as the safety net.)
//!
//! A miss, or a read after an invalidation, loads under the slot's own
//! async lock: concurrent requests for the same environment wait for one
//! load and compile rather than each doing their own. Compiling runs on
//! the blocking pool (10 000 flags take ~25 ms). When the store fails and
//! an older snapshot is at hand, it is served with a warning rather than
//! failing every SDK, and for [`RETRY_AFTER`] without asking the store
//! again (an outage must not queue every request behind a failing query).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};
use axum::body::Bytes;
use tokio::sync::broadcast;
use tracing::{debug, warn};
use vexil_engine::CompiledSnapshot;
use vexil_proto::Snapshot;

use crate::store::{Store, StoreError, StoreResult};

/// How often replicas poll environment versions unless configured
/// otherwise (`--poll-interval-ms`).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(3);

/// After a reload failed and the last snapshot was served instead, reads
/// serve it without asking the store again for this long, so an outage
/// does not queue every request behind a failing query.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// At most this many compile errors are logged per snapshot version (the
/// count of the rest follows), so one bad import cannot flood the log.
const MAX_LOGGED_ERRORS: usize = 20;

/// One environment's snapshot at one version, compiled for evaluation and
/// serialized for `GET /api/v1/snapshot`, both once per version.
#[derive(Debug)]
pub struct CachedSnapshot {
    project: String,
    version: u64,
    compiled: CompiledSnapshot,
    /// The snapshot as JSON, served as is to every SDK that polls.
    json: Bytes,
    /// The snapshot itself, which SDK streams read objects from to build
    /// patches and snapshot frames.
    source: Arc<Snapshot>,
    /// The slot's generation when the load began: older than the slot's
    /// current generation means a write was committed since (see
    /// [`SnapshotCache::invalidate`]).
    generation: u64,
}

impl CachedSnapshot {
    /// Compiles and serializes `snapshot`.
    pub fn new(project: &str, snapshot: &Snapshot) -> Result<Self, serde_json::Error> {
        Ok(CachedSnapshot {
            project: project.to_owned(),
            version: snapshot.version,
            compiled: CompiledSnapshot::compile(snapshot),
            json: Bytes::from(serde_json::to_vec(snapshot)?),
            source: Arc::new(snapshot.clone()),
            generation: 0,
        })
    }

    pub fn project(&self) -> &str {
        &self.project
    }

    pub fn environment(&self) -> &str {
        self.compiled.environment()
    }

    /// The environment version this snapshot was taken at.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// For evaluation and explain.
    pub fn compiled(&self) -> &CompiledSnapshot {
        &self.compiled
    }

    /// The snapshot JSON (`{environment, version, flags, segments}`).
    pub fn json(&self) -> &Bytes {
        &self.json
    }

    /// The snapshot as loaded, for SDK streams.
    pub fn source(&self) -> &Arc<Snapshot> {
        &self.source
    }
}

/// A snapshot this replica installed: what the streaming issue's
/// subscribers (and tests) wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub project: String,
    pub environment: String,
    pub version: u64,
}

/// The cache. Cheap to clone (one `Arc`); one per replica, in
/// [`crate::AppState`].
///
/// **Write handlers**: after a write commits, call
/// [`invalidate`](Self::invalidate) for a change to one environment (a
/// flag config, a toggle, the environment itself) or
/// [`invalidate_project`](Self::invalidate_project) for a change that
/// reaches all of a project's environments (a flag definition, a segment,
/// deleting the project or an environment). Without it, this replica would
/// serve the old flags until its next poll.
#[derive(Debug, Clone)]
pub struct SnapshotCache {
    inner: Arc<Inner>,
}

type Slots = HashMap<String, HashMap<String, Arc<Slot>>>;

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    /// Copy-on-write: readers load it without locking; `grow` serializes
    /// the rare writers.
    slots: ArcSwap<Slots>,
    grow: Mutex<()>,
    installed: broadcast::Sender<Installed>,
}

#[derive(Debug, Default)]
struct Slot {
    current: ArcSwapOption<CachedSnapshot>,
    /// Bumped by every invalidation: a snapshot whose load began at an
    /// older generation may predate a committed write.
    generation: AtomicU64,
    /// One load at a time per environment; the others wait for its result.
    load: tokio::sync::Mutex<()>,
    /// The version whose compile errors were logged, so a reload of the
    /// same version does not log them again.
    logged: AtomicU64,
    /// Set when a reload failed and the last snapshot stood in: until
    /// then, reads take the last snapshot without trying again.
    retry_at: Mutex<Option<tokio::time::Instant>>,
}

impl Slot {
    /// The current snapshot if no write was committed since its load began.
    fn fresh(&self) -> Option<Arc<CachedSnapshot>> {
        let current = self.current.load_full()?;
        (current.generation == self.generation.load(Ordering::Acquire)).then_some(current)
    }

    /// The last snapshot, while a failed reload's back-off lasts.
    fn backing_off(&self) -> Option<Arc<CachedSnapshot>> {
        let retry_at = *self.retry_at.lock().unwrap_or_else(PoisonError::into_inner);
        match retry_at {
            Some(at) if tokio::time::Instant::now() < at => self.current.load_full(),
            _ => None,
        }
    }

    fn set_retry_at(&self, at: Option<tokio::time::Instant>) {
        *self.retry_at.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }
}

impl SnapshotCache {
    pub fn new(store: Arc<dyn Store>) -> Self {
        SnapshotCache {
            inner: Arc::new(Inner {
                store,
                slots: ArcSwap::default(),
                grow: Mutex::new(()),
                installed: broadcast::channel(256).0,
            }),
        }
    }

    /// The environment's current snapshot: from memory, or loaded and
    /// compiled when this replica has none yet or committed a write to it
    /// since. `NotFound` when the environment does not exist.
    pub async fn get(&self, project: &str, environment: &str) -> StoreResult<Arc<CachedSnapshot>> {
        if let Some(slot) = self.existing_slot(project, environment) {
            if let Some(snapshot) = slot.fresh().or_else(|| slot.backing_off()) {
                return Ok(snapshot);
            }
            return self.load(&slot, project, environment, None).await;
        }
        let slot = self.slot(project, environment);
        self.load(&slot, project, environment, None).await
    }

    /// Marks one environment's snapshot out of date: the next read reloads
    /// it from the store. Call it after committing a change to that
    /// environment.
    pub fn invalidate(&self, project: &str, environment: &str) {
        if let Some(slot) = self.existing_slot(project, environment) {
            slot.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Marks every environment of a project out of date. Call it after a
    /// change that bumps all of them (flag definitions, segments) or
    /// removes some (deleting an environment or the project).
    pub fn invalidate_project(&self, project: &str) {
        if let Some(environments) = self.inner.slots.load().get(project) {
            for slot in environments.values() {
                slot.generation.fetch_add(1, Ordering::AcqRel);
            }
        }
    }

    /// Tells about every snapshot installed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Installed> {
        self.inner.installed.subscribe()
    }

    /// One poll: reads every environment's version and reloads the cached
    /// environments that moved on (readers keep the old snapshot until the
    /// new one is in); forgets environments that no longer exist. Returns
    /// how many snapshots were reloaded.
    pub async fn poll_once(&self) -> StoreResult<usize> {
        let versions = self.inner.store.environment_versions().await?;
        let latest: HashMap<(&str, &str), u64> = versions
            .iter()
            .map(|(p, e, v)| ((p.as_str(), e.as_str()), *v))
            .collect();
        let cached: Vec<(String, String, Arc<Slot>)> = self
            .inner
            .slots
            .load()
            .iter()
            .flat_map(|(p, envs)| {
                envs.iter()
                    .map(move |(e, slot)| (p.clone(), e.clone(), Arc::clone(slot)))
            })
            .collect();
        let mut reloaded = 0;
        for (project, environment, slot) in cached {
            match latest.get(&(project.as_str(), environment.as_str())) {
                None => self.forget(&project, &environment),
                Some(&version) => {
                    let behind = slot
                        .current
                        .load()
                        .as_ref()
                        .is_some_and(|s| s.version < version);
                    if !behind {
                        continue;
                    }
                    match self
                        .load(&slot, &project, &environment, Some(version))
                        .await
                    {
                        Ok(_) => reloaded += 1,
                        Err(err) => {
                            warn!(%project, %environment, error = %err, "could not refresh the snapshot")
                        }
                    }
                }
            }
        }
        Ok(reloaded)
    }

    /// Polls every `every` until `stop` completes. The first poll is one
    /// interval after the start; a poll that fails is logged and retried at
    /// the next tick. Uses tokio's clock, so tests drive it with
    /// `tokio::time::pause()` and `advance()`.
    pub async fn run_poller(&self, every: Duration, stop: impl Future<Output = ()>) {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => break,
                _ = ticks.tick() => {
                    match self.poll_once().await {
                        Ok(0) => {}
                        Ok(n) => debug!(reloaded = n, "environment versions polled"),
                        Err(err) => warn!(error = %err, "could not poll environment versions"),
                    }
                }
            }
        }
    }

    fn existing_slot(&self, project: &str, environment: &str) -> Option<Arc<Slot>> {
        self.inner
            .slots
            .load()
            .get(project)
            .and_then(|envs| envs.get(environment))
            .cloned()
    }

    /// The slot, created (copy-on-write) if missing.
    fn slot(&self, project: &str, environment: &str) -> Arc<Slot> {
        let _grow = self
            .inner
            .grow
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = self.existing_slot(project, environment) {
            return slot;
        }
        let slot = Arc::new(Slot::default());
        let mut slots = Slots::clone(&self.inner.slots.load());
        slots
            .entry(project.to_owned())
            .or_default()
            .insert(environment.to_owned(), Arc::clone(&slot));
        self.inner.slots.store(Arc::new(slots));
        slot
    }

    /// Drops an environment that no longer exists.
    fn forget(&self, project: &str, environment: &str) {
        let _grow = self
            .inner
            .grow
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut slots = Slots::clone(&self.inner.slots.load());
        let Some(envs) = slots.get_mut(project) else {
            return;
        };
        if envs.remove(environment).is_none() {
            return;
        }
        if envs.is_empty() {
            slots.remove(project);
        }
        self.inner.slots.store(Arc::new(slots));
    }

    /// Loads and installs the environment's snapshot, once for all the
    /// requests waiting on it. `at_least`: a poll's target version (the
    /// load is skipped if someone else got there first); `None`: load
    /// unless the slot became fresh while waiting.
    async fn load(
        &self,
        slot: &Slot,
        project: &str,
        environment: &str,
        at_least: Option<u64>,
    ) -> StoreResult<Arc<CachedSnapshot>> {
        let _loading = slot.load.lock().await;
        match at_least {
            None => {
                if let Some(snapshot) = slot.fresh().or_else(|| slot.backing_off()) {
                    return Ok(snapshot);
                }
            }
            Some(version) => {
                if let Some(current) = slot.current.load_full()
                    && current.version >= version
                {
                    return Ok(current);
                }
            }
        }
        let generation = slot.generation.load(Ordering::Acquire);
        let snapshot = match self.inner.store.snapshot(project, environment).await {
            Ok(snapshot) => snapshot,
            Err(StoreError::NotFound(what)) => {
                self.forget(project, environment);
                return Err(StoreError::NotFound(what));
            }
            Err(err) => {
                return match slot.current.load_full() {
                    Some(stale) => {
                        warn!(%project, %environment, version = stale.version, error = %err,
                            "could not load the snapshot; serving the last one");
                        slot.set_retry_at(Some(tokio::time::Instant::now() + RETRY_AFTER));
                        Ok(stale)
                    }
                    None => Err(err),
                };
            }
        };
        let owned_project = project.to_owned();
        let compiled =
            tokio::task::spawn_blocking(move || CachedSnapshot::new(&owned_project, &snapshot))
                .await
                .map_err(|err| {
                    StoreError::Corrupt(format!("compiling the snapshot failed: {err}"))
                })?
                .map_err(|err| {
                    StoreError::Corrupt(format!("the snapshot does not serialize: {err}"))
                })?;
        let compiled = Arc::new(CachedSnapshot {
            generation,
            ..compiled
        });
        self.log_errors(slot, &compiled);
        slot.current.store(Some(Arc::clone(&compiled)));
        slot.set_retry_at(None);
        let _ = self.inner.installed.send(Installed {
            project: project.to_owned(),
            environment: environment.to_owned(),
            version: compiled.version,
        });
        debug!(%project, %environment, version = compiled.version, "snapshot installed");
        Ok(compiled)
    }

    /// Warns about flags that failed to compile, once per version; says
    /// whether it did.
    fn log_errors(&self, slot: &Slot, snapshot: &CachedSnapshot) -> bool {
        let errors = snapshot.compiled.errors();
        if errors.is_empty()
            || slot.logged.swap(snapshot.version, Ordering::AcqRel) == snapshot.version
        {
            return false;
        }
        for error in errors.iter().take(MAX_LOGGED_ERRORS) {
            warn!(project = %snapshot.project, environment = %snapshot.environment(),
                version = snapshot.version, flag = %error.key, problem = %error.problem,
                "flag failed to compile; it evaluates to ERROR/PARSE_ERROR");
        }
        if errors.len() > MAX_LOGGED_ERRORS {
            warn!(project = %snapshot.project, environment = %snapshot.environment(),
                version = snapshot.version, more = errors.len() - MAX_LOGGED_ERRORS,
                "more flags failed to compile");
        }
        true
    }
}

#[cfg(test)]
mod tests;

/// Middleware: after a successful write under `/api/v1/projects/{p}/…`,
/// drops this replica's snapshots of project `p`, so the writer's next
/// evaluation on this replica sees its own change at once (other replicas
/// pick it up from the version poller). One place for every write handler,
/// present and future.
pub async fn invalidate_after_write(
    axum::extract::State(cache): axum::extract::State<SnapshotCache>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = request.method().clone();
    let project = request
        .uri()
        .path()
        .strip_prefix("/api/v1/projects/")
        .and_then(|rest| rest.split('/').next())
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    let response = next.run(request).await;
    let write = !matches!(
        method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if write
        && response.status().is_success()
        && let Some(project) = project
    {
        cache.invalidate_project(&project);
    }
    response
}
