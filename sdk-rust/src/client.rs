//! The client and its typed calls: synchronous, lock-free, local.

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use vexil_engine::CompiledSnapshot;
use vexil_proto::{Context, ErrorCode, EvaluationResult, FlagKind, Snapshot};

use crate::builder::{ClientBuilder, read_bootstrap_file};
use crate::changes::ChangeEvent;
use crate::details::Details;
use crate::error::Error;
use crate::state::{ProviderState, Shared};

/// Evaluates flags locally. Cheap to clone: clones share one snapshot and
/// one connection. The connection and the usage reporter stop when
/// [`Client::close`] is called or the last clone is dropped.
///
/// Every typed call returns the caller's default when the flag is missing,
/// failed to compile, or is of another kind, or before any snapshot arrived;
/// the `*_details` form says which (`FLAG_NOT_FOUND`, `PARSE_ERROR`,
/// `TYPE_MISMATCH`, `PROVIDER_NOT_READY`).
#[derive(Debug, Clone)]
pub struct Client {
    shared: Arc<Shared>,
    lifecycle: Arc<Lifecycle>,
}

/// The background tasks and the switch that stops them. Dropping it (with
/// the last client handle) stops them too.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    shutdown: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Lifecycle {
    pub(crate) fn new() -> (Self, watch::Receiver<bool>) {
        let (shutdown, stopped) = watch::channel(false);
        let lifecycle = Lifecycle {
            shutdown,
            tasks: Mutex::new(Vec::new()),
        };
        (lifecycle, stopped)
    }

    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(task);
        self.tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(handle);
    }
}

impl Client {
    /// Configures a client for the environment `sdk_key` reads.
    pub fn builder(sdk_key: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(sdk_key.into())
    }

    pub(crate) fn new(shared: Arc<Shared>, lifecycle: Lifecycle) -> Client {
        Client {
            shared,
            lifecycle: Arc::new(lifecycle),
        }
    }

    /// An offline client evaluating `snapshot`, `READY`, never connecting
    /// and counting nothing.
    pub fn from_snapshot(snapshot: &Snapshot) -> Client {
        let shared = Shared::new(Some(snapshot.clone()), ProviderState::Ready, false);
        Client::new(Arc::new(shared), Lifecycle::new().0)
    }

    /// An offline client evaluating the snapshot JSON file at `path`.
    pub fn from_bootstrap_file(path: impl AsRef<Path>) -> Result<Client, Error> {
        Ok(Client::from_snapshot(&read_bootstrap_file(path.as_ref())?))
    }

    /// Compiles `snapshot` and swaps it in; evaluations in progress finish on
    /// the snapshot they started with. (The stream does this for every
    /// snapshot and patch; an offline application may call it to reload
    /// its bootstrap. On a streaming client the next patch then finds a
    /// version it does not expect and the client resynchronises.)
    pub fn install(&self, snapshot: &Snapshot) {
        self.shared.install(snapshot.clone());
    }

    /// The compiled snapshot in use now: its version, environment, flag keys
    /// and compile errors.
    pub fn snapshot(&self) -> Arc<CompiledSnapshot> {
        Arc::clone(&self.shared.installed.load().compiled)
    }

    /// Where the client stands: `NOT_READY`, `READY`, `STALE` or `ERROR`.
    pub fn state(&self) -> ProviderState {
        self.shared.state()
    }

    /// A receiver that sees every provider state change (`changed().await`,
    /// `wait_for(..)`).
    pub fn state_changes(&self) -> watch::Receiver<ProviderState> {
        self.shared.watch_state()
    }

    /// A receiver of every installed snapshot's [`ChangeEvent`]. A receiver
    /// that falls more than 64 events behind skips to the newest (it gets
    /// `Lagged`), which is fine: the client always serves the newest.
    pub fn changes(&self) -> broadcast::Receiver<ChangeEvent> {
        self.shared.subscribe()
    }

    /// Calls `listener` after every installed snapshot, on the task that
    /// installed it (the stream's): keep it quick, and hand slow work to a
    /// channel. Listeners live as long as the client.
    pub fn on_change(&self, listener: impl Fn(&ChangeEvent) + Send + Sync + 'static) {
        self.shared.add_listener(Box::new(listener));
    }

    /// Stops streaming, sends the last usage report and waits for both.
    /// The client keeps evaluating its last snapshot afterwards, in state
    /// `NOT_READY` (OpenFeature's state after shutdown).
    pub async fn close(&self) {
        let _ = self.lifecycle.shutdown.send(true);
        let tasks = std::mem::take(
            &mut *self
                .lifecycle
                .tasks
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        for task in tasks {
            let _ = task.await;
        }
        self.shared.set_state(ProviderState::NotReady);
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
        let installed = self.shared.installed.load();
        let evaluation = installed.compiled.evaluate(flag_key, ctx);
        let mut result = evaluation.to_result(flag_key);
        if installed.has_data {
            self.shared.count(&installed, flag_key, evaluation.variant);
        } else {
            result.error_code = Some(ErrorCode::ProviderNotReady);
        }
        result
    }

    /// Every flag evaluated for `ctx`, in snapshot order (for bootstrapping a
    /// front end, or debugging). Not counted in usage reports: it says
    /// nothing about which flags the application uses.
    pub fn evaluate_all(&self, ctx: &Context) -> Vec<EvaluationResult> {
        self.shared
            .installed
            .load()
            .compiled
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
        let installed = self.shared.installed.load();
        let evaluation = installed.compiled.evaluate(flag_key, ctx);
        let value = if is_other_kind(evaluation.kind, expected) {
            None
        } else {
            evaluation.value.and_then(extract)
        };
        if installed.has_data {
            let variant = value.as_ref().and(evaluation.variant);
            self.shared.count(&installed, flag_key, variant);
        }
        value
    }

    fn details<T>(
        &self,
        flag_key: &str,
        ctx: &Context,
        default: T,
        expected: Option<FlagKind>,
        extract: impl FnOnce(&Value) -> Option<T>,
    ) -> Details<T> {
        let installed = self.shared.installed.load();
        if !installed.has_data {
            return Details::error(default, ErrorCode::ProviderNotReady);
        }
        let evaluation = installed.compiled.evaluate(flag_key, ctx);
        let details = typed_details(&evaluation, default, expected, extract);
        self.shared
            .count(&installed, flag_key, details.variant.as_deref());
        details
    }
}

fn typed_details<T>(
    evaluation: &vexil_engine::Evaluation<'_>,
    default: T,
    expected: Option<FlagKind>,
    extract: impl FnOnce(&Value) -> Option<T>,
) -> Details<T> {
    if is_other_kind(evaluation.kind, expected) {
        return Details::error(default, ErrorCode::TypeMismatch);
    }
    match evaluation.value {
        // The engine's own error (missing flag, failed compile): its
        // reason and code, the caller's default.
        None => Details::from_evaluation(default, evaluation),
        Some(value) => match extract(value) {
            Some(typed) => Details::from_evaluation(typed, evaluation),
            // A value not of the flag's kind: validation rejects these,
            // but a typed call must still never return a wrong type.
            None => Details::error(default, ErrorCode::TypeMismatch),
        },
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

/// Resolves when the client is closed or every handle is dropped.
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|&stop| stop).await;
}
