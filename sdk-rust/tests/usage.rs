//! Evaluation counts reach `POST /api/v1/usage` (an in-test axum endpoint)
//! with the SDK key as bearer: periodically, and once more on close.

mod peer;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::sync::mpsc;
use vexil_proto::{UsageCount, UsageReport};
use vexil_sdk::{Client, Context};

type Reports = mpsc::UnboundedReceiver<(Option<String>, UsageReport)>;

#[derive(Clone)]
struct Endpoint {
    received: mpsc::UnboundedSender<(Option<String>, UsageReport)>,
    /// Answers to give, in order; 202 once they run out.
    answers: Arc<Mutex<VecDeque<StatusCode>>>,
}

async fn usage(
    State(endpoint): State<Endpoint>,
    headers: HeaderMap,
    Json(report): Json<UsageReport>,
) -> StatusCode {
    let bearer = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    endpoint.received.send((bearer, report)).unwrap();
    let answer = endpoint.answers.lock().unwrap().pop_front();
    answer.unwrap_or(StatusCode::ACCEPTED)
}

/// An HTTP server with only the usage endpoint: the client's stream gets
/// 404s and keeps retrying, serving its bootstrap.
async fn usage_server() -> (String, Reports) {
    usage_server_answering(&[]).await
}

async fn usage_server_answering(answers: &[StatusCode]) -> (String, Reports) {
    let (tx, rx) = mpsc::unbounded_channel();
    let endpoint = Endpoint {
        received: tx,
        answers: Arc::new(Mutex::new(answers.iter().copied().collect())),
    };
    let app = Router::new()
        .route("/api/v1/usage", post(usage))
        .with_state(endpoint);
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

async fn next_report(received: &mut Reports) -> UsageReport {
    tokio::time::timeout(Duration::from_secs(30), received.recv())
        .await
        .expect("a report within 30 s")
        .unwrap()
        .1
}

#[tokio::test]
async fn a_failed_report_goes_with_the_next_and_a_refused_one_is_dropped() {
    let (url, mut received) = usage_server_answering(&[
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::ACCEPTED,
        StatusCode::UNPROCESSABLE_ENTITY,
    ])
    .await;
    let client = client(&url, Duration::from_secs(1)).await;
    let vip = Context::new("vip-1");
    client.bool_value("new-checkout", &vip, false);
    let unavailable = next_report(&mut received).await;
    assert_eq!(unavailable.counts, [count("new-checkout", Some("on"), 1)]);

    client.bool_value("new-checkout", &vip, false);
    let retried = next_report(&mut received).await;
    assert_eq!(retried.counts, [count("new-checkout", Some("on"), 2)]);
    assert_eq!(retried.window_start, unavailable.window_start);

    client.bool_value("legacy-search", &vip, false);
    let refused = next_report(&mut received).await;
    assert_eq!(refused.counts, [count("legacy-search", Some("off"), 1)]);
    assert!(refused.window_start >= retried.window_end);
    client.close().await;
    assert!(
        received.try_recv().is_err(),
        "the refused counts are not resent"
    );
}

#[tokio::test]
async fn a_window_with_many_flags_is_sent_in_chunks_the_server_accepts() {
    let (url, mut received) = usage_server().await;
    let client = client(&url, Duration::from_secs(3600)).await;
    let ctx = Context::new("u");
    for i in 0..700 {
        client.bool_value(&format!("missing-{i:03}"), &ctx, false);
    }
    client.close().await;
    let first = next_report(&mut received).await;
    let second = next_report(&mut received).await;
    assert_eq!((first.counts.len(), second.counts.len()), (500, 200));
    assert_eq!(first.window_start, second.window_start);
    assert_eq!(first.counts[0], count("missing-000", None, 1));
    assert_eq!(second.counts[199], count("missing-699", None, 1));
}
