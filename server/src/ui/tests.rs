//! The fallback logic, then the router over a fake build and over none.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, StatusCode, header};
use tower::ServiceExt;

use super::*;

fn exists_in(files: &'static [&'static str]) -> impl Fn(&str) -> bool {
    move |path| files.contains(&path)
}

const BUILD: &[&str] = &["index.html", "assets/index-abc123.js", "favicon.svg"];

#[test]
fn resolves_files_pages_and_misses() {
    let get = Method::GET;
    let built = exists_in(BUILD);
    assert_eq!(
        resolve(&get, "/assets/index-abc123.js", &built),
        Resolved::File {
            path: "assets/index-abc123.js",
            hashed: true
        }
    );
    assert_eq!(
        resolve(&get, "/favicon.svg", &built),
        Resolved::File {
            path: "favicon.svg",
            hashed: false
        }
    );
    assert_eq!(resolve(&get, "/", &built), Resolved::App);
    assert_eq!(resolve(&get, "/login", &built), Resolved::App);
    assert_eq!(
        resolve(&get, "/projects/default/flags/new.checkout", &built),
        Resolved::App
    );
    assert_eq!(resolve(&Method::HEAD, "/login", &built), Resolved::App);
    // Missing files are 404s, never the app's HTML.
    assert_eq!(resolve(&get, "/favicon.ico", &built), Resolved::NotFound);
    assert_eq!(
        resolve(&get, "/assets/old-999.js", &built),
        Resolved::NotFound
    );
    // The API never falls back to the app, whatever the method.
    assert_eq!(resolve(&get, "/api/v1/nope", &built), Resolved::ApiNotFound);
    assert_eq!(
        resolve(&Method::POST, "/api", &built),
        Resolved::ApiNotFound
    );
    // Writes to other paths and traversal attempts are 404s.
    assert_eq!(resolve(&Method::POST, "/login", &built), Resolved::NotFound);
    assert_eq!(
        resolve(&get, "/assets/../../Cargo.toml", &built),
        Resolved::NotFound
    );
    assert_eq!(resolve(&get, "/..\\secret", &built), Resolved::NotFound);
}

#[test]
fn without_a_build_only_the_root_answers() {
    let none = exists_in(&[]);
    assert_eq!(resolve(&Method::GET, "/", &none), Resolved::Placeholder);
    assert_eq!(resolve(&Method::GET, "/login", &none), Resolved::NotFound);
    assert_eq!(
        resolve(&Method::GET, "/api/v1/x", &none),
        Resolved::ApiNotFound
    );
}

/// Files held in memory, standing in for a Vite build.
#[derive(Clone, Default)]
struct FakeBuild(Arc<BTreeMap<&'static str, (&'static str, &'static str)>>);

impl Assets for FakeBuild {
    fn get(&self, path: &str) -> Option<(Cow<'static, [u8]>, String)> {
        self.0
            .get(path)
            .map(|(body, kind)| (Cow::Borrowed(body.as_bytes()), (*kind).to_owned()))
    }
}

fn fake_build() -> FakeBuild {
    FakeBuild(Arc::new(BTreeMap::from([
        (
            "index.html",
            ("<!doctype html><title>app</title>", "text/html"),
        ),
        (
            "assets/index-abc123.js",
            ("console.log(1)", "text/javascript"),
        ),
    ])))
}

async fn get(router: Router, path: &str) -> (StatusCode, Option<String>, Option<String>, String) {
    let response = router
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &axum::http::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let (kind, cache) = (header(header::CONTENT_TYPE), header(header::CACHE_CONTROL));
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (
        status,
        kind,
        cache,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

#[tokio::test]
async fn serves_the_build_with_types_and_cache_headers() {
    let router = || router_with::<(), _>(fake_build());

    let (status, kind, cache, body) = get(router(), "/assets/index-abc123.js").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind.as_deref(), Some("text/javascript"));
    assert_eq!(cache.as_deref(), Some(CACHE_HASHED));
    assert_eq!(body, "console.log(1)");

    for page in ["/", "/flags", "/projects/default/flags/a.b"] {
        let (status, kind, cache, body) = get(router(), page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(kind.as_deref(), Some("text/html"), "{page}");
        assert_eq!(cache.as_deref(), Some(CACHE_NONE), "{page}");
        assert!(body.contains("<title>app</title>"), "{page}");
    }

    let (status, kind, _, body) = get(router(), "/api/v1/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(kind.as_deref(), Some("application/json"));
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    let (status, ..) = get(router(), "/assets/gone-000.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn root_is_the_placeholder_when_no_ui_is_embedded() {
    let router = || router_with::<(), _>(FakeBuild::default());
    let (status, kind, cache, body) = get(router(), "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind.as_deref(), Some("text/html; charset=utf-8"));
    assert_eq!(cache.as_deref(), Some(CACHE_NONE));
    assert!(body.contains("built without the web UI"), "{body}");

    let (status, ..) = get(router(), "/flags").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
