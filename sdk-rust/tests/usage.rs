//! Evaluation counts reach `POST /api/v1/usage` (an in-test axum endpoint)
//! with the SDK key as bearer: periodically, and once more on close.

mod peer;

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::sync::mpsc;
use vexil_proto::{UsageCount, UsageReport};
use vexil_sdk::{Client, Context};

type Received = mpsc::UnboundedSender<(Option<String>, UsageReport)>;

async fn usage(
    State(received): State<Received>,
    headers: HeaderMap,
    Json(report): Json<UsageReport>,
) -> StatusCode {
    let bearer = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    received.send((bearer, report)).unwrap();
    StatusCode::ACCEPTED
}

/// An HTTP server with only the usage endpoint: the client's stream gets
/// 404s and keeps retrying, serving its bootstrap.
async fn usage_server() -> (
    String,
    mpsc::UnboundedReceiver<(Option<String>, UsageReport)>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new()
        .route("/api/v1/usage", post(usage))
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

fn count(flag: &str, variant: Option<&str>, count: u64) -> UsageCount {
    UsageCount {
        flag: flag.into(),
        variant: variant.map(str::to_owned),
        count,
    }
}

async fn client(url: &str, interval: Duration) -> Client {
    Client::builder(peer::KEY)
        .url(url)
        .bootstrap_file(peer::fixture())
        .usage_interval(interval)
        .init_timeout(Duration::from_millis(100))
        .backoff(Duration::from_millis(200), Duration::from_secs(1))
        .build()
        .await
        .unwrap()
}

fn evaluate(client: &Client) {
    let vip = Context::new("vip-1");
    for _ in 0..3 {
        assert!(client.bool_value("new-checkout", &vip, false));
    }
    assert!(!client.bool_value("new-checkout", &Context::new("u"), true));
    // Wrong type and unknown flag: the caller's default, no variant.
    assert_eq!(client.string_value("new-checkout", &vip, "x"), "x");
    client.bool_details("no-such-flag", &vip, false);
    client.bool_value("no-such-flag", &vip, false);
}

#[tokio::test]
async fn close_flushes_the_counts_with_the_sdk_key() {
    let (url, mut received) = usage_server().await;
    // An interval far beyond the test: only close() can send.
    let client = client(&url, Duration::from_secs(3600)).await;
    evaluate(&client);
    client.close().await;

    let (bearer, report) = received.recv().await.unwrap();
    assert_eq!(bearer.as_deref(), Some("Bearer sdk-test-key"));
    assert_eq!(
        report.counts,
        [
            count("new-checkout", None, 1),
            count("new-checkout", Some("off"), 1),
            count("new-checkout", Some("on"), 3),
            count("no-such-flag", None, 2),
        ]
    );
    assert!(report.window_start <= report.window_end);
    assert!(received.try_recv().is_err(), "one report, nothing else");
}

#[tokio::test]
async fn counts_are_reported_every_interval_and_each_window_only_once() {
    let (url, mut received) = usage_server().await;
    let client = client(&url, Duration::from_secs(1)).await;
    evaluate(&client);
    let wait = Duration::from_secs(30);
    let (_, first) = tokio::time::timeout(wait, received.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.counts.len(), 4);

    client.bool_value("banner-text", &Context::new("u"), false);
    client.string_value("banner-text", &Context::new("u"), "");
    let (_, second) = tokio::time::timeout(wait, received.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        second.counts,
        [
            count("banner-text", None, 1),
            count("banner-text", Some("welcome"), 1)
        ]
    );
    assert!(second.window_start >= first.window_end);
    client.close().await;
    assert!(received.try_recv().is_err(), "nothing left to flush");
}
