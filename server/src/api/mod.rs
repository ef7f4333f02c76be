//! The REST API under `/api/v1`: shared pieces every resource module uses.
//!
//! # Layout
//! - `account`: the caller's own account: `PUT /api/v1/users/me/password`.
//! - `admin_schemas`: OpenAPI schemas mirroring the project, environment,
//!   user and token records.
//! - `environments`: `/api/v1/projects/{p}/environments[/{e}]`.
//! - `error`: [`ApiError`], the one JSON error shape.
//! - `json`: the JSON body extractor (415, 413, 400, 422 with pointers).
//! - `openapi`: the merged OpenAPI document and the `/api/docs` page.
//! - `login`: `POST /api/v1/auth/login`.
//! - `paging`: `?page=&per_page=` of list endpoints.
//! - `projects`: `/api/v1/projects[/{p}]`.
//! - `resource`: what the admin resource modules share: the `Admin`
//!   extractor, `201 Created`, a query extractor, paging a whole list.
//! - `sdk_keys`: `/api/v1/projects/{p}/environments/{e}/sdk-keys[/{id}]`.
//! - `tokens`: `/api/v1/tokens[/{id}]`, API and integration tokens.
//! - `users`: `/api/v1/users[/{username}]`.
//! - `write`: `If-Match`, `X-Vexil-Reason` and `ETag` of writes.

pub mod account;
pub mod admin_schemas;
pub mod environments;
pub mod error;
pub mod json;
pub mod login;
pub mod openapi;
pub mod paging;
pub mod projects;
pub mod resource;
pub mod sdk_keys;
pub mod tokens;
pub mod users;
pub mod write;

pub use error::ApiError;
pub use json::Json;
