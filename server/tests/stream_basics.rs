//! The SDK stream end to end over real sockets, on one replica with
//! SQLite: snapshots and contiguous patches, resume (from memory, from the
//! change log, after a restart), authentication and revocation, bad
//! frames, slow readers and graceful shutdown.

mod stream_support;

use reqwest::Method;
use stream_support::{Auth, Frame, Replica, Ws, config, data_dir, enabled_in};
use vexil_proto::ServerMessage;

#[tokio::test]
async fn a_write_reaches_a_subscriber_as_a_contiguous_patch() {
    let replica = Replica::start(config(&data_dir("stream-write"))).await;
    let (_, key) = replica.sdk_key("production").await;
    let mut ws = Ws::subscribe(replica.addr, &key, None).await;
    let v = ws.snapshot().await;

    replica.create_flag("checkout").await;
    let created = ws.patch().await;
    assert_eq!((created.from_version, created.to_version), (v, v + 1));
    assert_eq!(enabled_in(&created, "checkout"), Some(false));
    for (n, enabled) in [true, false, true].into_iter().enumerate() {
        replica.toggle("checkout", enabled).await;
        let patch = ws.patch().await;
        let from = v + 1 + n as u64;
        assert_eq!((patch.from_version, patch.to_version), (from, from + 1));
        assert_eq!(enabled_in(&patch, "checkout"), Some(enabled));
    }

    let metrics = reqwest::get(replica.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        r#"vexil_stream_connections{project="default",environment="production"}"#,
        r#"vexil_stream_frames_sent_total{kind="patch"}"#,
        r#"vexil_stream_frames_sent_total{kind="snapshot"}"#,
    ] {
        assert!(metrics.contains(line), "{line} missing from /metrics");
    }
}

#[tokio::test]
async fn a_client_resumes_from_its_version_without_a_snapshot() {
    let replica = Replica::start(config(&data_dir("stream-resume"))).await;
    let (_, key) = replica.sdk_key("production").await;
    replica.create_flag("checkout").await;
    let mut ws = Ws::subscribe(replica.addr, &key, None).await;
    let v = ws.snapshot().await;
    drop(ws);
    replica.toggle("checkout", true).await;
    replica.toggle("checkout", false).await;

    let mut ws = Ws::subscribe(replica.addr, &key, Some(v)).await;
    let first = ws.patch().await;
    let second = ws.patch().await;
    assert_eq!((first.from_version, first.to_version), (v, v + 1));
    assert_eq!((second.from_version, second.to_version), (v + 1, v + 2));
    assert_eq!(enabled_in(&second, "checkout"), Some(false));
    // Up to date: nothing until the next write, which follows on.
    replica.toggle("checkout", true).await;
    assert_eq!(ws.patch().await.from_version, v + 2);
}

#[tokio::test]
async fn after_a_restart_a_client_resumes_from_the_change_log() {
    let dir = data_dir("stream-restart");
    let mut replica = Replica::start(config(&dir)).await;
    let (_, key) = replica.sdk_key("production").await;
    replica.create_flag("checkout").await;
    let mut ws = Ws::subscribe(replica.addr, &key, None).await;
    let v = ws.snapshot().await;
    replica.toggle("checkout", true).await;
    assert_eq!(ws.patch().await.to_version, v + 1);
    replica.stop().await;

    let replica = Replica::start(config(&dir)).await;
    replica.toggle("checkout", false).await;
    replica.toggle("checkout", true).await;
    let mut ws = Ws::subscribe(replica.addr, &key, Some(v + 1)).await;
    let first = ws.patch().await;
    let second = ws.patch().await;
    assert_eq!((first.from_version, first.to_version), (v + 1, v + 2));
    assert_eq!(
        enabled_in(&first, "checkout"),
        Some(true),
        "state as of the latest version"
    );
    assert_eq!((second.from_version, second.to_version), (v + 2, v + 3));
}

#[tokio::test]
async fn unknown_old_or_future_versions_get_a_snapshot() {
    let replica = Replica::start(config(&data_dir("stream-unknown"))).await;
    let (_, key) = replica.sdk_key("production").await;
    replica.create_flag("checkout").await;
    let mut ws = Ws::subscribe(replica.addr, &key, None).await;
    let v = ws.snapshot().await;
    for since in [0, v + 1, 1_000_000] {
        let mut ws = Ws::subscribe(replica.addr, &key, Some(since)).await;
        assert_eq!(ws.snapshot().await, v, "since_version {since}");
    }
}

#[tokio::test]
async fn bad_or_missing_keys_close_4401_and_the_subprotocol_form_works() {
    let replica = Replica::start(config(&data_dir("stream-auth"))).await;
    let (_, key) = replica.sdk_key("production").await;
    for auth in [
        Auth::None,
        Auth::Bearer("not-a-key"),
        Auth::Bearer(&replica.admin),
    ] {
        let mut ws = Ws::connect(replica.addr, auth).await;
        assert_eq!(ws.close_code().await, 4401, "{auth:?}");
    }
    let mut ws = Ws::connect(replica.addr, Auth::Subprotocol("garbage")).await;
    assert_eq!(ws.protocol.as_deref(), Some("vexil.garbage"));
    assert_eq!(ws.close_code().await, 4401);

    let mut ws = Ws::connect(replica.addr, Auth::Subprotocol(&key)).await;
    assert_eq!(ws.protocol, Some(format!("vexil.{key}")));
    ws.hello(None).await;
    ws.snapshot().await;
}

#[tokio::test]
async fn revoking_a_key_or_deleting_its_environment_closes_its_streams_4403() {
    let replica = Replica::start(config(&data_dir("stream-revoke"))).await;
    let (id, key) = replica.sdk_key("production").await;
    let (_, other_key) = replica.sdk_key("production").await;
    let mut revoked = Ws::subscribe(replica.addr, &key, None).await;
    let mut other = Ws::subscribe(replica.addr, &other_key, None).await;
    let v = revoked.snapshot().await;
    other.snapshot().await;

    let path = format!("/api/v1/projects/default/environments/production/sdk-keys/{id}");
    assert_eq!(replica.call(Method::DELETE, &path, None).await.0, 204);
    assert_eq!(revoked.close_code().await, 4403);
    // The other key's stream goes on.
    replica.create_flag("checkout").await;
    assert_eq!(other.patch().await.from_version, v);
    // And the revoked key cannot come back.
    let mut again = Ws::connect(replica.addr, Auth::Bearer(&key)).await;
    assert_eq!(again.close_code().await, 4403);

    let (status, _) = replica
        .call(
            Method::POST,
            "/api/v1/projects/default/environments",
            Some(serde_json::json!({"key": "qa", "name": "QA"})),
        )
        .await;
    assert_eq!(status, 201);
    let (_, qa_key) = replica.sdk_key("qa").await;
    let mut qa = Ws::subscribe(replica.addr, &qa_key, None).await;
    qa.snapshot().await;
    let path = "/api/v1/projects/default/environments/qa";
    assert_eq!(replica.call(Method::DELETE, path, None).await.0, 204);
    assert_eq!(qa.close_code().await, 4403);
}

#[tokio::test]
async fn bad_frames_close_4400_for_that_connection_only() {
    let replica = Replica::start(config(&data_dir("stream-bad-frames"))).await;
    let (_, key) = replica.sdk_key("production").await;
    replica.create_flag("checkout").await;
    let mut bystander = Ws::subscribe(replica.addr, &key, None).await;
    let mut v = bystander.snapshot().await;
    let oversized = format!(r#"{{"type":"pong","pad":"{}"}}"#, "x".repeat(64 * 1024));
    let bad: [&str; 5] = [
        "{not json",
        r#"{"type":"subscribe"}"#,
        r#"{"type":"hello","sdk":"x","sdk_version":"1"}"#,
        "[1, 2, 3]",
        &oversized,
    ];
    for (n, frame) in bad.iter().enumerate() {
        let mut ws = Ws::subscribe(replica.addr, &key, None).await;
        ws.snapshot().await;
        ws.send_text(frame).await;
        assert_eq!(ws.close_code().await, 4400, "bad frame #{n}");
        replica.toggle("checkout", n % 2 == 0).await;
        let patch = bystander.patch().await;
        assert_eq!(patch.from_version, v);
        v = patch.to_version;
    }
    let mut ws = Ws::subscribe(replica.addr, &key, None).await;
    ws.snapshot().await;
    use futures_util::SinkExt;
    ws.socket
        .send(tokio_tungstenite::tungstenite::Message::Binary(
            vec![1, 2].into(),
        ))
        .await
        .unwrap();
    assert_eq!(ws.close_code().await, 4400);
    replica.toggle("checkout", true).await;
    assert_eq!(bystander.patch().await.from_version, v);
}

#[tokio::test]
async fn a_client_that_never_reads_does_not_hold_up_the_others() {
    let replica = Replica::start(config(&data_dir("stream-slow"))).await;
    let (_, key) = replica.sdk_key("production").await;
    replica.create_flag("checkout").await;
    // Says hello, then never reads a byte.
    let _stalled = Ws::subscribe(replica.addr, &key, None).await;
    let mut reader = Ws::subscribe(replica.addr, &key, None).await;
    let mut v = reader.snapshot().await;
    for n in 0..200 {
        replica.toggle("checkout", n % 2 == 0).await;
    }
    for _ in 0..200 {
        match reader.next().await {
            Frame::Message(ServerMessage::Patch(patch)) => {
                assert_eq!(patch.from_version, v);
                v = patch.to_version;
            }
            // A reader that fell behind may get a snapshot instead.
            Frame::Message(ServerMessage::Snapshot(snapshot)) => v = snapshot.version,
            other => panic!("unexpected {other:?}"),
        }
        if v == 200 + 2 {
            break;
        }
    }
    let (_, flag) = replica
        .call(
            Method::GET,
            "/api/v1/projects/default/environments/production",
            None,
        )
        .await;
    assert_eq!(flag["version"].as_u64(), Some(v));
}

#[tokio::test]
async fn graceful_shutdown_says_goodbye_with_a_jittered_hint_then_closes_1012() {
    let mut replica = Replica::start(config(&data_dir("stream-shutdown"))).await;
    let (_, key) = replica.sdk_key("production").await;
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut ws = Ws::subscribe(replica.addr, &key, None).await;
        ws.snapshot().await;
        clients.push(ws);
    }
    let stopping = tokio::spawn(async move {
        replica.stop().await;
    });
    for ws in &mut clients {
        match ws.next().await {
            Frame::Message(ServerMessage::Goodbye {
                reason,
                reconnect_after_ms,
            }) => {
                assert_eq!(reason, "server shutting down");
                assert!((500..=5_000).contains(&reconnect_after_ms));
            }
            other => panic!("expected goodbye, got {other:?}"),
        }
        assert_eq!(ws.close_code().await, 1012);
    }
    stopping.await.unwrap();
}
