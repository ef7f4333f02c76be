//! Evaluation counts over HTTP, against a real server: SDKs report them
//! (`POST /api/v1/usage`), people read them (`GET …/flags/{f}/usage`, flag
//! reads' `last_evaluated`, the list's `unevaluated_since`), and a count
//! accepted just before shutdown is stored by the final flush.
//!
//! # Layout
//! - `support`: reports, paths, and what "nothing stored" means.
//! - `report`: the happy path, and every refused report with its exact
//!   error body and nothing stored.
//! - `read`: the usage read, `last_evaluated`, the stale-flag filter.
//! - `shutdown`: `launch` on SQLite and PostgreSQL, a report, shutdown, the
//!   counts in the database.

#[path = "../api_support/mod.rs"]
mod api_support;
#[path = "../common/mod.rs"]
mod common;
#[path = "../store_scenarios/fresh_db.rs"]
mod fresh_db;

mod read;
mod report;
mod shutdown;
mod support;
