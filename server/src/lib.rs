//! Vexil's control plane, the `vexil` binary.
//!
//! Configuration, storage, the REST API, accounts, SDK streams (with the
//! Redis doorbell between replicas), probes, metrics, graceful shutdown,
//! and [`launch`], which tests call to start a real server on
//! `127.0.0.1:0`.
//!
//! # Layout
//! - `accounts`: admin accounts made outside the API (`vexil admin create`,
//!   the first admin from `VEXIL_ADMIN_*`).
//! - `api`: the REST API's shared pieces and resource modules.
//! - `auth`: passwords, JWTs (sessions, API/integration tokens, SDK keys),
//!   and the extractors (`Principal`, `SdkKey`, `IntegrationToken`) that
//!   carry auth into handlers.
//! - `config`: the command line (`serve`, `admin create`, `migrate`), each
//!   option also a `VEXIL_*` variable, secrets redacted in `Debug`.
//! - `error`: [`ServerError`], why the server could not start or run.
//! - `health`: `/healthz` (the process answers) and `/readyz` (it should get
//!   traffic; not while draining).
//! - `killswitch`: kill switches, Alertmanager and deploy events, and
//!   tripping a switch as a normal change of its flag.
//! - `metrics`: Prometheus `/metrics` and the middleware that counts and
//!   times requests by route.
//! - `rollout`: guarded rollout plans and the task that advances them.
//! - `shutdown`: SIGINT/SIGTERM as a future.
//! - `snapshots`: [`snapshots::SnapshotCache`], the replica's compiled
//!   snapshots per environment (what evaluation reads), kept fresh by
//!   write handlers' invalidations and a version poller.
//! - `state`: [`AppState`], the cloneable state handlers borrow parts of.
//! - `storage`: opening the configured database (SQLite by default,
//!   PostgreSQL by URL) with its migrations applied.
//! - `store`: the [`store::Store`] trait and its SQLite and PostgreSQL
//!   backends.
//! - `stream`: SDK streams at `/api/v1/stream` ([`stream::Streams`]):
//!   feeds per environment, patches from the change log, the Redis
//!   doorbell between replicas.
//! - `telemetry`: `tracing` subscriber setup (text or JSON lines).
//! - `ui`: the web UI embedded from `ui/dist` at every path no route
//!   claims (`index.html` for the app's pages), or a placeholder page at `/`
//!   in a build without it.
//! - `usage`: [`usage::UsageBuffer`], evaluation counts SDKs reported,
//!   summed in memory and flushed to the store every few seconds and on
//!   shutdown.

pub mod accounts;
pub mod api;
pub mod auth;
pub mod config;
pub mod error;
mod health;
pub mod killswitch;
pub mod metrics;
pub mod rollout;
pub mod shutdown;
pub mod snapshots;
pub mod state;
pub mod storage;
pub mod store;
pub mod stream;
pub mod telemetry;
pub mod ui;
pub mod usage;

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use tracing::info;
use utoipa::OpenApi as _;

pub use config::{Cli, Command, ServeConfig};
pub use error::ServerError;
pub use state::AppState;

/// Runs one parsed subcommand to completion.
pub async fn run(command: Command) -> Result<(), ServerError> {
    match command {
        Command::Serve(config) => serve(config).await,
        Command::Admin(config::AdminCommand::Create(create)) => {
            let store = storage::open(&create.storage).await?;
            accounts::create_admin(
                &*store,
                &auth::SystemClock,
                &create.username,
                create.password.expose(),
                "cli",
            )
            .await?;
            Ok(())
        }
        Command::Migrate(storage) => {
            storage::open(&storage).await?;
            info!("migrations applied; the database is up to date");
            Ok(())
        }
    }
}

/// `vexil serve`: binds `config.listen` and serves until SIGINT or SIGTERM.
pub async fn serve(config: ServeConfig) -> Result<(), ServerError> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
    launch(config, listener, shutdown::signal()).await
}

/// Serves on `listener` until `shutdown` completes, then stops taking new
/// connections, lets in-flight requests finish, and returns.
///
/// The listener is passed in (rather than bound from `config.listen`) so
/// tests can bind `127.0.0.1:0` and learn the port first.
pub async fn launch(
    config: ServeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let addr = listener.local_addr().map_err(ServerError::Serve)?;
    let doorbell = match &config.redis_url {
        Some(url) => stream::Doorbell::redis(url.expose())
            .map_err(|err| ServerError::Redis(format!("{:?}", err.kind())))?,
        None => stream::Doorbell::Local,
    };

    let store = storage::open(&config.storage).await?;
    let clock: std::sync::Arc<dyn auth::Clock> = std::sync::Arc::new(auth::SystemClock);
    let keys = auth::AuthState::load_keys(&*store).await?;
    accounts::bootstrap_admin(
        &*store,
        &*clock,
        config.admin_username.as_deref(),
        config.admin_password.as_ref().map(config::Secret::expose),
    )
    .await?;
    let mut state = AppState::with_streams(
        std::sync::Arc::clone(&store),
        auth::AuthState::new(keys, store, clock),
        config.stream.clone(),
        doorbell,
    );
    state.rollouts = config.rollout.clone();
    let readiness = state.readiness.clone();
    let (stop_poller, poller_stopped) = tokio::sync::oneshot::channel::<()>();
    let snapshots = state.snapshots.clone();
    let poll_every = config.poll_interval();
    let poller = tokio::spawn(async move {
        snapshots
            .run_poller(poll_every, async {
                let _ = poller_stopped.await;
            })
            .await;
    });
    let (stop_flusher, flusher_stopped) = tokio::sync::oneshot::channel::<()>();
    let usage = state.usage.clone();
    let flush_every = config.usage_flush_interval();
    let flusher = tokio::spawn(async move {
        usage
            .run_flusher(flush_every, async {
                let _ = flusher_stopped.await;
            })
            .await;
    });
    let (stop_streams, streams_stopped) = tokio::sync::oneshot::channel::<()>();
    let streams = state.streams.clone();
    let streams_task = tokio::spawn(async move {
        streams
            .run(poll_every, async {
                let _ = streams_stopped.await;
            })
            .await;
    });
    let (stop_rollouts, rollouts_stopped) = tokio::sync::oneshot::channel::<()>();
    let rollouts = tokio::spawn(rollout::advance::run(
        std::sync::Arc::clone(&state.store),
        std::sync::Arc::clone(&config.rollout.clock),
        config.rollout.tick,
        state.streams.clone(),
        async {
            let _ = rollouts_stopped.await;
        },
    ));
    let streams = state.streams.clone();
    let app = app(state);

    info!(%addr, "vexil listening on http://{addr}/");
    readiness.set(true);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            readiness.set(false);
            info!("draining: no new connections, finishing in-flight requests");
            // Upgraded WebSockets are not in-flight requests: tell them.
            streams.shutdown().await;
        })
        .await;
    let _ = stop_rollouts.send(());
    let _ = rollouts.await;
    let _ = stop_poller.send(());
    let _ = poller.await;
    // After the last request finished: the final flush stores every
    // count accepted before shutdown.
    let _ = stop_flusher.send(());
    let _ = flusher.await;
    let _ = stop_streams.send(());
    let _ = streams_task.await;
    served.map_err(ServerError::Serve)?;
    info!("vexil stopped");
    Ok(())
}

/// Every route, with request tracing.
pub fn app(state: AppState) -> Router {
    let docs = api::openapi::document(vec![
        api::login::Doc::openapi(),
        api::flags::Doc::openapi(),
        api::configs::Doc::openapi(),
        api::segments::Doc::openapi(),
        api::changes::Doc::openapi(),
        api::projects::Doc::openapi(),
        api::environments::Doc::openapi(),
        api::sdk_keys::Doc::openapi(),
        api::users::Doc::openapi(),
        api::account::Doc::openapi(),
        api::tokens::Doc::openapi(),
        api::evaluate::Doc::openapi(),
        api::explain::Doc::openapi(),
        api::ofrep::Doc::openapi(),
        api::usage::Doc::openapi(),
        api::kill_switches::Doc::openapi(),
        api::rollout_plans::Doc::openapi(),
        api::health_events::Doc::openapi(),
        api::timeline::Doc::openapi(),
        api::live::Doc::openapi(),
        stream::Doc::openapi(),
    ]);
    Router::new()
        .merge(api::login::router())
        .merge(api::flags::router())
        .merge(api::configs::router())
        .merge(api::segments::router())
        .merge(api::changes::router())
        .merge(api::projects::router())
        .merge(api::environments::router())
        .merge(api::sdk_keys::router())
        .merge(api::users::router())
        .merge(api::account::router())
        .merge(api::kill_switches::router())
        .merge(api::rollout_plans::router())
        .merge(api::health_events::router())
        .merge(api::timeline::router())
        .merge(api::live::router())
        .merge(api::tokens::router())
        .merge(api::evaluate::router())
        .merge(api::explain::router())
        .merge(api::ofrep::router())
        .merge(api::usage::router())
        .merge(stream::router())
        .merge(health::router())
        .merge(ui::router())
        .merge(api::openapi::router(docs))
        .merge(metrics::router())
        // Bodies past the limit fail to buffer, which `api::Json` answers
        // with 413 in the one error shape.
        .layer(axum::extract::DefaultBodyLimit::max(
            api::json::MAX_BODY_BYTES,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.snapshots.clone(),
            snapshots::invalidate_after_write,
        ))
        // Outside the invalidation, so streams read the new snapshot.
        .layer(axum::middleware::from_fn_with_state(
            state.streams.clone(),
            stream::notify_after_write,
        ))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
