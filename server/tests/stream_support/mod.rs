//! Real servers and real WebSocket clients for the stream tests: a
//! replica started with `vexil_server::launch` on `127.0.0.1:0` (so it
//! can be stopped and started again on the same data), its admin, SDK
//! keys from the API, and a `tokio-tungstenite` client that reads frames
//! as the SDK would.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use vexil_proto::ServerMessage;
use vexil_server::ServeConfig;

/// How long a test waits for a frame it expects; generous, since it is
/// only reached when something is wrong.
pub const WAIT: Duration = Duration::from_secs(20);

const ADMIN_PASSWORD: &str = "correct horse battery";

/// A fresh SQLite data directory under the target's temp dir.
pub fn data_dir(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", uuid::Uuid::new_v4()))
}

/// A config with the admin `admin` on `data_dir`.
pub fn config(data_dir: &std::path::Path) -> ServeConfig {
    let mut config = ServeConfig::new(data_dir);
    config.admin_username = Some("admin".into());
    config.admin_password = Some(ADMIN_PASSWORD.parse().unwrap());
    config
}

/// One running replica.
pub struct Replica {
    pub addr: SocketAddr,
    pub admin: String,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Replica {
    pub async fn start(config: ServeConfig) -> Replica {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            vexil_server::launch(config, listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        let client = reqwest::Client::new();
        let mut replica = Replica {
            addr,
            admin: String::new(),
            client,
            stop: Some(stop),
            task: Some(task),
        };
        replica.admin = replica.login().await;
        replica
    }

    async fn login(&self) -> String {
        for _ in 0..200 {
            let response = self
                .client
                .post(self.url("/api/v1/auth/login"))
                .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
                .send()
                .await;
            if let Ok(response) = response
                && response.status() == 200
            {
                let body: Value = response.json().await.unwrap();
                return body["token"].as_str().unwrap().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the replica never let the admin log in");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Shuts the replica down (as SIGTERM would) and waits until it has.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
        }
    }

    /// A request as the admin; `(status, body)`.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.admin);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, body)
    }

    /// A new SDK key for `default`/`environment`: `(id, key)`.
    pub async fn sdk_key(&self, environment: &str) -> (String, String) {
        let path = format!("/api/v1/projects/default/environments/{environment}/sdk-keys");
        let (status, body) = self
            .call(Method::POST, &path, Some(json!({"name": "test"})))
            .await;
        assert_eq!(status, 201, "{body}");
        (
            body["id"].as_str().unwrap().to_owned(),
            body["token"].as_str().unwrap().to_owned(),
        )
    }

    /// Creates the boolean flag `key` in `default`.
    pub async fn create_flag(&self, key: &str) {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/projects/default/flags",
                Some(json!({"key": key, "name": key, "kind": "boolean",
                    "variants": [{"key": "on", "value": true}, {"key": "off", "value": false}]})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }

    /// Toggles `flag` in `production`.
    pub async fn toggle(&self, flag: &str, enabled: bool) {
        let path = format!("/api/v1/projects/default/flags/{flag}/environments/production/toggle");
        let (status, body) = self
            .call(Method::POST, &path, Some(json!({"enabled": enabled})))
            .await;
        assert_eq!(status, 200, "{body}");
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What a client read.
#[derive(Debug, PartialEq)]
pub enum Frame {
    Message(ServerMessage),
    Close(u16, String),
    /// The connection ended without a close frame.
    Ended,
}

/// A WebSocket client of `/api/v1/stream`.
pub struct Ws {
    pub socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The `Sec-WebSocket-Protocol` the server chose, if any.
    pub protocol: Option<String>,
}

/// How the key is sent.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    Bearer(&'a str),
    Subprotocol(&'a str),
    None,
}

impl Ws {
    pub async fn connect(addr: SocketAddr, auth: Auth<'_>) -> Ws {
        let mut request = format!("ws://{addr}/api/v1/stream")
            .into_client_request()
            .unwrap();
        let headers = request.headers_mut();
        match auth {
            Auth::Bearer(key) => {
                let value = HeaderValue::from_str(&format!("Bearer {key}")).unwrap();
                headers.insert("authorization", value);
            }
            Auth::Subprotocol(key) => {
                let value = HeaderValue::from_str(&format!("vexil.{key}")).unwrap();
                headers.insert("sec-websocket-protocol", value);
            }
            Auth::None => {}
        }
        let (socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
        let protocol = response
            .headers()
            .get("sec-websocket-protocol")
            .map(|v| v.to_str().unwrap().to_owned());
        Ws { socket, protocol }
    }

    /// Connects with `key` and says hello from `since`.
    pub async fn subscribe(addr: SocketAddr, key: &str, since: Option<u64>) -> Ws {
        let mut ws = Ws::connect(addr, Auth::Bearer(key)).await;
        ws.hello(since).await;
        ws
    }

    pub async fn hello(&mut self, since: Option<u64>) {
        let mut hello = json!({"type": "hello", "sdk": "test", "sdk_version": "0"});
        if let Some(since) = since {
            hello["since_version"] = json!(since);
        }
        self.send_text(&hello.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::Text(text.to_owned().into()))
            .await
            .unwrap();
    }

    /// The next frame other than `ping` (answered with `pong`).
    pub async fn next(&mut self) -> Frame {
        loop {
            let read = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("no frame in time");
            match read {
                Some(Ok(Message::Text(text))) => {
                    let message: ServerMessage = serde_json::from_str(text.as_str()).unwrap();
                    if message == ServerMessage::Ping {
                        self.send_text(r#"{"type":"pong"}"#).await;
                        continue;
                    }
                    return Frame::Message(message);
                }
                Some(Ok(Message::Close(Some(frame)))) => {
                    return Frame::Close(u16::from(frame.code), frame.reason.to_string());
                }
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return Frame::Ended,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next frame, which must be a snapshot: its version.
    pub async fn snapshot(&mut self) -> u64 {
        match self.next().await {
            Frame::Message(ServerMessage::Snapshot(snapshot)) => snapshot.version,
            other => panic!("expected a snapshot, got {other:?}"),
        }
    }

    /// The next frame, which must be a patch: `(from, to)` and the patch.
    pub async fn patch(&mut self) -> vexil_proto::Patch {
        match self.next().await {
            Frame::Message(ServerMessage::Patch(patch)) => patch,
            other => panic!("expected a patch, got {other:?}"),
        }
    }

    /// The close code the server ends with.
    pub async fn close_code(&mut self) -> u16 {
        loop {
            match self.next().await {
                Frame::Close(code, _) => return code,
                Frame::Ended => panic!("the connection ended without a close frame"),
                Frame::Message(_) => continue,
            }
        }
    }
}

/// Whether the patch turns `flag` on or off (its upserted config).
pub fn enabled_in(patch: &vexil_proto::Patch, flag: &str) -> Option<bool> {
    patch.upserts.iter().find_map(|upsert| match upsert {
        vexil_proto::Upsert::Flag(f) if f.key == flag => Some(f.config.enabled),
        _ => None,
    })
}
