//! Sends the evaluation counts to `POST /api/v1/usage` every interval, and
//! once more when the client closes.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use vexil_proto::{UsageCount, UsageReport};

use crate::state::Shared;
use crate::usage::{Totals, into_counts};

/// What the reporter needs.
#[derive(Debug, Clone)]
pub(crate) struct ReporterConfig {
    pub(crate) url: Url,
    pub(crate) sdk_key: String,
    pub(crate) interval: Duration,
    pub(crate) http: reqwest::Client,
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
        let report = UsageReport {
            window_start: self.window_start,
            window_end,
            counts,
        };
        match send(config, &report).await {
            Ok(()) => self.window_start = window_end,
            Err(problem) => {
                tracing::warn!(%problem, "usage report not delivered; keeping the counts for the next one");
                self.unsent = report.counts;
            }
        }
    }
}

async fn send(config: &ReporterConfig, report: &UsageReport) -> Result<(), String> {
    let mut bearer = HeaderValue::from_str(&format!("Bearer {}", config.sdk_key))
        .map_err(|_| "the SDK key is not a valid header value".to_owned())?;
    bearer.set_sensitive(true);
    let response = config
        .http
        .post(config.url.clone())
        .header(AUTHORIZATION, bearer)
        .json(report)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("the server answered {}", response.status()))
    }
}
