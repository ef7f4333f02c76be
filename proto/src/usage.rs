//! Evaluation counts an SDK reports (`POST /api/v1/usage`, SDK key as
//! bearer), so the server can show which flags are used, with which
//! variants, and when each was last evaluated: a flag nobody evaluated for
//! weeks is a candidate for removal.
//!
//! An SDK counts locally (no network hop per evaluation) and sends one
//! report per window (every 30–60 s, and on shutdown). The server adds the
//! counts to what it holds per flag, variant and environment, and keeps the
//! latest `window_end` as the flag's last-evaluated time.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One window of evaluation counts from one SDK instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageReport {
    /// When counting for this report began.
    #[serde(with = "time::serde::rfc3339")]
    pub window_start: OffsetDateTime,
    /// When it ended: the flags in `counts` were last evaluated no later.
    #[serde(with = "time::serde::rfc3339")]
    pub window_end: OffsetDateTime,
    /// One entry per flag and variant evaluated in the window.
    #[serde(default)]
    pub counts: Vec<UsageCount>,
}

/// How many times one flag served one variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageCount {
    /// The flag key the application asked for.
    pub flag: String,
    /// The variant served; `None` when the evaluation failed (unknown flag,
    /// wrong type) and the caller's default was returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Evaluations in the window (at least 1).
    pub count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_the_documented_shape() {
        let json = r#"{"window_start":"2026-11-22T10:00:00Z","window_end":"2026-11-22T10:01:00Z","counts":[{"flag":"new-checkout","variant":"on","count":12},{"flag":"missing","count":1}]}"#;
        let report: UsageReport = serde_json::from_str(json).unwrap();
        assert_eq!(report.counts.len(), 2);
        assert_eq!(report.counts[1].variant, None);
        assert_eq!(serde_json::to_string(&report).unwrap(), json);
        assert!(
            serde_json::from_str::<UsageReport>(
                r#"{"window_start":"2026-11-22T10:00:00Z","window_end":"2026-11-22T10:01:00Z","extra":1}"#
            )
            .is_err()
        );
    }
}
