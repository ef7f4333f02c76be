//! Writes the engine benchmark's snapshots and contexts as JSON, so the
//! WASM build can be timed on exactly the flags the native criterion bench
//! times (`sdk-wasm/js/bench/evaluate.mjs`):
//!
//! ```sh
//! cargo run -p vexil-benches --example bench_data > /tmp/bench-data.json
//! ```
//!
//! `{"shapes": snapshot, "mix": 1 000-flag snapshot, "user": context,
//! "stranger": context, "cases": [{"name", "flag", "context"}]}` with the
//! case names of `benches/engine.rs`.

use serde_json::json;
use vexil_benches::{contexts, mix, shapes};

/// Flags in the evaluate-all snapshot, as in `benches/engine.rs`.
const EVALUATE_ALL_FLAGS: usize = 1_000;

fn main() {
    let data = json!({
        "shapes": shapes::snapshot(),
        "mix": mix::snapshot(EVALUATE_ALL_FLAGS),
        "user": contexts::user(),
        "stranger": contexts::stranger(),
        "cases": [
            {"name": "boolean_no_rules", "flag": shapes::BOOLEAN, "context": "user"},
            {"name": "five_rules_last_rollout", "flag": shapes::FIVE_RULES, "context": "user"},
            {"name": "in_list_10k_hit", "flag": shapes::LONG_LIST, "context": "user"},
            {"name": "in_list_10k_miss", "flag": shapes::LONG_LIST, "context": "stranger"},
            {"name": "segment_rule_match", "flag": shapes::SEGMENT_MATCH, "context": "user"},
        ],
    });
    println!("{data}");
}
