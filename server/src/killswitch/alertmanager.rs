//! Alertmanager's webhook payload, version 4, as Alertmanager sends it
//! (`webhook_config` in its documentation).
//!
//! Fields Alertmanager may add in later releases are tolerated (no
//! `deny_unknown_fields`: this is someone else's format, and refusing an
//! added field would silently stop every kill switch after an upgrade).
//! What the switches rely on is required: `version` "4", `status`,
//! `alerts`, and per alert `status`, `labels`, `startsAt` and a non-empty
//! `fingerprint`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use vexil_proto::Problem;

use super::deploy::problem;

/// `firing` or `resolved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

/// The webhook body: one notification for one alert group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// "4"; another version is refused rather than misread.
    pub version: String,
    #[serde(default)]
    pub group_key: String,
    /// How many alerts Alertmanager left out (`max_alerts`).
    #[serde(default)]
    pub truncated_alerts: u64,
    pub status: AlertStatus,
    #[serde(default)]
    pub receiver: String,
    #[serde(default)]
    pub group_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub common_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub common_annotations: BTreeMap<String, String>,
    #[serde(default, rename = "externalURL")]
    pub external_url: String,
    pub alerts: Vec<Alert>,
}

/// One alert of the group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub status: AlertStatus,
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: OffsetDateTime,
    /// `0001-01-01T00:00:00Z` while firing with no end known.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<OffsetDateTime>,
    #[serde(default, rename = "generatorURL")]
    pub generator_url: String,
    /// Alertmanager's stable id of the alert (a hash of its labels).
    pub fingerprint: String,
}

impl Webhook {
    /// What the shape alone does not catch.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.version != "4" {
            problems.push(problem(
                "/version",
                format!(
                    "must be \"4\" (Alertmanager's webhook version), not {:?}",
                    self.version
                ),
            ));
        }
        for (i, alert) in self.alerts.iter().enumerate() {
            if alert.fingerprint.trim().is_empty() {
                problems.push(problem(
                    &format!("/alerts/{i}/fingerprint"),
                    "must not be empty",
                ));
            }
        }
        problems
    }
}

impl Alert {
    /// The `alertname` label, or "" when it has none.
    pub fn name(&self) -> &str {
        self.labels.get("alertname").map_or("", String::as_str)
    }

    /// The change log's reason for a change this alert caused: its name,
    /// fingerprint and summary (or description) annotation.
    pub fn reason(&self, verb: &str) -> String {
        let summary = self
            .annotations
            .get("summary")
            .or_else(|| self.annotations.get("description"))
            .map(|s| format!(": {s}"))
            .unwrap_or_default();
        let reason = format!(
            "{verb} by alert {} (fingerprint {}){summary}",
            self.name(),
            self.fingerprint
        );
        reason.chars().take(1_000).collect()
    }

    /// The idempotency key: Alertmanager re-sends the same alert (same
    /// fingerprint and start) until it resolves; each status counts once.
    pub fn key(&self) -> String {
        let status = match self.status {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        };
        format!(
            "alert:{}:{}:{status}",
            self.fingerprint,
            self.starts_at.unix_timestamp_nanos()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Alertmanager's documented example, with a field it might add later.
    const PAYLOAD: &str = r#"{
      "version": "4",
      "groupKey": "{}:{alertname=\"CheckoutErrors\"}",
      "truncatedAlerts": 0,
      "status": "firing",
      "receiver": "vexil",
      "groupLabels": {"alertname": "CheckoutErrors"},
      "commonLabels": {"alertname": "CheckoutErrors", "severity": "page"},
      "commonAnnotations": {},
      "externalURL": "http://alertmanager:9093",
      "someFutureField": {"x": 1},
      "alerts": [{
        "status": "firing",
        "labels": {"alertname": "CheckoutErrors", "service": "checkout"},
        "annotations": {"summary": "5xx above 2%"},
        "startsAt": "2026-12-03T06:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": "a1b2c3"
      }]
    }"#;

    #[test]
    fn reads_the_documented_payload() {
        let hook: Webhook = serde_json::from_str(PAYLOAD).unwrap();
        assert!(hook.problems().is_empty());
        let alert = &hook.alerts[0];
        assert_eq!(alert.name(), "CheckoutErrors");
        assert_eq!(
            alert.reason("tripped"),
            "tripped by alert CheckoutErrors (fingerprint a1b2c3): 5xx above 2%"
        );
        assert_eq!(alert.key(), "alert:a1b2c3:1796277600000000000:firing");
    }

    #[test]
    fn another_version_is_a_problem() {
        let hook: Webhook =
            serde_json::from_str(&PAYLOAD.replace(r#""version": "4""#, r#""version": "3""#))
                .unwrap();
        assert_eq!(hook.problems()[0].path, "/version");
    }
}
