//! Evaluation counts: SDKs report them, people read them.
//!
//! - `POST /api/v1/usage` (SDK key): one window of counts from one SDK
//!   instance (`vexil_proto::usage::UsageReport`). The key says which
//!   project and environment; flags (or variants) the environment does not
//!   have are dropped, not refused, since an SDK may count a flag that was
//!   just deleted. The counts go into the replica's [`UsageBuffer`], never
//!   straight to the database; the answer is `202 {accepted, dropped}`.
//! - `GET /api/v1/projects/{p}/flags/{f}/usage` (any role): hourly counts
//!   per environment and variant, totals, and last-evaluated times.
//!
//! Counts are telemetry, not changes: they are not audited and bump no
//! environment version (see `docs/decisions.md`).
//!
//! # Layout
//! - `report`: the POST handler and the checks a report must pass.
//! - `read`: the GET handler.
//! - `schemas`: OpenAPI schemas of the report (proto has no utoipa) and of
//!   the answers.

mod read;
mod report;
mod schemas;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::{get, post};
use utoipa::OpenApi;

pub use self::report::{
    MAX_COUNT, MAX_COUNTS, MAX_FUTURE, MAX_REPORT_AGE, MAX_USAGE_BODY_BYTES, MAX_WINDOW,
};
use crate::auth::AuthState;
use crate::snapshots::SnapshotCache;
use crate::store::Store;
use crate::usage::UsageBuffer;

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(report::report_usage, read::flag_usage),
    components(schemas(
        schemas::UsageReportSchema,
        schemas::UsageCountSchema,
        report::UsageAccepted,
        read::FlagUsage,
        read::UsageTotal,
        schemas::UsageBucketSchema,
    )),
    tags((name = "usage", description = "Evaluation counts SDKs report, and stale flags"))
)]
pub struct Doc;

/// `/api/v1/usage` and `/api/v1/projects/{project}/flags/{flag}/usage`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
    SnapshotCache: FromRef<S>,
    UsageBuffer: FromRef<S>,
{
    Router::new()
        .route(
            "/api/v1/usage",
            post(report::report_usage).layer(DefaultBodyLimit::max(MAX_USAGE_BODY_BYTES)),
        )
        .route(
            "/api/v1/projects/{project}/flags/{flag}/usage",
            get(read::flag_usage),
        )
}
