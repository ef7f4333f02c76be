//! One SDK connection: the `hello` handshake, then a reader task that
//! checks every client frame and a writer loop that sends patches,
//! snapshots, pings and closes.
//!
//! Written over any `Sink`/`Stream` of WebSocket messages, so unit tests
//! drive it with channels on tokio's paused clock.

use std::fmt::Display;
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use tracing::debug;
use vexil_proto::wire::CLOSE_BAD_FRAME;
use vexil_proto::{ClientMessage, ServerMessage};

use super::config::StreamConfig;
use super::feed::{Feed, Signal, Start, Subscription, resynced};
use super::frames::{self, PatchFrame};
use super::{metrics, patches};
use crate::store::Store;

/// Close code of a graceful shutdown ("service restart").
pub const CLOSE_RESTART: u16 = 1012;
/// Close code of a peer that went silent.
pub const CLOSE_SILENT: u16 = 1001;

/// What one connection needs besides its socket.
#[derive(Debug, Clone)]
pub struct Session {
    pub feed: Arc<Feed>,
    /// For resuming from the change log when the ring does not reach back.
    pub store: Arc<dyn Store>,
    pub config: Arc<StreamConfig>,
    /// The SDK key's id, for revocation.
    pub key_id: String,
}

/// What the reader saw.
#[derive(Debug)]
enum Inbound {
    Ping,
    /// Any other valid frame (`pong`, WebSocket-level ping/pong).
    Alive,
    Bad(String),
    Closed,
}

/// Serves one authenticated connection until it closes. Returns the close
/// code sent (if any), for metrics and tests.
pub async fn serve<W, R, E>(mut sink: W, mut stream: R, session: Session) -> Option<u16>
where
    W: Sink<Message> + Unpin + Send,
    W::Error: Display,
    R: Stream<Item = Result<Message, E>> + Unpin + Send + 'static,
    E: Display + Send + 'static,
{
    let config = Arc::clone(&session.config);
    let since = match timeout(config.hello_timeout, stream.next()).await {
        Ok(Some(Ok(message))) => match hello(message) {
            Ok(since) => since,
            Err(problem) => return close(&mut sink, CLOSE_BAD_FRAME, &problem, &config).await,
        },
        Ok(Some(Err(err))) => {
            let problem = format!("unreadable frame: {err}");
            return close(&mut sink, CLOSE_BAD_FRAME, &problem, &config).await;
        }
        Ok(None) => return None,
        Err(_) => {
            let problem = "no hello within the handshake timeout";
            return close(&mut sink, CLOSE_BAD_FRAME, problem, &config).await;
        }
    };
    let subscription = session.feed.join(&session.key_id, since);
    let id = subscription.id;
    let (inbound_tx, inbound) = mpsc::channel(16);
    let reader = tokio::spawn(read(stream, inbound_tx));
    let code = Writer {
        sink,
        session: &session,
        at: 0,
    }
    .run(subscription, inbound)
    .await;
    reader.abort();
    session.feed.leave(id);
    code
}

/// The `since_version` of a `hello`, or why the frame is not one.
fn hello(message: Message) -> Result<Option<u64>, String> {
    match message {
        Message::Text(text) => match serde_json::from_str::<ClientMessage>(text.as_str()) {
            Ok(ClientMessage::Hello { since_version, .. }) => Ok(since_version),
            Ok(_) => Err("the first frame must be hello".into()),
            Err(err) => Err(format!("not a valid frame: {err}")),
        },
        Message::Binary(_) => Err("binary frames are not part of the protocol".into()),
        _ => Err("the first frame must be hello".into()),
    }
}

/// Reads client frames until the connection ends or a frame is bad.
async fn read<R, E>(mut stream: R, inbound: mpsc::Sender<Inbound>)
where
    R: Stream<Item = Result<Message, E>> + Unpin,
    E: Display,
{
    loop {
        let event = match stream.next().await {
            None | Some(Ok(Message::Close(_))) => Inbound::Closed,
            // Oversized frames end here too: the socket refuses to read them.
            Some(Err(err)) => Inbound::Bad(format!("unreadable frame: {err}")),
            Some(Ok(Message::Text(text))) => {
                match serde_json::from_str::<ClientMessage>(text.as_str()) {
                    Ok(ClientMessage::Ping) => Inbound::Ping,
                    Ok(ClientMessage::Pong) => Inbound::Alive,
                    Ok(ClientMessage::Hello { .. }) => Inbound::Bad("hello sent twice".into()),
                    Err(err) => Inbound::Bad(format!("not a valid frame: {err}")),
                }
            }
            Some(Ok(Message::Binary(_))) => {
                Inbound::Bad("binary frames are not part of the protocol".into())
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Inbound::Alive,
        };
        let last = matches!(event, Inbound::Bad(_) | Inbound::Closed);
        if inbound.send(event).await.is_err() || last {
            return;
        }
    }
}

struct Writer<'a, W> {
    sink: W,
    session: &'a Session,
    /// The version the client holds after what was sent.
    at: u64,
}

/// Why the writer stopped sending.
struct Gone;

impl<W> Writer<'_, W>
where
    W: Sink<Message> + Unpin + Send,
    W::Error: Display,
{
    async fn run(
        mut self,
        subscription: Subscription,
        mut inbound: mpsc::Receiver<Inbound>,
    ) -> Option<u16> {
        let Subscription {
            frames: mut queue,
            mut control,
            signals,
            start,
            ..
        } = subscription;
        let config = Arc::clone(&self.session.config);
        if self.start(start).await.is_err() {
            return None;
        }
        let every = config.ping_interval;
        let mut ticks = tokio::time::interval_at(Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut heard = Instant::now();
        loop {
            let step = tokio::select! {
                biased;
                changed = control.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                    let signal = control.borrow_and_update().clone();
                    match signal {
                        Signal::Live => Ok(()),
                        Signal::Resync => {
                            resynced(&signals);
                            while queue.try_recv().is_ok() {}
                            metrics::slow_consumer();
                            self.snapshot().await
                        }
                        Signal::Close(code, reason) => {
                            return close(&mut self.sink, code, &reason, &config).await;
                        }
                        Signal::Goodbye(reconnect_after_ms) => {
                            let goodbye = frames::control(&ServerMessage::Goodbye {
                                reason: "server shutting down".into(),
                                reconnect_after_ms,
                            });
                            if self.send(goodbye, "goodbye").await.is_err() {
                                return None;
                            }
                            return close(&mut self.sink, CLOSE_RESTART, "server restarting", &config).await;
                        }
                    }
                }
                event = inbound.recv() => {
                    heard = Instant::now();
                    match event {
                        Some(Inbound::Ping) => self.send(frames::control(&ServerMessage::Pong), "pong").await,
                        Some(Inbound::Alive) => Ok(()),
                        Some(Inbound::Bad(problem)) => {
                            debug!(environment = %self.session.feed.environment, %problem, "bad frame");
                            return close(&mut self.sink, CLOSE_BAD_FRAME, &problem, &config).await;
                        }
                        Some(Inbound::Closed) | None => return None,
                    }
                }
                _ = ticks.tick() => {
                    if heard.elapsed() >= config.peer_timeout {
                        return close(&mut self.sink, CLOSE_SILENT, "no frame from the client in time", &config).await;
                    }
                    self.send(frames::control(&ServerMessage::Ping), "ping").await
                }
                frame = queue.recv() => match frame {
                    Some(frame) => self.deliver(frame).await,
                    None => return None,
                },
            };
            if step.is_err() {
                return None;
            }
        }
    }

    /// Brings the client from where it said it is to the feed's version.
    async fn start(&mut self, start: Start) -> Result<(), Gone> {
        match start {
            Start::Snapshot(frame) => {
                self.at = frame.version;
                self.send(frame.text.clone(), "snapshot").await
            }
            Start::Patches(since, frames) => {
                self.at = since;
                for frame in frames {
                    self.deliver(frame).await?;
                }
                Ok(())
            }
            Start::FromLog {
                since,
                snapshot,
                frame,
            } => {
                let feed = &self.session.feed;
                let changes = self
                    .session
                    .store
                    .changes_since(&feed.project, &feed.environment, since)
                    .await;
                let patches = changes
                    .ok()
                    .and_then(|changes| patches::from_changes(since, &changes, snapshot.source()));
                match patches {
                    Some(patches) => {
                        self.at = since;
                        for patch in &patches {
                            self.deliver(PatchFrame::new(patch)).await?;
                        }
                        Ok(())
                    }
                    None => {
                        self.at = frame.version;
                        self.send(frame.text.clone(), "snapshot").await
                    }
                }
            }
        }
    }

    /// Sends a patch that continues the client's version; skips one it
    /// already has; answers a gap with the current snapshot.
    async fn deliver(&mut self, frame: PatchFrame) -> Result<(), Gone> {
        if frame.to <= self.at {
            return Ok(());
        }
        if frame.from != self.at {
            return self.snapshot().await;
        }
        self.at = frame.to;
        self.send(frame.text, "patch").await
    }

    /// The feed's current snapshot, unless the client has it already.
    async fn snapshot(&mut self) -> Result<(), Gone> {
        let frame = self.session.feed.snapshot_frame();
        if frame.version == self.at {
            return Ok(());
        }
        self.at = frame.version;
        self.send(frame.text.clone(), "snapshot").await
    }

    /// One frame, within the send timeout: a client that stopped reading
    /// is dropped rather than buffered for.
    async fn send(&mut self, text: Utf8Bytes, kind: &'static str) -> Result<(), Gone> {
        match timeout(
            self.session.config.send_timeout,
            self.sink.send(Message::Text(text)),
        )
        .await
        {
            Ok(Ok(())) => {
                metrics::frame_sent(kind);
                Ok(())
            }
            Ok(Err(_)) | Err(_) => Err(Gone),
        }
    }
}

/// Sends a close frame (best effort, within the send timeout).
pub async fn close<W>(sink: &mut W, code: u16, reason: &str, config: &StreamConfig) -> Option<u16>
where
    W: Sink<Message> + Unpin,
{
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from(truncate(reason, 123)),
    };
    let _ = timeout(config.send_timeout, sink.send(Message::Close(Some(frame)))).await;
    let _ = timeout(config.send_timeout, sink.close()).await;
    metrics::closed(code);
    Some(code)
}

/// At most `max` bytes, cut at a character boundary (close reasons are
/// limited to 123 bytes).
fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
