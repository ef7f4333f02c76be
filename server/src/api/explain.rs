//! `POST /api/v1/projects/{project}/flags/{flag}/environments/{environment}/explain`:
//! why a context gets what it gets, step by step (`docs/evaluation.md`,
//! "Explain").
//!
//! For people (the UI's "why?" panel) and for debugging an app: any
//! logged-in principal may call it (viewers too: it changes nothing), and
//! so may an SDK key for that one environment, which can read all of its
//! rules through the snapshot anyway. It explains the replica's cached
//! snapshot, the one evaluation uses.
//!
//! `GET /api/v1/projects/{project}/environments/{environment}/snapshot`
//! hands the same readers that snapshot as JSON, so the UI's "who gets
//! what" preview evaluates in the browser with the WASM engine, exactly as
//! SDKs do.

use axum::Router;
use axum::extract::{FromRef, FromRequestParts, Path, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};
use vexil_engine::Explanation;
use vexil_proto::Context;

use super::error::{ApiError, ErrorBody};
use super::evaluate::{ContextSchema, snapshot_response};
use super::json::Json;
use crate::auth::{AuthState, ClaimKind, SdkKey};
use crate::snapshots::SnapshotCache;

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(explain, environment_snapshot),
    components(schemas(ExplainRequest))
)]
pub struct Doc;

/// The explain route.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    SnapshotCache: FromRef<S>,
{
    Router::new()
        .route(
            "/api/v1/projects/{project}/flags/{flag}/environments/{environment}/explain",
            post(explain),
        )
        .route(
            "/api/v1/projects/{project}/environments/{environment}/snapshot",
            get(environment_snapshot),
        )
}

/// One environment's snapshot, as SDKs receive it, for people (any role)
/// and for an SDK key of that environment; the version is the `ETag`.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/environments/{environment}/snapshot",
    tag = "evaluation",
    params(
        ("project" = String, Path, description = "Project key"),
        ("environment" = String, Path, description = "Environment key"),
        ("If-None-Match" = Option<String>, Header,
            description = "The `ETag` of the snapshot the client has (`\"42\"`); `304` if still current"),
    ),
    security(("user" = []), ("sdk_key" = [])),
    responses(
        (status = 200, description = "`{environment, version, flags, segments}`", body = Object,
            headers(("ETag" = String, description = "The version, quoted: `\"42\"`"))),
        (status = 304, description = "The client's snapshot is current",
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 401, description = "No credentials, or invalid, expired or revoked ones", body = ErrorBody),
        (status = 403, description = "An SDK key of another environment", body = ErrorBody),
        (status = 404, description = "No such project or environment", body = ErrorBody),
        (status = 500, description = "A failure on Vexil's side (logged, not shown)", body = ErrorBody),
    )
)]
async fn environment_snapshot(
    reader: Reader,
    State(snapshots): State<SnapshotCache>,
    Path((project, environment)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Reader::Sdk(key) = &reader {
        key.require_environment(&project, &environment)?;
    }
    let snapshot = snapshots.get(&project, &environment).await?;
    Ok(snapshot_response(&snapshot, &headers))
}

/// The context to explain the flag for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainRequest {
    #[schema(value_type = ContextSchema)]
    pub context: Context,
}

/// Explains how one flag evaluates for a context in one environment: the
/// result (exactly what evaluation returns) and every step that led to it.
/// An unknown flag is explained too (`decided_by: flag_not_found`), as
/// evaluation would answer it.
#[utoipa::path(
    post,
    path = "/api/v1/projects/{project}/flags/{flag}/environments/{environment}/explain",
    tag = "evaluation",
    params(
        ("project" = String, Path, description = "Project key"),
        ("flag" = String, Path, description = "Flag key"),
        ("environment" = String, Path, description = "Environment key"),
    ),
    request_body = ExplainRequest,
    security(("user" = []), ("sdk_key" = [])),
    responses(
        (status = 200, description = "The engine's explanation: `result`, `decided_by`, \
            `compile_errors`, `enabled`, `prerequisites`, `target`, `rules`, `rollout` \
            (see docs/evaluation.md)", body = Object),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No credentials, or invalid, expired or revoked ones", body = ErrorBody),
        (status = 403, description = "An SDK key of another environment", body = ErrorBody),
        (status = 404, description = "No such project or environment", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "Unknown fields, no `context`, or a context without `key`", body = ErrorBody),
        (status = 500, description = "A failure on Vexil's side (logged, not shown)", body = ErrorBody),
    )
)]
async fn explain(
    reader: Reader,
    State(snapshots): State<SnapshotCache>,
    Path((project, flag, environment)): Path<(String, String, String)>,
    Json(request): Json<ExplainRequest>,
) -> Result<axum::Json<Explanation>, ApiError> {
    if let Reader::Sdk(key) = &reader {
        key.require_environment(&project, &environment)?;
    }
    let snapshot = snapshots.get(&project, &environment).await?;
    Ok(axum::Json(
        snapshot.compiled().explain(&flag, &request.context),
    ))
}

/// Who may explain: a user session or API token of any role, or an SDK
/// key (checked against the path's environment by the handler).
#[derive(Debug)]
enum Reader {
    /// Any [`Principal`](crate::auth::Principal): every role may read.
    Principal,
    Sdk(SdkKey),
}

impl<S> FromRequestParts<S> for Reader
where
    AuthState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = AuthState::from_ref(state);
        if is_sdk_key(&auth, &parts.headers) {
            Ok(Reader::Sdk(auth.sdk_key(&parts.headers).await?))
        } else {
            auth.principal(&parts.headers).await?;
            Ok(Reader::Principal)
        }
    }
}

/// Whether the bearer token is one of our SDK keys (signature checked).
/// Anything else, malformed included, goes to the principal check, which
/// refuses it with the right message.
fn is_sdk_key(auth: &AuthState, headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer")
        && auth
            .keys()
            .decode(token.trim())
            .is_ok_and(|claims| claims.kind == ClaimKind::Sdk)
}
