//! The OpenAPI document at `/api/openapi.json` (utoipa), merged from every
//! resource module's own document, and the interactive reference at
//! `/api/docs` (Scalar).

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_scalar::{Scalar, Servable};

use super::error::{ErrorBody, ErrorDetail, ProblemSchema};

/// The document's frame: title, security schemes and shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vexil API",
        description = "Feature flags, targeting, rollouts and kill switches. \
            Every error answers `{\"error\": {\"code\", \"message\", \"details\"}}`; \
            writes take `If-Match` (the object's version) and answer 409 when it is stale."
    ),
    components(schemas(ErrorBody, ErrorDetail, ProblemSchema)),
    modifiers(&BearerSchemes)
)]
struct Frame;

/// Registers how clients authenticate: user sessions and API tokens, SDK
/// keys, and integration tokens are all bearer JWTs.
struct BearerSchemes;

impl utoipa::Modify for BearerSchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, what) in [
            (
                "user",
                "A session from `POST /api/v1/auth/login`, or an API token.",
            ),
            ("sdk_key", "An SDK key: reads one environment."),
            ("integration", "An integration token: posts health events."),
        ] {
            let scheme = HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(what))
                .build();
            components.add_security_scheme(name, SecurityScheme::Http(scheme));
        }
    }
}

/// The whole document: the frame plus every module's paths.
pub fn document(modules: Vec<utoipa::openapi::OpenApi>) -> utoipa::openapi::OpenApi {
    let mut doc = Frame::openapi();
    for module in modules {
        doc.merge(module);
    }
    doc
}

/// `/api/openapi.json` and `/api/docs`.
pub fn router<S>(doc: utoipa::openapi::OpenApi) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let json = serde_json::to_string(&doc).unwrap_or_else(|_| "{}".to_owned());
    Router::new()
        .route(
            "/api/openapi.json",
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        json,
                    )
                }
            }),
        )
        .merge(Scalar::with_url("/api/docs", doc))
}
