//! The doorbell between replicas: after a commit, a replica publishes
//! `{project, environment, version}` on a Redis channel; every replica
//! listening catches that environment up from the database.
//!
//! Redis is only a doorbell: notices carry no flag data, and a lost one
//! (Redis down, a reconnect) only delays an update until the replica's
//! next version poll. Both directions reconnect by themselves: the
//! listener resubscribes with a capped back-off, the publisher reconnects
//! on its next notice. Without `--redis-url` the doorbell is local: a
//! replica's own writes catch its feeds up directly, and there is no one
//! else to tell.

use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

/// The Redis channel notices travel on.
pub const CHANNEL: &str = "vexil:changes";

/// Longest wait between two attempts to resubscribe.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Redis round trips give up after this, so a dead Redis never holds up
/// the replica.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// "Environment `environment` of `project` reached `version`."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub project: String,
    pub environment: String,
    pub version: u64,
}

/// Local (a single replica) or shared through Redis.
#[derive(Debug)]
pub enum Doorbell {
    Local,
    Redis(RedisDoorbell),
}

/// The Redis doorbell: a client, and the publishing connection once made.
#[derive(Debug)]
pub struct RedisDoorbell {
    client: redis::Client,
    publisher: tokio::sync::Mutex<Option<MultiplexedConnection>>,
}

impl Doorbell {
    /// The Redis doorbell at `url` (nothing connects until used).
    pub fn redis(url: &str) -> Result<Self, redis::RedisError> {
        Ok(Doorbell::Redis(RedisDoorbell {
            client: redis::Client::open(url)?,
            publisher: tokio::sync::Mutex::new(None),
        }))
    }

    /// Whether other replicas may be listening.
    pub fn is_shared(&self) -> bool {
        matches!(self, Doorbell::Redis(_))
    }

    /// Tells the other replicas (best effort: a failure only logs).
    pub async fn ring(&self, notice: &Notice) {
        let Doorbell::Redis(redis) = self else {
            return;
        };
        let Ok(payload) = serde_json::to_string(notice) else {
            return;
        };
        // A connection from before a Redis restart fails once: retry on a
        // new one before giving the notice up to the poll.
        for attempt in 0..2 {
            match redis.publish(&payload).await {
                Ok(()) => return,
                Err(err) if attempt == 1 => {
                    warn!(error = %err, "could not ring the doorbell; other replicas see the change at their next poll");
                }
                Err(_) => {}
            }
        }
    }

    /// Notices from every replica (this one's included), from a listener
    /// that keeps resubscribing; `None` for the local doorbell.
    pub fn listen(&self) -> Option<mpsc::Receiver<Notice>> {
        let Doorbell::Redis(redis) = self else {
            return None;
        };
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(subscribe(redis.client.clone(), tx));
        Some(rx)
    }
}

impl RedisDoorbell {
    async fn publish(&self, payload: &str) -> redis::RedisResult<()> {
        let mut publisher = self.publisher.lock().await;
        if publisher.is_none() {
            let config = redis::AsyncConnectionConfig::new()
                .set_connection_timeout(REDIS_TIMEOUT)
                .set_response_timeout(REDIS_TIMEOUT);
            let connection = self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            *publisher = Some(connection);
        }
        let Some(connection) = publisher.as_mut() else {
            return Ok(());
        };
        let published: redis::RedisResult<i64> = connection.publish(CHANNEL, payload).await;
        if published.is_err() {
            *publisher = None;
        }
        published.map(|_| ())
    }
}

/// Subscribes, forwards notices, and resubscribes after any loss, until
/// the receiver is gone.
async fn subscribe(client: redis::Client, notices: mpsc::Sender<Notice>) {
    let mut backoff = Duration::from_millis(100);
    let mut lost = false;
    while !notices.is_closed() {
        match tokio::time::timeout(REDIS_TIMEOUT, client.get_async_pubsub()).await {
            Ok(Ok(mut pubsub)) => {
                if pubsub.subscribe(CHANNEL).await.is_ok() {
                    if lost {
                        info!("doorbell listener resubscribed to Redis");
                    }
                    backoff = Duration::from_millis(100);
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        let notice = message
                            .get_payload::<String>()
                            .ok()
                            .and_then(|payload| serde_json::from_str::<Notice>(&payload).ok());
                        match notice {
                            Some(notice) => {
                                if notices.send(notice).await.is_err() {
                                    return;
                                }
                            }
                            None => debug!("ignored a malformed doorbell notice"),
                        }
                    }
                    warn!(
                        "doorbell listener lost Redis; resubscribing (changes still arrive by polling)"
                    );
                    lost = true;
                }
            }
            Ok(Err(err)) => debug!(error = %err, "doorbell listener cannot reach Redis"),
            Err(_) => debug!("doorbell listener timed out reaching Redis"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
