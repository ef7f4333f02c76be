//! `GET /`: a placeholder page until the web UI (a later issue) is served
//! here, so the address `cargo xtask run` prints answers with something true.

use axum::Router;
use axum::response::Html;
use axum::routing::get;

use crate::state::AppState;

/// The home route.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

async fn home() -> Html<&'static str> {
    Html(concat!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<title>Vexil</title></head><body>",
        "<h1>Vexil ",
        env!("CARGO_PKG_VERSION"),
        "</h1>",
        "<p>The server is running. The web UI arrives with the UI issue; ",
        "the REST API and accounts arrive with the control-plane issue.</p>",
        "<p>Probes: <a href=\"/healthz\">/healthz</a>, <a href=\"/readyz\">/readyz</a>.</p>",
        "</body></html>",
    ))
}
