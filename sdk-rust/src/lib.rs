//! Vexil's Rust SDK: ask "is `new-checkout` on for this user?" with no
//! network hop and no lock.
//!
//! A [`Client`] holds a compiled snapshot of one environment's flags in an
//! [`arc_swap::ArcSwap`]: every typed call (`bool_value`, `string_value`,
//! `number_value`, `json_value`, and their `*_details` forms) loads it
//! without locking and evaluates through `vexil-engine`, the same engine the
//! server and the WASM SDK use, so every SDK agrees bit for bit. Installing a
//! new snapshot is one pointer swap; readers never wait.
//!
//! Today a client starts offline from a bootstrap snapshot (a [`Snapshot`]
//! value or the JSON file `GET /api/v1/snapshot` returns). Streaming from
//! the server (`Client::builder(sdk_key).url(..).build().await`, reconnects,
//! `on_change`, usage reporting, the OpenFeature provider) arrives with the
//! streaming issue; nothing here pretends to stream.
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
//! - `client`: [`Client`] and its typed, synchronous, lock-free calls.
//! - `builder`: [`ClientBuilder`], how a client is configured and started
//!   (offline from a bootstrap today; the streaming connection joins it).
//! - `state`: the shared state behind a client: the swappable compiled
//!   snapshot and the [`ProviderState`].
//! - `details`: [`Details`], a typed value with its variant and reason.
//! - `error`: [`Error`], why a client could not be built.

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
