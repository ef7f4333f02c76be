//! The one reconnect loop: connect, run a session, wait, again, until the
//! client is closed or the server rejects the key.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{StatusCode, header};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};
use vexil_proto::wire::{CLOSE_BAD_KEY, CLOSE_KEY_REVOKED};

use crate::backoff::Backoff;
use crate::endpoint::{Endpoint, SdkKey};
use crate::session::{self, End, Resume};
use crate::state::{ProviderState, Shared};

/// A connection attempt that takes longer than this counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the loop needs to connect.
#[derive(Debug, Clone)]
pub(crate) struct StreamConfig {
    pub(crate) endpoint: Endpoint,
    pub(crate) sdk_key: SdkKey,
    pub(crate) tls: Arc<rustls::ClientConfig>,
    pub(crate) backoff_min: Duration,
    pub(crate) backoff_max: Duration,
}

/// Runs until `shutdown` turns true (or its sender is gone) or the key is
/// rejected. While disconnected the client serves what it has, `STALE`.
pub(crate) async fn run(
    config: StreamConfig,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::new(config.backoff_min, config.backoff_max);
    let mut resume = Resume::default();
    loop {
        let connected = tokio::select! {
            connected = connect(&config) => connected,
            () = crate::client::stopped(&mut shutdown) => Err(End::Shutdown),
        };
        let end = match connected {
            Ok(ws) => session::run(ws, &shared, &mut resume, &mut backoff, &mut shutdown).await,
            Err(end) => end,
        };
        let delay = match end {
            End::Shutdown => return,
            End::Rejected(code) => {
                tracing::error!(code, "the server rejected the SDK key; not reconnecting");
                shared.set_state(ProviderState::Error);
                return;
            }
            End::Goodbye(delay) => {
                backoff.reset();
                delay
            }
            End::Gap { held, from } => {
                tracing::info!(?held, from, "patch out of sequence; resuming");
                backoff.next_delay()
            }
            End::Lost(why) => {
                tracing::info!(%why, "stream lost; reconnecting");
                backoff.next_delay()
            }
        };
        shared.transition(ProviderState::Ready, ProviderState::Stale);
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = crate::client::stopped(&mut shutdown) => return,
        }
    }
}

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the WebSocket with the SDK key as bearer. A 401/403 answer to the
/// upgrade is a rejected key, like the close codes.
async fn connect(config: &StreamConfig) -> Result<Socket, End> {
    let mut request = config
        .endpoint
        .stream
        .as_str()
        .into_client_request()
        .map_err(|e| End::Lost(e.to_string()))?;
    let bearer = config
        .sdk_key
        .bearer()
        .ok_or(End::Rejected(CLOSE_BAD_KEY))?;
    request.headers_mut().insert(header::AUTHORIZATION, bearer);
    let connector = Connector::Rustls(Arc::clone(&config.tls));
    let attempt =
        tokio_tungstenite::connect_async_tls_with_config(request, None, true, Some(connector));
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Err(_) => Err(End::Lost("connection attempt timed out".into())),
        Ok(Ok((ws, _response))) => Ok(ws),
        Ok(Err(WsError::Http(response))) => Err(match response.status() {
            StatusCode::UNAUTHORIZED => End::Rejected(CLOSE_BAD_KEY),
            StatusCode::FORBIDDEN => End::Rejected(CLOSE_KEY_REVOKED),
            status => End::Lost(format!("the server answered the upgrade with {status}")),
        }),
        Ok(Err(error)) => Err(End::Lost(error.to_string())),
    }
}
