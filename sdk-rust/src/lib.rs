//! Vexil's Rust SDK: ask "is `new-checkout` on for this user?" with no
//! network hop and no lock.
//!
//! A [`Client`] holds a compiled snapshot of one environment's flags in an
//! [`arc_swap::ArcSwap`]: every typed call (`bool_value`, `string_value`,
//! `number_value`, `json_value`, their `*_details` forms, and `evaluate`)
//! loads it without locking and evaluates through `vexil-engine`, the same
//! engine the server and the WASM SDK use, so every SDK agrees bit for bit.
//!
//! `Client::builder(sdk_key).url(..).build().await` streams the environment
//! over the server's WebSocket (`/api/v1/stream`): a snapshot, then
//! contiguous patches, each compiled and swapped in with one pointer swap.
//! One reconnect loop with full-jitter exponential backoff resumes from the
//! last version; while disconnected the client keeps serving what it has
//! (`STALE`). It can start from a bootstrap snapshot or file, or run offline
//! from one. Provider state follows OpenFeature/flagd ([`ProviderState`]);
//! [`Client::on_change`] and [`Client::changes`] say which flags changed.
//! Evaluations are counted per flag and variant on striped atomics and
//! reported to `POST /api/v1/usage`. With the `openfeature` feature,
//! `openfeature::VexilProvider` plugs the client into the `open-feature`
//! crate. The user guide is `docs/sdk-rust.md`.
//!
//! ```
//! use vexil_sdk::{Client, Context, Snapshot};
//!
//! let snapshot: Snapshot = serde_json::from_str(r#"{
//!     "environment": "production", "version": 1,
//!     "flags": [{
//!         "key": "new-checkout", "kind": "boolean",
//!         "variants": [{"key": "on", "value": true}, {"key": "off", "value": false}],
//!         "config": {"enabled": true, "off_variant": "off", "default_serve": {"variant": "on"}}
//!     }]
//! }"#).unwrap();
//! let client = Client::from_snapshot(&snapshot);
//! assert!(client.bool_value("new-checkout", &Context::new("user-1"), false));
//! ```
//!
//! # Layout
//! - `client`: [`Client`]: typed, synchronous, lock-free calls; state,
//!   change subscriptions and `close`.
//! - `builder`: [`ClientBuilder`]: options, and `build`, which starts the
//!   stream and the usage reporter and waits for `READY` or the init timeout.
//! - `state`: what handles and background tasks share: the installed
//!   snapshot (compiled, with its usage counters), the [`ProviderState`],
//!   change subscribers.
//! - `changes`: [`ChangeEvent`] (which flags differ between two snapshots
//!   is `vexil_engine::changed_flags`).
//! - `stream`: the one reconnect loop: connect (bearer key, rustls), run a
//!   session, back off or honour `goodbye`, stop on 4401/4403.
//! - `session`: one WebSocket session: hello with `since_version`, snapshots,
//!   contiguous patches (a gap ends the session), ping/pong, silence.
//! - `backoff`: full-jitter exponential reconnect delays.
//! - `endpoint`: stream and usage URLs from the base URL; the TLS config.
//! - `usage`: per flag/variant evaluation counters (striped atomics) and
//!   draining them into report entries.
//! - `reporter`: the task that posts `UsageReport`s every interval and on close.
//! - `details`: [`Details`], a typed value with its variant and reason.
//! - `error`: [`Error`], why a client could not be built.
//! - `openfeature` (feature `openfeature`): the OpenFeature provider.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod backoff;
mod builder;
mod changes;
mod client;
mod details;
mod endpoint;
mod error;
#[cfg(feature = "openfeature")]
pub mod openfeature;
mod reporter;
mod session;
mod state;
mod stream;
mod usage;

pub use builder::ClientBuilder;
pub use changes::ChangeEvent;
pub use client::Client;
pub use details::Details;
pub use error::Error;
pub use state::ProviderState;
pub use vexil_proto::{
    AttributeValue, Context, ErrorCode, EvaluationResult, FlagKind, Reason, Snapshot,
};
