//! Flag definitions: `/api/v1/projects/{project}/flags[/{flag}]`.
//!
//! A definition (key, name, kind, variants, ...) is shared by every
//! environment of the project, so writing one needs an editor that is not
//! limited to some environments, and bumps every environment's version.
//! Creating a flag gives it the default config (disabled, serving its off
//! variant) in every environment; configs are changed through
//! `configs.rs`. Archived flags leave every snapshot, refuse writes (409)
//! until restored, and are the only ones that can be deleted.
//!
//! Reads (one flag, the list) add `last_evaluated` per environment from
//! the evaluation counts SDKs report (`evaluated`); the list filter
//! `unevaluated_since` finds flags nobody evaluated since a time.
//!
//! Every write checks, in order: the caller's right (403), the headers
//! (400), the body (415, 413, 400, 422), then the store's order: not found
//! (404), a stale `If-Match` (409), an archived flag (409).

mod definition;
mod evaluated;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};
use vexil_proto::Flag;
use vexil_proto::validate::validate_flag;

use self::definition::{FlagPatch, write_definition};
pub use self::evaluated::{FlagView, Rfc3339, with_last_evaluated};
use super::error::{ApiError, ErrorBody};
use super::flag_schemas::{FlagPageSchema, FlagRecordSchema, FlagSchema, FlagViewSchema};
use super::json::Json;
use super::paging::PageQuery;
use super::query::Query;
use super::resource::Created;
use super::write::{Versioned, WriteOptions};
use crate::auth::{AuthState, Principal};
use crate::store::{FlagFilter, FlagRecord, Paged, Store};

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(list_flags, create_flag, get_flag, put_flag, patch_flag, delete_flag),
    components(schemas(FlagSchema, FlagRecordSchema, FlagViewSchema, FlagPageSchema, FlagPatch)),
    tags((name = "flags", description = "Flag definitions, shared by every environment"))
)]
pub struct Doc;

/// `/api/v1/projects/{project}/flags` and `/…/flags/{flag}`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
{
    Router::new()
        .route(
            "/api/v1/projects/{project}/flags",
            get(list_flags).post(create_flag),
        )
        .route(
            "/api/v1/projects/{project}/flags/{flag}",
            get(get_flag)
                .put(put_flag)
                .patch(patch_flag)
                .delete(delete_flag),
        )
}

/// The filters of the flag list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlagListQuery {
    /// Case-insensitive substring of the key, name or description.
    q: Option<String>,
    /// Only flags carrying this tag.
    tag: Option<String>,
    /// `true`: archived flags only; `false` (default): live flags only.
    archived: Option<bool>,
    /// Only flags no SDK reported evaluating, in any environment, at or
    /// after this RFC 3339 time (`2026-11-01T00:00:00Z`): stale flags.
    #[serde(default, deserialize_with = "crate::api::query::optional_time")]
    #[param(value_type = Option<String>, format = DateTime)]
    unevaluated_since: Option<time::OffsetDateTime>,
}

/// The URL of a flag, for `Location`.
fn flag_url(project: &str, key: &str) -> String {
    format!("/api/v1/projects/{project}/flags/{key}")
}

/// Lists a project's flags, ordered by key, one page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/flags",
    tag = "flags",
    params(("project" = String, Path, description = "Project key"), FlagListQuery, PageQuery),
    security(("user" = [])),
    responses(
        (status = 200, description = "One page of flags and the total matching the filters", body = FlagPageSchema),
        (status = 400, description = "A malformed query (`page=0`, `archived=maybe`, `per_page` over 200, \
            `unevaluated_since` not RFC 3339)", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
    )
)]
async fn list_flags(
    State(store): State<Arc<dyn Store>>,
    _principal: Principal,
    Path(project): Path<String>,
    Query(query): Query<FlagListQuery>,
    Query(paging): Query<PageQuery>,
) -> Result<axum::Json<Paged<FlagView>>, ApiError> {
    let non_empty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    let filter = FlagFilter {
        query: non_empty(query.q),
        tag: non_empty(query.tag),
        archived: query.archived,
        unevaluated_since: query.unevaluated_since,
        page: paging.page()?,
    };
    let page = store.list_flags(&project, &filter).await?;
    Ok(axum::Json(Paged {
        items: with_last_evaluated(&*store, &project, page.items).await?,
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

/// Creates a flag, with the default config (disabled, serving its off
/// variant) in every environment.
#[utoipa::path(
    post,
    path = "/api/v1/projects/{project}/flags",
    tag = "flags",
    params(("project" = String, Path, description = "Project key")),
    request_body(content = FlagSchema, description = "The flag; unknown fields are refused"),
    security(("user" = [])),
    responses(
        (status = 201, description = "Created", body = FlagRecordSchema, headers(
            ("Location" = String, description = "The flag's URL"),
            ("ETag" = String, description = "The flag's version"))),
        (status = 400, description = "Malformed JSON or `X-Vexil-Reason`", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor, or a token limited to some environments", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
        (status = 409, description = "A flag with this key exists (archived flags included)", body = ErrorBody),
        (status = 413, description = "The body is over 2 MiB", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 422, description = "Unknown fields or an invalid flag; `details` has a JSON pointer per problem", body = ErrorBody),
    )
)]
async fn create_flag(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<AuthState>,
    principal: Principal,
    Path(project): Path<String>,
    request: Request,
) -> Result<Created<FlagRecord>, ApiError> {
    principal.require_editor()?;
    let options = WriteOptions::from_headers(request.headers())?;
    let Json(flag) = Json::<Flag>::from_request(request, &()).await?;
    validate_flag(&flag)?;
    let mut meta = options.meta(&principal, auth.now(), None);
    meta.expected_version = None; // nothing to match before it exists
    let record = store.create_flag(&project, &flag, &[], &meta).await?;
    Ok(Created {
        location: flag_url(&project, &record.flag.key),
        version: Some(record.version),
        body: record,
        secret: false,
    })
}

/// One flag's definition, archived or not.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/flags/{flag}",
    tag = "flags",
    params(
        ("project" = String, Path, description = "Project key"),
        ("flag" = String, Path, description = "Flag key"),
    ),
    security(("user" = [])),
    responses(
        (status = 200, description = "The flag, with when it was last evaluated per environment", body = FlagViewSchema, headers(
            ("ETag" = String, description = "The flag's version, for `If-Match`"))),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 404, description = "No such project or flag", body = ErrorBody),
    )
)]
async fn get_flag(
    State(store): State<Arc<dyn Store>>,
    _principal: Principal,
    Path((project, key)): Path<(String, String)>,
) -> Result<Versioned<FlagView>, ApiError> {
    let record = store.get_flag(&project, &key).await?;
    let version = record.version;
    let mut views = with_last_evaluated(&*store, &project, vec![record]).await?;
    let view = views
        .pop()
        .ok_or_else(|| ApiError::Internal("a flag went missing while reading it".into()))?;
    Ok(Versioned(version, view))
}

/// Replaces a flag's definition. The key cannot change and neither can the
/// kind; variants still named by a config (in any environment) or required
/// by another flag's prerequisite cannot be removed.
#[utoipa::path(
    put,
    path = "/api/v1/projects/{project}/flags/{flag}",
    tag = "flags",
    params(
        ("project" = String, Path, description = "Project key"),
        ("flag" = String, Path, description = "Flag key"),
        ("If-Match" = Option<String>, Header, description = "The version the change is based on; stale is 409"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    request_body(content = FlagSchema, description = "The whole definition; `key` must be the path's"),
    security(("user" = [])),
    responses(
        (status = 200, description = "Replaced", body = FlagRecordSchema, headers(
            ("ETag" = String, description = "The flag's new version"))),
        (status = 400, description = "Malformed JSON, `If-Match` or `X-Vexil-Reason`", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor, or a token limited to some environments", body = ErrorBody),
        (status = 404, description = "No such project or flag", body = ErrorBody),
        (status = 409, description = "Stale `If-Match`, or the flag is archived", body = ErrorBody),
        (status = 413, description = "The body is over 2 MiB", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 422, description = "An invalid flag, another key, another kind, or a variant still in use \
            (`/environments/{environment}/…` points into that environment's config)", body = ErrorBody),
    )
)]
async fn put_flag(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<AuthState>,
    principal: Principal,
    Path((project, key)): Path<(String, String)>,
    request: Request,
) -> Result<Versioned<FlagRecord>, ApiError> {
    principal.require_editor()?;
    let options = WriteOptions::from_headers(request.headers())?;
    let Json(flag) = Json::<Flag>::from_request(request, &()).await?;
    if flag.key != key {
        return Err(ApiError::invalid(
            "/key",
            format!("must be `{key}`, the key in the URL: a flag's key cannot change"),
        ));
    }
    validate_flag(&flag)?;
    let meta = options.meta(&principal, auth.now(), None);
    let record = write_definition(
        &*store,
        &project,
        &key,
        &options,
        meta,
        |_| Ok(flag.clone()),
    )
    .await?;
    Ok(Versioned(record.version, record))
}

/// Archives or restores a flag (`{"archived": true|false}`, alone), or
/// changes some of its metadata (`name`, `description`, `tags`, `owner`
/// (`null` clears it), `temporary`), leaving every other field as it is.
#[utoipa::path(
    patch,
    path = "/api/v1/projects/{project}/flags/{flag}",
    tag = "flags",
    params(
        ("project" = String, Path, description = "Project key"),
        ("flag" = String, Path, description = "Flag key"),
        ("If-Match" = Option<String>, Header, description = "The version the change is based on; stale is 409"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    request_body(content = FlagPatch, description = "`archived` alone, or metadata fields"),
    security(("user" = [])),
    responses(
        (status = 200, description = "Changed", body = FlagRecordSchema, headers(
            ("ETag" = String, description = "The flag's new version"))),
        (status = 400, description = "Malformed JSON, `If-Match` or `X-Vexil-Reason`", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor, or a token limited to some environments", body = ErrorBody),
        (status = 404, description = "No such project or flag", body = ErrorBody),
        (status = 409, description = "Stale `If-Match`; metadata of an archived flag; archiving an archived flag or restoring a live one", body = ErrorBody),
        (status = 413, description = "The body is over 2 MiB", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 422, description = "Unknown fields, nothing to change, `archived` with other fields, or invalid metadata", body = ErrorBody),
    )
)]
async fn patch_flag(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<AuthState>,
    principal: Principal,
    Path((project, key)): Path<(String, String)>,
    request: Request,
) -> Result<Versioned<FlagRecord>, ApiError> {
    principal.require_editor()?;
    let options = WriteOptions::from_headers(request.headers())?;
    let Json(patch) = Json::<FlagPatch>::from_request(request, &()).await?;
    let meta = options.meta(&principal, auth.now(), None);
    let record = match patch.archive()? {
        Some(archived) => {
            store
                .set_flag_archived(&project, &key, archived, &meta)
                .await?
        }
        None => {
            write_definition(&*store, &project, &key, &options, meta, |current| {
                Ok(patch.apply(&current.flag))
            })
            .await?
        }
    };
    Ok(Versioned(record.version, record))
}

/// Deletes an archived flag with its configs; its change log stays.
#[utoipa::path(
    delete,
    path = "/api/v1/projects/{project}/flags/{flag}",
    tag = "flags",
    params(
        ("project" = String, Path, description = "Project key"),
        ("flag" = String, Path, description = "Flag key"),
        ("If-Match" = Option<String>, Header, description = "The version the deletion is based on; stale is 409"),
        ("X-Vexil-Reason" = Option<String>, Header, description = "Why, for the change log"),
    ),
    security(("user" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed `If-Match` or `X-Vexil-Reason`", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 403, description = "Not an editor, or a token limited to some environments", body = ErrorBody),
        (status = 404, description = "No such project or flag", body = ErrorBody),
        (status = 409, description = "Stale `If-Match`, or the flag is not archived (archive it first)", body = ErrorBody),
    )
)]
async fn delete_flag(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<AuthState>,
    principal: Principal,
    Path((project, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    principal.require_editor()?;
    let options = WriteOptions::from_headers(&headers)?;
    let meta = options.meta(&principal, auth.now(), None);
    store.delete_flag(&project, &key, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
