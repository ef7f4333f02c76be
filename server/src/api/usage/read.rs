//! `GET /api/v1/projects/{project}/flags/{flag}/usage`: a flag's hourly
//! counts per environment and variant, with totals and last-evaluated
//! times.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use super::schemas::UsageBucketSchema;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::flags::{Rfc3339, with_last_evaluated};
use crate::api::query::Query;
use crate::auth::{AuthState, Principal};
use crate::store::{Store, UsageBucket, hour_of};

/// The longest range one read covers (hourly buckets: 2 232 per
/// environment and variant at most).
pub const MAX_RANGE: Duration = Duration::days(93);
/// The range without `from`: the week before `to`.
pub const DEFAULT_RANGE: Duration = Duration::days(7);

/// Which counts to read.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// One environment's counts only; every environment's without it.
    environment: Option<String>,
    /// RFC 3339; the hour it falls in is the first one read. Default: 7
    /// days before `to`.
    #[serde(default, deserialize_with = "crate::api::query::optional_time")]
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<OffsetDateTime>,
    /// RFC 3339, exclusive: hours starting before it are read. Default: now.
    #[serde(default, deserialize_with = "crate::api::query::optional_time")]
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<OffsetDateTime>,
}

/// A flag's counts over a range of hours.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlagUsage {
    pub flag: String,
    /// The environment asked for; `null` for all of them.
    pub environment: Option<String>,
    /// The first hour read (the start of the hour `from` fell in).
    #[schema(value_type = String, format = DateTime)]
    pub from: Rfc3339,
    /// The end of the range, exclusive.
    #[schema(value_type = String, format = DateTime)]
    pub to: Rfc3339,
    /// Hours with evaluations, oldest first, then by environment and
    /// variant; hours without any are left out.
    #[schema(value_type = Vec<UsageBucketSchema>)]
    pub buckets: Vec<UsageBucket>,
    /// The range's sum per environment and variant.
    pub totals: Vec<UsageTotal>,
    /// The range's sum.
    pub total: u64,
    /// Environment key → when the flag was last evaluated there (not
    /// limited to the range): what tells a stale flag.
    #[schema(value_type = BTreeMap<String, String>)]
    pub last_evaluated: BTreeMap<String, Rfc3339>,
}

/// One environment and variant's sum over the range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UsageTotal {
    pub environment: String,
    /// `null` counts failed evaluations.
    pub variant: Option<String>,
    pub count: u64,
}

/// A flag's evaluation counts, hour by hour, per environment and variant.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/flags/{flag}/usage",
    tag = "usage",
    params(
        ("project" = String, Path, description = "Project key"),
        ("flag" = String, Path, description = "Flag key"),
        UsageQuery,
    ),
    security(("user" = [])),
    responses(
        (status = 200, description = "Hourly counts, totals and last-evaluated times", body = FlagUsage),
        (status = 400, description = "`from`/`to` not RFC 3339, `from` not before `to`, or a range over 93 days", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 404, description = "No such project, flag or environment", body = ErrorBody),
    )
)]
pub(super) async fn flag_usage(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<AuthState>,
    _principal: Principal,
    Path((project, flag)): Path<(String, String)>,
    Query(query): Query<UsageQuery>,
) -> Result<axum::Json<FlagUsage>, ApiError> {
    let to = query.to.unwrap_or_else(|| auth.now());
    let from = hour_of(query.from.unwrap_or(to - DEFAULT_RANGE));
    if from >= to {
        return Err(ApiError::BadRequest("`from` must be before `to`".into()));
    }
    if to - from > MAX_RANGE {
        return Err(ApiError::BadRequest(
            "the range from `from` to `to` must not be longer than 93 days".into(),
        ));
    }
    let record = store.get_flag(&project, &flag).await?;
    if let Some(environment) = &query.environment {
        store.get_environment(&project, environment).await?;
    }
    let environment = query.environment.as_deref();
    let buckets = store
        .flag_usage(&project, &flag, environment, from, to)
        .await?;
    let mut sums: BTreeMap<(String, Option<String>), u64> = BTreeMap::new();
    for bucket in &buckets {
        let sum = sums
            .entry((bucket.environment.clone(), bucket.variant.clone()))
            .or_default();
        *sum = sum.saturating_add(bucket.count);
    }
    let totals: Vec<UsageTotal> = sums
        .into_iter()
        .map(|((environment, variant), count)| UsageTotal {
            environment,
            variant,
            count,
        })
        .collect();
    let total = totals
        .iter()
        .fold(0_u64, |sum, t| sum.saturating_add(t.count));
    let mut last_evaluated = with_last_evaluated(&*store, &project, vec![record])
        .await?
        .pop()
        .map(|view| view.last_evaluated)
        .unwrap_or_default();
    if let Some(environment) = environment {
        last_evaluated.retain(|key, _| key == environment);
    }
    Ok(axum::Json(FlagUsage {
        flag,
        environment: query.environment,
        from: Rfc3339(from),
        to: Rfc3339(to),
        buckets,
        totals,
        total,
        last_evaluated,
    }))
}
