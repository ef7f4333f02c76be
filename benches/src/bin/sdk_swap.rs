//! SDK evaluation throughput while snapshots are swapped
//! (`docs/performance.md`, "SDK").
//!
//! `--threads` reader threads call `Client::bool_value` in a loop on one
//! `vexil-sdk` client; in alternate rounds a writer thread installs a new
//! snapshot `--swaps-per-sec` times a second (each `install` compiles the
//! snapshot and swaps one pointer, as the streaming client does for every
//! frame). Each round runs `--round-secs`; quiet and swapping rounds
//! alternate so that drift on a shared machine hits both alike. Prints
//! evaluations per second per round and the ratio of the medians.
//!
//! ```sh
//! cargo run --release -p vexil-benches --bin sdk_swap -- --threads 2 --rounds 5
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use vexil_benches::{contexts, mix};
use vexil_proto::Snapshot;
use vexil_sdk::Client;

/// Measures SDK evaluation throughput with and without snapshot swaps.
#[derive(Debug, Parser)]
struct Args {
    /// Reader threads evaluating flags.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Flags in the snapshot (the engine benchmark's mix).
    #[arg(long, default_value_t = 100)]
    flags: usize,
    /// Snapshot installs per second in the swapping rounds.
    #[arg(long, default_value_t = 100)]
    swaps_per_sec: u32,
    /// Length of each round, in seconds.
    #[arg(long, default_value_t = 3.0)]
    round_secs: f64,
    /// Pairs of rounds (one quiet, one swapping).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

fn main() {
    let args = Args::parse();
    let snapshot = mix::snapshot(args.flags);
    let client = Client::from_snapshot(&snapshot);
    // The readers ask for every flag of the mix in turn (all boolean), so
    // the figure is the mix's average, not one flag's.
    let keys: Vec<String> = snapshot.flags.iter().map(|f| f.key.clone()).collect();
    let round = Duration::from_secs_f64(args.round_secs);
    println!(
        "sdk_swap: {} reader threads, {} flags, {} installs/s, rounds of {:.1} s",
        args.threads, args.flags, args.swaps_per_sec, args.round_secs
    );

    // Warm up caches and the branch predictor before anything is timed.
    run_round(
        &client,
        &keys,
        args.threads,
        Duration::from_millis(500),
        None,
    );

    let mut quiet = Vec::new();
    let mut swapping = Vec::new();
    for i in 0..args.rounds {
        let q = run_round(&client, &keys, args.threads, round, None);
        let swaps = Swaps {
            per_sec: args.swaps_per_sec,
            snapshots: versions(&snapshot, 8),
        };
        let installing = AtomicU64::new(0);
        let (s, done) = run_round_swapping(&client, &keys, args.threads, round, swaps, &installing);
        let install_ms = installing.load(Ordering::Relaxed) as f64 / 1e6;
        println!(
            "round {}: quiet {:>12.0} evals/s   swapping {:>12.0} evals/s ({} swaps, {:.2} ms each, {:.1} % of one core)",
            i + 1,
            q,
            s,
            done,
            install_ms / done.max(1) as f64,
            install_ms / 10.0 / round.as_secs_f64()
        );
        quiet.push(q);
        swapping.push(s);
    }
    let (q, s) = (median(&mut quiet), median(&mut swapping));
    println!(
        "median: quiet {q:.0} evals/s, swapping {s:.0} evals/s, ratio {:.3} ({:+.1} %)",
        s / q,
        (s / q - 1.0) * 100.0
    );
}

/// What the writer installs during a swapping round.
struct Swaps {
    per_sec: u32,
    snapshots: Vec<Snapshot>,
}

/// The swapping thread of a round: installs snapshots until told to stop,
/// and returns how many it installed.
type Writer<'a> = Box<dyn FnOnce(&AtomicBool) -> u64 + Send + 'a>;

/// Runs readers for `length` and returns evaluations per second; with
/// `writer`, the writer runs beside them until they stop.
fn run_round(
    client: &Client,
    keys: &[String],
    threads: usize,
    length: Duration,
    writer: Option<Writer<'_>>,
) -> f64 {
    run(client, keys, threads, length, writer).0
}

fn run_round_swapping(
    client: &Client,
    keys: &[String],
    threads: usize,
    length: Duration,
    swaps: Swaps,
    installing: &AtomicU64,
) -> (f64, u64) {
    let writer_client = client.clone();
    let writer = move |stop: &AtomicBool| -> u64 {
        let period = Duration::from_secs_f64(1.0 / f64::from(swaps.per_sec.max(1)));
        let start = Instant::now();
        let mut done = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let i = done as usize % swaps.snapshots.len();
            let began = Instant::now();
            writer_client.install(&swaps.snapshots[i]);
            installing.fetch_add(began.elapsed().as_nanos() as u64, Ordering::Relaxed);
            done += 1;
            // Pace to the schedule, not to the previous install, so a slow
            // install does not lower the rate.
            let next = start + period * done as u32;
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                thread::sleep(wait);
            }
        }
        done
    };
    run(client, keys, threads, length, Some(Box::new(writer)))
}

fn run(
    client: &Client,
    keys: &[String],
    threads: usize,
    length: Duration,
    writer: Option<Writer<'_>>,
) -> (f64, u64) {
    let stop = AtomicBool::new(false);
    let total = AtomicU64::new(0);
    let ctx = contexts::user();
    let mut swaps = 0;
    let elapsed = thread::scope(|scope| {
        let writer = writer.map(|w| scope.spawn(|| w(&stop)));
        let readers: Vec<_> = (0..threads)
            .map(|t| {
                let (client, ctx, stop, total) = (client.clone(), &ctx, &stop, &total);
                scope.spawn(move || {
                    let mut n = 0u64;
                    let mut i = t;
                    while !stop.load(Ordering::Relaxed) {
                        // Check the clock rarely: a batch of evaluations
                        // between checks keeps the loop about evaluation.
                        for _ in 0..256 {
                            let key = &keys[i % keys.len()];
                            std::hint::black_box(client.bool_value(key, ctx, false));
                            i += 1;
                        }
                        n += 256;
                    }
                    total.fetch_add(n, Ordering::Relaxed);
                })
            })
            .collect();
        let start = Instant::now();
        thread::sleep(length);
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            r.join().expect("reader thread");
        }
        let elapsed = start.elapsed();
        if let Some(w) = writer {
            swaps = w.join().expect("writer thread");
        }
        elapsed
    });
    (
        total.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64(),
        swaps,
    )
}

/// `n` versions of `base`, each a new version number with one flag's
/// enabled bit flipped, as a stream of patches would produce.
fn versions(base: &Snapshot, n: usize) -> Vec<Snapshot> {
    (0..n)
        .map(|i| {
            let mut s = base.clone();
            s.version = base.version + 1 + i as u64;
            if let Some(flag) = s.flags.get_mut(i % base.flags.len().max(1)) {
                flag.config.enabled = !flag.config.enabled;
            }
            s
        })
        .collect()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
