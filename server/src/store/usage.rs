//! Evaluation counts (telemetry from SDKs) as the store keeps them: summed
//! per flag, environment, variant and hour, plus the last time each flag
//! was evaluated per environment. Recording them is not a change: no
//! version bump, no change-log entry.

use serde::Serialize;
use time::{Duration, OffsetDateTime};

/// Counts to add for one flag, variant and environment in one hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageIncrement {
    pub project: String,
    pub environment: String,
    pub flag: String,
    /// The variant served; `None` for failed evaluations (the caller's
    /// default was returned), which are counted too.
    pub variant: Option<String>,
    /// The start of the hour the counts fall in ([`hour_of`]).
    pub hour: OffsetDateTime,
    /// Added to what is stored (saturating at `i64::MAX`).
    pub count: u64,
    /// The flag's last-evaluated time in the environment becomes this, if
    /// later than what is stored.
    pub last_evaluated: OffsetDateTime,
}

/// One hour of one variant's count in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageBucket {
    pub environment: String,
    /// `null` counts evaluations that failed and returned the caller's
    /// default.
    pub variant: Option<String>,
    /// The start of the hour.
    #[serde(with = "time::serde::rfc3339")]
    pub hour: OffsetDateTime,
    pub count: u64,
}

/// When a flag was last evaluated in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastEvaluated {
    pub flag: String,
    pub environment: String,
    pub at: OffsetDateTime,
}

/// The start of the UTC hour `at` falls in.
pub fn hour_of(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    let into_hour = Duration::minutes(i64::from(at.minute()))
        + Duration::seconds(i64::from(at.second()))
        + Duration::nanoseconds(i64::from(at.nanosecond()));
    at - into_hour
}

/// How a variant is stored: `''` for none (it is part of the primary key,
/// which cannot hold `NULL`); variant keys are never empty.
pub(crate) fn variant_column(variant: Option<&str>) -> &str {
    variant.unwrap_or("")
}

/// The stored variant as the API shows it.
pub(crate) fn variant_from_column(variant: String) -> Option<String> {
    (!variant.is_empty()).then_some(variant)
}

/// A count as stored: capped at `i64::MAX` (the column is a signed 64-bit
/// integer); nobody evaluates a flag 9.2 × 10¹⁸ times in an hour.
pub(crate) fn count_column(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn hours_start_on_the_hour_in_utc() {
        assert_eq!(
            hour_of(datetime!(2026-11-22 10:59:59.999 UTC)),
            datetime!(2026-11-22 10:00 UTC)
        );
        assert_eq!(
            hour_of(datetime!(2026-11-22 10:30 +05:30)),
            datetime!(2026-11-22 05:00 UTC)
        );
        assert_eq!(
            hour_of(datetime!(2026-11-22 10:00 UTC)),
            datetime!(2026-11-22 10:00 UTC)
        );
    }

    #[test]
    fn columns_round_trip() {
        assert_eq!(variant_column(None), "");
        assert_eq!(variant_from_column(String::new()), None);
        assert_eq!(variant_from_column("on".into()), Some("on".into()));
        assert_eq!(count_column(u64::MAX), i64::MAX);
        assert_eq!(count_column(7), 7);
    }
}
