//! The admin resources over HTTP, against a real server: projects,
//! environments, SDK keys, users and tokens.
//!
//! Every refusal is checked for its exact error body *and* for leaving the
//! stored state as it was (`support::Fingerprint`: every project,
//! environment, user, token and the size of every change log).
//!
//! # Layout
//! - `support`: raw requests, error bodies, the state fingerprint,
//!   credentials of every kind.
//! - `projects`, `environments`, `sdk_keys`, `users`, `account`, `tokens`:
//!   each resource's happy path, bad input and refusals.
//! - `openapi`: every endpoint is documented, every error with `ErrorBody`.

#[path = "../common/mod.rs"]
mod common;

mod account;
mod environments;
mod openapi;
mod projects;
mod sdk_keys;
mod support;
mod tokens;
mod users;
