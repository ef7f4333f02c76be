//! A real server on `127.0.0.1:0`, a real HTTP client, a graceful stop.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use vexil_server::ServeConfig;

/// Bounds how long a broken shutdown can hang the suite; not a wait.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn answers_probes_and_shuts_down_gracefully() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    // A data directory of this process's own: the target directory's
    // scratch space may hold a database another build left behind.
    let data_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("healthz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let config = ServeConfig::new(&data_dir);
    let server = tokio::spawn(vexil_server::launch(config, listener, async {
        let _ = stopped.await;
    }));

    let client = reqwest::Client::new();
    let health = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<Value>().await.unwrap(),
        json!({ "status": "ok" })
    );

    let ready = client
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);

    let home = client.get(format!("http://{addr}/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("Vexil"));

    let missing = client
        .get(format!("http://{addr}/api/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // The client still holds a pooled keep-alive connection: graceful
    // shutdown must close it rather than wait for it forever.
    stop.send(()).unwrap();
    let result = tokio::time::timeout(SHUTDOWN_DEADLINE, server)
        .await
        .expect("the server did not stop")
        .unwrap();
    assert!(result.is_ok(), "{result:?}");

    let after = reqwest::Client::new()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await;
    assert!(after.is_err(), "the listener is closed after shutdown");
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[tokio::test]
async fn a_taken_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut config = ServeConfig::new(env!("CARGO_TARGET_TMPDIR"));
    config.listen = taken.local_addr().unwrap();
    let error = vexil_server::serve(config).await.unwrap_err();
    assert!(
        error.to_string().starts_with("cannot listen on 127.0.0.1:"),
        "{error}"
    );
}
