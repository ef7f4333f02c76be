//! A WebSocket server that speaks Vexil's wire protocol, written with
//! tokio-tungstenite, for the SDK's stream tests. It is a protocol peer the
//! test drives frame by frame (send this snapshot, this patch, close with
//! 4403), not a mock of the SDK: the SDK under test is the real client over
//! real loopback sockets.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use vexil_proto::wire::{Patch, Upsert};
use vexil_proto::{ClientMessage, FlagConfig, Serve, ServerMessage, Snapshot, SnapshotFlag};

/// The SDK key the tests use.
pub const KEY: &str = "sdk-test-key";

/// A listening protocol peer. Each accepted connection arrives, hello read,
/// through [`Peer::accept`].
pub struct Peer {
    pub addr: SocketAddr,
    connections: mpsc::UnboundedReceiver<Connection>,
    /// Upgrade requests answered with an HTTP error instead.
    pub refused: Arc<std::sync::atomic::AtomicUsize>,
}

/// One client connection, after its `hello`.
pub struct Connection {
    ws: WebSocketStream<TcpStream>,
    /// The upgrade request's `Authorization` header.
    pub authorization: Option<String>,
    /// The request path.
    pub path: String,
    /// The client's first frame.
    pub hello: ClientMessage,
    /// When the connection was accepted (tokio's clock, paused or not).
    pub at: Instant,
}

impl Peer {
    /// Listens on a free loopback port.
    pub async fn start() -> Peer {
        Peer::listen(TcpListener::bind("127.0.0.1:0").await.unwrap(), None)
    }

    /// Listens on `addr` (a port reserved earlier by [`free_addr`]).
    pub async fn start_on(addr: SocketAddr) -> Peer {
        Peer::listen(TcpListener::bind(addr).await.unwrap(), None)
    }

    /// Answers every upgrade with HTTP `status` (a server refusing the key
    /// before the WebSocket opens).
    pub async fn start_refusing(status: u16) -> Peer {
        Peer::listen(
            TcpListener::bind("127.0.0.1:0").await.unwrap(),
            Some(status),
        )
    }

    fn listen(listener: TcpListener, refuse: Option<u16>) -> Peer {
        let addr = listener.local_addr().unwrap();
        let (tx, connections) = mpsc::unbounded_channel();
        let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&refused);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    if let Some(status) = refuse {
                        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        refuse_upgrade(stream, status).await;
                    } else if let Some(connection) = handshake(stream).await {
                        let _ = tx.send(connection);
                    }
                });
            }
        });
        Peer {
            addr,
            connections,
            refused,
        }
    }

    /// The base URL a client is given.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next connection.
    pub async fn accept(&mut self) -> Connection {
        self.connections.recv().await.unwrap()
    }

    /// The next connection within `wait`, if any.
    pub async fn accept_within(&mut self, wait: std::time::Duration) -> Option<Connection> {
        tokio::time::timeout(wait, self.connections.recv())
            .await
            .ok()
            .flatten()
    }
}

// The callback's error type is tungstenite's, large or not.
#[allow(clippy::result_large_err)]
async fn handshake(stream: TcpStream) -> Option<Connection> {
    let seen = Arc::new(Mutex::new((None, String::new())));
    let record = Arc::clone(&seen);
    let callback = move |request: &Request, response: Response| {
        let authorization = request
            .headers()
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned());
        *record.lock().unwrap() = (authorization, request.uri().path().to_owned());
        Ok(response)
    };
    let mut ws = tokio_tungstenite::accept_hdr_async(stream, callback)
        .await
        .ok()?;
    let at = Instant::now();
    let hello = next_frame(&mut ws).await?;
    let (authorization, path) = seen.lock().unwrap().clone();
    Some(Connection {
        ws,
        authorization,
        path,
        hello,
        at,
    })
}

#[allow(clippy::result_large_err)]
async fn refuse_upgrade(stream: TcpStream, status: u16) {
    let callback = move |_: &Request, _: Response| {
        let mut error = ErrorResponse::new(Some("refused".to_owned()));
        *error.status_mut() = StatusCode::from_u16(status).unwrap();
        Err(error)
    };
    let _ = tokio_tungstenite::accept_hdr_async(stream, callback).await;
}

async fn next_frame(ws: &mut WebSocketStream<TcpStream>) -> Option<ClientMessage> {
    loop {
        match ws.next().await? {
            Ok(Message::Text(text)) => return Some(serde_json::from_str(text.as_str()).unwrap()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

impl Connection {
    /// The `since_version` of the hello.
    pub fn since_version(&self) -> Option<u64> {
        match &self.hello {
            ClientMessage::Hello { since_version, .. } => *since_version,
            other => panic!("first frame is not hello: {other:?}"),
        }
    }

    pub async fn send(&mut self, frame: &ServerMessage) {
        let text = serde_json::to_string(frame).unwrap();
        self.ws.send(Message::text(text)).await.unwrap();
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.ws.send(Message::text(text.to_owned())).await.unwrap();
    }

    /// The client's next protocol frame; `None` once it closed.
    pub async fn recv(&mut self) -> Option<ClientMessage> {
        next_frame(&mut self.ws).await
    }

    /// Closes with a close code, as the server does for a bad or revoked key.
    pub async fn close(mut self, code: u16) {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: "closing".into(),
        };
        let _ = self.ws.close(Some(frame)).await;
    }
}

/// A loopback address nothing listens on yet (for "the server comes up later").
pub async fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
}

pub fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bootstrap.json")
}

/// A boolean flag serving `on` (or `off` when disabled).
pub fn flag(key: &str, enabled: bool) -> SnapshotFlag {
    let mut config = FlagConfig::new("off", Serve::Variant("on".into()));
    config.enabled = enabled;
    SnapshotFlag::boolean(key, config)
}

/// A snapshot of `production` at `version` with these flags.
pub fn snapshot(version: u64, flags: Vec<SnapshotFlag>) -> ServerMessage {
    ServerMessage::Snapshot(Snapshot {
        environment: "production".into(),
        version,
        flags,
        segments: vec![],
    })
}

/// A patch from `from` to `from + 1` upserting `flags`.
pub fn patch(from: u64, flags: Vec<SnapshotFlag>) -> ServerMessage {
    ServerMessage::Patch(Patch {
        from_version: from,
        to_version: from + 1,
        upserts: flags.into_iter().map(Upsert::Flag).collect(),
        deletes: vec![],
    })
}
