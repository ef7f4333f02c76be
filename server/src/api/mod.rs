//! The REST API under `/api/v1`: shared pieces every resource module uses.
//!
//! # Layout
//! - `error`: [`ApiError`], the one JSON error shape.
//! - `json`: the JSON body extractor (415, 413, 400, 422 with pointers).
//! - `openapi`: the merged OpenAPI document and the `/api/docs` page.
//! - `login`: `POST /api/v1/auth/login`.
//! - `evaluate`: `POST /api/v1/evaluate` and `GET /api/v1/snapshot`, with
//!   an SDK key, from the snapshot cache.
//! - `explain`: `POST …/flags/{f}/environments/{e}/explain`.
//! - `ofrep`: the OpenFeature Remote Evaluation Protocol under `/ofrep/v1`.
//! - `paging`: `?page=&per_page=` of list endpoints.
//! - `write`: `If-Match`, `X-Vexil-Reason` and `ETag` of writes.

pub mod error;
pub mod evaluate;
pub mod explain;
pub mod json;
pub mod login;
pub mod ofrep;
pub mod openapi;
pub mod paging;
pub mod write;

pub use error::ApiError;
pub use json::Json;
