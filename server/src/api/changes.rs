//! The change log of a project: `GET /api/v1/projects/{project}/changes`.
//!
//! Every committed write is one entry: who (`actor`), when, why
//! (`reason`), what (`before`/`after`), and the environment versions it
//! produced. Newest first. Any logged-in principal may read it. The log
//! outlives what it describes: a deleted flag's entries stay, and so do a
//! deleted project's, which is why a project that no longer exists but has
//! entries is listed rather than a 404.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, Path, State};
use axum::routing::get;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, OpenApi};

use super::error::{ApiError, ErrorBody};
use super::flag_schemas::{ChangePageSchema, ChangeSchema};
use super::paging::PageQuery;
use super::query::Query;
use crate::auth::{AuthState, Principal};
use crate::store::{Change, ChangeFilter, Page, Paged, Store, StoreError};

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(list_changes),
    components(schemas(ChangeSchema, ChangePageSchema)),
    tags((name = "changes", description = "The audit trail: every committed write"))
)]
pub struct Doc;

/// `/api/v1/projects/{project}/changes`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
{
    Router::new().route("/api/v1/projects/{project}/changes", get(list_changes))
}

/// The filters of the change log; all optional and combined with AND.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangeQuery {
    /// Changes of this flag: its definition and its configs.
    flag: Option<String>,
    /// Changes recorded for this environment (its flag configs and the
    /// environment itself).
    environment: Option<String>,
    /// `user:<name>`, `token:<id>` or `automation:<source>`.
    actor: Option<String>,
    /// RFC 3339; changes at or after it.
    since: Option<String>,
    /// RFC 3339; changes strictly before it, so windows tile.
    until: Option<String>,
}

/// The entries of a project's change log, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/changes",
    tag = "changes",
    params(("project" = String, Path, description = "Project key"), ChangeQuery, PageQuery),
    security(("user" = [])),
    responses(
        (status = 200, description = "One page of changes, newest first, and the total matching the filters", body = ChangePageSchema),
        (status = 400, description = "`since` or `until` not RFC 3339, or a malformed `page`/`per_page`", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 404, description = "No such project, and no change log of one by that key", body = ErrorBody),
    )
)]
async fn list_changes(
    State(store): State<Arc<dyn Store>>,
    _principal: Principal,
    Path(project): Path<String>,
    Query(query): Query<ChangeQuery>,
    Query(paging): Query<PageQuery>,
) -> Result<axum::Json<Paged<Change>>, ApiError> {
    let non_empty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    let filter = ChangeFilter {
        flag: non_empty(query.flag),
        environment: non_empty(query.environment),
        actor: non_empty(query.actor),
        since: time_param("since", query.since)?,
        until: time_param("until", query.until)?,
        page: paging.page()?,
    };
    match store.get_project(&project).await {
        Ok(_) => {}
        Err(StoreError::NotFound(what)) => {
            let any = ChangeFilter {
                page: Page {
                    page: 1,
                    per_page: 1,
                },
                ..ChangeFilter::default()
            };
            if store.list_changes(Some(&project), &any).await?.total == 0 {
                return Err(ApiError::NotFound(what));
            }
        }
        Err(err) => return Err(err.into()),
    }
    Ok(axum::Json(
        store.list_changes(Some(&project), &filter).await?,
    ))
}

/// An optional RFC 3339 query parameter; anything else is a 400.
fn time_param(name: &str, value: Option<String>) -> Result<Option<OffsetDateTime>, ApiError> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    OffsetDateTime::parse(value.trim(), &Rfc3339)
        .map(Some)
        .map_err(|err| {
            ApiError::BadRequest(format!(
                "`{name}` must be an RFC 3339 time such as 2026-01-31T09:30:00Z ({err})"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339() {
        let parsed = time_param("since", Some("2026-01-31T09:30:00+01:00".into()))
            .unwrap()
            .unwrap();
        assert_eq!(parsed.unix_timestamp(), 1_769_848_200);
        assert_eq!(time_param("since", None).unwrap(), None);
        assert_eq!(time_param("since", Some(" ".into())).unwrap(), None);
        for bad in [
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-01-31",
            "1769848200",
        ] {
            let err = time_param("until", Some(bad.into())).unwrap_err();
            assert!(
                matches!(&err, ApiError::BadRequest(m) if m.starts_with("`until` must be")),
                "{bad}: {err:?}"
            );
        }
    }
}
