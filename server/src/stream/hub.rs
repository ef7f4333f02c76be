//! [`Streams`]: the replica's SDK streams. It keeps one [`Feed`] per
//! environment someone is subscribed to, turns committed changes into
//! patch frames (serialized once per environment), and closes streams
//! whose key was revoked or whose environment was deleted.
//!
//! A feed catches up (reads the new snapshot and the change log since its
//! version) whenever the snapshot cache installs a newer version, which
//! happens after this replica's writes ([`Streams::committed`]), on a
//! doorbell notice from another replica ([`Streams::noticed`]), and on the
//! cache's version poll (the safety net when a notice is lost). Feeds no
//! connection holds are forgotten at the next key check.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::ws::WebSocket;
use futures_util::StreamExt;
use rand::Rng;
use tokio::sync::{broadcast, mpsc, watch};
use tracing::{info, warn};
use vexil_proto::wire::CLOSE_KEY_REVOKED;

use super::config::StreamConfig;
use super::connection::{self, CLOSE_RESTART, Session};
use super::doorbell::{Doorbell, Notice};
use super::feed::{Feed, Signal};
use super::frames::PatchFrame;
use super::{metrics, patches};
use crate::auth::{AuthError, SdkKey};
use crate::snapshots::SnapshotCache;
use crate::store::{Store, StoreError};

/// Close code when the server cannot load the environment right now.
const CLOSE_UNAVAILABLE: u16 = 1011;

/// Project wake-ups a slow live feed may fall behind by before it is told
/// it lagged (and then reads its project's log anyway).
const CHANGED_CAPACITY: usize = 256;

/// The replica's SDK streams. Cheap to clone; one per replica, in
/// [`crate::AppState`].
#[derive(Debug, Clone)]
pub struct Streams {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    cache: SnapshotCache,
    config: Arc<StreamConfig>,
    feeds: Mutex<HashMap<(String, String), Arc<Feed>>>,
    doorbell: Doorbell,
    /// Open connections, so shutdown can wait for their goodbyes.
    live: watch::Sender<usize>,
    draining: AtomicBool,
    /// "Project `p` may have new changes": rung on this replica's commits,
    /// doorbell notices and the cache's version poll, for the UI's live
    /// feed (`api::live`), which reads the change log to see what.
    changed: broadcast::Sender<String>,
    /// Set at shutdown, so the UI's open live feeds end and the graceful
    /// shutdown does not wait on them forever.
    stopping: watch::Sender<bool>,
}

/// A connection's hold on its feed (see [`Streams::prune`]).
struct Pinned(Arc<Feed>);

impl Drop for Pinned {
    fn drop(&mut self) {
        self.0.pins.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Counts a connection while it lives.
struct Live(watch::Sender<usize>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Streams {
    pub fn new(
        store: Arc<dyn Store>,
        cache: SnapshotCache,
        config: StreamConfig,
        doorbell: Doorbell,
    ) -> Self {
        Streams {
            inner: Arc::new(Inner {
                store,
                cache,
                config: Arc::new(config),
                feeds: Mutex::default(),
                doorbell,
                live: watch::channel(0).0,
                draining: AtomicBool::new(false),
                changed: broadcast::channel(CHANGED_CAPACITY).0,
                stopping: watch::channel(false).0,
            }),
        }
    }

    pub fn config(&self) -> &StreamConfig {
        &self.inner.config
    }

    /// Keys of projects that may have new changes, from now on (a lagging
    /// receiver should assume every project changed).
    pub fn project_changes(&self) -> broadcast::Receiver<String> {
        self.inner.changed.subscribe()
    }

    /// Becomes `true` when the replica shuts down.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.inner.stopping.subscribe()
    }

    /// Wakes the live feeds of `project` (nobody listening is fine).
    fn ring_project(&self, project: &str) {
        let _ = self.inner.changed.send(project.to_owned());
    }

    fn feeds(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Arc<Feed>>> {
        self.inner
            .feeds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn all_feeds(&self) -> Vec<Arc<Feed>> {
        self.feeds().values().cloned().collect()
    }

    fn existing(&self, project: &str, environment: &str) -> Option<Arc<Feed>> {
        self.feeds()
            .get(&(project.to_owned(), environment.to_owned()))
            .cloned()
    }

    /// The environment's feed, made from its current snapshot if new,
    /// pinned (under the map's lock) so [`Streams::prune`] keeps it.
    async fn pinned_feed(&self, project: &str, environment: &str) -> Result<Pinned, StoreError> {
        let key = (project.to_owned(), environment.to_owned());
        let pin = |feed: &Arc<Feed>| {
            feed.pins.fetch_add(1, Ordering::AcqRel);
            Pinned(Arc::clone(feed))
        };
        if let Some(feed) = self.feeds().get(&key) {
            return Ok(pin(feed));
        }
        let current = self.inner.cache.get(project, environment).await?;
        let config = &self.inner.config;
        let feed = Arc::new(Feed::new(
            current,
            config.ring_capacity,
            config.queue_capacity,
        ));
        Ok(pin(self.feeds().entry(key).or_insert(feed)))
    }

    /// Forgets the feeds no connection holds, so a replica keeps (and
    /// catches up) only the environments someone is streaming. A feed
    /// made again later starts from the current snapshot; clients resume
    /// from the change log.
    pub fn prune(&self) {
        self.feeds()
            .retain(|_, feed| feed.pins.load(Ordering::Acquire) > 0);
    }

    /// Serves one upgraded WebSocket whose credentials were checked as
    /// `key`: refusals close with 4401/4403.
    pub async fn serve(&self, socket: WebSocket, key: Result<SdkKey, AuthError>) {
        self.inner.live.send_modify(|n| *n += 1);
        let _live = Live(self.inner.live.clone());
        let (mut sink, stream) = socket.split();
        let config = &self.inner.config;
        let key = match key {
            Ok(key) => key,
            Err(err) => {
                connection::close(&mut sink, err.close_code(), &err.to_string(), config).await;
                return;
            }
        };
        if self.inner.draining.load(Ordering::Acquire) {
            connection::close(&mut sink, CLOSE_RESTART, "server restarting", config).await;
            return;
        }
        let pinned = match self.pinned_feed(key.project(), key.environment()).await {
            Ok(pinned) => pinned,
            Err(StoreError::NotFound(_)) => {
                let reason = "the key's environment no longer exists";
                connection::close(&mut sink, CLOSE_KEY_REVOKED, reason, config).await;
                return;
            }
            Err(err) => {
                warn!(error = %err, "could not load the environment for a stream");
                let reason = "the server cannot load flags right now";
                connection::close(&mut sink, CLOSE_UNAVAILABLE, reason, config).await;
                return;
            }
        };
        let feed = Arc::clone(&pinned.0);
        let session = Session {
            feed: Arc::clone(&feed),
            store: Arc::clone(&self.inner.store),
            config: Arc::clone(config),
            key_id: key.id().to_owned(),
        };
        metrics::connected(&feed.project, &feed.environment, 1.0);
        connection::serve(sink, stream, session).await;
        metrics::connected(&feed.project, &feed.environment, -1.0);
        drop(pinned);
    }

    /// Brings a feed up to the environment's current version: one patch
    /// frame per change since the feed's version, or (when the change log
    /// does not cover the gap) a resync of every subscriber.
    pub async fn catch_up(&self, feed: &Arc<Feed>) {
        let _one = feed.catching_up.lock().await;
        let (project, environment) = (&feed.project, &feed.environment);
        let current = match self.inner.cache.get(project, environment).await {
            Ok(current) => current,
            Err(StoreError::NotFound(_)) => {
                self.environment_deleted(project, environment);
                return;
            }
            Err(err) => {
                warn!(%project, %environment, error = %err, "stream could not load the snapshot");
                return;
            }
        };
        let from = feed.version();
        if current.version() <= from {
            return;
        }
        let frames = match self
            .inner
            .store
            .changes_since(project, environment, from)
            .await
        {
            Ok(changes) => patches::from_changes(from, &changes, current.source())
                .map(|patches| patches.iter().map(PatchFrame::new).collect())
                .unwrap_or_default(),
            Err(err) => {
                warn!(%project, %environment, error = %err, "stream could not read the change log; subscribers get a snapshot");
                Vec::new()
            }
        };
        let overflowed = feed.publish(frames, current);
        if overflowed > 0 {
            info!(%project, %environment, overflowed, "slow stream consumers get a snapshot");
        }
    }

    /// After this replica committed config changes outside a write request
    /// (a kill switch tripping, a rollout plan moving; requests have the
    /// `notify_after_write` middleware): drop the cached snapshots of those
    /// `(project, environment)`s, then [`Streams::committed`] once per project.
    pub fn configs_committed<'a>(&self, changed: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let mut projects: Vec<&str> = Vec::new();
        for (project, environment) in changed {
            self.inner.cache.invalidate(project, environment);
            if !projects.contains(&project) {
                projects.push(project);
            }
        }
        for project in projects {
            self.committed(project);
        }
    }

    /// After this replica committed a write to `project`: catch its feeds
    /// up and ring the other replicas' doorbell.
    pub fn committed(&self, project: &str) {
        self.ring_project(project);
        let streams = self.clone();
        let project = project.to_owned();
        tokio::spawn(async move {
            let feeds: Vec<Arc<Feed>> = streams
                .all_feeds()
                .into_iter()
                .filter(|feed| feed.project == project)
                .collect();
            for feed in &feeds {
                streams.catch_up(feed).await;
            }
            if streams.inner.doorbell.is_shared() {
                match streams.inner.store.environment_versions().await {
                    Ok(versions) => {
                        let notices = versions.into_iter().filter(|(p, _, _)| *p == project).map(
                            |(project, environment, version)| Notice {
                                project,
                                environment,
                                version,
                            },
                        );
                        for notice in notices {
                            streams.inner.doorbell.ring(&notice).await;
                        }
                    }
                    Err(err) => warn!(error = %err, "could not read versions to ring the doorbell"),
                }
            }
        });
    }

    /// Another replica committed `notice`: catch up if this one is behind.
    pub async fn noticed(&self, notice: &Notice) {
        let Some(feed) = self.existing(&notice.project, &notice.environment) else {
            return;
        };
        if feed.version() < notice.version {
            self.inner
                .cache
                .invalidate(&notice.project, &notice.environment);
            self.catch_up(&feed).await;
        }
    }

    /// Closes the live streams of a revoked SDK key with 4403.
    pub fn revoke_key(&self, id: &str) -> usize {
        let signal = Signal::Close(CLOSE_KEY_REVOKED, "SDK key revoked".into());
        self.all_feeds()
            .iter()
            .map(|feed| feed.signal(|key| (key == id).then(|| signal.clone())))
            .sum()
    }

    /// Closes every stream of a deleted environment with 4403.
    pub fn environment_deleted(&self, project: &str, environment: &str) {
        let key = (project.to_owned(), environment.to_owned());
        if let Some(feed) = self.feeds().remove(&key) {
            let signal = Signal::Close(CLOSE_KEY_REVOKED, "environment deleted".into());
            feed.signal(|_| Some(signal.clone()));
        }
    }

    /// Closes the streams of keys revoked elsewhere (on another replica):
    /// asks the store about each distinct connected key.
    pub async fn check_keys(&self) {
        let ids: Vec<String> = self
            .all_feeds()
            .iter()
            .flat_map(|feed| feed.key_ids())
            .collect();
        for id in ids {
            let revoked = match self.inner.store.get_token(&id).await {
                Ok(record) => record.revoked_at.is_some(),
                Err(StoreError::NotFound(_)) => true,
                Err(_) => false,
            };
            if revoked {
                self.revoke_key(&id);
            }
        }
    }

    /// The background task: catches feeds up when the snapshot cache
    /// installs a newer version and on doorbell notices, and checks
    /// connected keys every `check_every`, until `stop` completes.
    pub async fn run(&self, check_every: Duration, stop: impl Future<Output = ()>) {
        let mut installed = self.inner.cache.subscribe();
        let mut notices = self.inner.doorbell.listen();
        let mut ticks =
            tokio::time::interval_at(tokio::time::Instant::now() + check_every, check_every);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => break,
                event = installed.recv() => match event {
                    Ok(event) => {
                        self.ring_project(&event.project);
                        if let Some(feed) = self.existing(&event.project, &event.environment)
                            && feed.version() < event.version
                        {
                            self.catch_up(&feed).await;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        for feed in self.all_feeds() {
                            self.catch_up(&feed).await;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                Some(notice) = recv(&mut notices) => {
                    self.ring_project(&notice.project);
                    self.noticed(&notice).await;
                }
                _ = ticks.tick() => {
                    self.prune();
                    self.check_keys().await;
                }
            }
        }
    }

    /// Graceful shutdown: every stream gets `goodbye` with a jittered
    /// reconnect hint and closes with 1012; waits (bounded) until they
    /// have.
    pub async fn shutdown(&self) {
        self.inner.draining.store(true, Ordering::Release);
        self.inner.stopping.send_replace(true);
        let (low, high) = self.inner.config.reconnect_after_ms;
        let goodbye = |_: &str| {
            let hint = rand::rng().random_range(low..=high.max(low));
            Some(Signal::Goodbye(hint))
        };
        let mut live = self.inner.live.subscribe();
        let deadline = tokio::time::Instant::now() + self.inner.config.send_timeout * 2;
        let mut told = 0;
        // Signalled again until every stream is gone, so a connection that
        // joined its feed after the first round (its `hello` was in
        // flight) is told too; a stream already told is not told twice.
        loop {
            told = told.max(
                self.all_feeds()
                    .iter()
                    .map(|feed| feed.signal(goodbye))
                    .sum(),
            );
            let round = tokio::time::Instant::now() + Duration::from_millis(100);
            let gone = tokio::time::timeout_at(round.min(deadline), live.wait_for(|n| *n == 0));
            if gone.await.is_ok() || tokio::time::Instant::now() >= deadline {
                break;
            }
        }
        if told > 0 {
            info!(streams = told, "SDK streams told to reconnect elsewhere");
        }
    }
}

async fn recv(notices: &mut Option<mpsc::Receiver<Notice>>) -> Option<Notice> {
    match notices {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use vexil_proto::Snapshot;

    use super::*;
    use crate::store::fake::FakeStore;

    #[tokio::test]
    async fn feeds_are_kept_while_pinned_and_forgotten_after() {
        let store = Arc::new(FakeStore::default());
        store.put(
            "default",
            Snapshot {
                environment: "production".into(),
                version: 3,
                ..Snapshot::default()
            },
        );
        let store: Arc<dyn Store> = store;
        let cache = SnapshotCache::new(Arc::clone(&store));
        let streams = Streams::new(store, cache, StreamConfig::default(), Doorbell::Local);
        let first = streams.pinned_feed("default", "production").await.unwrap();
        let second = streams.pinned_feed("default", "production").await.unwrap();
        assert!(Arc::ptr_eq(&first.0, &second.0), "one feed per environment");
        assert_eq!(first.0.version(), 3);
        drop(first);
        streams.prune();
        assert_eq!(streams.all_feeds().len(), 1, "still pinned once");
        drop(second);
        streams.prune();
        assert!(streams.all_feeds().is_empty());
        assert!(matches!(
            streams.pinned_feed("default", "staging").await,
            Err(StoreError::NotFound(_))
        ));
    }
}
