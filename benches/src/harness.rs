//! What the load harnesses share (`src/bin/load_*.rs`): the real `vexil`
//! binary as a child process with a bench admin, logging in, a flag and an
//! SDK key to stream, subscribers that tally when each version reaches
//! them, and reading a process's CPU time and memory.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub const PROJECT: &str = "default";
pub const ENVIRONMENT: &str = "production";
/// The flag the harnesses toggle or kill.
pub const FLAG: &str = "load-stream";
pub const ADMIN: &str = "bench-admin";
pub const PASSWORD: &str = "bench-password-for-load";

/// The `vexil` child process; killed when dropped.
#[derive(Debug)]
pub struct Server {
    pub child: Child,
    /// `host:port` it listens on.
    pub addr: String,
    data_dir: PathBuf,
}

impl Server {
    /// Starts `bin` (default: `vexil` next to the running harness) on a
    /// free loopback port over a fresh SQLite store in a temporary
    /// directory named after `harness`.
    pub fn start(bin: Option<PathBuf>, harness: &str) -> anyhow::Result<Server> {
        let bin = match bin {
            Some(bin) => bin,
            None => std::env::current_exe()?.with_file_name("vexil"),
        };
        anyhow::ensure!(
            bin.exists(),
            "{} not found: build it with `cargo build --release -p vexil-server --bin vexil`, or pass --server-bin",
            bin.display()
        );
        let data_dir = std::env::temp_dir().join(format!("vexil-{harness}-{}", std::process::id()));
        let mut child = Command::new(&bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data_dir)
            .env("VEXIL_ADMIN_USERNAME", ADMIN)
            .env("VEXIL_ADMIN_PASSWORD", PASSWORD)
            .env("VEXIL_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let Some(line) = lines.next() else {
                anyhow::bail!("the server exited before it listened");
            };
            let line = line?;
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split('/').next().unwrap_or_default().to_string();
            }
        };
        // Keep draining the server's log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(Server {
            child,
            addr,
            data_dir,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// The lock, even if a reader panicked while holding it.
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// CPU time (user + system) process `pid` has used, in milliseconds
/// (`/proc/<pid>/stat`, in clock ticks of 10 ms: Linux's `USER_HZ`).
pub fn cpu_ms(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow::anyhow!("unreadable /proc/{pid}/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line; `rest` starts at
    // field 3.
    let ticks = |i: usize| -> anyhow::Result<u64> {
        Ok(fields
            .get(i)
            .ok_or_else(|| anyhow::anyhow!("short /proc/{pid}/stat"))?
            .parse()?)
    };
    Ok((ticks(11)? + ticks(12)?) * 10)
}

/// The resident set size of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/{pid}/status"))
}

pub async fn login(http: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let body: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": ADMIN, "password": PASSWORD}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(body["token"].as_str().unwrap_or_default().to_string())
}

/// Creates the flag and an SDK key for `production`; returns the key.
pub async fn setup(http: &reqwest::Client, base: &str, admin: &str) -> anyhow::Result<String> {
    http.post(format!("{base}/api/v1/projects/{PROJECT}/flags"))
        .bearer_auth(admin)
        .json(&json!({
            "key": FLAG, "name": "Load stream", "kind": "boolean",
            "variants": [{"key": "on", "value": true}, {"key": "off", "value": false}],
        }))
        .send()
        .await?
        .error_for_status()?;
    let key: Value = http
        .post(format!(
            "{base}/api/v1/projects/{PROJECT}/environments/{ENVIRONMENT}/sdk-keys"
        ))
        .bearer_auth(admin)
        .json(&json!({"name": "load-stream"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(key["token"].as_str().unwrap_or_default().to_string())
}

/// The environment's version now, from the polling endpoint.
pub async fn environment_version(
    http: &reqwest::Client,
    base: &str,
    sdk_key: &str,
) -> anyhow::Result<u64> {
    let snapshot: Value = http
        .get(format!("{base}/api/v1/snapshot"))
        .bearer_auth(sdk_key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    snapshot["version"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no version in the snapshot"))
}

/// Prints a histogram of nanoseconds as milliseconds: p50, p90, p99, max.
pub fn print_ms(indent: &str, h: &Histogram<u64>) {
    let ms = |v: u64| v as f64 / 1e6;
    println!(
        "{indent}p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.9)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    );
}

/// What every subscriber shares with the harness.
#[derive(Debug, Default)]
pub struct Tally {
    /// Per write (by version): receipt times, nanoseconds after `base`.
    pub receipts: Mutex<Vec<Vec<u64>>>,
    /// Subscribers holding each version so far: index = version - first.
    pub reached: Vec<AtomicUsize>,
    /// Snapshots received after the first one, by all subscribers.
    pub extra_snapshots: AtomicU64,
    /// Frames that were not snapshot, patch, ping or pong.
    pub unexpected: AtomicU64,
}

/// Opens one stream as SDK `sdk`, waits for its snapshot, and leaves a
/// task reading it: each patch or snapshot counts in `tally` as the receipt
/// of every version up to its own (`base` is the clock's zero).
pub async fn subscribe(
    sdk: &'static str,
    url: String,
    sdk_key: String,
    start_version: u64,
    tally: Arc<Tally>,
    base: Instant,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {sdk_key}"))?,
    );
    // Small buffers, as the server's, so 10 000 clients fit in memory.
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), false).await?;
    let hello = json!({"type": "hello", "sdk": sdk, "sdk_version": "0"});
    ws.send(Message::Text(hello.to_string().into())).await?;
    let first = ws
        .next()
        .await
        .ok_or_else(|| anyhow::anyhow!("stream closed before its snapshot"))??;
    let frame: Value = serde_json::from_str(first.to_text()?)?;
    anyhow::ensure!(
        frame["type"] == "snapshot",
        "expected a snapshot, got {frame}"
    );
    Ok(tokio::spawn(async move {
        while let Some(Ok(message)) = ws.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let received = base.elapsed().as_nanos() as u64;
            let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                tally.unexpected.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let version = match frame["type"].as_str() {
                Some("patch") => frame["to_version"].as_u64(),
                Some("snapshot") => {
                    tally.extra_snapshots.fetch_add(1, Ordering::Relaxed);
                    frame["version"].as_u64()
                }
                Some("ping") => {
                    let pong = json!({"type": "pong"}).to_string();
                    if ws.send(Message::Text(pong.into())).await.is_err() {
                        return;
                    }
                    None
                }
                Some("pong") => None,
                _ => {
                    tally.unexpected.fetch_add(1, Ordering::Relaxed);
                    None
                }
            };
            // A patch or snapshot takes the subscriber to `version`: count
            // it as the receipt of every write up to there it had not seen.
            let Some(version) = version else { continue };
            let index = version.saturating_sub(start_version + 1) as usize;
            if version > start_version && index < tally.reached.len() {
                lock(&tally.receipts)[index].push(received);
                tally.reached[index].fetch_add(1, Ordering::Release);
            }
        }
    }))
}
