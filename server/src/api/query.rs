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
