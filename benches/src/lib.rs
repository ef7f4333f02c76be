//! Snapshot and context builders for measuring Vexil, shared by the criterion
//! benches in `benches/engine.rs` and by load harnesses and tests that need
//! the same realistic data.
//!
//! Each builder produces a plain [`vexil_proto::Snapshot`] or
//! [`vexil_proto::Context`]; compiling and evaluating is left to the caller,
//! so nothing here is on a timed path. Every shape is built so that a known
//! evaluation path is taken (which rule matches, hit or miss), and the unit
//! tests below each module check that it still is: a bench that silently
//! measured an early exit would report a flattering figure.
//!
//! The figures and how to reproduce them are in `docs/performance.md`.
//!
//! # Layout
//! - `contexts`: the contexts the shapes are written against: a signed-in
//!   user matching the last rule, and a stranger who is in no list.
//! - `shapes`: one builder per benchmarked flag shape (boolean without rules,
//!   five rules of three clauses ending in a rollout, a long `in` list, a
//!   segment match), the segment it uses, and a small snapshot of all of them.
//! - `harness`: what the load harnesses share: the `vexil` binary as a
//!   child process, login, a flag and SDK key, CPU and memory readings.
//! - `mix`: snapshots of any size that cycle through the shapes in a fixed
//!   proportion, for evaluate-all and compile benchmarks.

pub mod contexts;
pub mod harness;
pub mod mix;
pub mod shapes;
