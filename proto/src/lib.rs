//! Vexil's data model and wire protocol: plain serde types, no I/O.
//!
//! Everything here is what crosses a boundary: what the server stores and
//! serves over REST, what SDKs receive over the stream, and what the engine
//! compiles. Every type rejects unknown fields, so a typo in a request is an
//! error instead of a silently ignored setting.
//!
//! # Layout
//! - `project`: projects and environments, the containers of everything else.
//! - `flag`: flags, variants, per-environment config, targets, rules, serve
//!   and rollouts, prerequisites.
//! - `clause`: a rule's clauses, their operators and their values.
//! - `segment`: reusable audiences referenced by `in_segment` clauses.
//! - `context`: what an application passes in to be evaluated.
//! - `evaluation`: evaluation results, reasons and error codes.
//! - `snapshot`: one environment's flags and segments at a version, and how a
//!   patch is applied to it.
//! - `wire`: the WebSocket frames between the server and SDKs.
//! - `usage`: the evaluation counts SDKs report, for usage and stale flags.
//! - `limits`: the size limits validation enforces.
//! - `validate`: validation returning every problem at once, each with a JSON
//!   pointer path: flags, configs (against [`References`]), segments,
//!   snapshots, projects, environments. Needs the `regex` feature (on by
//!   default), as `operand::compile_regex` does: only the WASM engine,
//!   whose patterns compile in a module of their own, goes without.
//! - `keys`: key syntax shared by flags, segments, projects, environments.
//! - `pattern` (`regex` feature): how a `matches` pattern matches, a dense
//!   DFA for small patterns (`pattern::dfa`) with the regex crate behind it;
//!   shared by the engine and the WASM regex module.
//! - `operand`: parsing of typed operands (dates, semvers, regexes), shared by
//!   validation and the engine so both accept exactly the same values.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod clause;
pub mod context;
pub mod evaluation;
pub mod flag;
pub mod keys;
pub mod limits;
pub mod operand;
#[cfg(feature = "regex")]
pub mod pattern;
pub mod project;
pub mod segment;
pub mod snapshot;
pub mod usage;
#[cfg(feature = "regex")]
pub mod validate;
pub mod wire;

pub use clause::{Clause, Operator, Scalar};
pub use context::{AttributeValue, Attributes, Context};
pub use evaluation::{ErrorCode, EvaluationResult, Reason};
pub use flag::{
    Flag, FlagConfig, FlagKind, Prerequisite, Rollout, Rule, Serve, Target, Variant,
    WeightedVariant,
};
pub use project::{Environment, Project};
pub use segment::{Segment, SegmentRule};
pub use snapshot::{PatchError, Snapshot, SnapshotFlag};
pub use usage::{UsageCount, UsageReport};
#[cfg(feature = "regex")]
pub use validate::{Problem, References, ValidationErrors};
pub use wire::{ClientMessage, Delete, Patch, ServerMessage, Upsert};
