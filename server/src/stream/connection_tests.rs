//! The connection over channels on tokio's paused clock: heartbeats, dead
//! peers, slow consumers, bad frames. (End-to-end behaviour over real
//! sockets is in `server/tests/stream_*.rs`.)

use std::convert::Infallible;
use std::pin::Pin;
use std::time::Duration;

use futures_util::{Sink, Stream, sink, stream};
use tokio::sync::mpsc;
use vexil_proto::{FlagConfig, Serve, Snapshot, SnapshotFlag};

use super::*;
use crate::snapshots::CachedSnapshot;
use crate::store::fake::FakeStore;
use crate::stream::frames::SnapshotFrame;

type TestSink = Pin<Box<dyn Sink<Message, Error = &'static str> + Send>>;
type TestStream = Pin<Box<dyn Stream<Item = Result<Message, Infallible>> + Send>>;

fn cached(version: u64) -> Arc<CachedSnapshot> {
    let config = FlagConfig::new("off", Serve::Variant("on".into()));
    let snapshot = Snapshot {
        environment: "production".into(),
        version,
        flags: vec![SnapshotFlag::boolean("a", config)],
        segments: vec![],
    };
    Arc::new(CachedSnapshot::new("default", &snapshot).unwrap())
}

fn patch(from: u64) -> PatchFrame {
    PatchFrame::new(&vexil_proto::Patch {
        from_version: from,
        to_version: from + 1,
        upserts: vec![],
        deletes: vec![],
    })
}

/// The client's ends: what it sends, and what the server sent it
/// (`outbox` holds at most `buffer` unread frames, like a socket buffer).
struct Client {
    to_server: mpsc::Sender<Message>,
    from_server: mpsc::Receiver<Message>,
}

impl Client {
    async fn send(&self, text: &str) {
        self.to_server
            .send(Message::Text(text.to_owned().into()))
            .await
            .unwrap();
    }

    async fn next(&mut self) -> Message {
        self.from_server.recv().await.expect("the server hung up")
    }

    /// The next frame's `type` (or `close <code>`).
    async fn next_kind(&mut self) -> String {
        match self.next().await {
            Message::Text(text) => {
                let value: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
                match value["type"].as_str().unwrap() {
                    "patch" => format!("patch {}", value["to_version"]),
                    "snapshot" => format!("snapshot {}", value["version"]),
                    other => other.to_owned(),
                }
            }
            Message::Close(Some(frame)) => format!("close {}", frame.code),
            other => format!("{other:?}"),
        }
    }
}

fn socket(buffer: usize) -> (TestSink, TestStream, Client) {
    let (out_tx, out_rx) = mpsc::channel::<Message>(buffer);
    let (in_tx, in_rx) = mpsc::channel::<Message>(16);
    let sink: TestSink = Box::pin(sink::unfold(out_tx, |tx, message| async move {
        tx.send(message).await.map_err(|_| "closed")?;
        Ok(tx)
    }));
    let stream: TestStream = Box::pin(stream::unfold(in_rx, |mut rx| async move {
        rx.recv().await.map(|message| (Ok(message), rx))
    }));
    let client = Client {
        to_server: in_tx,
        from_server: out_rx,
    };
    (sink, stream, client)
}

fn session(feed: &Arc<Feed>, config: StreamConfig) -> Session {
    Session {
        feed: Arc::clone(feed),
        store: Arc::new(FakeStore::default()),
        config: Arc::new(config),
        key_id: "k1".into(),
    }
}

fn start(
    feed: &Arc<Feed>,
    config: StreamConfig,
    buffer: usize,
) -> (tokio::task::JoinHandle<Option<u16>>, Client) {
    let (sink, stream, client) = socket(buffer);
    let session = session(feed, config);
    (tokio::spawn(serve(sink, stream, session)), client)
}

const HELLO: &str = r#"{"type":"hello","sdk":"test","sdk_version":"0"}"#;

#[tokio::test(start_paused = true)]
async fn pings_every_interval_and_answers_pings_while_the_peer_answers() {
    let feed = Arc::new(Feed::new(cached(1), 16, 16));
    let (task, mut client) = start(&feed, StreamConfig::default(), 16);
    client.send(HELLO).await;
    assert_eq!(client.next_kind().await, "snapshot 1");
    let started = tokio::time::Instant::now();
    for n in 1..=5u32 {
        assert_eq!(client.next_kind().await, "ping");
        assert_eq!(started.elapsed(), Duration::from_secs(15) * n);
        client.send(r#"{"type":"pong"}"#).await;
    }
    client.send(r#"{"type":"ping"}"#).await;
    assert_eq!(client.next_kind().await, "pong");
    assert!(!task.is_finished());
    assert_eq!(feed.subscribers(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_peer_silent_for_45_seconds_is_dropped() {
    let feed = Arc::new(Feed::new(cached(1), 16, 16));
    let (task, mut client) = start(&feed, StreamConfig::default(), 16);
    client.send(HELLO).await;
    assert_eq!(client.next_kind().await, "snapshot 1");
    let started = tokio::time::Instant::now();
    assert_eq!(client.next_kind().await, "ping");
    assert_eq!(client.next_kind().await, "ping");
    assert_eq!(client.next_kind().await, format!("close {CLOSE_SILENT}"));
    assert_eq!(started.elapsed(), Duration::from_secs(45));
    assert_eq!(task.await.unwrap(), Some(CLOSE_SILENT));
    assert_eq!(feed.subscribers(), 0);
}

#[tokio::test(start_paused = true)]
async fn no_hello_in_time_or_a_bad_first_frame_closes_4400() {
    let feed = Arc::new(Feed::new(cached(1), 16, 16));
    let (task, mut client) = start(&feed, StreamConfig::default(), 16);
    assert_eq!(client.next_kind().await, "close 4400");
    assert_eq!(task.await.unwrap(), Some(4400));

    let (task, mut client) = start(&feed, StreamConfig::default(), 16);
    client.send(r#"{"type":"ping"}"#).await;
    assert_eq!(client.next_kind().await, "close 4400");
    assert_eq!(task.await.unwrap(), Some(4400));

    let (task, mut client) = start(&feed, StreamConfig::default(), 16);
    client.send(HELLO).await;
    assert_eq!(client.next_kind().await, "snapshot 1");
    client
        .to_server
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(client.next_kind().await, "close 4400");
    assert_eq!(task.await.unwrap(), Some(4400));
    assert_eq!(feed.subscribers(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_is_dropped_for_one_fresh_snapshot() {
    let feed = Arc::new(Feed::new(cached(1), 16, 2));
    // The "socket" holds one unread frame: the client is not reading.
    let (_task, mut client) = start(&feed, StreamConfig::default(), 1);
    client.send(HELLO).await;
    tokio::task::yield_now().await;
    let mut overflowed = 0;
    for from in 1..6 {
        overflowed += feed.publish(vec![patch(from)], cached(from + 1));
        tokio::task::yield_now().await;
    }
    assert!(overflowed >= 1, "the queue of 2 never overflowed");
    // The client reads again: what it had, then the snapshot at the
    // current version instead of the dropped patches, and nothing stale.
    let mut seen = Vec::new();
    while seen.last().is_none_or(|k: &String| k != "snapshot 6") {
        seen.push(client.next_kind().await);
    }
    assert_eq!(seen.first().map(String::as_str), Some("snapshot 1"));
    assert!(
        seen.len() <= 4,
        "too many frames for a slow consumer: {seen:?}"
    );
    feed.publish(vec![patch(6)], cached(7));
    assert_eq!(client.next_kind().await, "patch 7");
}

#[tokio::test(start_paused = true)]
async fn a_client_that_never_reads_is_dropped_and_holds_a_bounded_queue() {
    let feed = Arc::new(Feed::new(cached(1), 16, 4));
    let config = StreamConfig {
        send_timeout: Duration::from_secs(5),
        ..StreamConfig::default()
    };
    let (task, client) = start(&feed, config, 1);
    client.send(HELLO).await;
    for from in 1..100 {
        feed.publish(vec![patch(from)], cached(from + 1));
        tokio::task::yield_now().await;
    }
    // Never read: the send times out and the connection ends.
    assert_eq!(task.await.unwrap(), None);
    assert_eq!(feed.subscribers(), 0);
    drop(client);
}

#[tokio::test(start_paused = true)]
async fn resume_from_the_ring_sends_only_the_missing_patches() {
    let feed = Arc::new(Feed::new(cached(1), 16, 16));
    for from in 1..4 {
        feed.publish(vec![patch(from)], cached(from + 1));
    }
    let (_task, mut client) = start(&feed, StreamConfig::default(), 16);
    client
        .send(r#"{"type":"hello","sdk":"t","sdk_version":"0","since_version":2}"#)
        .await;
    assert_eq!(client.next_kind().await, "patch 3");
    assert_eq!(client.next_kind().await, "patch 4");
    // A future version gets the snapshot.
    let (_task, mut client) = start(&feed, StreamConfig::default(), 16);
    client
        .send(r#"{"type":"hello","sdk":"t","sdk_version":"0","since_version":99}"#)
        .await;
    assert_eq!(client.next_kind().await, "snapshot 4");
    assert_eq!(
        feed.snapshot_frame().version,
        SnapshotFrame::from_cached(&cached(4)).version
    );
}

#[tokio::test(start_paused = true)]
async fn close_and_goodbye_signals() {
    let feed = Arc::new(Feed::new(cached(1), 16, 16));
    let (task, mut client) = start(&feed, StreamConfig::default(), 16);
    client.send(HELLO).await;
    assert_eq!(client.next_kind().await, "snapshot 1");
    feed.signal(|key| (key == "k1").then(|| Signal::Close(4403, "SDK key revoked".into())));
    assert_eq!(client.next_kind().await, "close 4403");
    assert_eq!(task.await.unwrap(), Some(4403));

    let (task, mut client) = start(&feed, StreamConfig::default(), 16);
    client.send(HELLO).await;
    assert_eq!(client.next_kind().await, "snapshot 1");
    feed.signal(|_| Some(Signal::Goodbye(1234)));
    match client.next().await {
        Message::Text(text) => assert_eq!(
            serde_json::from_str::<ServerMessage>(text.as_str()).unwrap(),
            ServerMessage::Goodbye {
                reason: "server shutting down".into(),
                reconnect_after_ms: 1234
            }
        ),
        other => panic!("expected goodbye, got {other:?}"),
    }
    assert_eq!(client.next_kind().await, format!("close {CLOSE_RESTART}"));
    assert_eq!(task.await.unwrap(), Some(CLOSE_RESTART));
}
