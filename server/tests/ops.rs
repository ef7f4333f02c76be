//! Operations endpoints through the router: Prometheus metrics, the OpenAPI
//! document and its interactive page.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::Value;
use std::sync::Arc;

use tower::ServiceExt;
use vexil_server::auth::{AuthState, SystemClock};
use vexil_server::store::sqlite::SqliteStore;
use vexil_server::{AppState, app};

/// A state over a fresh SQLite file.
async fn state() -> AppState {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ops-{}.db", uuid::Uuid::new_v4()));
    let store: Arc<dyn vexil_server::store::Store> =
        Arc::new(SqliteStore::open(&path).await.unwrap());
    let keys = AuthState::load_keys(&*store).await.unwrap();
    AppState::new(
        Arc::clone(&store),
        AuthState::new(keys, store, Arc::new(SystemClock)),
    )
}

async fn get(path: &str) -> (StatusCode, String, String) {
    let response = app(state().await)
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    get("/healthz").await;
    get("/no/such/path/4242").await;
    let (status, content_type, text) = get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let healthz = text
        .lines()
        .find(|l| l.starts_with("http_requests_total{") && l.contains(r#"route="/healthz""#))
        .unwrap_or_else(|| panic!("no /healthz counter in:\n{text}"));
    assert!(healthz.contains(r#"status="200""#), "{healthz}");
    assert!(
        text.contains("http_request_duration_seconds_bucket{"),
        "{text}"
    );
    // Unknown paths share one label instead of one series per path.
    assert!(!text.contains("4242"), "{text}");
    assert!(text.contains(r#"route="unmatched""#), "{text}");
}

#[tokio::test]
async fn serves_the_openapi_document_and_its_page() {
    let (status, content_type, body) = get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["info"]["title"], "Vexil API");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(
        doc["components"]["schemas"]["ErrorBody"].is_object(),
        "{doc}"
    );
    assert!(
        doc["components"]["securitySchemes"]["sdk_key"].is_object(),
        "{doc}"
    );

    let (status, content_type, page) = get("/api/docs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(
        page.contains("/api/openapi.json") || page.contains("Vexil API"),
        "{page}"
    );
}
