//! The web UI (`ui/`, built by Vite into `ui/dist`) at `/` and at every
//! other path no route claims.
//!
//! `ui/dist` is embedded with `rust-embed`: inside the binary in release
//! builds, read from disk in debug builds (so `cargo xtask run` serves the
//! UI it has just built). A build without `ui/dist` still compiles, and then
//! `/` answers with a placeholder page. [`resolve`] decides what a path
//! gets: a file of the build, with its content type; `index.html` for any
//! other page of the app (it routes in the browser, so a reload or a shared
//! link to `/projects/default/flags/x` works); a 404 in the API's error
//! shape under `/api/`; a plain 404 for a missing file. Vite names the
//! files under `assets/` by their content hash, so they are cached for a
//! year; everything else is `no-cache`, so a new release shows at once.

use std::borrow::Cow;

use axum::Router;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::Embed;

use crate::api::ApiError;

/// The app's entry page, served for every page of the app.
const INDEX: &str = "index.html";
/// Vite's output folder for content-hashed files.
const HASHED_DIR: &str = "assets/";
const CACHE_HASHED: &str = "public, max-age=31536000, immutable";
const CACHE_NONE: &str = "no-cache";

/// `ui/dist` as built by `npm run build`; empty when it was not built.
#[derive(Embed)]
#[folder = "../ui/dist/"]
#[allow_missing = true]
struct Dist;

/// Where the UI's files come from: the embedded build, or a test's files.
pub trait Assets: Clone + Send + Sync + 'static {
    /// The file at `path` (relative, no leading `/`) and its content type.
    fn get(&self, path: &str) -> Option<(Cow<'static, [u8]>, String)>;
}

/// The build embedded in this binary.
#[derive(Debug, Clone, Copy)]
pub struct Embedded;

impl Assets for Embedded {
    fn get(&self, path: &str) -> Option<(Cow<'static, [u8]>, String)> {
        Dist::get(path).map(|file| (file.data, file.metadata.mimetype().to_owned()))
    }
}

/// Whether this binary serves the web UI (or only the placeholder page).
pub fn is_embedded() -> bool {
    Embedded.get(INDEX).is_some()
}

/// The UI, as the router's fallback (so it never shadows a route).
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router_with(Embedded)
}

/// The UI served from `assets`.
pub fn router_with<S, A>(assets: A) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    A: Assets,
{
    Router::new().fallback(move |method: Method, uri: Uri| {
        let assets = assets.clone();
        async move { respond(&assets, &method, uri.path()) }
    })
}

/// What a request path gets.
#[derive(Debug, PartialEq, Eq)]
enum Resolved<'a> {
    /// A file of the build; `hashed` files never change under their name.
    File {
        path: &'a str,
        hashed: bool,
    },
    /// `index.html`: a page of the app.
    App,
    /// No UI in this binary: the placeholder page.
    Placeholder,
    /// Under `/api/` but no route matched.
    ApiNotFound,
    NotFound,
}

/// Decides what `path` gets; `exists` says whether the build has a file.
fn resolve<'a>(method: &Method, path: &'a str, exists: impl Fn(&str) -> bool) -> Resolved<'a> {
    let path = path.trim_start_matches('/');
    if path == "api" || path.starts_with("api/") {
        return Resolved::ApiNotFound;
    }
    if method != Method::GET && method != Method::HEAD {
        return Resolved::NotFound;
    }
    if path.split('/').any(|segment| segment == "..") || path.contains('\\') {
        return Resolved::NotFound;
    }
    if !path.is_empty() && exists(path) {
        let hashed = path.starts_with(HASHED_DIR);
        return Resolved::File { path, hashed };
    }
    // A missing file at the top level or under `assets/` is a 404, not the
    // app: a browser asking for `/favicon.ico` must not get HTML. Deeper
    // paths are pages of the app even with a dot (a flag key may have one).
    let looks_like_file =
        path.starts_with(HASHED_DIR) || (!path.contains('/') && path.contains('.'));
    if looks_like_file {
        Resolved::NotFound
    } else if exists(INDEX) {
        Resolved::App
    } else if path.is_empty() {
        Resolved::Placeholder
    } else {
        Resolved::NotFound
    }
}

fn respond(assets: &impl Assets, method: &Method, path: &str) -> Response {
    match resolve(method, path, |p| assets.get(p).is_some()) {
        Resolved::File { path, hashed } => {
            let cache = if hashed { CACHE_HASHED } else { CACHE_NONE };
            file(assets, path, cache)
        }
        Resolved::App => file(assets, INDEX, CACHE_NONE),
        Resolved::Placeholder => {
            ([(header::CACHE_CONTROL, CACHE_NONE)], Html(PLACEHOLDER)).into_response()
        }
        Resolved::ApiNotFound => {
            ApiError::NotFound(format!("no API endpoint {method} {path}")).into_response()
        }
        Resolved::NotFound => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}

fn file(assets: &impl Assets, path: &str, cache: &'static str) -> Response {
    let Some((bytes, content_type)) = assets.get(path) else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let content_type = HeaderValue::from_str(&content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// `/` of a binary built without `ui/dist`.
const PLACEHOLDER: &str = concat!(
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
    "<title>Vexil</title></head><body><main>",
    "<h1>Vexil ",
    env!("CARGO_PKG_VERSION"),
    "</h1>",
    "<p>The server is running, but this binary was built without the web UI ",
    "(<code>ui/dist</code> did not exist). Build it with <code>cargo xtask run</code>, ",
    "or <code>npm ci &amp;&amp; npm run build</code> in <code>ui/</code> before ",
    "<code>cargo build</code>.</p>",
    "<p>The REST API: <a href=\"/api/docs\">/api/docs</a>. ",
    "Probes: <a href=\"/healthz\">/healthz</a>, <a href=\"/readyz\">/readyz</a>.</p>",
    "</main></body></html>",
);

#[cfg(test)]
mod tests;
