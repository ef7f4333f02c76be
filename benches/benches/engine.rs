//! Criterion benchmarks of the engine's hot paths: single-flag evaluation of
//! each flag shape, evaluate-all over a mixed snapshot, and compiling a large
//! mixed snapshot. Targets and measured figures are in
//! `docs/performance.md`; run with `cargo bench -p vexil-benches --bench engine`.
//!
//! Snapshots and contexts are built before anything is timed.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use vexil_benches::{contexts, mix, shapes};
use vexil_engine::CompiledSnapshot;
use vexil_proto::Context;

/// Flags in the evaluate-all snapshot.
const EVALUATE_ALL_FLAGS: usize = 1_000;
/// Flags in the compiled snapshot.
const COMPILE_FLAGS: usize = 10_000;

fn evaluate(c: &mut Criterion) {
    let snapshot = CompiledSnapshot::compile(&shapes::snapshot());
    assert_eq!(snapshot.errors(), &[]);
    let user = contexts::user();
    let stranger = contexts::stranger();

    // The unit tests of `vexil_benches::shapes` check that each case takes
    // the path its name says (which rule matches, hit or miss).
    let mut group = c.benchmark_group("evaluate");
    let mut bench = |name: &str, flag: &str, ctx: &Context| {
        group.bench_function(name, |b| {
            b.iter(|| snapshot.evaluate(black_box(flag), black_box(ctx)))
        });
    };
    bench("boolean_no_rules", shapes::BOOLEAN, &user);
    bench("five_rules_last_rollout", shapes::FIVE_RULES, &user);
    bench("in_list_10k_hit", shapes::LONG_LIST, &user);
    bench("in_list_10k_miss", shapes::LONG_LIST, &stranger);
    bench("segment_rule_match", shapes::SEGMENT_MATCH, &user);

    // The five-rule flag repeats two clauses; without the memo both copies
    // are computed.
    let plain = CompiledSnapshot::compile_without_memo(&shapes::snapshot());
    group.bench_function("five_rules_last_rollout_no_memo", |b| {
        b.iter(|| plain.evaluate(black_box(shapes::FIVE_RULES), black_box(&user)))
    });
    group.finish();
}

fn evaluate_all(c: &mut Criterion) {
    let snapshot = CompiledSnapshot::compile(&mix::snapshot(EVALUATE_ALL_FLAGS));
    assert_eq!(snapshot.errors(), &[]);
    let user = contexts::user();
    assert_eq!(snapshot.evaluate_all(&user).len(), EVALUATE_ALL_FLAGS);

    // The mix repeats its shapes, so most clause results are memoized after
    // the first flag of each shape; without the memo, every clause of every
    // flag is computed: the case of a snapshot that never repeats a clause.
    let plain = CompiledSnapshot::compile_without_memo(&mix::snapshot(EVALUATE_ALL_FLAGS));

    let mut group = c.benchmark_group("evaluate_all");
    group.bench_function("1000_mixed", |b| {
        b.iter(|| snapshot.evaluate_all(black_box(&user)))
    });
    group.bench_function("1000_mixed_no_memo", |b| {
        b.iter(|| plain.evaluate_all(black_box(&user)))
    });
    group.finish();
}

fn compile(c: &mut Criterion) {
    let snapshot = mix::snapshot(COMPILE_FLAGS);
    assert_eq!(CompiledSnapshot::compile(&snapshot).errors(), &[]);

    let mut group = c.benchmark_group("compile");
    // Tens of milliseconds per run: few samples of few runs each.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(8));
    // Freeing the compiled snapshot happens after the timed loop: dropping
    // the old snapshot is not part of installing a new one.
    group.bench_function("10000_mixed", |b| {
        b.iter_with_large_drop(|| CompiledSnapshot::compile(black_box(&snapshot)))
    });
    group.finish();
}

fn config() -> Criterion {
    // Sized for a 2-core machine: the whole run stays well under 3 minutes.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(100)
}

criterion_group! {
    name = engine;
    config = config();
    targets = evaluate, evaluate_all, compile
}
criterion_main!(engine);
