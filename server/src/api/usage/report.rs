//! `POST /api/v1/usage`: checks a report, drops what the environment does
//! not know, buffers the rest.

use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;
use vexil_proto::usage::UsageReport;
use vexil_proto::validate::Problem;

use super::schemas::UsageReportSchema;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::json::Json;
use crate::auth::{AuthState, SdkKey};
use crate::snapshots::SnapshotCache;
use crate::usage::{Evaluations, UsageBuffer};

/// The largest report body; SDKs send one entry per flag and variant used
/// in a window, a few KiB.
pub const MAX_USAGE_BODY_BYTES: usize = 256 * 1024;
/// Entries in one report, at most.
pub const MAX_COUNTS: usize = 1000;
/// One entry's count, at most (a million evaluations a second for
/// eleven days, in one window of one instance).
pub const MAX_COUNT: u64 = 1_000_000_000_000;
/// How far past the server's clock `window_end` may be (clock skew).
pub const MAX_FUTURE: Duration = Duration::minutes(5);
/// The longest window.
pub const MAX_WINDOW: Duration = Duration::hours(24);
/// The oldest `window_end` accepted: an SDK that could not report for
/// longer has lost nothing worth the stale hours it would write.
pub const MAX_REPORT_AGE: Duration = Duration::days(7);

/// What became of a report's entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageAccepted {
    /// Entries added to the counts.
    pub accepted: u64,
    /// Entries for flags or variants the key's environment does not have
    /// (deleted, archived, misspelled), or that found the replica's buffer
    /// full; not stored.
    pub dropped: u64,
}

/// Adds one window of an SDK's evaluation counts to the key's environment.
#[utoipa::path(
    post,
    path = "/api/v1/usage",
    tag = "usage",
    request_body(content = UsageReportSchema, description = "One window of counts; unknown fields are refused"),
    security(("sdk_key" = [])),
    responses(
        (status = 202, description = "Buffered; stored within `--usage-flush-interval-ms`", body = UsageAccepted,
            example = json!({"accepted": 2, "dropped": 1})),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No SDK key, or an invalid, expired or revoked one (user sessions and API tokens included)", body = ErrorBody),
        (status = 404, description = "The key's environment no longer exists", body = ErrorBody),
        (status = 413, description = "The body is over 256 KiB", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "Unknown fields, a count below 1 or above 10¹², more than 1000 entries, \
            `window_end` before `window_start`, over 5 minutes ahead or over 7 days ago, or a window over 24 hours", body = ErrorBody),
    )
)]
pub(super) async fn report_usage(
    key: SdkKey,
    State(auth): State<AuthState>,
    State(snapshots): State<SnapshotCache>,
    State(usage): State<UsageBuffer>,
    request: Request,
) -> Result<(StatusCode, axum::Json<UsageAccepted>), ApiError> {
    let parsed = Json::<UsageReport>::from_request(request, &()).await;
    let report = match parsed {
        Ok(Json(report)) => report,
        Err(ApiError::TooLarge(_)) => {
            return Err(rejected(ApiError::TooLarge(MAX_USAGE_BODY_BYTES)));
        }
        Err(other) => return Err(rejected(other)),
    };
    let now = auth.now();
    check(&report, now).map_err(rejected)?;
    let snapshot = snapshots.get(key.project(), key.environment()).await?;
    let compiled = snapshot.compiled();
    // The counts were made no later than the window's end, and no later
    // than now whatever the SDK's clock says.
    let at = report.window_end.min(now);
    let mut outcome = UsageAccepted {
        accepted: 0,
        dropped: 0,
    };
    for entry in &report.counts {
        let known = match &entry.variant {
            Some(variant) => compiled.knows_variant(&entry.flag, variant),
            None => compiled.flag_kind(&entry.flag).is_some(),
        };
        let evaluations = Evaluations {
            flag: &entry.flag,
            variant: entry.variant.as_deref(),
            count: entry.count,
        };
        if known && usage.add(key.project(), key.environment(), &evaluations, at) {
            outcome.accepted += 1;
        } else {
            outcome.dropped += 1;
        }
    }
    metrics::counter!("usage_reports_total", "outcome" => "accepted").increment(1);
    metrics::counter!("usage_counts_total", "outcome" => "accepted").increment(outcome.accepted);
    metrics::counter!("usage_counts_total", "outcome" => "dropped").increment(outcome.dropped);
    Ok((StatusCode::ACCEPTED, axum::Json(outcome)))
}

/// Counts a refused report in `/metrics`.
fn rejected(error: ApiError) -> ApiError {
    metrics::counter!("usage_reports_total", "outcome" => "rejected").increment(1);
    error
}

/// Every problem of `report` at once, as a 422.
fn check(report: &UsageReport, now: OffsetDateTime) -> Result<(), ApiError> {
    let mut problems = Vec::new();
    let mut problem = |path: String, text: String| {
        problems.push(Problem {
            path,
            problem: text,
        })
    };
    if report.window_end < report.window_start {
        problem(
            "/window_end".into(),
            "must not be before window_start".into(),
        );
    } else if report.window_end - report.window_start > MAX_WINDOW {
        problem(
            "/window_start".into(),
            "the window must not be longer than 24 hours".into(),
        );
    }
    if report.window_end > now + MAX_FUTURE {
        problem(
            "/window_end".into(),
            "must not be more than 5 minutes ahead of the server's clock".into(),
        );
    } else if report.window_end < now - MAX_REPORT_AGE {
        problem(
            "/window_end".into(),
            "must not be more than 7 days ago".into(),
        );
    }
    if report.counts.len() > MAX_COUNTS {
        problem(
            "/counts".into(),
            format!("at most {MAX_COUNTS} entries, got {}", report.counts.len()),
        );
    } else {
        for (index, entry) in report.counts.iter().enumerate() {
            if entry.count == 0 || entry.count > MAX_COUNT {
                problem(
                    format!("/counts/{index}/count"),
                    format!("must be between 1 and {MAX_COUNT}"),
                );
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid(problems))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use vexil_proto::usage::UsageCount;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

    fn report(start: OffsetDateTime, end: OffsetDateTime, counts: &[u64]) -> UsageReport {
        UsageReport {
            window_start: start,
            window_end: end,
            counts: counts
                .iter()
                .map(|&count| UsageCount {
                    flag: "f".into(),
                    variant: None,
                    count,
                })
                .collect(),
        }
    }

    fn problems(report: &UsageReport) -> Vec<(String, String)> {
        match check(report, NOW) {
            Ok(()) => Vec::new(),
            Err(ApiError::Invalid(found)) => {
                found.into_iter().map(|p| (p.path, p.problem)).collect()
            }
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_plain_window_passes() {
        let minute_ago = NOW - Duration::minutes(1);
        assert!(problems(&report(minute_ago, NOW, &[1, MAX_COUNT])).is_empty());
        assert!(problems(&report(NOW, NOW + MAX_FUTURE, &[])).is_empty());
        assert!(problems(&report(NOW - MAX_REPORT_AGE, NOW - MAX_REPORT_AGE, &[1])).is_empty());
    }

    #[test]
    fn windows_and_counts_are_bounded() {
        let found = problems(&report(
            NOW,
            NOW - Duration::seconds(1),
            &[0, 5, MAX_COUNT + 1],
        ));
        assert_eq!(
            found,
            [
                (
                    "/window_end".to_string(),
                    "must not be before window_start".to_string()
                ),
                (
                    "/counts/0/count".into(),
                    format!("must be between 1 and {MAX_COUNT}")
                ),
                (
                    "/counts/2/count".into(),
                    format!("must be between 1 and {MAX_COUNT}")
                ),
            ]
        );
        let long = report(NOW - Duration::hours(25), NOW, &[1]);
        assert_eq!(problems(&long)[0].0, "/window_start");
        let ahead = report(NOW, NOW + MAX_FUTURE + Duration::seconds(1), &[1]);
        assert_eq!(problems(&ahead)[0].0, "/window_end");
        let old = NOW - MAX_REPORT_AGE - Duration::seconds(1);
        assert_eq!(problems(&report(old, old, &[1]))[0].0, "/window_end");
        let many = report(NOW, NOW, &vec![1; MAX_COUNTS + 1]);
        assert_eq!(
            problems(&many),
            [(
                "/counts".to_string(),
                format!("at most {MAX_COUNTS} entries, got 1001")
            )]
        );
    }
}
