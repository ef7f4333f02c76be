//! The client and its typed calls: synchronous, lock-free, local.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use vexil_engine::CompiledSnapshot;
use vexil_proto::{Context, ErrorCode, EvaluationResult, FlagKind, Snapshot};

use crate::builder::{ClientBuilder, read_bootstrap_file};
use crate::details::Details;
use crate::error::Error;
use crate::state::{ProviderState, Shared};

/// Evaluates flags locally. Cheap to clone: clones share one snapshot, so
/// installing a snapshot through any of them updates all.
///
/// Every typed call returns the caller's default when the flag is missing,
/// failed to compile, or is of another kind; the `*_details` form says which
/// (`FLAG_NOT_FOUND`, `PARSE_ERROR`, `TYPE_MISMATCH`).
#[derive(Debug, Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

impl Client {
    /// Configures a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// An offline client evaluating `snapshot`.
    pub fn from_snapshot(snapshot: &Snapshot) -> Client {
        Client {
            shared: Arc::new(Shared::new(snapshot)),
        }
    }

    /// An offline client evaluating the snapshot JSON file at `path`.
    pub fn from_bootstrap_file(path: impl AsRef<Path>) -> Result<Client, Error> {
        Ok(Client::from_snapshot(&read_bootstrap_file(path.as_ref())?))
    }

    /// Compiles `snapshot` and swaps it in; evaluations in progress finish on
    /// the snapshot they started with. (The streaming client calls this for
    /// every snapshot and patch; an offline application may call it to
    /// reload its bootstrap.)
    pub fn install(&self, snapshot: &Snapshot) {
        self.shared.install(snapshot);
    }

    /// The compiled snapshot in use now: its version, environment, flag keys
    /// and compile errors.
    pub fn snapshot(&self) -> Arc<CompiledSnapshot> {
        self.shared.snapshot.load_full()
    }

    /// Whether the client is serving a current snapshot.
    pub fn state(&self) -> ProviderState {
        self.shared.provider_state()
    }

    /// A boolean flag's value, or `default`.
    pub fn bool_value(&self, flag_key: &str, ctx: &Context, default: bool) -> bool {
        self.value(flag_key, ctx, Some(FlagKind::Boolean), Value::as_bool)
            .unwrap_or(default)
    }

    /// A boolean flag's value and why.
    pub fn bool_details(&self, flag_key: &str, ctx: &Context, default: bool) -> Details<bool> {
        self.details(
            flag_key,
            ctx,
            default,
            Some(FlagKind::Boolean),
            Value::as_bool,
        )
    }

    /// A string flag's value, or `default`.
    pub fn string_value(&self, flag_key: &str, ctx: &Context, default: &str) -> String {
        self.value(flag_key, ctx, Some(FlagKind::String), as_string)
            .unwrap_or_else(|| default.to_owned())
    }

    /// A string flag's value and why.
    pub fn string_details(&self, flag_key: &str, ctx: &Context, default: &str) -> Details<String> {
        self.details(
            flag_key,
            ctx,
            default.to_owned(),
            Some(FlagKind::String),
            as_string,
        )
    }

    /// A number flag's value, or `default`.
    pub fn number_value(&self, flag_key: &str, ctx: &Context, default: f64) -> f64 {
        self.value(flag_key, ctx, Some(FlagKind::Number), Value::as_f64)
            .unwrap_or(default)
    }

    /// A number flag's value and why.
    pub fn number_details(&self, flag_key: &str, ctx: &Context, default: f64) -> Details<f64> {
        self.details(
            flag_key,
            ctx,
            default,
            Some(FlagKind::Number),
            Value::as_f64,
        )
    }

    /// Any flag's value as JSON, or `default`. Every kind is JSON, so this
    /// never reports `TYPE_MISMATCH`.
    pub fn json_value(&self, flag_key: &str, ctx: &Context, default: Value) -> Value {
        self.value(flag_key, ctx, None, |value| Some(value.clone()))
            .unwrap_or(default)
    }

    /// Any flag's value as JSON and why.
    pub fn json_details(&self, flag_key: &str, ctx: &Context, default: Value) -> Details<Value> {
        self.details(flag_key, ctx, default, None, |value| Some(value.clone()))
    }

    /// The full evaluation, as the server's evaluate API returns it: value
    /// (absent on error), variant, reason, rule, bucket, error code.
    pub fn evaluate(&self, flag_key: &str, ctx: &Context) -> EvaluationResult {
        self.shared
            .snapshot
            .load()
            .evaluate(flag_key, ctx)
            .to_result(flag_key)
    }

    /// Every flag evaluated for `ctx`, in snapshot order (for bootstrapping a
    /// front end, or debugging).
    pub fn evaluate_all(&self, ctx: &Context) -> Vec<EvaluationResult> {
        self.shared
            .snapshot
            .load()
            .evaluate_all(ctx)
            .iter()
            .map(|(key, evaluation)| evaluation.to_result(key))
            .collect()
    }

    /// The served value converted by `extract`; `None` when the default
    /// applies. Allocates only what `extract` does.
    fn value<T>(
        &self,
        flag_key: &str,
        ctx: &Context,
        expected: Option<FlagKind>,
        extract: impl FnOnce(&Value) -> Option<T>,
    ) -> Option<T> {
        let snapshot = self.shared.snapshot.load();
        let evaluation = snapshot.evaluate(flag_key, ctx);
        if is_other_kind(evaluation.kind, expected) {
            return None;
        }
        evaluation.value.and_then(extract)
    }

    fn details<T>(
        &self,
        flag_key: &str,
        ctx: &Context,
        default: T,
        expected: Option<FlagKind>,
        extract: impl FnOnce(&Value) -> Option<T>,
    ) -> Details<T> {
        let snapshot = self.shared.snapshot.load();
        let evaluation = snapshot.evaluate(flag_key, ctx);
        if is_other_kind(evaluation.kind, expected) {
            return Details::error(default, ErrorCode::TypeMismatch);
        }
        match evaluation.value {
            // The engine's own error (missing flag, failed compile): its
            // reason and code, the caller's default.
            None => Details::from_evaluation(default, &evaluation),
            Some(value) => match extract(value) {
                Some(typed) => Details::from_evaluation(typed, &evaluation),
                // A value not of the flag's kind: validation rejects these,
                // but a typed call must still never return a wrong type.
                None => Details::error(default, ErrorCode::TypeMismatch),
            },
        }
    }
}

fn is_other_kind(actual: Option<FlagKind>, expected: Option<FlagKind>) -> bool {
    match (expected, actual) {
        (Some(expected), Some(actual)) => expected != actual,
        _ => false,
    }
}

fn as_string(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}
