//! OFREP, the OpenFeature Remote Evaluation Protocol, so every OpenFeature
//! SDK can use Vexil through its stock OFREP provider (the SDK key as
//! bearer):
//!
//! - `POST /ofrep/v1/evaluate/flags/{key}`: one flag, for server-side
//!   providers;
//! - `POST /ofrep/v1/evaluate/flags`: every flag, for client-side providers
//!   that evaluate once and poll, with `ETag`/`If-None-Match`.
//!
//! The request and response shapes are OFREP's own (camelCase, no Vexil
//! error envelope), so this module speaks them itself:
//! - the context is free-form: `targetingKey` becomes the context key,
//!   a string `kind` the context kind, every other non-null entry an
//!   attribute (a string, number, boolean or flat list of those);
//! - success is `{key, value, reason, variant, metadata}` with Vexil's
//!   reason mapped to OpenFeature's (`PREREQUISITE_FAILED` is `DEFAULT`,
//!   with `prerequisite` in the metadata);
//! - a failed evaluation is `{key, errorCode, errorDetails}`: `404` for
//!   `FLAG_NOT_FOUND`, `400` for `PARSE_ERROR` (a body that is not JSON, or
//!   a flag that failed to compile), `INVALID_CONTEXT`,
//!   `TARGETING_KEY_MISSING` and `GENERAL`; in a bulk response each
//!   flag's failure is an entry of `flags`, and a bad request is
//!   `{errorCode, errorDetails}`;
//! - credentials refused: `401`/`403` with `{errorDetails}`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, FromRequestParts, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::{OpenApi, ToSchema};
use vexil_engine::{CompiledSnapshot, Evaluation};
use vexil_proto::{AttributeValue, Context, ErrorCode, Reason};

use super::evaluate::none_match;
use crate::auth::{AuthError, AuthState, SdkKey};
use crate::snapshots::SnapshotCache;
use crate::store::StoreError;

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(evaluate_flag, evaluate_flags),
    components(schemas(
        OfrepEvaluationRequest,
        OfrepEvaluationSuccess,
        OfrepEvaluationFailure,
        OfrepBulkEvaluationSuccess,
        OfrepBulkEvaluationFailure,
        OfrepFlag,
        OfrepGeneralError
    ))
)]
pub struct Doc;

/// The two OFREP evaluation routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    SnapshotCache: FromRef<S>,
{
    Router::new()
        .route("/ofrep/v1/evaluate/flags", post(evaluate_flags))
        .route("/ofrep/v1/evaluate/flags/{key}", post(evaluate_flag))
}

/// `{"context": {"targetingKey": "user-1", "kind": "user", "plan": "pro"}}`.
#[derive(Debug, ToSchema)]
pub struct OfrepEvaluationRequest {
    /// `targetingKey` (required by Vexil), optional `kind`, and attributes.
    #[schema(value_type = Object)]
    pub context: Option<Value>,
}

/// A flag evaluated.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfrepEvaluationSuccess {
    pub key: String,
    /// The served value: boolean, string, number or object.
    #[schema(value_type = Object)]
    pub value: Value,
    /// `STATIC`, `DEFAULT`, `TARGETING_MATCH`, `SPLIT` or `DISABLED`.
    pub reason: &'static str,
    pub variant: String,
    /// `ruleIndex` and `ruleId` of the deciding rule, `bucket` of a
    /// rollout, and for a failed prerequisite `prerequisite` with
    /// `vexilReason: "PREREQUISITE_FAILED"`.
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
}

/// A flag that could not be evaluated; the caller's default applies.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfrepEvaluationFailure {
    pub key: String,
    /// `FLAG_NOT_FOUND`, `PARSE_ERROR`, `INVALID_CONTEXT`,
    /// `TARGETING_KEY_MISSING` or `GENERAL`.
    pub error_code: &'static str,
    pub error_details: String,
}

/// One entry of a bulk evaluation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum OfrepFlag {
    Success(OfrepEvaluationSuccess),
    Failure(OfrepEvaluationFailure),
}

/// Every flag of the SDK key's environment, in key order.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfrepBulkEvaluationSuccess {
    pub flags: Vec<OfrepFlag>,
}

/// A bulk request that could not be evaluated at all.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfrepBulkEvaluationFailure {
    /// `PARSE_ERROR`, `INVALID_CONTEXT` or `TARGETING_KEY_MISSING`.
    pub error_code: &'static str,
    pub error_details: String,
}

/// Credentials refused, or a failure on Vexil's side.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfrepGeneralError {
    pub error_details: String,
}

/// Evaluates one flag (OFREP single flag evaluation).
#[utoipa::path(
    post,
    path = "/ofrep/v1/evaluate/flags/{key}",
    tag = "ofrep",
    params(("key" = String, Path, description = "Flag key")),
    request_body = OfrepEvaluationRequest,
    security(("sdk_key" = [])),
    responses(
        (status = 200, description = "Evaluated", body = OfrepEvaluationSuccess),
        (status = 400, description = "`PARSE_ERROR` (body not JSON, or the flag failed to compile), \
            `INVALID_CONTEXT`, `TARGETING_KEY_MISSING` or `GENERAL`", body = OfrepEvaluationFailure),
        (status = 401, description = "No SDK key, or an invalid, expired or revoked one", body = OfrepGeneralError),
        (status = 403, description = "The key's environment no longer exists", body = OfrepGeneralError),
        (status = 404, description = "`FLAG_NOT_FOUND`", body = OfrepEvaluationFailure),
        (status = 413, description = "Body too large", body = OfrepGeneralError),
        (status = 500, description = "Failure on Vexil's side", body = OfrepGeneralError),
    )
)]
async fn evaluate_flag(
    key: OfrepKey,
    State(snapshots): State<SnapshotCache>,
    Path(flag): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OfrepError> {
    let body = body.map_err(OfrepError::body)?;
    let context = parse_context(&body).map_err(|err| err.for_flag(&flag))?;
    let snapshot = snapshots
        .get(key.0.project(), key.0.environment())
        .await
        .map_err(OfrepError::store)?;
    let compiled = snapshot.compiled();
    match entry(compiled, &flag, compiled.evaluate(&flag, &context)) {
        OfrepFlag::Success(success) => Ok(axum::Json(success).into_response()),
        OfrepFlag::Failure(failure) => Err(OfrepError::Flag(failure)),
    }
}

/// Evaluates every flag (OFREP bulk evaluation). The `ETag` names the
/// response itself (a hash of it), since it depends on the context as much
/// as on the flags: polling with the same context gets `304` until a
/// change alters one of its results.
#[utoipa::path(
    post,
    path = "/ofrep/v1/evaluate/flags",
    tag = "ofrep",
    params(("If-None-Match" = Option<String>, Header,
        description = "The `ETag` of the last response; `304` while the results are unchanged")),
    request_body = OfrepEvaluationRequest,
    security(("sdk_key" = [])),
    responses(
        (status = 200, description = "Every flag; a flag that could not be evaluated is a failure entry",
            body = OfrepBulkEvaluationSuccess,
            headers(("ETag" = String, description = "Identifies these results"))),
        (status = 304, description = "The results are those of the `If-None-Match` tag",
            headers(("ETag" = String, description = "Identifies these results"))),
        (status = 400, description = "`PARSE_ERROR`, `INVALID_CONTEXT` or `TARGETING_KEY_MISSING`",
            body = OfrepBulkEvaluationFailure),
        (status = 401, description = "No SDK key, or an invalid, expired or revoked one", body = OfrepGeneralError),
        (status = 403, description = "The key's environment no longer exists", body = OfrepGeneralError),
        (status = 413, description = "Body too large", body = OfrepGeneralError),
        (status = 500, description = "Failure on Vexil's side", body = OfrepGeneralError),
    )
)]
async fn evaluate_flags(
    key: OfrepKey,
    State(snapshots): State<SnapshotCache>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OfrepError> {
    let body = body.map_err(OfrepError::body)?;
    let context = parse_context(&body).map_err(ContextError::for_bulk)?;
    let snapshot = snapshots
        .get(key.0.project(), key.0.environment())
        .await
        .map_err(OfrepError::store)?;
    let compiled = snapshot.compiled();
    let flags = compiled
        .evaluate_all(&context)
        .into_iter()
        .map(|(flag, evaluation)| entry(compiled, flag, evaluation))
        .collect();
    let body = serde_json::to_vec(&OfrepBulkEvaluationSuccess { flags })
        .map_err(|err| OfrepError::internal(format!("serializing OFREP results: {err}")))?;
    let etag = format!("\"{:016x}\"", fnv1a(&body));
    let mut response = if none_match(&headers, &etag) {
        ([(CONTENT_TYPE, "application/json")], body).into_response()
    } else {
        StatusCode::NOT_MODIFIED.into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(ETAG, value);
    }
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// An evaluation in OFREP's terms.
fn entry(compiled: &CompiledSnapshot, flag: &str, evaluation: Evaluation<'_>) -> OfrepFlag {
    let (Some(value), Some(variant)) = (evaluation.value, evaluation.variant) else {
        let code = evaluation.error_code.unwrap_or(ErrorCode::General);
        let details = match code {
            ErrorCode::FlagNotFound => format!(
                "no flag `{flag}` in environment `{}`",
                compiled.environment()
            ),
            ErrorCode::ParseError => {
                let problems: Vec<&str> = compiled
                    .errors()
                    .iter()
                    .filter(|e| e.key == flag)
                    .map(|e| e.problem.as_str())
                    .collect();
                format!("flag `{flag}` failed to compile: {}", problems.join("; "))
            }
            _ => format!("flag `{flag}` could not be evaluated"),
        };
        return OfrepFlag::Failure(OfrepEvaluationFailure {
            key: flag.to_owned(),
            error_code: code.as_str(),
            error_details: details,
        });
    };
    let mut metadata = Map::new();
    if let Some(index) = evaluation.rule_index {
        metadata.insert("ruleIndex".into(), index.into());
    }
    if let Some(id) = evaluation.rule_id {
        metadata.insert("ruleId".into(), id.into());
    }
    if let Some(bucket) = evaluation.bucket {
        metadata.insert("bucket".into(), bucket.into());
    }
    if let Some(prerequisite) = evaluation.prerequisite {
        metadata.insert("prerequisite".into(), prerequisite.into());
    }
    let reason = openfeature_reason(evaluation.reason);
    if reason != evaluation.reason.as_str() {
        metadata.insert("vexilReason".into(), evaluation.reason.as_str().into());
    }
    OfrepFlag::Success(OfrepEvaluationSuccess {
        key: flag.to_owned(),
        value: value.clone(),
        reason,
        variant: variant.to_owned(),
        metadata,
    })
}

/// OpenFeature's name for a Vexil reason: the same, except
/// `PREREQUISITE_FAILED`, which OpenFeature does not have (`DEFAULT`).
fn openfeature_reason(reason: Reason) -> &'static str {
    match reason {
        Reason::PrerequisiteFailed => Reason::Default.as_str(),
        other => other.as_str(),
    }
}

/// Why a request's context cannot be evaluated.
#[derive(Debug)]
struct ContextError {
    code: ErrorCode,
    details: String,
}

impl ContextError {
    fn new(code: ErrorCode, details: impl Into<String>) -> Self {
        ContextError {
            code,
            details: details.into(),
        }
    }

    fn for_flag(self, flag: &str) -> OfrepError {
        OfrepError::Flag(OfrepEvaluationFailure {
            key: flag.to_owned(),
            error_code: self.code.as_str(),
            error_details: self.details,
        })
    }

    fn for_bulk(self) -> OfrepError {
        OfrepError::Bulk(OfrepBulkEvaluationFailure {
            error_code: self.code.as_str(),
            error_details: self.details,
        })
    }
}

/// The OFREP request body as a Vexil context. An empty body is `{}` (no
/// targeting key); `null` entries are absent attributes (OpenFeature's
/// JavaScript contexts may hold `null`).
fn parse_context(body: &[u8]) -> Result<Context, ContextError> {
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body).map_err(|err| {
            ContextError::new(
                ErrorCode::ParseError,
                format!("the request body is not valid JSON: {err}"),
            )
        })?
    };
    let Value::Object(mut request) = request else {
        return Err(ContextError::new(
            ErrorCode::InvalidContext,
            "the request body must be an object: {\"context\": {\"targetingKey\": ...}}",
        ));
    };
    let mut fields = match request.remove("context") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(fields)) => fields,
        Some(_) => {
            return Err(ContextError::new(
                ErrorCode::InvalidContext,
                "`context` must be an object",
            ));
        }
    };
    let key = match fields.remove("targetingKey") {
        None | Some(Value::Null) => {
            return Err(ContextError::new(
                ErrorCode::TargetingKeyMissing,
                "the context has no `targetingKey`; Vexil targets and buckets by it",
            ));
        }
        Some(Value::String(key)) => key,
        Some(_) => {
            return Err(ContextError::new(
                ErrorCode::InvalidContext,
                "`targetingKey` must be a string",
            ));
        }
    };
    let mut context = Context::new(key);
    match fields.remove("kind") {
        None | Some(Value::Null) => {}
        Some(Value::String(kind)) => context.kind = Some(kind),
        Some(_) => {
            return Err(ContextError::new(
                ErrorCode::InvalidContext,
                "`kind` must be a string",
            ));
        }
    }
    for (name, value) in fields {
        if value.is_null() {
            continue;
        }
        let value: AttributeValue = serde_json::from_value(value).map_err(|err| {
            ContextError::new(
                ErrorCode::InvalidContext,
                format!("attribute `{name}`: {err}"),
            )
        })?;
        context.attributes.insert(name, value);
    }
    Ok(context)
}

/// 64-bit FNV-1a: the same on every replica, so an `ETag` from one is
/// recognised by another.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// An SDK key, refused in OFREP's error shape.
#[derive(Debug)]
struct OfrepKey(SdkKey);

impl<S> FromRequestParts<S> for OfrepKey
where
    AuthState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = OfrepError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match AuthState::from_ref(state).sdk_key(&parts.headers).await {
            Ok(key) => Ok(OfrepKey(key)),
            Err(AuthError::Store(err)) => Err(OfrepError::internal(format!(
                "credential lookup failed: {err}"
            ))),
            Err(err) => Err(OfrepError::General(err.status_code(), err.to_string())),
        }
    }
}

/// Every OFREP error response.
#[derive(Debug)]
enum OfrepError {
    /// A single flag's failure (400, or 404 for `FLAG_NOT_FOUND`).
    Flag(OfrepEvaluationFailure),
    /// A bulk request's failure (400).
    Bulk(OfrepBulkEvaluationFailure),
    /// `{errorDetails}` with a status (401, 403, 413, 500).
    General(StatusCode, String),
}

impl OfrepError {
    fn internal(cause: String) -> Self {
        tracing::error!(%cause, "OFREP request failed");
        OfrepError::General(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
    }

    fn store(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => OfrepError::General(
                StatusCode::FORBIDDEN,
                format!("this SDK key's environment no longer exists ({what} not found)"),
            ),
            other => OfrepError::internal(other.to_string()),
        }
    }

    fn body(rejection: BytesRejection) -> Self {
        OfrepError::General(rejection.status(), rejection.body_text())
    }
}

impl IntoResponse for OfrepError {
    fn into_response(self) -> Response {
        match self {
            OfrepError::Flag(failure) => {
                let status = if failure.error_code == ErrorCode::FlagNotFound.as_str() {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::BAD_REQUEST
                };
                (status, axum::Json(failure)).into_response()
            }
            OfrepError::Bulk(failure) => {
                (StatusCode::BAD_REQUEST, axum::Json(failure)).into_response()
            }
            OfrepError::General(status, details) => (
                status,
                axum::Json(OfrepGeneralError {
                    error_details: details,
                }),
            )
                .into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(body: &str) -> (&'static str, String) {
        let err = parse_context(body.as_bytes()).unwrap_err();
        (err.code.as_str(), err.details)
    }

    #[test]
    fn contexts_map_targeting_key_kind_and_attributes() {
        let context = parse_context(
            br#"{"context": {"targetingKey": "u1", "kind": "user", "plan": "pro",
                "seats": 12, "beta": true, "groups": ["a", "b"], "gone": null}}"#,
        )
        .unwrap();
        let expected = Context::new("u1")
            .with_kind("user")
            .with("plan", "pro")
            .with("seats", 12i64)
            .with("beta", true)
            .with("groups", ["a", "b"].into_iter().collect::<AttributeValue>());
        assert_eq!(context, expected);
    }

    #[test]
    fn bad_contexts_say_which_error() {
        assert_eq!(error("{").0, "PARSE_ERROR");
        assert_eq!(error("[]").0, "INVALID_CONTEXT");
        assert_eq!(error(r#"{"context": 5}"#).0, "INVALID_CONTEXT");
        assert_eq!(error("").0, "TARGETING_KEY_MISSING");
        assert_eq!(error(r#"{"context": {}}"#).0, "TARGETING_KEY_MISSING");
        assert_eq!(
            error(r#"{"context": {"targetingKey": 7}}"#).0,
            "INVALID_CONTEXT"
        );
        assert_eq!(
            error(r#"{"context": {"targetingKey": "u", "kind": 1}}"#).0,
            "INVALID_CONTEXT"
        );
        let (code, details) =
            error(r#"{"context": {"targetingKey": "u", "address": {"city": "x"}}}"#);
        assert_eq!(code, "INVALID_CONTEXT");
        assert!(
            details.starts_with("attribute `address`: invalid type: map"),
            "{details}"
        );
    }

    #[test]
    fn reasons_follow_openfeature() {
        assert_eq!(openfeature_reason(Reason::PrerequisiteFailed), "DEFAULT");
        assert_eq!(openfeature_reason(Reason::Split), "SPLIT");
        assert_eq!(
            openfeature_reason(Reason::TargetingMatch),
            "TARGETING_MATCH"
        );
        assert_eq!(openfeature_reason(Reason::Disabled), "DISABLED");
    }

    #[test]
    fn evaluations_without_a_value_are_failures_with_their_code() {
        let compiled = CompiledSnapshot::default();
        let general = Evaluation {
            value: None,
            variant: None,
            reason: Reason::Error,
            rule_index: None,
            rule_id: None,
            bucket: None,
            prerequisite: None,
            error_code: Some(ErrorCode::General),
            kind: None,
        };
        let OfrepFlag::Failure(failure) = entry(&compiled, "deep", general) else {
            panic!("expected a failure");
        };
        assert_eq!(failure.error_code, "GENERAL");
        assert_eq!(failure.error_details, "flag `deep` could not be evaluated");
        assert_eq!(
            OfrepError::Flag(failure).into_response().status(),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn fnv1a_is_the_standard_one() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
