//! The web UI as `vexil serve` serves it: a real server on `127.0.0.1:0`
//! and a real HTTP client. With `ui/dist` built (as `cargo xtask ci` does
//! before its "ui served" step) the app's index, a hashed asset and a deep
//! link are checked; without it, the placeholder page. Either way the API,
//! probes and metrics keep their own answers.

use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use vexil_server::ServeConfig;

/// Bounds how long a broken shutdown can hang the suite; not a wait.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn serves_the_ui_beside_the_api() {
    let data_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ui_served-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(vexil_server::launch(
        ServeConfig::new(&data_dir),
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("http://{addr}{path}")).send();

    let index = get("/").await.unwrap();
    assert_eq!(index.status(), 200);
    assert!(header(&index, "content-type").starts_with("text/html"));
    assert_eq!(header(&index, "cache-control"), "no-cache");
    let html = index.text().await.unwrap();

    if vexil_server::ui::is_embedded() {
        assert!(html.contains("<div id=\"app\">"), "{html}");
        // The script Vite wrote into index.html, under its content hash.
        let script = html
            .split("src=\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap())
            .find(|src| src.starts_with("/assets/") && src.ends_with(".js"))
            .unwrap_or_else(|| panic!("no /assets/*.js in {html}"));
        let asset = get(script).await.unwrap();
        assert_eq!(asset.status(), 200, "{script}");
        assert_eq!(header(&asset, "content-type"), "text/javascript");
        assert_eq!(
            header(&asset, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(header(&asset, "x-content-type-options"), "nosniff");

        // A deep link (a reload on a flag's page) gets the app.
        let page = get("/projects/default/flags/new.checkout?env=production")
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(header(&page, "cache-control"), "no-cache");
        assert_eq!(page.text().await.unwrap(), html);

        let favicon = get("/favicon.svg").await.unwrap();
        assert_eq!(favicon.status(), 200);
        assert_eq!(header(&favicon, "content-type"), "image/svg+xml");
    } else {
        assert!(html.contains("built without the web UI"), "{html}");
        assert_eq!(get("/projects/default/flags").await.unwrap().status(), 404);
    }

    // Missing files are 404s, not the app.
    assert_eq!(get("/assets/index-gone.js").await.unwrap().status(), 404);
    assert_eq!(get("/robots.txt").await.unwrap().status(), 404);

    // The API's unknown paths keep the API's JSON error.
    let missing = get("/api/v1/nope").await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(header(&missing, "content-type"), "application/json");
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    // Routes keep their own answers.
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    let metrics = get("/metrics").await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(header(&metrics, "content-type").starts_with("text/plain"));
    let openapi = get("/api/openapi.json").await.unwrap();
    assert_eq!(openapi.status(), 200);
    assert!(header(&openapi, "content-type").starts_with("application/json"));

    stop.send(()).unwrap();
    let result = tokio::time::timeout(SHUTDOWN_DEADLINE, server)
        .await
        .expect("the server did not stop")
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    let _ = std::fs::remove_dir_all(&data_dir);
}
