//! SDK streams at `GET /api/v1/stream`: the WebSocket protocol of
//! DESIGN.md (and `docs/streaming.md`), served to SDKs.
//!
//! A client authenticates with its SDK key (`Authorization: Bearer`, or
//! the `Sec-WebSocket-Protocol` value `vexil.<key>`, echoed back), sends
//! `hello {since_version?}` and gets a `snapshot` or the contiguous
//! patches since its version (from memory, else the change log), then one
//! `patch` per committed change. Credentials are checked before the
//! upgrade but refused *after* it, with close 4401/4403: browsers see a
//! WebSocket close code, never an HTTP status.
//!
//! # Layout
//! - `config`: [`StreamConfig`], the limits and timings.
//! - `frames`: patch and snapshot frames, serialized once per environment.
//! - `patches`: change-log entries into patches, one per version.
//! - `feed`: one environment's feed: snapshot frame, ring of recent
//!   patches, subscribers with bounded queues.
//! - `connection`: one connection: handshake, reader task, writer loop
//!   (pings, dead peers, slow consumers, close codes).
//! - `hub`: [`Streams`], the replica's feeds: catching up after commits,
//!   notices and polls; revocation; graceful shutdown.
//! - `doorbell`: the Redis pub/sub doorbell between replicas.
//! - `metrics`: the stream's Prometheus metrics.

mod config;
mod connection;
mod doorbell;
mod feed;
mod frames;
mod hub;
mod metrics;
mod patches;

use axum::Router;
use axum::extract::{FromRef, State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::http::header::SEC_WEBSOCKET_PROTOCOL;
use axum::response::Response;
use axum::routing::get;
use utoipa::OpenApi;
use vexil_proto::wire::SUBPROTOCOL_PREFIX;

pub use config::StreamConfig;
pub use connection::{CLOSE_RESTART, CLOSE_SILENT};
pub use doorbell::{CHANNEL, Doorbell, Notice};
pub use hub::Streams;

use crate::auth::AuthState;

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(paths(stream))]
pub struct Doc;

/// `/api/v1/stream`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Streams: FromRef<S>,
{
    Router::new().route("/api/v1/stream", get(stream))
}

/// The SDK stream (WebSocket). See `docs/streaming.md` for the frames.
#[utoipa::path(
    get,
    path = "/api/v1/stream",
    tag = "sdk",
    params(
        ("Sec-WebSocket-Protocol" = Option<String>, Header,
            description = "`vexil.<sdk key>` for clients that cannot set `Authorization` (browsers); echoed back"),
    ),
    security(("sdk_key" = [])),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol; a bad key closes with 4401, a revoked one with 4403"),
        (status = 400, description = "Not a WebSocket upgrade request"),
    )
)]
async fn stream(
    upgrade: WebSocketUpgrade,
    State(streams): State<Streams>,
    State(auth): State<AuthState>,
    headers: HeaderMap,
) -> Response {
    let key = auth.sdk_key(&headers).await;
    let config = streams.config();
    let mut upgrade = upgrade
        .max_message_size(config.max_frame_bytes)
        .max_frame_size(config.max_frame_bytes);
    if let Some(protocol) = vexil_protocol(&headers) {
        upgrade = upgrade.protocols([protocol]);
    }
    upgrade.on_upgrade(move |socket| async move { streams.serve(socket, key).await })
}

/// The `vexil.<key>` subprotocol the client offered, to echo back (a
/// browser fails the connection if its subprotocol is not chosen).
fn vexil_protocol(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .find(|protocol| protocol.starts_with(SUBPROTOCOL_PREFIX))
        .map(str::to_owned)
}

/// Middleware: after a successful write under `/api/v1/projects/{p}/…`,
/// catches this replica's streams of project `p` up and rings the other
/// replicas' doorbell. Runs after the snapshot cache's invalidation.
pub async fn notify_after_write(
    State(streams): State<Streams>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let write = !matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    let project = request
        .uri()
        .path()
        .strip_prefix("/api/v1/projects/")
        .and_then(|rest| rest.split('/').next())
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    let response = next.run(request).await;
    if write
        && response.status().is_success()
        && let Some(project) = project
    {
        streams.committed(&project);
    }
    response
}
