//! Probes for orchestrators: `/healthz` (the process answers) and `/readyz`
//! (it should get traffic).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::state::{AppState, Readiness};

/// The probe routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// Liveness: answering at all is the answer.
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: 200 while serving, 503 while starting or draining.
async fn readyz(State(readiness): State<Readiness>) -> (StatusCode, Json<Value>) {
    if readiness.is_ready() {
        (StatusCode::OK, Json(json!({ "status": "ready" })))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not_ready" })),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn readyz_follows_readiness() {
        let readiness = Readiness::default();
        assert_eq!(
            readyz(State(readiness.clone())).await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        readiness.set(true);
        assert_eq!(readyz(State(readiness.clone())).await.0, StatusCode::OK);
        readiness.set(false);
        assert_eq!(
            readyz(State(readiness)).await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
