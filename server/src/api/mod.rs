//! The REST API under `/api/v1`: shared pieces every resource module uses.
//!
//! # Layout
//! - `account`: the caller's own account: `PUT /api/v1/users/me/password`.
//! - `admin_schemas`: OpenAPI schemas mirroring the project, environment,
//!   user and token records.
//! - `environments`: `/api/v1/projects/{p}/environments[/{e}]`.
//! - `error`: [`ApiError`], the one JSON error shape.
//! - `json`: the JSON body extractor (415, 413, 400, 422 with pointers).
//! - `query`: the query-string extractor (400 in the one shape).
//! - `openapi`: the merged OpenAPI document and the `/api/docs` page.
//! - `login`: `POST /api/v1/auth/login`.
//! - `evaluate`: `POST /api/v1/evaluate` and `GET /api/v1/snapshot`, with
//!   an SDK key, from the snapshot cache.
//! - `explain`: `POST …/flags/{f}/environments/{e}/explain`.
//! - `ofrep`: the OpenFeature Remote Evaluation Protocol under `/ofrep/v1`.
//! - `paging`: `?page=&per_page=` of list endpoints.
//! - `write`: `If-Match`, `X-Vexil-Reason` and `ETag` of writes.
//! - `flag_schemas`: OpenAPI schemas of proto's flags, configs, segments and
//!   of the change log (proto has no utoipa).
//! - `flags`: flag definitions (list, create, replace, patch, archive, delete).
//! - `configs`: a flag's config in one environment, and the toggle.
//! - `segments`: segments.
//! - `changes`: a project's change log.
//! - `live`: `GET /api/v1/projects/{p}/events`, the change log as
//!   Server-Sent Events for the UI's live updates.
//! - `projects`: `/api/v1/projects[/{p}]`.
//! - `resource`: what resource modules share: the `Admin` extractor,
//!   `201 Created`, paging a whole list, problems found by hand.
//! - `sdk_keys`: `/api/v1/projects/{p}/environments/{e}/sdk-keys[/{id}]`.
//! - `kill_switches`: `/api/v1/projects/{p}/kill-switches[/{id}]` and
//!   `…/{id}/reset`.
//! - `rollout_plans`: `…/flags/{f}/environments/{e}/rollout-plan` (with
//!   `…/pause`, `…/resume`, `…/abort`) and `/api/v1/projects/{p}/rollout-plans`.
//! - `health_events`: `POST /api/v1/integrations/alertmanager` and
//!   `POST /api/v1/deploys` (integration tokens).
//! - `timeline`: `GET /api/v1/projects/{p}/timeline`, deploys, trips and
//!   changes merged.
//! - `tokens`: `/api/v1/tokens[/{id}]`, API and integration tokens.
//! - `users`: `/api/v1/users[/{username}]`.
//! - `usage`: `POST /api/v1/usage` (SDK key: evaluation counts) and
//!   `GET …/flags/{f}/usage` (hourly counts, totals, last evaluated).

pub mod account;
pub mod admin_schemas;
pub mod changes;
pub mod configs;
pub mod environments;
pub mod error;
pub mod evaluate;
pub mod explain;
pub mod flag_schemas;
pub mod flags;
pub mod health_events;
pub mod json;
pub mod kill_switches;
pub mod live;
pub mod login;
pub mod ofrep;
pub mod openapi;
pub mod paging;
pub mod projects;
pub mod query;
pub mod resource;
pub mod rollout_plans;
pub mod sdk_keys;
pub mod segments;
pub mod timeline;
pub mod tokens;
pub mod usage;
pub mod users;
pub mod write;

pub use error::ApiError;
pub use json::Json;
