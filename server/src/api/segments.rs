//! Segments: `/api/v1/projects/{project}/segments[/{segment}]`.
//!
//! A segment is reusable across flags and environments, so writing one
//! needs an editor that is not limited to some environments and bumps
//! every environment's version. A segment that some flag config still
//! names cannot be deleted (409; the store checks it in the same
//! transaction).

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use utoipa::OpenApi;
use vexil_proto::Segment;
use vexil_proto::validate::validate_segment;

use super::error::{ApiError, ErrorBody};
use super::flag_schemas::{SegmentPageSchema, SegmentRecordSchema, SegmentSchema};
use super::json::Json;
use super::paging::PageQuery;
use super::query::Query;
use super::resource::{Created, page_of};
use super::write::{Versioned, WriteOptions};
use crate::auth::{AuthState, Principal};
use crate::store::{Paged, SegmentRecord, Store};

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(list_segments, create_segment, get_segment, put_segment, delete_segment),
    components(schemas(SegmentSchema, SegmentRecordSchema, SegmentPageSchema)),
    tags((name = "segments", description = "Reusable audiences for `in_segment` clauses"))
)]
pub struct Doc;

/// `/api/v1/projects/{project}/segments` and `/…/segments/{segment}`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
{
    Router::new()
        .route(
            "/api/v1/projects/{project}/segments",
            get(list_segments).post(create_segment),
        )
        .route(
            "/api/v1/projects/{project}/segments/{segment}",
            get(get_segment).put(put_segment).delete(delete_segment),
        )
}

/// Lists a project's segments, ordered by key, one page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/segments",
    tag = "segments",
    params(("project" = String, Path, description = "Project key"), PageQuery),
    security(("user" = [])),
    responses(
        (status = 200, description = "One page of segments and their total", body = SegmentPageSchema),
        (status = 400, description = "A malformed `page` or `per_page`", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
    )
)]
async fn list_segments(
    State(store): State<Arc<dyn Store>>,
    _principal: Principal,
    Path(project): Path<String>,
    Query(paging): Query<PageQuery>,
) -> Result<axum::Json<Paged<SegmentRecord>>, ApiError> {
    paging.page()?; // a malformed page is a 400 before any lookup
    // A project has few segments (the store reads them all for every
    // snapshot anyway); the page is cut here.
    let all = store.list_segments(&project).await?;
    Ok(axum::Json(page_of(all, paging)?))
}

/// Creates a segment.
#[utoipa::path(
    post,
    path = "/api/v1/projects/{project}/segments",
    tag = "segments",
    params(
        ("project" = String, Path, description = "Project key"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    request_body(content = SegmentSchema, description = "The segment; its `version` is ignored"),
    security(("user" = [])),
    responses(
        (status = 201, description = "Created", body = SegmentRecordSchema, headers(
            ("Location" = String, description = "The segment's URL"),
            ("ETag" = String, description = "The segment's version"))),
        (status = 400, description = "Malformed JSON or `X-Vexil-Reason`", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor, or a token limited to some environments", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
        (status = 409, description = "A segment with this key exists", body = ErrorBody),
        (status = 413, description = "The body is over 2 MiB", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 422, description = "Unknown fields or an invalid segment; `details` has a JSON pointer per problem", body = ErrorBody),
    )
)]
async fn create_segment(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<AuthState>,
    principal: Principal,
    Path(project): Path<String>,
    request: Request,
) -> Result<Created<SegmentRecord>, ApiError> {
    principal.require_editor()?;
    let options = WriteOptions::from_headers(request.headers())?;
    let Json(segment) = Json::<Segment>::from_request(request, &()).await?;
    validate_segment(&segment)?;
    let mut meta = options.meta(&principal, auth.now(), None);
    meta.expected_version = None; // nothing to match before it exists
    let record = store.create_segment(&project, &segment, &meta).await?;
    Ok(Created {
        location: format!("/api/v1/projects/{project}/segments/{}", record.segment.key),
        version: Some(record.segment.version),
        body: record,
        secret: false,
    })
}

/// One segment.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/segments/{segment}",
    tag = "segments",
    params(
        ("project" = String, Path, description = "Project key"),
        ("segment" = String, Path, description = "Segment key"),
    ),
    security(("user" = [])),
    responses(
        (status = 200, description = "The segment", body = SegmentRecordSchema, headers(
            ("ETag" = String, description = "The segment's version, for `If-Match`"))),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 404, description = "No such project or segment", body = ErrorBody),
    )
)]
async fn get_segment(
    State(store): State<Arc<dyn Store>>,
    _principal: Principal,
    Path((project, key)): Path<(String, String)>,
) -> Result<Versioned<SegmentRecord>, ApiError> {
    let record = store.get_segment(&project, &key).await?;
    Ok(Versioned(record.segment.version, record))
}

/// Replaces a segment; its key cannot change.
#[utoipa::path(
    put,
    path = "/api/v1/projects/{project}/segments/{segment}",
    tag = "segments",
    params(
        ("project" = String, Path, description = "Project key"),
        ("segment" = String, Path, description = "Segment key"),
        ("If-Match" = Option<String>, Header, description = "The version the change is based on; stale is 409"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    request_body(content = SegmentSchema, description = "The whole segment; `key` must be the path's, `version` is ignored"),
    security(("user" = [])),
    responses(
        (status = 200, description = "Replaced", body = SegmentRecordSchema, headers(
            ("ETag" = String, description = "The segment's new version"))),
        (status = 400, description = "Malformed JSON, `If-Match` or `X-Vexil-Reason`", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor, or a token limited to some environments", body = ErrorBody),
        (status = 404, description = "No such project or segment", body = ErrorBody),
        (status = 409, description = "Stale `If-Match`", body = ErrorBody),
        (status = 413, description = "The body is over 2 MiB", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 422, description = "Unknown fields, another key, or an invalid segment", body = ErrorBody),
    )
)]
async fn put_segment(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<AuthState>,
    principal: Principal,
    Path((project, key)): Path<(String, String)>,
    request: Request,
) -> Result<Versioned<SegmentRecord>, ApiError> {
    principal.require_editor()?;
    let options = WriteOptions::from_headers(request.headers())?;
    let Json(segment) = Json::<Segment>::from_request(request, &()).await?;
    if segment.key != key {
        return Err(ApiError::invalid(
            "/key",
            format!("must be `{key}`, the key in the URL: a segment's key cannot change"),
        ));
    }
    validate_segment(&segment)?;
    let meta = options.meta(&principal, auth.now(), None);
    let record = store.update_segment(&project, &segment, &meta).await?;
    Ok(Versioned(record.segment.version, record))
}

/// Deletes a segment no flag config names any more.
#[utoipa::path(
    delete,
    path = "/api/v1/projects/{project}/segments/{segment}",
    tag = "segments",
    params(
        ("project" = String, Path, description = "Project key"),
        ("segment" = String, Path, description = "Segment key"),
        ("If-Match" = Option<String>, Header, description = "The version the deletion is based on; stale is 409"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    security(("user" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed `If-Match` or `X-Vexil-Reason`", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor, or a token limited to some environments", body = ErrorBody),
        (status = 404, description = "No such project or segment", body = ErrorBody),
        (status = 409, description = "Stale `If-Match`, or a flag config still uses the segment", body = ErrorBody),
    )
)]
async fn delete_segment(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<AuthState>,
    principal: Principal,
    Path((project, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    principal.require_editor()?;
    let options = WriteOptions::from_headers(&headers)?;
    let meta = options.meta(&principal, auth.now(), None);
    store.delete_segment(&project, &key, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
