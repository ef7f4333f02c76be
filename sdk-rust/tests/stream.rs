//! The streaming client against an in-test protocol peer (see `peer/`):
//! snapshots and patches in order, gaps, reconnects and their backoff,
//! goodbye, rejected keys, silence, STALE serving.

mod peer;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use peer::{KEY, Peer, flag, patch, snapshot};
use vexil_proto::ClientMessage;
use vexil_proto::ServerMessage;
use vexil_sdk::{ChangeEvent, Client, ClientBuilder, Context, ProviderState};

fn builder(peer: &Peer) -> ClientBuilder {
    Client::builder(KEY)
        .url(peer.url())
        .send_usage(false)
        .init_timeout(Duration::from_secs(2))
        .backoff(Duration::from_millis(100), Duration::from_secs(1))
}

/// A client built against `peer`, which answers its hello with `first`.
async fn connected(peer: &mut Peer, first: ServerMessage) -> (Client, peer::Connection) {
    let build = builder(peer).build();
    let (client, conn) = tokio::join!(async { build.await.unwrap() }, async {
        let mut conn = peer.accept().await;
        conn.send(&first).await;
        conn
    });
    (client, conn)
}

fn on(client: &Client, key: &str) -> bool {
    client.bool_value(key, &Context::new("user-1"), false)
}

/// Waits for the next change event (no sleeping: the event is the signal).
async fn next_change(changes: &mut tokio::sync::broadcast::Receiver<ChangeEvent>) -> ChangeEvent {
    tokio::time::timeout(Duration::from_secs(30), changes.recv())
        .await
        .expect("a change within 30 s")
        .unwrap()
}

async fn wait_for_state(client: &Client, state: ProviderState) {
    let mut states = client.state_changes();
    tokio::time::timeout(Duration::from_secs(120), states.wait_for(|s| *s == state))
        .await
        .unwrap_or_else(|_| panic!("never reached {state:?}; now {:?}", client.state()))
        .unwrap();
}

#[tokio::test]
async fn a_snapshot_then_patches_apply_in_order() {
    let mut peer = Peer::start().await;
    let first = snapshot(1, vec![flag("a", false), flag("b", true)]);
    let (client, mut conn) = connected(&mut peer, first).await;
    assert_eq!(client.state(), ProviderState::Ready);
    assert_eq!(conn.authorization.as_deref(), Some("Bearer sdk-test-key"));
    assert_eq!(conn.path, "/api/v1/stream");
    match &conn.hello {
        ClientMessage::Hello {
            sdk, since_version, ..
        } => assert_eq!((sdk.as_str(), *since_version), ("vexil-sdk-rust", None)),
        other => panic!("{other:?}"),
    }
    assert!(!on(&client, "a"));
    assert_eq!(client.snapshot().version(), 1);

    client.on_change(|_| panic!("a listener that panics harms no one else"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    client.on_change(move |event| record.lock().unwrap().push(event.clone()));
    let mut changes = client.changes();

    conn.send(&patch(1, vec![flag("a", true)])).await;
    conn.send(&patch(2, vec![flag("b", false)])).await;
    assert_eq!(
        next_change(&mut changes).await,
        ChangeEvent {
            version: 2,
            flags: vec!["a".into()]
        }
    );
    assert_eq!(next_change(&mut changes).await.flags, ["b"]);
    assert!(on(&client, "a"));
    assert!(!on(&client, "b"));
    assert_eq!(client.snapshot().version(), 3);
    assert_eq!(seen.lock().unwrap().len(), 2, "on_change saw both");
    client.close().await;
    assert_eq!(conn.recv().await, None, "close() closes the stream");
}

#[tokio::test]
async fn a_gap_is_never_applied_and_the_client_resumes_from_its_version() {
    let mut peer = Peer::start().await;
    let (client, mut first) = connected(&mut peer, snapshot(5, vec![flag("a", false)])).await;
    // 6 → 7 while the client holds 5: out of order.
    first
        .send(&ServerMessage::Patch(vexil_proto::Patch {
            from_version: 6,
            to_version: 7,
            upserts: vec![vexil_proto::Upsert::Flag(flag("a", true))],
            deletes: vec![],
        }))
        .await;
    let mut second = peer.accept().await;
    assert_eq!(second.since_version(), Some(5));
    assert!(!on(&client, "a"), "the out-of-order patch was not applied");
    assert_eq!(first.recv().await, None, "the old connection is closed");

    let mut changes = client.changes();
    second.send(&patch(5, vec![flag("a", true)])).await;
    assert_eq!(next_change(&mut changes).await.version, 6);
    assert!(on(&client, "a"));
    assert_eq!(client.state(), ProviderState::Ready);
}

#[tokio::test(start_paused = true)]
async fn reconnects_back_off_exponentially_with_full_jitter() {
    let mut peer = Peer::start().await;
    let client = builder(&peer)
        .init_timeout(Duration::from_millis(50))
        .build()
        .await
        .unwrap();
    // No snapshot and no bootstrap within the init timeout.
    let first = peer.accept().await;
    wait_for_state(&client, ProviderState::Error).await;
    let mut dropped_at = tokio::time::Instant::now();
    drop(first);
    // Each drop: the next attempt waits at most min(1 s, 100 ms · 2ⁿ).
    for ceiling_ms in [100u64, 200, 400, 800, 1000, 1000] {
        let conn = peer.accept().await;
        let waited = conn.at - dropped_at;
        assert!(
            waited <= Duration::from_millis(ceiling_ms + 20),
            "waited {waited:?}, ceiling {ceiling_ms} ms"
        );
        dropped_at = tokio::time::Instant::now();
        drop(conn);
    }
    // A connection that delivers data resets the backoff.
    let mut conn = peer.accept().await;
    conn.send(&snapshot(1, vec![flag("a", true)])).await;
    wait_for_state(&client, ProviderState::Ready).await;
    let dropped_at = tokio::time::Instant::now();
    drop(conn);
    let conn = peer.accept().await;
    assert!(conn.at - dropped_at <= Duration::from_millis(120));
    assert_eq!(conn.since_version(), Some(1));
}

#[tokio::test(start_paused = true)]
async fn goodbye_is_honoured_and_the_client_serves_stale_meanwhile() {
    let mut peer = Peer::start().await;
    let (client, mut conn) = connected(&mut peer, snapshot(3, vec![flag("a", true)])).await;
    conn.send(&ServerMessage::Goodbye {
        reason: "shutting down".into(),
        reconnect_after_ms: 5_000,
    })
    .await;
    let goodbye_at = tokio::time::Instant::now();
    wait_for_state(&client, ProviderState::Stale).await;
    assert!(on(&client, "a"), "still serving the last snapshot");
    drop(conn);

    let conn = peer.accept().await;
    // Lower bound exact: a reconnect on the backoff alone would come within
    // 100 ms. (With paused time over real sockets, tokio may jump to the
    // next timer while a frame is in flight, so the upper bound is loose.)
    let waited = conn.at - goodbye_at;
    assert!(
        waited >= Duration::from_millis(5_000) && waited < Duration::from_secs(30),
        "reconnected after {waited:?}"
    );
    assert_eq!(conn.since_version(), Some(3));
    wait_for_state(&client, ProviderState::Ready).await;
}

#[tokio::test(start_paused = true)]
async fn a_revoked_key_means_error_and_no_more_retries() {
    for code in [4403u16, 4401] {
        let mut peer = Peer::start().await;
        let (client, conn) = connected(&mut peer, snapshot(1, vec![flag("a", true)])).await;
        conn.close(code).await;
        wait_for_state(&client, ProviderState::Error).await;
        assert!(on(&client, "a"), "the last snapshot is still served");
        assert!(
            peer.accept_within(Duration::from_secs(600)).await.is_none(),
            "no reconnect after close {code}"
        );
        assert_eq!(client.state(), ProviderState::Error);
    }
}

#[tokio::test(start_paused = true)]
async fn pings_are_answered_and_a_silent_server_is_left() {
    let mut peer = Peer::start().await;
    let (client, mut conn) = connected(&mut peer, snapshot(1, vec![flag("a", true)])).await;
    conn.send(&ServerMessage::Ping).await;
    let last_heard = tokio::time::Instant::now();
    // The client answers the server's ping, and pings every 15 s itself
    // (paused time may let one of its pings go first).
    let mut frames = Vec::new();
    while frames.len() < 3 {
        frames.push(conn.recv().await.unwrap());
    }
    assert!(frames.contains(&ClientMessage::Pong), "{frames:?}");
    assert!(frames.contains(&ClientMessage::Ping), "{frames:?}");

    // The server never answers: after 45 s of silence the client leaves.
    let next = peer.accept().await;
    let silent = next.at - last_heard;
    assert!(
        silent >= Duration::from_secs(45) && silent < Duration::from_secs(120),
        "left after {silent:?}"
    );
    assert_eq!(next.since_version(), Some(1));
    assert!(on(&client, "a"));
    drop(conn);
}

#[tokio::test]
async fn starts_from_a_bootstrap_file_with_no_server_and_converges_when_it_appears() {
    let addr = peer::free_addr().await;
    let client = Client::builder(KEY)
        .url(format!("http://{addr}"))
        .bootstrap_file(peer::fixture())
        .send_usage(false)
        .init_timeout(Duration::from_millis(200))
        .backoff(Duration::from_millis(20), Duration::from_millis(100))
        .build()
        .await
        .unwrap();
    assert_eq!(client.state(), ProviderState::Stale);
    assert_eq!(client.snapshot().version(), 42);
    let vip = Context::new("vip-1");
    assert!(client.bool_value("new-checkout", &vip, false));

    let mut peer = Peer::start_on(addr).await;
    let mut conn = peer.accept().await;
    assert_eq!(
        conn.since_version(),
        None,
        "a bootstrap is not a resume point"
    );
    let mut changes = client.changes();
    conn.send(&snapshot(50, vec![flag("new-checkout", false)]))
        .await;
    let event = next_change(&mut changes).await;
    assert_eq!(event.version, 50);
    assert!(event.flags.contains(&"new-checkout".to_owned()));
    assert!(
        event.flags.contains(&"banner-text".to_owned()),
        "removed flags are changes"
    );
    wait_for_state(&client, ProviderState::Ready).await;
    assert!(!client.bool_value("new-checkout", &vip, true));
}

#[tokio::test(start_paused = true)]
async fn offline_mode_never_connects() {
    let mut peer = Peer::start().await;
    let client = Client::builder(KEY)
        .url(peer.url())
        .bootstrap_file(peer::fixture())
        .offline(true)
        .build()
        .await
        .unwrap();
    assert_eq!(client.state(), ProviderState::Ready);
    assert!(client.bool_value("new-checkout", &Context::new("vip-1"), false));
    assert!(peer.accept_within(Duration::from_secs(600)).await.is_none());
}

#[tokio::test(start_paused = true)]
async fn without_a_snapshot_calls_say_provider_not_ready() {
    let mut peer = Peer::start().await;
    let client = builder(&peer)
        .init_timeout(Duration::from_secs(1))
        .build()
        .await
        .unwrap();
    let _conn = peer.accept().await;
    assert_eq!(client.state(), ProviderState::Error);
    let details = client.bool_details("a", &Context::new("u"), true);
    assert!(details.value);
    assert_eq!(
        details.error_code,
        Some(vexil_sdk::ErrorCode::ProviderNotReady)
    );
    let result = client.evaluate("a", &Context::new("u"));
    assert_eq!(
        (result.value, result.error_code),
        (None, Some(vexil_sdk::ErrorCode::ProviderNotReady))
    );
}

#[tokio::test]
async fn a_lost_connection_serves_stale_then_resumes_with_patches() {
    let mut peer = Peer::start().await;
    let (client, conn) = connected(&mut peer, snapshot(7, vec![flag("a", true)])).await;
    drop(conn);
    wait_for_state(&client, ProviderState::Stale).await;
    assert!(on(&client, "a"), "still serving while disconnected");

    let mut conn = peer.accept().await;
    assert_eq!(conn.since_version(), Some(7));
    wait_for_state(&client, ProviderState::Ready).await;
    let mut changes = client.changes();
    // A frame of a type this SDK does not know is skipped, not fatal.
    conn.send_raw(r#"{"type":"announcement","text":"hi"}"#)
        .await;
    conn.send(&patch(7, vec![flag("a", false)])).await;
    assert_eq!(next_change(&mut changes).await.version, 8);
    assert!(!on(&client, "a"));
    assert_eq!(client.snapshot().version(), 8);
}

#[tokio::test(start_paused = true)]
async fn an_upgrade_refused_with_401_or_403_is_final() {
    for status in [401u16, 403] {
        let peer = Peer::start_refusing(status).await;
        let client = builder(&peer).build().await.unwrap();
        assert_eq!(client.state(), ProviderState::Error, "status {status}");
        tokio::time::sleep(Duration::from_secs(600)).await;
        assert_eq!(
            peer.refused.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "one attempt only after {status}"
        );
    }
}
