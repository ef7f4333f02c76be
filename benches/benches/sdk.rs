//! Criterion benchmark of the Rust SDK's hot path: `Client::bool_value` on
//! a typical snapshot (a few hundred flags of mixed shapes), with and
//! without evaluation counting. Run with
//! `cargo bench -p vexil-benches --bench sdk`; figures go in
//! `docs/performance.md`.
//!
//! The counting client is a real streaming client started with a bootstrap
//! and pointed at a port nothing listens on: it serves the bootstrap and
//! counts every evaluation, as in production; its reconnect attempts are
//! rare (backed off) and off the timed thread.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use vexil_benches::{contexts, mix, shapes};
use vexil_sdk::Client;

/// Flags in the typical snapshot, besides the named shapes.
const FLAGS: usize = 300;

fn typical_snapshot() -> vexil_proto::Snapshot {
    let mut snapshot = mix::snapshot(FLAGS);
    let named = shapes::snapshot();
    snapshot.flags.extend(named.flags);
    snapshot.segments.extend(named.segments);
    snapshot
}

fn bool_value(c: &mut Criterion) {
    let snapshot = typical_snapshot();
    let user = contexts::user();
    let offline = Client::from_snapshot(&snapshot);
    assert!(offline.snapshot().errors().is_empty());
    assert!(offline.bool_value(shapes::BOOLEAN, &user, false));
    // The five-rule flag ends in a rollout: the bench times the whole walk.
    let details = offline.bool_details(shapes::FIVE_RULES, &user, false);
    assert_eq!(details.reason, vexil_sdk::Reason::Split, "{details:?}");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let counting = runtime.block_on(async {
        Client::builder("bench-key")
            .url("http://127.0.0.1:1")
            .bootstrap(snapshot.clone())
            .init_timeout(Duration::ZERO)
            .backoff(Duration::from_secs(30), Duration::from_secs(60))
            .usage_interval(Duration::from_secs(3600))
            .build()
            .await
            .unwrap()
    });

    let mut group = c.benchmark_group("sdk_bool_value");
    for (name, client) in [("offline", &offline), ("counting", &counting)] {
        group.bench_function(format!("boolean_no_rules/{name}"), |b| {
            b.iter(|| client.bool_value(black_box(shapes::BOOLEAN), black_box(&user), false))
        });
        group.bench_function(format!("five_rules_last_rollout/{name}"), |b| {
            b.iter(|| client.bool_value(black_box(shapes::FIVE_RULES), black_box(&user), false))
        });
    }
    group.finish();
    runtime.block_on(counting.close());
}

criterion_group!(benches, bool_value);
criterion_main!(benches);
