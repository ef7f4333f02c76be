//! What every write shares: the `If-Match` version it is based on, the
//! reason for the change log (`X-Vexil-Reason`), and answering with the
//! object's new version as its `ETag`.

use axum::extract::FromRequestParts;
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use time::OffsetDateTime;

use super::error::ApiError;
use crate::auth::Principal;
use crate::store::{StoreError, WriteMeta};

/// Header carrying the reason for a change, written to the change log.
pub const REASON_HEADER: &str = "x-vexil-reason";
/// Longest reason kept, in characters.
pub const MAX_REASON_CHARS: usize = 1_000;

/// A write's preconditions and reason, from its headers.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// The version the writer based the change on; `None` writes
    /// unconditionally (no `If-Match`, or `If-Match: *`).
    pub if_match: Option<u64>,
    /// Why, for the change log.
    pub reason: Option<String>,
}

impl WriteOptions {
    /// The store's view of the write, by `principal` at `now`. A reason in
    /// the body (`body_reason`) wins over the header's.
    pub fn meta(
        &self,
        principal: &Principal,
        now: OffsetDateTime,
        body_reason: Option<&str>,
    ) -> WriteMeta {
        WriteMeta {
            actor: principal.actor(),
            reason: body_reason
                .map(str::to_owned)
                .or_else(|| self.reason.clone()),
            at: now,
            expected_version: self.if_match,
        }
    }

    /// The store's `Conflict` for a stale `If-Match`, checked before the
    /// write when a handler must look at the current object first (to
    /// validate against it): the same 409 the store would answer.
    pub fn check(&self, current: u64) -> Result<(), ApiError> {
        match self.if_match {
            Some(expected) if expected != current => {
                Err(StoreError::Conflict { expected, current }.into())
            }
            _ => Ok(()),
        }
    }

    /// Parses the headers; a malformed `If-Match` or reason is a 400.
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, ApiError> {
        let if_match = match headers.get(IF_MATCH) {
            None => None,
            Some(value) => parse_if_match(value)?,
        };
        let reason = match headers.get(REASON_HEADER) {
            None => None,
            Some(value) => {
                let text = value.to_str().map_err(|_| {
                    ApiError::BadRequest(format!("{REASON_HEADER} must be visible ASCII text"))
                })?;
                let text = text.trim();
                if text.chars().count() > MAX_REASON_CHARS {
                    return Err(ApiError::BadRequest(format!(
                        "{REASON_HEADER} is longer than {MAX_REASON_CHARS} characters"
                    )));
                }
                (!text.is_empty()).then(|| text.to_owned())
            }
        };
        Ok(WriteOptions { if_match, reason })
    }
}

/// `If-Match: 3`, `"3"`, `W/"3"` or `*`.
fn parse_if_match(value: &HeaderValue) -> Result<Option<u64>, ApiError> {
    let bad = || {
        ApiError::BadRequest(
            "If-Match must be the object's version, as its ETag gives it (\"3\"), or *".into(),
        )
    };
    let text = value.to_str().map_err(|_| bad())?.trim();
    if text == "*" {
        return Ok(None);
    }
    let text = text.strip_prefix("W/").unwrap_or(text);
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    text.parse::<u64>().map(Some).map_err(|_| bad())
}

impl<S: Send + Sync> FromRequestParts<S> for WriteOptions {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        WriteOptions::from_headers(&parts.headers)
    }
}

/// A JSON body answered with its version as a strong `ETag` (`"3"`), the
/// value the next write sends as `If-Match`.
#[derive(Debug)]
pub struct Versioned<T>(pub u64, pub T);

impl<T: Serialize> IntoResponse for Versioned<T> {
    fn into_response(self) -> Response {
        let Versioned(version, body) = self;
        let mut response = axum::Json(body).into_response();
        if let Ok(value) = HeaderValue::from_str(&format!("\"{version}\"")) {
            response.headers_mut().insert(ETAG, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn if_match_forms() {
        for (value, expected) in [
            ("3", Some(3)),
            ("\"3\"", Some(3)),
            ("W/\"12\"", Some(12)),
            ("*", None),
        ] {
            let parsed = WriteOptions::from_headers(&headers(&[("if-match", value)])).unwrap();
            assert_eq!(parsed.if_match, expected, "{value}");
        }
        for bad in ["three", "\"-1\"", "", "1,2"] {
            assert!(
                WriteOptions::from_headers(&headers(&[("if-match", bad)])).is_err(),
                "{bad}"
            );
        }
        assert_eq!(
            WriteOptions::from_headers(&HeaderMap::new())
                .unwrap()
                .if_match,
            None
        );
    }

    #[test]
    fn check_is_the_stores_conflict() {
        let options = WriteOptions {
            if_match: Some(3),
            reason: None,
        };
        options.check(3).unwrap();
        let err = options.check(4).unwrap_err();
        assert!(matches!(err, ApiError::Conflict(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            ApiError::from(StoreError::Conflict {
                expected: 3,
                current: 4
            })
            .to_string()
        );
        WriteOptions::default().check(9).unwrap();
    }

    #[test]
    fn reasons_are_trimmed_and_bounded() {
        let parsed =
            WriteOptions::from_headers(&headers(&[("x-vexil-reason", "  rollback INC-42 ")]))
                .unwrap();
        assert_eq!(parsed.reason.as_deref(), Some("rollback INC-42"));
        let empty = WriteOptions::from_headers(&headers(&[("x-vexil-reason", "  ")])).unwrap();
        assert_eq!(empty.reason, None);
        let long = "x".repeat(MAX_REASON_CHARS + 1);
        assert!(WriteOptions::from_headers(&headers(&[("x-vexil-reason", &long)])).is_err());
    }
}
