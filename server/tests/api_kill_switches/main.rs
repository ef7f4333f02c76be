//! Kill switches against a real server (SQLite; PostgreSQL in `replicas`): Alertmanager's payload
//! (captured from its documented format, grouped, firing then resolved)
//! and deploy events trip switches through normal changes; repeats change
//! nothing; bad input and wrong tokens get exact errors and change
//! nothing; the timeline merges deploys, trips and changes.
//!
//! # Layout
//! - `support`: the captured payload, the `checkout` flag, helpers.
//! - `alerts`: firing, repeated, resolved (manual and `on_resolve`),
//!   unmatched.
//! - `deploys`: a failed deploy trips, repeats and other services do not.
//! - `refused`: malformed and partial payloads, unknown fields, wrong
//!   tokens, invalid switches.
//! - `replicas`: `launch`ed servers (SQLite; two replicas on PostgreSQL)
//!   given the same payload at once trip exactly once.
//! - `timeline`: deploys, trips and changes together, newest first.

#[path = "../api_support/mod.rs"]
mod api_support;
#[path = "../common/mod.rs"]
mod common;
#[path = "../store_scenarios/fresh_db.rs"]
mod fresh_db;

mod alerts;
mod deploys;
mod refused;
mod replicas;
mod support;
mod timeline;
