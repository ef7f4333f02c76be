//! The query-string extractor: like axum's `Query`, but a malformed query
//! (`?page=two`, `?archived=maybe`) is a 400 in the one error shape.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The query string parsed as `T`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}

/// `#[serde(default, deserialize_with = "optional_time")]` for an RFC 3339
/// query parameter, with an error that shows the expected form (the
/// `time` crate's own says which component failed, which helps nobody
/// holding a URL).
pub fn optional_time<'de, D>(deserializer: D) -> Result<Option<time::OffsetDateTime>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize as _;
    use time::format_description::well_known::Rfc3339;
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    time::OffsetDateTime::parse(&text, &Rfc3339)
        .map(Some)
        .map_err(|_| {
            serde::de::Error::custom(format!(
                "`{text}` is not an RFC 3339 time such as 2026-11-01T00:00:00Z"
            ))
        })
}

#[cfg(test)]
mod tests {
    use axum::http::Request;
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Filter {
        archived: Option<bool>,
    }

    async fn parse(uri: &str) -> Result<Filter, ApiError> {
        let (mut parts, ()) = Request::builder().uri(uri).body(()).unwrap().into_parts();
        Query::<Filter>::from_request_parts(&mut parts, &())
            .await
            .map(|Query(filter)| filter)
    }

    #[derive(Debug, Deserialize)]
    struct Since {
        #[serde(default, deserialize_with = "super::optional_time")]
        since: Option<time::OffsetDateTime>,
    }

    #[tokio::test]
    async fn times_are_rfc_3339_or_say_so() {
        let parse = |uri: &'static str| async move {
            let (mut parts, ()) = Request::builder().uri(uri).body(()).unwrap().into_parts();
            Query::<Since>::from_request_parts(&mut parts, &())
                .await
                .map(|Query(q)| q.since)
        };
        assert_eq!(
            parse("/x?since=2026-11-01T00:00:00Z").await.unwrap(),
            Some(time::macros::datetime!(2026-11-01 00:00 UTC))
        );
        assert_eq!(parse("/x").await.unwrap(), None);
        match parse("/x?since=monday").await.unwrap_err() {
            ApiError::BadRequest(message) => assert_eq!(
                message,
                "Failed to deserialize query string: since: `monday` is not an RFC 3339 time such as 2026-11-01T00:00:00Z"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn malformed_values_are_bad_requests() {
        assert_eq!(
            parse("/x?archived=true").await.unwrap().archived,
            Some(true)
        );
        assert_eq!(parse("/x").await.unwrap().archived, None);
        let err = parse("/x?archived=maybe").await.unwrap_err();
        assert!(matches!(err, ApiError::BadRequest(_)), "{err:?}");
    }
}
