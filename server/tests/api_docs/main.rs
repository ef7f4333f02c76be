//! `docs/api.md`, `docs/operations-killswitches.md` and
//! `docs/operations-rollouts.md` work: its `sh` blocks run in order, in one `bash`, with
//! real `curl` and `jq`, against a real server on a fresh SQLite data
//! directory, and each must get its `expect=` status and print what the
//! `json`/`text` block after it shows (see `blocks`, `runner`, `compare`).
//!
//! The runner is itself tested against the same server: a wrong status, a
//! wrong field, a missing field and a failing command each fail it.

mod blocks;
mod compare;
mod runner;

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use vexil_server::ServeConfig;

const ADMIN: &str = "admin";
const PASSWORD: &str = "correct horse battery staple";

/// A real server (`launch`) whose first admin is [`ADMIN`]; stops when
/// the sender is dropped.
async fn server() -> (SocketAddr, oneshot::Sender<()>) {
    let data_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("api-docs-{}", uuid::Uuid::new_v4()));
    let mut config = ServeConfig::new(&data_dir);
    config.admin_username = Some(ADMIN.into());
    config.admin_password = Some(PASSWORD.parse().unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(vexil_server::launch(config, listener, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// Runs `markdown`'s steps against a fresh server.
async fn run(markdown: &str) -> Result<(), String> {
    let steps = blocks::steps(markdown)?;
    let (addr, _stop) = server().await;
    // The commands write files (`login.json`, ...): not into the source tree.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("api-docs-shell-{}", uuid::Uuid::new_v4()));
    tokio::task::spawn_blocking(move || {
        let url = format!("http://{addr}");
        let env = [
            ("VEXIL_URL", url.as_str()),
            ("VEXIL_ADMIN_USERNAME", ADMIN),
            ("VEXIL_ADMIN_PASSWORD", PASSWORD),
        ];
        let outcome = runner::run(&steps, &dir, &env);
        let _ = std::fs::remove_dir_all(&dir);
        outcome
    })
    .await
    .unwrap()
}

fn tools_exist() {
    for tool in ["bash", "curl", "jq"] {
        let found = std::process::Command::new(tool).arg("--version").output();
        assert!(
            found.is_ok_and(|o| o.status.success()),
            "`{tool}` is needed to run docs/api.md"
        );
    }
}

#[tokio::test]
async fn every_example_in_api_md_works() {
    tools_exist();
    let doc = include_str!("../../../docs/api.md");
    let steps = blocks::steps(doc).unwrap();
    assert!(steps.len() > 40, "only {} steps found", steps.len());
    if let Err(why) = run(doc).await {
        panic!("docs/api.md: {why}");
    }
}

#[tokio::test]
async fn every_example_in_operations_killswitches_md_works() {
    tools_exist();
    let doc = include_str!("../../../docs/operations-killswitches.md");
    let steps = blocks::steps(doc).unwrap();
    assert!(steps.len() > 10, "only {} steps found", steps.len());
    if let Err(why) = run(doc).await {
        panic!("docs/operations-killswitches.md: {why}");
    }
}

#[tokio::test]
async fn every_example_in_operations_rollouts_md_works() {
    tools_exist();
    let doc = include_str!("../../../docs/operations-rollouts.md");
    let steps = blocks::steps(doc).unwrap();
    assert!(steps.len() > 10, "only {} steps found", steps.len());
    if let Err(why) = run(doc).await {
        panic!("docs/operations-rollouts.md: {why}");
    }
}

/// A document that logs in and reads a project, with `status`, `field`
/// and `command` spliced in.
fn probe(status: u16, field: &str, command: &str) -> String {
    format!(
        "```sh expect={status}\n\
         curl \"$VEXIL_URL/api/v1/projects/default\" -H \"Authorization: Bearer $(\n  \
           curl -X POST \"$VEXIL_URL/api/v1/auth/login\" -H 'Content-Type: application/json' \\\n    \
           -d \"{{\\\"username\\\": \\\"$VEXIL_ADMIN_USERNAME\\\", \\\"password\\\": \\\"$VEXIL_ADMIN_PASSWORD\\\"}}\" | jq -r .token)\" \\\n  \
           | jq '{{key, name}}'\n{command}\n\
         ```\n\n```json\n{{\"key\": \"default\", {field}}}\n```\n"
    )
}

#[tokio::test]
async fn the_runner_passes_a_right_document() {
    tools_exist();
    run(&probe(200, r#""name": "Default""#, "")).await.unwrap();
}

#[tokio::test]
async fn the_runner_fails_a_wrong_status() {
    let error = run(&probe(201, r#""name": "Default""#, ""))
        .await
        .unwrap_err();
    assert!(error.contains("expected HTTP 201, got `200`"), "{error}");
}

#[tokio::test]
async fn the_runner_fails_a_wrong_or_missing_field() {
    let error = run(&probe(200, r#""name": "Other""#, ""))
        .await
        .unwrap_err();
    assert!(error.contains("/name: document \"Other\""), "{error}");
    let error = run(&probe(200, r#""name": "Default", "x": 1"#, ""))
        .await
        .unwrap_err();
    assert!(error.contains("/x: missing from the output"), "{error}");
}

#[tokio::test]
async fn the_runner_fails_a_failing_command() {
    let error = run(&probe(200, r#""name": "Default""#, "false"))
        .await
        .unwrap_err();
    assert!(error.contains("did not finish"), "{error}");
}
