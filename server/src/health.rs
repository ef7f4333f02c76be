//! Probes for orchestrators: `/healthz` (the process answers) and `/readyz`
//! (it should get traffic: not draining, and its database answers).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::state::{AppState, Readiness};
use crate::store::Store;

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

/// Readiness: 200 while serving, 503 while starting or draining, or while
/// the database does not answer (the cause is logged, not shown).
async fn readyz(
    State(readiness): State<Readiness>,
    State(store): State<Arc<dyn Store>>,
) -> (StatusCode, Json<Value>) {
    if !readiness.is_ready() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not_ready" })),
        );
    }
    match store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(err) => {
            tracing::warn!(%err, "readiness: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "database_unavailable" })),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    #[tokio::test]
    async fn readyz_follows_readiness() {
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open_url("sqlite::memory:").await.unwrap());
        let probe = |readiness: Readiness| readyz(State(readiness), State(Arc::clone(&store)));
        let readiness = Readiness::default();
        assert_eq!(
            probe(readiness.clone()).await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        readiness.set(true);
        assert_eq!(probe(readiness.clone()).await.0, StatusCode::OK);
        readiness.set(false);
        assert_eq!(probe(readiness).await.0, StatusCode::SERVICE_UNAVAILABLE);
    }
}
