//! Vexil's evaluation engine: compile a snapshot once, evaluate many times.
//!
//! [`CompiledSnapshot::compile`] turns a [`vexil_proto::Snapshot`] into a
//! form that evaluation only reads: regexes, semvers and dates parsed, long
//! `in` lists turned into hash sets, segments inlined into the clauses that
//! use them, variant and prerequisite references resolved to indexes.
//! [`CompiledSnapshot::evaluate`] then borrows, parses no configuration and
//! allocates nothing. A flag that fails to compile fails closed and alone: it
//! evaluates to reason `ERROR` / `PARSE_ERROR` and every other flag works.
//! [`CompiledSnapshot::explain`] gives the same result with the steps that
//! decided it, for people: it allocates, and evaluation does not pay for it.
//!
//! The engine is pure: no I/O, no clock, no threads; it builds for wasm32.
//! The semantics are specified in `docs/evaluation.md`.
//!
//! # Layout
//! - `bucket`: murmur3 bucketing and weighted variant picking (golden vectors
//!   in `spec/vectors/bucketing.json`).
//! - `attribute`: looking up a clause's attribute in a context (cached per
//!   evaluation for the most used names, next to the clause memo), and
//!   rendering a value for bucketing without allocating.
//! - `matcher`: compiled clause operators and how each one matches; a
//!   rule's clauses are compiled cheapest first, and kept as written too.
//! - `memo`: remembering the results of clauses a snapshot repeats, once
//!   per evaluation.
//! - `version`: SemVer parsing and precedence without allocating.
//! - `pattern`: `matches` patterns. With the `regex` feature (native
//!   builds): `vexil_proto::pattern::Pattern`. Without it (the WASM engine
//!   module): a [`RegexHost`] the embedder installs (`pattern::host`).
//! - `shared`: what one compile shares across flags: patterns, the
//!   attribute cache slots and the clause memo slots.
//! - `changes`: [`changed_flags`], which flags may evaluate differently
//!   between two snapshots (the SDKs' change events).
//! - `compile`: building a [`CompiledSnapshot`] from a snapshot: flags,
//!   segments, serves, prerequisite graph checks; and, apart from everything
//!   evaluation reads, the rules' clauses as written, for explain.
//! - `evaluate`: the evaluation order (disabled, prerequisites, targets,
//!   rules, default) over a compiled snapshot.
//! - `evaluation`: the borrowed [`Evaluation`] result and its owned form.
//! - `explain`: [`CompiledSnapshot::explain`] and its serializable
//!   [`Explanation`]: the evaluation order walked again, recording each step
//!   (prerequisites, target, rules and their clauses in written order,
//!   segments, the rollout's bucket and range). It gives none of the
//!   functions evaluation inlines a second caller.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod attribute;
pub mod bucket;
mod changes;
mod compile;
mod evaluate;
mod evaluation;
mod explain;
mod matcher;
mod memo;
mod pattern;
mod shared;
mod version;

pub use changes::changed_flags;
pub use compile::{CompileError, CompiledSnapshot};
pub use evaluation::Evaluation;
pub use explain::{
    ClauseExplanation, Explanation, PrerequisiteExplanation, RolloutExplanation, RuleExplanation,
    SegmentDecision, SegmentExplanation, Step, TargetExplanation, WeightRange,
};
pub use pattern::{RegexHost, install_regex_host};
