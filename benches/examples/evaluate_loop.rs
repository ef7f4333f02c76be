//! Evaluates one benchmarked shape in a loop, for instruction counting:
//!
//! ```sh
//! cargo build --profile bench -p vexil-benches --example evaluate_loop
//! valgrind --tool=callgrind target/release/examples/evaluate_loop five-rules 1000
//! valgrind --tool=callgrind target/release/examples/evaluate_loop five-rules 11000
//! ```
//!
//! The difference between the two totals, divided by 10 000, is the cost of
//! one evaluation without set-up. Shapes: the flag keys of
//! `vexil_benches::shapes`, or `all` for evaluate-all over the 1 000-flag mix.
//! A third argument `no-memo` compiles without the clause memo.

use std::hint::black_box;

use vexil_benches::{contexts, mix, shapes};
use vexil_engine::CompiledSnapshot;

fn main() {
    let mut args = std::env::args().skip(1);
    let shape = args.next().unwrap_or_else(|| shapes::FIVE_RULES.to_owned());
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1_000);
    let memo = args.next().as_deref() != Some("no-memo");
    let compile = |snapshot| {
        if memo {
            CompiledSnapshot::compile(&snapshot)
        } else {
            CompiledSnapshot::compile_without_memo(&snapshot)
        }
    };
    let user = contexts::user();
    if shape == "all" {
        let snapshot = compile(mix::snapshot(1_000));
        for _ in 0..count {
            black_box(snapshot.evaluate_all(black_box(&user)));
        }
    } else {
        let snapshot = compile(shapes::snapshot());
        for _ in 0..count {
            black_box(snapshot.evaluate(black_box(&shape), black_box(&user)));
        }
    }
}
