//! Load harness for kill switches (`docs/performance.md`, "Kill switch").
//!
//! Starts the real `vexil` binary as a child process over a fresh SQLite
//! store; through the REST API creates a flag that is on in production, an
//! SDK key, an integration token and a kill switch (`CheckoutErrors` pages
//! disable the flag, `restore: on_resolve`); opens `--subscribers` WebSocket
//! streams speaking the wire protocol, as connected SDKs; and then, for each
//! of `--trips` rounds, posts an Alertmanager v4 payload (a group of two
//! firing alerts, one matching) and measures, from the moment the POST is
//! sent, each subscriber's receipt of the version that turns the flag off
//! (p50, p99, max over every subscriber and round). The POST's own round
//! trip is reported beside it (the trip commits inside it). Each round ends
//! with the alert resolving, which restores the flag, so the next round
//! trips an armed switch again.
//!
//! ```sh
//! cargo build --release -p vexil-server --bin vexil
//! cargo run --release -p vexil-benches --bin load_killswitch -- --subscribers 1000
//! ```
//!
//! The server and the subscribers share the machine (2 cores here). The
//! file-descriptor limit must allow the subscribers (`ulimit -n`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{StreamExt, stream};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use vexil_benches::harness::*;

/// Measures the time from an Alertmanager POST to every SDK stream seeing
/// the flag off.
#[derive(Debug, Parser)]
struct Args {
    /// WebSocket subscribers to open.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Rounds of firing (measured) and resolving (restores the flag).
    #[arg(long, default_value_t = 20)]
    trips: usize,
    /// Pause after each round, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pause_ms: u64,
    /// Streams opening at once while connecting.
    #[arg(long, default_value_t = 64)]
    connect_concurrency: usize,
    /// The `vexil` binary (default: next to this harness, as
    /// `cargo build --release -p vexil-server` leaves it).
    #[arg(long)]
    server_bin: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let server = Server::start(args.server_bin.clone(), "load-killswitch")?;
    let base_url = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    let admin = login(&http, &base_url).await?;
    let sdk_key = setup(&http, &base_url, &admin).await?;
    let integration = arm(&http, &base_url, &admin).await?;
    let start_version = environment_version(&http, &base_url, &sdk_key).await?;
    println!(
        "load_killswitch: {} subscribers, {} trips, server pid {} on {}",
        args.subscribers,
        args.trips,
        server.child.id(),
        server.addr
    );

    let base = Instant::now();
    // Two versions per round: the trip, then the restore.
    let versions = 2 * args.trips;
    let tally = Arc::new(Tally {
        receipts: Mutex::new(vec![Vec::with_capacity(args.subscribers); versions]),
        reached: (0..versions).map(|_| AtomicUsize::new(0)).collect(),
        ..Tally::default()
    });
    let url = format!("ws://{}/api/v1/stream", server.addr);
    let connect_started = Instant::now();
    let tasks: Vec<_> = stream::iter(0..args.subscribers)
        .map(|_| {
            subscribe(
                "load-killswitch",
                url.clone(),
                sdk_key.clone(),
                start_version,
                tally.clone(),
                base,
            )
        })
        .buffer_unordered(args.connect_concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    println!(
        "connected {} streams in {:.2} s",
        tasks.len(),
        connect_started.elapsed().as_secs_f64()
    );

    let mut latency = Histogram::<u64>::new(3)?;
    let mut to_last = Histogram::<u64>::new(3)?;
    let mut round_trip = Histogram::<u64>::new(3)?;
    for round in 0..args.trips {
        let sent = base.elapsed().as_nanos() as u64;
        let effects = post_alerts(&http, &base_url, &integration, round, "firing").await?;
        round_trip.record(base.elapsed().as_nanos() as u64 - sent)?;
        anyhow::ensure!(
            effects == ["tripped"],
            "round {round}: the firing alert did {effects:?}, not one trip"
        );
        let trip = 2 * round;
        wait_all(&tally, trip, args.subscribers).await?;
        let receipts = lock(&tally.receipts)[trip].clone();
        for r in &receipts {
            latency.record(r.saturating_sub(sent))?;
        }
        let last = receipts.iter().max().copied().unwrap_or(sent);
        to_last.record(last.saturating_sub(sent))?;

        let effects = post_alerts(&http, &base_url, &integration, round, "resolved").await?;
        anyhow::ensure!(
            effects == ["restored"],
            "round {round}: the resolved alert did {effects:?}, not one restore"
        );
        wait_all(&tally, trip + 1, args.subscribers).await?;
        tokio::time::sleep(Duration::from_millis(args.pause_ms)).await;
    }

    println!(
        "alert POST sent -> flag-off patch received, {} samples:",
        latency.len()
    );
    print_ms("  ", &latency);
    println!("alert POST round trip (sent -> 202 received):");
    print_ms("  ", &round_trip);
    println!("alert POST sent -> last subscriber's receipt, per trip:");
    print_ms("  ", &to_last);
    println!(
        "snapshots after the first: {}; unexpected frames: {}",
        tally.extra_snapshots.load(Ordering::Relaxed),
        tally.unexpected.load(Ordering::Relaxed)
    );
    for t in tasks {
        t.abort();
    }
    drop(server);
    Ok(())
}

/// Waits until every subscriber holds the version at `index` (30 s at most).
async fn wait_all(tally: &Tally, index: usize, subscribers: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while tally.reached[index].load(Ordering::Acquire) < subscribers {
        if Instant::now() > deadline {
            anyhow::bail!(
                "version {}: only {} of {subscribers} subscribers got it within 30 s",
                index + 1,
                tally.reached[index].load(Ordering::Acquire),
            );
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

/// Creates an integration token and the kill switch; returns the token.
async fn arm(http: &reqwest::Client, base: &str, admin: &str) -> anyhow::Result<String> {
    http.put(format!(
        "{base}/api/v1/projects/{PROJECT}/flags/{FLAG}/environments/{ENVIRONMENT}"
    ))
    .bearer_auth(admin)
    .json(&json!({"enabled": true, "off_variant": "off", "default_serve": {"variant": "on"}}))
    .send()
    .await?
    .error_for_status()?;
    let token: Value = http
        .post(format!("{base}/api/v1/tokens"))
        .bearer_auth(admin)
        .json(&json!({"name": "alertmanager-bench", "kind": "integration", "expires_in_days": 1}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    http.post(format!("{base}/api/v1/projects/{PROJECT}/kill-switches"))
        .bearer_auth(admin)
        .json(&json!({
            "name": "Checkout errors", "flag": FLAG, "environment": ENVIRONMENT,
            "trigger": {"alert": {"matchers": [
                {"label": "alertname", "op": "=", "value": "CheckoutErrors"},
                {"label": "severity", "op": "=~", "value": "page|critical"},
            ]}},
            "action": "disable", "restore": "on_resolve",
        }))
        .send()
        .await?
        .error_for_status()?;
    Ok(token["token"].as_str().unwrap_or_default().to_string())
}

/// Posts round `round`'s group as Alertmanager sends it (a matching page
/// and a ticket no switch matches), as `status`; the answer's effects.
async fn post_alerts(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    round: usize,
    status: &str,
) -> anyhow::Result<Vec<String>> {
    let ends_at = if status == "resolved" {
        "2026-12-03T08:00:00Z"
    } else {
        "0001-01-01T00:00:00Z"
    };
    let starts_at = format!("2026-12-03T07:{:02}:{:02}Z", round / 60 % 60, round % 60);
    let alert = |name: &str, severity: &str, fingerprint: String| {
        json!({
            "status": status,
            "labels": {"alertname": name, "service": "checkout", "severity": severity},
            "annotations": {"summary": "load_killswitch"},
            "startsAt": starts_at, "endsAt": ends_at,
            "generatorURL": "http://prometheus.example:9090/graph",
            "fingerprint": fingerprint,
        })
    };
    let payload = json!({
        "version": "4",
        "groupKey": "{}:{alertname=\"CheckoutErrors\"}",
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "vexil",
        "groupLabels": {"alertname": "CheckoutErrors"},
        "commonLabels": {"service": "checkout"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [
            alert("CheckoutErrors", "page", format!("bench{round:06}")),
            alert("CheckoutLatency", "ticket", format!("ticket{round:06}")),
        ],
    });
    let answer: Value = http
        .post(format!("{base}/api/v1/integrations/alertmanager"))
        .bearer_auth(token)
        .json(&payload)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(answer["matched"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["effect"].as_str().map(str::to_owned))
        .collect())
}
