//! Load harness for the WebSocket stream (`docs/performance.md`, "Stream").
//!
//! Starts the real `vexil` binary as a child process (so its memory is its
//! own) over a fresh SQLite store, creates a flag and an SDK key through the
//! REST API, opens `--subscribers` WebSocket streams speaking the wire
//! protocol, and then:
//!
//! - **memory per idle connection**: the server's resident set size
//!   (`/proc/<pid>/status`, `VmRSS`) before the streams connect and after
//!   they have all received their snapshot and sat idle, divided by their
//!   number;
//! - **propagation latency**: for each of `--writes` toggles, from the
//!   moment the request is sent to each subscriber's receipt of the patch
//!   (p50, p99, max over every subscriber and write); the request's own
//!   round trip is reported beside it, since commit happens inside it;
//! - **fan-out time**: per write, the first subscriber's receipt to the
//!   last one's, and the send to the last receipt;
//! - **CPU time** of the server and of this harness during the writes, per
//!   write (the server's also per subscriber), from `/proc/<pid>/stat`;
//! - how many snapshots subscribers got after their first (a slow consumer
//!   whose queue overflowed gets one instead of patches).
//!
//! ```sh
//! cargo build --release -p vexil-server --bin vexil
//! cargo run --release -p vexil-benches --bin load_stream -- --subscribers 1000
//! cargo run --release -p vexil-benches --bin load_stream -- --subscribers 10000
//! ```
//!
//! The server and the subscribers share the machine (2 cores here), so the
//! figures include the cost of 10 000 clients reading on the same cores.
//! The file-descriptor limit must allow the subscribers (`ulimit -n`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{StreamExt, stream};
use hdrhistogram::Histogram;
use serde_json::json;
use vexil_benches::harness::*;

/// Measures stream propagation latency, fan-out and memory per connection.
#[derive(Debug, Parser)]
struct Args {
    /// WebSocket subscribers to open.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Toggles to write, one after another, each once every subscriber has
    /// the previous one.
    #[arg(long, default_value_t = 30)]
    writes: usize,
    /// Pause between writes, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pause_ms: u64,
    /// Streams opening at once while connecting.
    #[arg(long, default_value_t = 64)]
    connect_concurrency: usize,
    /// Seconds the streams sit idle before memory is read.
    #[arg(long, default_value_t = 3)]
    idle_secs: u64,
    /// The `vexil` binary (default: next to this harness, as
    /// `cargo build --release -p vexil-server` leaves it).
    #[arg(long)]
    server_bin: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let server = Server::start(args.server_bin.clone(), "load-stream")?;
    let base_url = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    let admin = login(&http, &base_url).await?;
    let sdk_key = setup(&http, &base_url, &admin).await?;
    let start_version = environment_version(&http, &base_url, &sdk_key).await?;
    println!(
        "load_stream: {} subscribers, {} writes, server pid {} on {}",
        args.subscribers,
        args.writes,
        server.child.id(),
        server.addr
    );

    let rss_before = rss_kib(server.child.id())?;
    let base = Instant::now();
    let tally = Arc::new(Tally {
        receipts: Mutex::new(vec![Vec::with_capacity(args.subscribers); args.writes]),
        reached: (0..args.writes).map(|_| AtomicUsize::new(0)).collect(),
        ..Tally::default()
    });
    let url = format!("ws://{}/api/v1/stream", server.addr);
    let connect_started = Instant::now();
    let tasks: Vec<_> = stream::iter(0..args.subscribers)
        .map(|_| {
            subscribe(
                "load-stream",
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
    tokio::time::sleep(Duration::from_secs(args.idle_secs)).await;
    let rss_idle = rss_kib(server.child.id())?;
    let per_conn = (rss_idle.saturating_sub(rss_before)) as f64 / args.subscribers as f64;
    println!(
        "server RSS: {rss_before} KiB before, {rss_idle} KiB with {} idle streams: {per_conn:.1} KiB per connection",
        args.subscribers
    );

    let cpu_before = (cpu_ms(server.child.id())?, cpu_ms(std::process::id())?);
    let mut latency = Histogram::<u64>::new(3)?;
    let mut fan_out = Histogram::<u64>::new(3)?;
    let mut to_last = Histogram::<u64>::new(3)?;
    let mut round_trip = Histogram::<u64>::new(3)?;
    for i in 0..args.writes {
        let sent = base.elapsed().as_nanos() as u64;
        let enabled = i % 2 == 0;
        toggle(&http, &base_url, &admin, enabled).await?;
        round_trip.record(base.elapsed().as_nanos() as u64 - sent)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while tally.reached[i].load(Ordering::Acquire) < args.subscribers {
            if Instant::now() > deadline {
                anyhow::bail!(
                    "write {}: only {} of {} subscribers got it within 30 s",
                    i + 1,
                    tally.reached[i].load(Ordering::Acquire),
                    args.subscribers
                );
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let receipts = lock(&tally.receipts)[i].clone();
        let (first, last) = (
            *receipts.iter().min().unwrap_or(&sent),
            *receipts.iter().max().unwrap_or(&sent),
        );
        for r in &receipts {
            latency.record(r.saturating_sub(sent))?;
        }
        fan_out.record(last - first)?;
        to_last.record(last.saturating_sub(sent))?;
        tokio::time::sleep(Duration::from_millis(args.pause_ms)).await;
    }

    let cpu_after = (cpu_ms(server.child.id())?, cpu_ms(std::process::id())?);
    let per_write = |before: u64, after: u64| (after - before) as f64 / args.writes as f64;
    let server_ms = per_write(cpu_before.0, cpu_after.0);
    println!(
        "CPU per write: server {server_ms:.1} ms ({:.2} us per subscriber), harness {:.1} ms",
        server_ms * 1000.0 / args.subscribers as f64,
        per_write(cpu_before.1, cpu_after.1)
    );
    println!(
        "propagation (request sent -> patch received), {} samples:",
        latency.len()
    );
    print_ms("  ", &latency);
    println!("write round trip (request sent -> 200 received):");
    print_ms("  ", &round_trip);
    println!("fan-out, first receipt -> last receipt, per write:");
    print_ms("  ", &fan_out);
    println!("request sent -> last subscriber's receipt, per write:");
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

async fn toggle(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    enabled: bool,
) -> anyhow::Result<()> {
    http.post(format!(
        "{base}/api/v1/projects/{PROJECT}/flags/{FLAG}/environments/{ENVIRONMENT}/toggle"
    ))
    .bearer_auth(admin)
    .json(&json!({"enabled": enabled, "reason": "load_stream"}))
    .send()
    .await?
    .error_for_status()?;
    Ok(())
}
