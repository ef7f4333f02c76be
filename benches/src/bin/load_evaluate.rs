//! Load harness for server-side evaluation (`docs/performance.md`, "Server").
//!
//! Starts a real Vexil server in this process on `127.0.0.1:0`, over a
//! fresh SQLite store in a temporary directory (or PostgreSQL, below), with
//! one flag in `default`/`production`; mints an SDK key (and an editor's
//! session); then
//! drives the server from `--connections` keep-alive HTTP/1.1 connections
//! for `--duration` seconds after a `--warmup`, and prints requests per
//! second and the latency distribution (an HDR histogram per connection,
//! merged).
//!
//! ```sh
//! cargo run --release -p vexil-benches --bin load_evaluate -- --connections 32 --duration 10
//! cargo run --release -p vexil-benches --bin load_evaluate -- --mode toggle --connections 4
//! cargo run --release -p vexil-benches --bin load_evaluate -- --mode toggle --connections 4 \
//!     --database-url postgres://postgres@127.0.0.1:5432/vexil
//! ```
//!
//! Modes:
//! - `evaluate` (default): `POST /api/v1/evaluate` for the one flag, with
//!   the SDK key; optionally with `--store-writes-per-sec` toggles written
//!   through the store and followed by the cache invalidation a write
//!   handler makes, to measure evaluation while the snapshot churns;
//! - `toggle`: `POST /api/v1/projects/default/flags/{f}/environments/production/toggle`
//!   with the editor's session, alternating on and off (each one a committed,
//!   audited write).
//!
//! The store is a fresh SQLite file, or with `--database-url` a PostgreSQL
//! database, possibly shared: the harness then works in a project of its
//! own (`load-<pid>-<nanos>`, with a `production` environment), with its
//! own editor and SDK key, and removes all three when it is done (the
//! change log keeps their entries).
//!
//! The server and the load generator share the machine: on 2 cores they
//! compete for them, so the figures are a floor for the server alone. Every
//! request loop is bounded by the duration; the harness stops by itself.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper_util::rt::TokioIo;
use serde_json::json;
use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpStream};
use vexil_benches::{contexts, shapes};
use vexil_proto::{Environment, Project};
use vexil_proto::{Flag, SnapshotFlag};
use vexil_server::auth::{AuthState, Clock, SystemClock};
use vexil_server::store::postgres::PostgresStore;
use vexil_server::store::sqlite::SqliteStore;
use vexil_server::store::{Role, Store, TokenKind, TokenRecord, UserRecord, WriteMeta};
use vexil_server::{AppState, app};

/// The project of a run on a fresh SQLite file (a fresh install has it).
const DEFAULT_PROJECT: &str = "default";
const ENVIRONMENT: &str = "production";

/// Drives a real in-process Vexil server and prints throughput and latency.
#[derive(Debug, Parser)]
struct Args {
    /// What each request does.
    #[arg(long, value_enum, default_value_t = Mode::Evaluate)]
    mode: Mode,
    /// The flag's shape (from `vexil_benches::shapes`).
    #[arg(long, value_enum, default_value_t = Shape::FiveRules)]
    shape: Shape,
    /// Concurrent keep-alive connections, each sending one request at a time.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of load before measuring (not counted).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Worker threads of the server's runtime.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// Worker threads of the load generator's runtime.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// In `evaluate` mode: flag toggles per second written through the
    /// store (each followed by `SnapshotCache::invalidate`), 0 for none.
    #[arg(long, default_value_t = 0.0)]
    store_writes_per_sec: f64,
    /// `postgres://…`: run against this database instead of a fresh SQLite
    /// file, in a project, user and SDK key of the run's own, removed
    /// afterwards (so a shared database is left as it was, but for the
    /// change log).
    #[arg(long, env = "VEXIL_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Evaluate,
    Toggle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Shape {
    /// A boolean flag without rules.
    Boolean,
    /// Five rules of three clauses ending in a 50/50 rollout.
    FiveRules,
}

/// What the server side hands the load generator.
struct Started {
    addr: SocketAddr,
    /// The project the flag is in.
    project: String,
    sdk_key: String,
    /// An editor's session, for toggles.
    editor: String,
    flag: String,
}

fn main() {
    let args = Args::parse();
    match run(&args) {
        Ok(report) => report.print(&args),
        Err(err) => {
            eprintln!("load_evaluate: {err}");
            std::process::exit(1);
        }
    }
}

/// Starts the server on its own runtime, drives it, stops it, and cleans up.
fn run(args: &Args) -> Result<Report, String> {
    let dir = std::env::temp_dir().join(format!(
        "vexil-load-{}-{}",
        std::process::id(),
        OffsetDateTime::now_utc().unix_timestamp_nanos()
    ));
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server_threads = args.server_threads;
    let shape = args.shape;
    let writes = args.store_writes_per_sec;
    let database_url = args.database_url.clone();
    let server_dir = dir.clone();
    let server = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(server_threads)
            .thread_name("server")
            .enable_all()
            .build()
            .expect("server runtime");
        let store = Where {
            dir: server_dir,
            database_url,
        };
        runtime.block_on(serve(store, shape, writes, started_tx, stop_rx));
    });
    let started = started_rx
        .recv()
        .map_err(|_| "the server did not start".to_owned())?;

    let client = if args.client_threads > 1 {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.client_threads)
            .thread_name("client")
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    }
    .map_err(|e| e.to_string())?;
    let report = client.block_on(drive(args, &started));
    let _ = stop_tx.send(());
    server
        .join()
        .map_err(|_| "the server thread panicked".to_owned())?;
    let _ = std::fs::remove_dir_all(&dir);
    report
}

/// Where the server stores: a SQLite file in `dir`, or PostgreSQL.
struct Where {
    dir: std::path::PathBuf,
    database_url: Option<String>,
}

impl Where {
    /// The store, and the project the run works in: `default` on a fresh
    /// SQLite file, a new one of its own on PostgreSQL.
    async fn open(&self) -> (Arc<dyn Store>, String) {
        let Some(url) = &self.database_url else {
            let store = SqliteStore::open(&self.dir.join("vexil.db"))
                .await
                .expect("open the store");
            return (Arc::new(store), DEFAULT_PROJECT.to_owned());
        };
        let store = PostgresStore::connect(url)
            .await
            .expect("connect to PostgreSQL");
        let key = format!(
            "load-{}-{}",
            std::process::id(),
            OffsetDateTime::now_utc().unix_timestamp_nanos()
        );
        let project = Project {
            key: key.clone(),
            name: "Load harness".into(),
            description: "Made and removed by load_evaluate".into(),
        };
        let environment = Environment {
            key: ENVIRONMENT.into(),
            name: "Production".into(),
            production: true,
            version: 0,
        };
        store
            .create_project(&project, &[environment], &meta("load"))
            .await
            .expect("create the run's project");
        (Arc::new(store), key)
    }

    /// Removes what [`Where::open`] and the run made in a shared database.
    async fn clean_up(&self, store: &dyn Store, project: &str, user: &str, key_id: &str) {
        if self.database_url.is_none() {
            return;
        }
        let cleaned = async {
            store.revoke_token(key_id, &meta("load")).await?;
            store.delete_user(user, &meta("load")).await?;
            store.delete_project(project, &meta("load")).await
        };
        if let Err(err) = cleaned.await {
            eprintln!("load_evaluate: cleaning up project {project}: {err}");
        }
    }
}

/// The server: store, flag, credentials, then `app()` until told to stop.
async fn serve(
    place: Where,
    shape: Shape,
    store_writes_per_sec: f64,
    started: std::sync::mpsc::Sender<Started>,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let (store, project) = place.open().await;
    let keys = AuthState::load_keys(&*store).await.expect("signing keys");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let auth = AuthState::new(keys, Arc::clone(&store), clock);
    let state = AppState::new(Arc::clone(&store), auth.clone());
    let snapshots = state.snapshots.clone();

    let snapshot_flag = match shape {
        Shape::Boolean => shapes::boolean(shapes::BOOLEAN),
        Shape::FiveRules => shapes::five_rules(shapes::FIVE_RULES),
    };
    create_flag(&*store, &project, &snapshot_flag).await;
    let (key_id, sdk_key) = sdk_key(&*store, &auth, &project).await;
    let (user, editor) = editor_session(&*store, &auth).await;

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop_poller, poller_stopped) = tokio::sync::oneshot::channel::<()>();
    let poller = tokio::spawn({
        let snapshots = snapshots.clone();
        async move {
            snapshots
                .run_poller(vexil_server::snapshots::DEFAULT_POLL_INTERVAL, async {
                    let _ = poller_stopped.await;
                })
                .await;
        }
    });
    let writer = (store_writes_per_sec > 0.0).then(|| {
        let store = Arc::clone(&store);
        let flag = snapshot_flag.key.clone();
        let project = project.clone();
        tokio::spawn(async move {
            let mut ticks =
                tokio::time::interval(Duration::from_secs_f64(1.0 / store_writes_per_sec));
            let mut enabled = false;
            loop {
                ticks.tick().await;
                if let Err(err) = store
                    .set_flag_enabled(&project, &flag, ENVIRONMENT, enabled, &meta("load"))
                    .await
                {
                    eprintln!("store write failed: {err}");
                }
                snapshots.invalidate(&project, ENVIRONMENT);
                enabled = !enabled;
            }
        })
    });
    started
        .send(Started {
            addr,
            project: project.clone(),
            sdk_key,
            editor,
            flag: snapshot_flag.key.clone(),
        })
        .expect("report the start");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async {
            let _ = stop.await;
        })
        .await
        .expect("serve");
    if let Some(writer) = writer {
        writer.abort();
    }
    let _ = stop_poller.send(());
    let _ = poller.await;
    place.clean_up(&*store, &project, &user, &key_id).await;
}

fn meta(actor: &str) -> WriteMeta {
    WriteMeta {
        actor: actor.into(),
        reason: None,
        at: OffsetDateTime::now_utc(),
        expected_version: None,
    }
}

async fn create_flag(store: &dyn Store, project: &str, flag: &SnapshotFlag) {
    let definition = Flag {
        key: flag.key.clone(),
        name: flag.key.clone(),
        description: "load harness flag".into(),
        tags: Vec::new(),
        owner: None,
        kind: flag.kind,
        variants: flag.variants.clone(),
        temporary: false,
    };
    store
        .create_flag(
            project,
            &definition,
            &[(ENVIRONMENT.to_owned(), flag.config.clone())],
            &meta("load"),
        )
        .await
        .expect("create the flag");
}

/// A stored SDK key for the run's environment: its id and its JWT.
async fn sdk_key(store: &dyn Store, auth: &AuthState, project: &str) -> (String, String) {
    let now = OffsetDateTime::now_utc();
    let record = TokenRecord {
        id: format!("load-{}", now.unix_timestamp_nanos()),
        kind: TokenKind::Sdk,
        name: "load harness".into(),
        role: None,
        project: Some(project.into()),
        environments: vec![ENVIRONMENT.into()],
        created_by: "user:load".into(),
        created_at: now,
        expires_at: now + time::Duration::days(1),
        last_used_at: None,
        revoked_at: None,
    };
    let stored = store
        .create_token(&record, &meta("load"))
        .await
        .expect("store the SDK key");
    let jwt = auth.keys().issue_token(&stored).expect("sign the SDK key");
    (stored.id, jwt)
}

/// An editor of the run's own (toggling needs no more) and a session for
/// it: its username and the session JWT.
async fn editor_session(store: &dyn Store, auth: &AuthState) -> (String, String) {
    let now = OffsetDateTime::now_utc();
    let username = format!("load-{}-{}", std::process::id(), now.unix_timestamp_nanos());
    let record = UserRecord {
        id: String::new(),
        username: username.clone(),
        password_hash: String::new(),
        role: Role::Editor,
        disabled: false,
        version: 0,
        created_at: now,
        updated_at: now,
    };
    let user = store
        .create_user(&record, &meta("load"))
        .await
        .expect("create the editor");
    let session = auth
        .keys()
        .issue_session(&user, &SystemClock)
        .expect("sign the session");
    (username, session)
}

/// What one connection measured.
struct Measured {
    latencies: Histogram<u64>,
    errors: u64,
    first_error: Option<String>,
}

/// Everything measured.
struct Report {
    latencies: Histogram<u64>,
    errors: u64,
    first_error: Option<String>,
    seconds: f64,
    /// CPU time (ns) over the measurement of the server's runtime threads
    /// and of every thread of the process (the load generator is the rest).
    server_cpu: u64,
    process_cpu: u64,
}

impl Report {
    fn print(&self, args: &Args) {
        let count = self.latencies.len();
        let at = |q: f64| format_ns(self.latencies.value_at_quantile(q));
        println!(
            "load_evaluate: mode={:?} shape={:?} connections={} duration={}s warmup={}s \
             server_threads={} client_threads={} store_writes_per_sec={}",
            args.mode,
            args.shape,
            args.connections,
            args.duration,
            args.warmup,
            args.server_threads,
            args.client_threads,
            args.store_writes_per_sec
        );
        println!(
            "requests: {count} in {:.2} s = {:.0} req/s, non-2xx or failed: {}",
            self.seconds,
            count as f64 / self.seconds,
            self.errors
        );
        println!(
            "latency: p50 {} | p90 {} | p99 {} | p99.9 {} | max {}",
            at(0.50),
            at(0.90),
            at(0.99),
            at(0.999),
            format_ns(self.latencies.max())
        );
        let per_request = |ns: u64| ns as f64 / 1e3 / count.max(1) as f64;
        println!(
            "cpu per request: server runtime {:.1} µs, process {:.1} µs \
             (client {:.1} µs; cores busy: {:.2} of {})",
            per_request(self.server_cpu),
            per_request(self.process_cpu),
            per_request(self.process_cpu.saturating_sub(self.server_cpu)),
            self.process_cpu as f64 / 1e9 / self.seconds,
            std::thread::available_parallelism().map_or(0, usize::from),
        );
        if let Some(error) = &self.first_error {
            println!("first error: {error}");
        }
    }
}

fn format_ns(ns: u64) -> String {
    if ns >= 1_000_000 {
        format!("{:.2} ms", ns as f64 / 1e6)
    } else {
        format!("{:.0} µs", ns as f64 / 1e3)
    }
}

/// Opens the connections and runs them until the end of the measurement.
async fn drive(args: &Args, started: &Started) -> Result<Report, String> {
    let (path, bearer, bodies) = match args.mode {
        Mode::Evaluate => {
            let body = json!({"context": contexts::user(), "flag": started.flag});
            let bytes = Bytes::from(serde_json::to_vec(&body).map_err(|e| e.to_string())?);
            (
                "/api/v1/evaluate".to_owned(),
                started.sdk_key.clone(),
                [bytes.clone(), bytes],
            )
        }
        Mode::Toggle => (
            format!(
                "/api/v1/projects/{}/flags/{}/environments/{ENVIRONMENT}/toggle",
                started.project, started.flag
            ),
            started.editor.clone(),
            [
                Bytes::from_static(br#"{"enabled": false, "reason": "load"}"#),
                Bytes::from_static(br#"{"enabled": true, "reason": "load"}"#),
            ],
        ),
    };
    let uri = format!("http://{}{path}", started.addr);
    let bearer = format!("Bearer {bearer}");
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let until = measure_from + Duration::from_secs_f64(args.duration);

    if args.mode == Mode::Toggle {
        let status = probe(started.addr, &uri, &bearer, bodies[0].clone()).await?;
        if status == hyper::StatusCode::NOT_FOUND {
            return Err(format!(
                "{path} answered 404: this build has no toggle endpoint yet \
                 (the flag write handlers arrive on another branch)"
            ));
        }
    }
    let cpu = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from.into()).await;
        let before = (cpu_time("server"), cpu_time(""));
        tokio::time::sleep_until(until.into()).await;
        let after = (cpu_time("server"), cpu_time(""));
        (after.0 - before.0, after.1 - before.1)
    });
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.connections {
        let (uri, bearer, bodies) = (uri.clone(), bearer.clone(), bodies.clone());
        let addr = started.addr;
        tasks
            .spawn(async move { connection(addr, uri, bearer, bodies, measure_from, until).await });
    }
    let mut latencies = histogram();
    let mut errors = 0;
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        let measured = joined.map_err(|e| e.to_string())??;
        latencies
            .add(&measured.latencies)
            .map_err(|e| e.to_string())?;
        errors += measured.errors;
        first_error = first_error.or(measured.first_error);
    }
    let seconds = (Instant::now().min(until) - measure_from).as_secs_f64();
    let (server_cpu, process_cpu) = cpu.await.map_err(|e| e.to_string())?;
    Ok(Report {
        latencies,
        errors,
        first_error,
        seconds,
        server_cpu,
        process_cpu,
    })
}

/// CPU time (ns) of this process's threads whose name starts with
/// `prefix` (all of them for `""`), from `/proc/self/task/*/schedstat`
/// (0 where there is none).
fn cpu_time(prefix: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.starts_with(prefix))
        })
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// One request on its own connection: its status.
async fn probe(
    addr: SocketAddr,
    uri: &str,
    bearer: &str,
    body: Bytes,
) -> Result<hyper::StatusCode, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let request = Request::post(uri)
        .header(AUTHORIZATION, bearer)
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    Ok(response.status())
}

fn histogram() -> Histogram<u64> {
    // 1 µs to 60 s in nanoseconds, 3 significant figures.
    Histogram::new_with_bounds(1_000, 60_000_000_000, 3).expect("histogram bounds")
}

/// One keep-alive connection sending one request at a time.
async fn connection(
    addr: SocketAddr,
    uri: String,
    bearer: String,
    bodies: [Bytes; 2],
    measure_from: Instant,
    until: Instant,
) -> Result<Measured, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut measured = Measured {
        latencies: histogram(),
        errors: 0,
        first_error: None,
    };
    let mut sent: u64 = 0;
    loop {
        let began = Instant::now();
        if began >= until {
            break;
        }
        let request = Request::post(uri.as_str())
            .header(AUTHORIZATION, bearer.as_str())
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(bodies[(sent % 2) as usize].clone()))
            .map_err(|e| e.to_string())?;
        sent += 1;
        let outcome = match sender.send_request(request).await {
            Ok(response) => {
                let status = response.status();
                match response.into_body().collect().await {
                    Ok(_) if status.is_success() => Ok(()),
                    Ok(body) => Err(format!(
                        "{status}: {}",
                        String::from_utf8_lossy(&body.to_bytes())
                    )),
                    Err(err) => Err(err.to_string()),
                }
            }
            Err(err) => Err(err.to_string()),
        };
        if began < measure_from {
            continue;
        }
        let elapsed = u64::try_from(began.elapsed().as_nanos()).unwrap_or(u64::MAX);
        measured.latencies.saturating_record(elapsed);
        if let Err(error) = outcome {
            measured.errors += 1;
            if measured.first_error.is_none() {
                measured.first_error = Some(error);
            }
            if sender.ready().await.is_err() {
                return Err("the server closed the connection".into());
            }
        }
    }
    Ok(measured)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_run_gets_only_successes() {
        let args = Args::parse_from([
            "load_evaluate",
            "--connections",
            "2",
            "--duration",
            "0.3",
            "--warmup",
            "0.1",
            "--store-writes-per-sec",
            "20",
        ]);
        let report = run(&args).unwrap();
        assert!(report.latencies.len() > 10, "{}", report.latencies.len());
        assert_eq!(report.errors, 0, "{:?}", report.first_error);
    }

    #[test]
    fn durations_print_in_microseconds_or_milliseconds() {
        assert_eq!(format_ns(412_000), "412 µs");
        assert_eq!(format_ns(4_180_000), "4.18 ms");
    }
}
