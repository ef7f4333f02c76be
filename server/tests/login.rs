//! A real server on a fresh SQLite data directory: the first admin comes
//! from the configuration, logs in, and wrong credentials get the same 401.

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use vexil_server::ServeConfig;

#[tokio::test]
async fn the_first_admin_logs_in() {
    let data_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("login-{}", uuid::Uuid::new_v4()));
    let mut config = ServeConfig::new(&data_dir);
    config.admin_username = Some("admin".into());
    config.admin_password = Some("correct horse battery".parse().unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(vexil_server::launch(config, listener, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let login = |body: Value| {
        client
            .post(format!("http://{addr}/api/v1/auth/login"))
            .json(&body)
            .send()
    };

    let ok = login(json!({"username": "admin", "password": "correct horse battery"}))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let session: Value = ok.json().await.unwrap();
    assert_eq!(session["username"], "admin");
    assert_eq!(session["role"], "admin");
    assert_eq!(session["token"].as_str().unwrap().split('.').count(), 3);

    for body in [
        json!({"username": "admin", "password": "wrong horse battery"}),
        json!({"username": "nobody", "password": "correct horse battery"}),
    ] {
        let refused = login(body).await.unwrap();
        assert_eq!(refused.status(), 401);
        let error: Value = refused.json().await.unwrap();
        assert_eq!(
            error,
            json!({"error": {"code": "unauthorized", "message": "invalid username or password"}})
        );
    }
    let unknown_field = login(json!({"username": "admin", "password": "x", "otp": 1}))
        .await
        .unwrap();
    assert_eq!(unknown_field.status(), 422);
    let error: Value = unknown_field.json().await.unwrap();
    assert_eq!(error["error"]["details"][0]["path"], "/otp");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert!(data_dir.join("vexil.db").exists());
}
