//! Server-side evaluation and polling, the fallbacks for clients that
//! cannot hold a WebSocket, both with an SDK key:
//!
//! - `POST /api/v1/evaluate` `{context, flag?}`: one flag's result, or
//!   every flag's. Any evaluation is a `200`, errors included: an unknown
//!   flag is a result with reason `ERROR` and error code `FLAG_NOT_FOUND`,
//!   so the caller uses its default, as OpenFeature expects.
//! - `GET /api/v1/snapshot`: the environment's snapshot JSON with its
//!   version as `ETag`; `304` when `If-None-Match` names that version.
//!
//! Both read the replica's [`SnapshotCache`], never the database.

use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use vexil_proto::{Context, EvaluationResult};

use super::error::{ApiError, ErrorBody};
use super::json::Json;
use crate::auth::{AuthState, SdkKey};
use crate::snapshots::{CachedSnapshot, SnapshotCache};

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(evaluate, snapshot),
    components(schemas(
        EvaluateRequest,
        EvaluateResponse,
        EvaluateAllResponse,
        EvaluationResultSchema,
        ContextSchema
    ))
)]
pub struct Doc;

/// `/api/v1/evaluate` and `/api/v1/snapshot`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: axum::extract::FromRef<S>,
    SnapshotCache: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/api/v1/evaluate", post(evaluate))
        .route("/api/v1/snapshot", get(snapshot))
}

/// Who to evaluate for, and optionally which flag.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    #[schema(value_type = ContextSchema)]
    pub context: Context,
    /// One flag's key; without it, every flag of the environment.
    #[serde(default)]
    pub flag: Option<String>,
}

/// Every flag's result for one context, in snapshot order (flag key order).
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluateAllResponse {
    /// The SDK key's environment.
    pub environment: String,
    /// The environment version the flags were evaluated at.
    pub version: u64,
    #[schema(value_type = Vec<EvaluationResultSchema>)]
    pub flags: Vec<EvaluationResult>,
}

/// One flag's result (with `flag`) or every flag's (without).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum EvaluateResponse {
    One(EvaluationResultSchema),
    All(EvaluateAllResponse),
}

/// One flag's evaluation: what the SDKs' `evaluate` returns too.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EvaluationResult)]
pub struct EvaluationResultSchema {
    pub flag: String,
    /// The served value (any JSON of the flag's kind); absent on error,
    /// when the caller's default applies.
    #[schema(value_type = Option<Object>)]
    pub value: Option<serde_json::Value>,
    /// The served variant's key; absent on error.
    pub variant: Option<String>,
    /// `STATIC`, `DEFAULT`, `TARGETING_MATCH`, `SPLIT`, `DISABLED`,
    /// `PREREQUISITE_FAILED` or `ERROR`.
    pub reason: String,
    /// Zero-based index of the rule that decided, if one did.
    pub rule_index: Option<usize>,
    /// Id of the rule that decided, if one did.
    pub rule_id: Option<String>,
    /// The context's bucket (0..100 000) when a rollout decided.
    pub bucket: Option<u32>,
    /// The prerequisite flag that failed, with `PREREQUISITE_FAILED`.
    pub prerequisite: Option<String>,
    /// With `ERROR`: `FLAG_NOT_FOUND`, `PARSE_ERROR` (the flag failed to
    /// compile) or `GENERAL`.
    pub error_code: Option<String>,
}

/// Who is asking: the targeting key, an optional kind, and attributes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Context)]
pub struct ContextSchema {
    /// OpenFeature's targeting key; required (it may be empty).
    pub key: String,
    /// `user`, `org`, `device`, ...
    pub kind: Option<String>,
    /// Each a string, number, boolean, or a flat list of those.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Value>,
}

/// Evaluates one flag, or every flag, of the SDK key's environment.
#[utoipa::path(
    post,
    path = "/api/v1/evaluate",
    tag = "evaluation",
    request_body = EvaluateRequest,
    security(("sdk_key" = [])),
    responses(
        (status = 200, description = "With `flag`: that flag's result, `ERROR` + `FLAG_NOT_FOUND` \
            for an unknown flag. Without: every flag's.",
            body = EvaluateResponse,
            example = json!({"flag": "new-checkout", "value": true, "variant": "on",
                "reason": "TARGETING_MATCH", "rule_index": 0, "rule_id": "beta-users"})),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No SDK key, or an invalid, expired or revoked one", body = ErrorBody),
        (status = 404, description = "The key's environment no longer exists", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "Unknown fields, no `context`, or a context without `key`", body = ErrorBody),
        (status = 500, description = "A failure on Vexil's side (logged, not shown)", body = ErrorBody),
    )
)]
async fn evaluate(
    key: SdkKey,
    State(snapshots): State<SnapshotCache>,
    Json(request): Json<EvaluateRequest>,
) -> Result<Response, ApiError> {
    let snapshot = snapshots.get(key.project(), key.environment()).await?;
    let compiled = snapshot.compiled();
    let response = match request.flag {
        Some(flag) => {
            let result = compiled.evaluate(&flag, &request.context).to_result(&flag);
            axum::Json(result).into_response()
        }
        None => {
            let flags = compiled
                .evaluate_all(&request.context)
                .into_iter()
                .map(|(flag, evaluation)| evaluation.to_result(flag))
                .collect();
            axum::Json(EvaluateAllResponse {
                environment: key.environment().to_owned(),
                version: snapshot.version(),
                flags,
            })
            .into_response()
        }
    };
    Ok(response)
}

/// The SDK key's environment as a snapshot, for polling clients and
/// bootstrap files; the version is the `ETag`.
#[utoipa::path(
    get,
    path = "/api/v1/snapshot",
    tag = "evaluation",
    security(("sdk_key" = [])),
    params(("If-None-Match" = Option<String>, Header,
        description = "The `ETag` of the snapshot the client has (`\"42\"`); `304` if still current")),
    responses(
        (status = 200, description = "`{environment, version, flags, segments}`",
            body = Object, headers(("ETag" = String, description = "The version, quoted: `\"42\"`"))),
        (status = 304, description = "The client's snapshot is current",
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 401, description = "No SDK key, or an invalid, expired or revoked one", body = ErrorBody),
        (status = 404, description = "The key's environment no longer exists", body = ErrorBody),
        (status = 500, description = "A failure on Vexil's side (logged, not shown)", body = ErrorBody),
    )
)]
async fn snapshot(
    key: SdkKey,
    State(snapshots): State<SnapshotCache>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let snapshot = snapshots.get(key.project(), key.environment()).await?;
    Ok(snapshot_response(&snapshot, &headers))
}

/// A snapshot's JSON with its version as the `ETag`, or `304` when
/// `If-None-Match` names that version; never cached without revalidation.
pub(crate) fn snapshot_response(snapshot: &CachedSnapshot, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", snapshot.version());
    let mut response = if none_match(headers, &etag) {
        let body = snapshot.json().clone();
        ([(CONTENT_TYPE, "application/json")], body).into_response()
    } else {
        StatusCode::NOT_MODIFIED.into_response()
    };
    let out = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(ETAG, value);
    }
    out.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Whether `If-None-Match` lets the request through: absent, or naming no
/// tag equal to `etag` (weak comparison, as RFC 9110 prescribes for it;
/// `*` matches any).
pub(crate) fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    let ours = etag.strip_prefix("W/").unwrap_or(etag);
    !headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists() {
        assert!(none_match(&HeaderMap::new(), "\"3\""));
        assert!(!none_match(&with("\"3\""), "\"3\""));
        assert!(!none_match(&with("W/\"3\""), "\"3\""));
        assert!(!none_match(&with("\"1\", \"3\""), "\"3\""));
        assert!(!none_match(&with("*"), "\"3\""));
        assert!(none_match(&with("\"2\""), "\"3\""));
        assert!(
            none_match(&with("3"), "\"3\""),
            "unquoted is not the same tag"
        );
    }
}
