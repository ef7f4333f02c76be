//! The API's one error shape:
//! `{"error": {"code", "message", "details": [{"path", "problem"}]}}`.
//!
//! Every handler and extractor fails with [`ApiError`], so a malformed body,
//! a bad token and a stale `If-Match` all answer in the same shape. 500s are
//! logged with their cause; the client only learns that something failed.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use vexil_proto::validate::{Problem, ValidationErrors};

use crate::store::StoreError;

/// Why a request failed, as the client sees it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON at all, or a query/header is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// The body is JSON but not the expected document: unknown fields,
    /// wrong types, invalid rules (422), each problem with a JSON pointer.
    #[error("the request body is invalid")]
    Invalid(Vec<Problem>),
    /// No credentials, or credentials that are expired, malformed, signed
    /// with another key or revoked (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Valid credentials without the right to do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The object, or its project, flag or environment, does not exist (404).
    #[error("{0} not found")]
    NotFound(String),
    /// Stale `If-Match`, an existing key, or a write the object's state
    /// refuses (409).
    #[error("{0}")]
    Conflict(String),
    /// The body is larger than the server accepts (413).
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// The body is not `application/json` (415).
    #[error("expected a body of type application/json")]
    UnsupportedMediaType,
    /// Something failed on our side (500); the cause is logged, not shown.
    #[error("internal error")]
    Internal(String),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable machine-readable `code`, a sentence for people,
/// and for invalid bodies every problem found.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `bad_request`, `invalid`, `unauthorized`, `forbidden`, `not_found`,
    /// `conflict`, `payload_too_large`, `unsupported_media_type`, `internal`.
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<ProblemSchema>)]
    pub details: Vec<Problem>,
}

/// One problem of an invalid body, located by a JSON pointer (RFC 6901).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemSchema {
    /// JSON pointer into the request body, such as `/rules/2/clauses/0/op`.
    pub path: String,
    pub problem: String,
}

impl ApiError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Invalid(_) => "invalid",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Internal(_) => "internal",
        }
    }

    /// One problem at `path`, as a 422.
    pub fn invalid(path: impl Into<String>, problem: impl Into<String>) -> Self {
        ApiError::Invalid(vec![Problem {
            path: path.into(),
            problem: problem.into(),
        }])
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let details = match &self {
            ApiError::Invalid(problems) => problems.clone(),
            _ => Vec::new(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                details,
            },
        };
        (status, Json(body)).into_response()
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        ApiError::Invalid(errors.0)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::AlreadyExists(what) => ApiError::Conflict(format!("{what} already exists")),
            StoreError::Conflict { expected, current } => ApiError::Conflict(format!(
                "version conflict: If-Match was {expected}, the current version is {current}; reload and retry"
            )),
            StoreError::Refused(why) => ApiError::Conflict(why),
            StoreError::Invalid(problems) => ApiError::Invalid(problems),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;

    use super::*;

    async fn body(err: ApiError) -> (StatusCode, serde_json::Value) {
        let response = err.into_response();
        let status = response.status();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn renders_the_one_shape() {
        let (status, json) = body(ApiError::invalid("/rules/0/op", "unknown operator")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            json,
            serde_json::json!({"error": {"code": "invalid", "message": "the request body is invalid",
                "details": [{"path": "/rules/0/op", "problem": "unknown operator"}]}})
        );
        let (status, json) = body(ApiError::NotFound("flag `x`".into())).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(json["error"]["code"], "not_found");
        assert!(json["error"].get("details").is_none());
    }

    #[tokio::test]
    async fn internal_causes_stay_in_the_log() {
        let (status, json) = body(ApiError::Internal("password=hunter2 in a query".into())).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(json["error"]["message"], "internal error");
    }

    #[test]
    fn store_errors_map_to_statuses() {
        let conflict = ApiError::from(StoreError::Conflict {
            expected: 3,
            current: 5,
        });
        assert_eq!(conflict.status_code(), StatusCode::CONFLICT);
        assert_eq!(
            ApiError::from(StoreError::Refused("flag is archived".into())).status_code(),
            StatusCode::CONFLICT
        );
        assert_eq!(
            ApiError::from(StoreError::Corrupt("bad json".into())).status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
