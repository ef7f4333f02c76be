//! Kill switches and deploy health: alerts and deploy events come in, the
//! switches whose trigger they match trip, and tripping is a normal
//! committed change of the bound flag (so SDKs get it through the stream
//! like any edit).
//!
//! # Layout
//! - `model`: a switch as people write it (trigger, action, restore) and
//!   its state as the server keeps it (armed, tripped since, by what).
//! - `alertmanager`: Alertmanager's webhook payload (version 4).
//! - `deploy`: deploy events and their idempotency key.
//! - `matchers`: Prometheus-style label matchers, compiled once.
//! - `action`: what `disable`, `serve` and `rollback` make of a config.
//! - `tripping`: what a first-received alert or deploy does to the
//!   switches it matches (trip, hold, release, restore), and `firing`,
//!   the guard rollout plans consult.
//! - `validate`: a switch checked against its project before it is stored.

pub mod action;
pub mod alertmanager;
pub mod deploy;
pub mod matchers;
pub mod model;
pub mod tripping;
pub mod validate;

pub use model::*;
