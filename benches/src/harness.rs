//! What the load harnesses share (`src/bin/load_*.rs`): the real `vexil`
//! binary as a child process with a bench admin, logging in, a flag and an
//! SDK key to stream, and reading a process's CPU time and memory.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

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
