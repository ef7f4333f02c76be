//! Sends the evaluation counts to `POST /api/v1/usage` every interval, and
//! once more when the client closes. A window with many flags goes as
//! several requests; counts the server could not take for a passing reason
//! (network, 5xx, 408, 429) go with the next window, counts it refused
//! (other 4xx) are dropped.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{Request, StatusCode};
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use url::Url;
use vexil_proto::{UsageCount, UsageReport};

use crate::endpoint::SdkKey;
use crate::state::Shared;
use crate::usage::{Totals, into_counts};

/// Entries per request: the server takes up to 1 000 and 256 KiB; 500
/// entries of 128-character keys stay well under both.
const MAX_ENTRIES: usize = 500;

/// What the reporter needs.
#[derive(Debug, Clone)]
pub(crate) struct ReporterConfig {
    pub(crate) url: Url,
    pub(crate) sdk_key: SdkKey,
    pub(crate) interval: Duration,
    pub(crate) http: HttpClient,
}

/// Reports every `interval` until shutdown, then flushes.
pub(crate) async fn run(
    config: ReporterConfig,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut reporter = Reporter {
        window_start: OffsetDateTime::now_utc(),
        unsent: Vec::new(),
    };
    let mut ticker = tokio::time::interval_at(Instant::now() + config.interval, config.interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => reporter.report(&config, &shared).await,
            () = crate::client::stopped(&mut shutdown) => {
                reporter.report(&config, &shared).await;
                return;
            }
        }
    }
}

struct Reporter {
    window_start: OffsetDateTime,
    /// Counts a failed report could not deliver; they go with the next one.
    unsent: Vec<UsageCount>,
}

impl Reporter {
    async fn report(&mut self, config: &ReporterConfig, shared: &Shared) {
        let mut counts = shared.usage.drain(&shared.installed.load().counters);
        if !self.unsent.is_empty() {
            let mut totals = Totals::new();
            for count in self.unsent.drain(..).chain(counts) {
                *totals.entry((count.flag, count.variant)).or_default() += count.count;
            }
            counts = into_counts(totals);
        }
        let window_end = OffsetDateTime::now_utc();
        if counts.is_empty() {
            self.window_start = window_end;
            return;
        }
        let mut delivered = true;
        for chunk in counts.chunks(MAX_ENTRIES) {
            let report = UsageReport {
                window_start: self.window_start,
                window_end,
                counts: chunk.to_vec(),
            };
            match send(config, &report).await {
                Ok(()) => {}
                Err(Failure::Refused(problem)) => {
                    // Sending the same counts again would be refused again.
                    tracing::warn!(%problem, "usage report refused; dropping its counts");
                }
                Err(Failure::Retry(problem)) => {
                    tracing::warn!(%problem, "usage report not delivered; keeping the counts for the next one");
                    self.unsent.extend(report.counts);
                    delivered = false;
                }
            }
        }
        if delivered {
            self.window_start = window_end;
        }
    }
}

/// Why a report was not delivered.
enum Failure {
    /// The server refused its content (4xx): do not send it again.
    Refused(String),
    /// The network or the server failed: send the counts with the next one.
    Retry(String),
}

/// The HTTP client reports go through: hyper over hyper-rustls, with the
/// SDK's rustls config (plain HTTP for `http://` servers).
pub(crate) type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client for reports with `tls` for `https://` servers.
pub(crate) fn http_client(tls: &rustls::ClientConfig) -> HttpClient {
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config(tls.clone())
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(connector)
}

/// A report slower than this failed (its counts go with the next one).
const REPORT_TIMEOUT: Duration = Duration::from_secs(10);

async fn send(config: &ReporterConfig, report: &UsageReport) -> Result<(), Failure> {
    let bearer = config
        .sdk_key
        .bearer()
        .ok_or_else(|| Failure::Refused("the SDK key is not a valid header value".to_owned()))?;
    let body = serde_json::to_vec(report).map_err(|e| Failure::Refused(e.to_string()))?;
    let request = Request::post(config.url.as_str())
        .header(AUTHORIZATION, bearer)
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| Failure::Refused(e.to_string()))?;
    let response = tokio::time::timeout(REPORT_TIMEOUT, config.http.request(request))
        .await
        .map_err(|_| Failure::Retry("the server did not answer in time".to_owned()))?
        .map_err(|e| Failure::Retry(e.to_string()))?;
    let status = response.status();
    let problem = format!("the server answered {status}");
    if status.is_success() {
        Ok(())
    } else if status.is_client_error()
        && status != StatusCode::REQUEST_TIMEOUT
        && status != StatusCode::TOO_MANY_REQUESTS
    {
        Err(Failure::Refused(problem))
    } else {
        Err(Failure::Retry(problem))
    }
}
