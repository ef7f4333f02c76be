//! What the project, environment, SDK-key, user and token modules share:
//! the [`Admin`] extractor (refuses before the body is read), the `201
//! Created` response, a query-string extractor that answers in the error
//! shape, paging a list the store returns whole, and the body problems
//! found by hand (prefixing pointers, bounded lists).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::{CACHE_CONTROL, ETAG, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use vexil_proto::validate::{Problem, ValidationErrors};

use super::error::ApiError;
use super::paging::PageQuery;
use crate::auth::{AuthState, Principal};
use crate::store::Paged;

/// A caller with the admin role and no environment limit. Checked in the
/// extractor, before headers and body, so a viewer's malformed request is a
/// 403 like any other of theirs, and refused bodies are never buffered.
#[derive(Debug, Clone)]
pub struct Admin(pub Principal);

impl<S> FromRequestParts<S> for Admin
where
    AuthState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        principal.require_admin()?;
        Ok(Admin(principal))
    }
}

/// A created object: `201 Created` with its URL as `Location`, its version
/// (when it has one) as `ETag`, and the object as the body.
#[derive(Debug)]
pub struct Created<T> {
    pub location: String,
    pub version: Option<u64>,
    pub body: T,
    /// The body holds a secret shown this once (a token): `Cache-Control:
    /// no-store`, so no proxy or browser cache keeps it.
    pub secret: bool,
}

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::CREATED, axum::Json(self.body)).into_response();
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&self.location) {
            headers.insert(LOCATION, value);
        }
        if let Some(version) = self.version
            && let Ok(value) = HeaderValue::from_str(&format!("\"{version}\""))
        {
            headers.insert(ETAG, value);
        }
        if self.secret {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        response
    }
}

pub use super::query::Query;

/// One page of a list the store returns whole (projects, environments,
/// users, tokens: tens of items, not thousands).
pub fn page_of<T>(items: Vec<T>, query: PageQuery) -> Result<Paged<T>, ApiError> {
    let page = query.page()?;
    let total = items.len() as u64;
    let per_page = page.per_page as usize;
    let start = (page.page as usize - 1).saturating_mul(per_page);
    Ok(Paged {
        items: items.into_iter().skip(start).take(per_page).collect(),
        total,
        page: page.page,
        per_page: page.per_page,
    })
}

/// Problems of a body found by hand, in document order.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn add(&mut self, path: impl Into<String>, problem: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            problem: problem.into(),
        });
    }

    /// A validator's result for the document at `prefix` (`/environments/2`).
    pub fn nested(&mut self, prefix: &str, result: Result<(), ValidationErrors>) {
        if let Err(errors) = result {
            self.0.extend(errors.0.into_iter().map(|problem| Problem {
                path: format!("{prefix}{}", problem.path),
                problem: problem.problem,
            }));
        }
    }

    /// `Ok` without problems, else the 422 listing them.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid(self.0))
        }
    }
}

/// Checks a name for people (token, SDK key): not blank, at most
/// `MAX_TEXT_LEN` bytes.
pub fn check_name(problems: &mut Problems, path: &str, name: &str) {
    if name.trim().is_empty() {
        problems.add(path, "must not be empty");
    } else if name.len() > vexil_proto::limits::MAX_TEXT_LEN {
        problems.add(
            path,
            format!(
                "is {} bytes long; the limit is {}",
                name.len(),
                vexil_proto::limits::MAX_TEXT_LEN
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_of_a_whole_list() {
        let query = |page, per_page| PageQuery {
            page: Some(page),
            per_page: Some(per_page),
        };
        let paged = page_of((1..=5).collect(), query(2, 2)).unwrap();
        assert_eq!(paged.items, vec![3, 4]);
        assert_eq!(paged.total, 5);
        assert_eq!(page_of((1..=5).collect(), query(3, 2)).unwrap().items, [5]);
        assert!(
            page_of((1..=5).collect(), query(9, 2))
                .unwrap()
                .items
                .is_empty()
        );
        assert!(page_of(Vec::<u8>::new(), query(0, 2)).is_err());
    }

    #[test]
    fn nested_problems_are_prefixed() {
        let mut problems = Problems::default();
        problems.nested(
            "/environments/1",
            vexil_proto::validate::validate_environment(&vexil_proto::Environment {
                key: "Bad".into(),
                name: "x".into(),
                production: false,
                version: 0,
            }),
        );
        let Err(ApiError::Invalid(found)) = problems.finish() else {
            panic!("expected problems");
        };
        assert_eq!(found[0].path, "/environments/1/key");
    }
}
