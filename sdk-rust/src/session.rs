//! One WebSocket session: say hello, apply snapshots and contiguous
//! patches, answer and send pings, notice a silent server. It ends with the
//! reason the reconnect loop needs to decide what to do next.
//!
//! Written over any `Sink + Stream` of WebSocket messages, so the protocol
//! logic does not care whether the socket is TLS, plain or a test's.

use std::time::Duration;

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use vexil_proto::wire::{CLOSE_BAD_KEY, CLOSE_KEY_REVOKED, PEER_TIMEOUT_SECS, PING_INTERVAL_SECS};
use vexil_proto::{ClientMessage, ServerMessage};

use crate::backoff::Backoff;
use crate::state::{ProviderState, Shared};

/// The name the SDK gives in `hello`.
pub(crate) const SDK_NAME: &str = "vexil-sdk-rust";

/// How long a polite close may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Why a session ended.
#[derive(Debug, PartialEq)]
pub(crate) enum End {
    /// The application closed the client.
    Shutdown,
    /// The server refused the SDK key (4401) or revoked it (4403).
    Rejected(u16),
    /// The server is going away and asked for this wait before reconnecting.
    Goodbye(Duration),
    /// A patch did not start at the version held: reconnect and resume.
    Gap { held: Option<u64>, from: u64 },
    /// The connection failed, closed, or went silent.
    Lost(String),
}

/// What a session carries over from the previous one.
#[derive(Debug, Default)]
pub(crate) struct Resume {
    /// The version of the last snapshot or patch received from the stream
    /// (not a bootstrap's), sent as `since_version`.
    pub(crate) version: Option<u64>,
}

/// Runs one session on an open WebSocket until it ends.
pub(crate) async fn run<S>(
    mut ws: S,
    shared: &Shared,
    resume: &mut Resume,
    backoff: &mut Backoff,
    shutdown: &mut watch::Receiver<bool>,
) -> End
where
    S: Sink<Message, Error = WsError> + Stream<Item = Result<Message, WsError>> + Unpin,
{
    let hello = ClientMessage::Hello {
        sdk: SDK_NAME.to_owned(),
        sdk_version: env!("CARGO_PKG_VERSION").to_owned(),
        since_version: resume.version,
    };
    if let Err(end) = send(&mut ws, &hello).await {
        return end;
    }
    if resume.version.is_some() {
        // The server took the key and our resume point: what we hold is
        // current unless a patch says otherwise.
        shared.set_state(ProviderState::Ready);
    }

    let ping_every = Duration::from_secs(PING_INTERVAL_SECS);
    let silence = Duration::from_secs(PEER_TIMEOUT_SECS);
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut deadline = Instant::now() + silence;
    loop {
        tokio::select! {
            frame = ws.next() => {
                deadline = Instant::now() + silence;
                let message = match frame {
                    None => return End::Lost("the server closed the connection".into()),
                    Some(Err(error)) => return End::Lost(error.to_string()),
                    Some(Ok(message)) => message,
                };
                if let Some(end) = handle(&mut ws, message, shared, resume, backoff).await {
                    if matches!(end, End::Gap { .. } | End::Goodbye(_)) {
                        // Leave politely; a server that does not read gets a second.
                        let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.close()).await;
                    }
                    return end;
                }
            }
            _ = ping.tick() => {
                if let Err(end) = send(&mut ws, &ClientMessage::Ping).await {
                    return end;
                }
            }
            () = tokio::time::sleep_until(deadline) => {
                return End::Lost(format!("the server was silent for {PEER_TIMEOUT_SECS} s"));
            }
            () = crate::client::stopped(shutdown) => {
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.close()).await;
                return End::Shutdown;
            }
        }
    }
}

/// Acts on one frame; `Some` ends the session.
async fn handle<S>(
    ws: &mut S,
    message: Message,
    shared: &Shared,
    resume: &mut Resume,
    backoff: &mut Backoff,
) -> Option<End>
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    let text = match message {
        Message::Text(text) => text,
        Message::Close(frame) => {
            let code = frame.as_ref().map(|f| u16::from(f.code));
            return Some(match code {
                Some(code @ (CLOSE_BAD_KEY | CLOSE_KEY_REVOKED)) => End::Rejected(code),
                _ => End::Lost(format!("the server closed the stream ({code:?})")),
            });
        }
        // WebSocket-level pings are answered by tungstenite itself.
        _ => return None,
    };
    let frame = match serde_json::from_str::<ServerMessage>(text.as_str()) {
        Ok(frame) => frame,
        Err(error) => {
            // A frame from a newer server, or a broken one: skip it. A
            // lost patch shows as a gap at the next one.
            tracing::warn!(%error, "ignoring a stream frame that is not Vexil protocol");
            return None;
        }
    };
    match frame {
        ServerMessage::Snapshot(snapshot) => {
            resume.version = Some(snapshot.version);
            shared.install(snapshot);
            shared.set_state(ProviderState::Ready);
            backoff.reset();
        }
        ServerMessage::Patch(patch) => {
            let Some(held) = resume.version else {
                return Some(End::Gap {
                    held: None,
                    from: patch.from_version,
                });
            };
            let mut snapshot = (*shared.source()).clone();
            if held != patch.from_version || snapshot.apply_patch(&patch).is_err() {
                return Some(End::Gap {
                    held: Some(held),
                    from: patch.from_version,
                });
            }
            resume.version = Some(patch.to_version);
            shared.install(snapshot);
            shared.set_state(ProviderState::Ready);
            backoff.reset();
        }
        ServerMessage::Ping => {
            if let Err(end) = send(ws, &ClientMessage::Pong).await {
                return Some(end);
            }
        }
        ServerMessage::Pong => {}
        ServerMessage::Goodbye {
            reason,
            reconnect_after_ms,
        } => {
            tracing::info!(%reason, reconnect_after_ms, "the server said goodbye");
            return Some(End::Goodbye(Duration::from_millis(reconnect_after_ms)));
        }
    }
    None
}

async fn send<S>(ws: &mut S, message: &ClientMessage) -> Result<(), End>
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    let text = serde_json::to_string(message).map_err(|e| End::Lost(e.to_string()))?;
    ws.send(Message::text(text))
        .await
        .map_err(|e| End::Lost(e.to_string()))
}
