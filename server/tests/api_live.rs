//! The UI's live feed (`GET /api/v1/projects/{p}/events`) against a real
//! server: changes made by other requests arrive in order, a resumed feed
//! gets exactly the missed ones, a kill switch tripped by Alertmanager
//! shows up, and the feed refuses what other GETs refuse. With `launch`ed
//! servers: shutdown ends open feeds, and a change through one PostgreSQL
//! replica reaches a feed on the other (Redis doorbell).

mod api_support;
mod common;
#[path = "store_scenarios/fresh_db.rs"]
mod fresh_db;
mod sdk_e2e_support;
#[allow(dead_code)]
#[path = "api_kill_switches/support.rs"]
mod support;

use std::time::Duration;

use api_support::*;
use common::{TestServer, json};
use reqwest::Method;
use serde_json::{Value, json};

const EVENTS: &str = "/api/v1/projects/default/events";

/// How long a test waits for an event it expects.
const WAIT: Duration = Duration::from_secs(10);

/// One parsed Server-Sent Event.
#[derive(Debug)]
struct Event {
    event: String,
    id: String,
    data: Value,
}

/// An open feed, read event by event.
struct Feed {
    response: reqwest::Response,
    buffer: String,
}

impl Feed {
    async fn open(server: &TestServer, last_event_id: Option<u64>) -> Feed {
        let mut request = server.request(Method::GET, EVENTS, Some(&server.admin));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        Feed::from(request).await
    }

    /// A feed of the server at `base`, as `session`.
    async fn open_at(base: &str, session: &str) -> Feed {
        let request = reqwest::Client::new()
            .get(format!("{base}{EVENTS}"))
            .bearer_auth(session);
        Feed::from(request).await
    }

    async fn from(request: reqwest::RequestBuilder) -> Feed {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Feed {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (comments skipped), within [`WAIT`].
    async fn next(&mut self) -> Event {
        tokio::time::timeout(WAIT, self.read())
            .await
            .expect("an event within the wait")
    }

    async fn read(&mut self) -> Event {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (String::new(), String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                let data = serde_json::from_str(&data).unwrap();
                return Event { event, id, data };
            }
            let chunk = self
                .response
                .chunk()
                .await
                .unwrap()
                .expect("the feed stays open");
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

/// The project's change log, oldest first, after `after`.
async fn logged_after(server: &TestServer, after: u64) -> Vec<Value> {
    let (status, body, _) = get(server, &format!("{PROJECT}/changes?per_page=200")).await;
    assert_eq!(status, 200);
    let mut items: Vec<Value> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"].as_u64().unwrap() > after)
        .cloned()
        .collect();
    items.reverse();
    items
}

async fn newest_id(server: &TestServer) -> u64 {
    newest_change(server).await["id"].as_u64().unwrap()
}

async fn toggle(server: &TestServer, flag: &str, environment: &str, enabled: bool) {
    let (status, body) = json(
        server
            .send(
                Method::POST,
                &toggle_path(flag, environment),
                &server.admin,
                &json!({ "enabled": enabled }),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn changes_by_other_requests_arrive_in_order_as_the_log_shows_them() {
    let server = TestServer::start().await;
    create_flag(&server, &boolean_flag("checkout")).await;
    let start = newest_id(&server).await;
    let mut feed = Feed::open(&server, None).await;

    toggle(&server, "checkout", "staging", true).await;
    create_flag(&server, &boolean_flag("search")).await;
    toggle(&server, "checkout", "production", true).await;

    let logged = logged_after(&server, start).await;
    assert_eq!(logged.len(), 3);
    for expected in &logged {
        let event = feed.next().await;
        assert_eq!(event.event, "change");
        assert_eq!(event.id, expected["id"].as_u64().unwrap().to_string());
        assert_eq!(&event.data, expected);
    }
    let keys: Vec<(&str, &str)> = logged
        .iter()
        .map(|c| (c["resource"].as_str().unwrap(), c["key"].as_str().unwrap()))
        .collect();
    assert_eq!(
        keys,
        [
            ("flag_config", "checkout"),
            ("flag", "search"),
            ("flag_config", "checkout")
        ]
    );
}

#[tokio::test]
async fn resuming_with_last_event_id_gets_exactly_the_missed_changes() {
    let server = TestServer::start().await;
    create_flag(&server, &boolean_flag("checkout")).await;
    let seen = newest_id(&server).await;
    // Missed while disconnected.
    toggle(&server, "checkout", "staging", true).await;
    toggle(&server, "checkout", "staging", false).await;
    let missed = logged_after(&server, seen).await;
    assert_eq!(missed.len(), 2);

    let mut feed = Feed::open(&server, Some(seen)).await;
    for expected in &missed {
        assert_eq!(&feed.next().await.data, expected);
    }
    // Then live ones, after the missed.
    toggle(&server, "checkout", "development", true).await;
    let live = logged_after(&server, missed[1]["id"].as_u64().unwrap()).await;
    assert_eq!(live.len(), 1);
    assert_eq!(feed.next().await.data, live[0]);

    // Resuming from the newest id replays nothing: the next event is the
    // next change.
    let newest = newest_id(&server).await;
    let mut resumed = Feed::open(&server, Some(newest)).await;
    create_flag(&server, &boolean_flag("search")).await;
    let event = resumed.next().await;
    assert_eq!(event.id, (newest_id(&server).await).to_string());
    assert_eq!(event.data["key"], json!("search"));
}

#[tokio::test]
async fn a_kill_switch_tripped_by_alertmanager_is_an_event() {
    let server = support::server().await;
    let token = support::integration_token(&server).await;
    support::create_switch(&server, &support::alert_switch("manual")).await;
    let start = newest_id(&server).await;
    let mut feed = Feed::open(&server, None).await;

    let (status, body) = support::post(&server, support::ALERTS, &token, &support::firing()).await;
    assert_eq!(status, 202, "{body}");

    // The trip (the flag's production config, off) and the second alert
    // holding the switch, as the log has them.
    let logged = logged_after(&server, start).await;
    assert_eq!(logged.len(), 2);
    let trip = feed.next().await;
    assert_eq!(trip.data, logged[0]);
    assert_eq!(
        (
            &trip.data["resource"],
            &trip.data["key"],
            &trip.data["environment"],
            &trip.data["actor"],
            &trip.data["after"]["enabled"],
        ),
        (
            &json!("flag_config"),
            &json!("checkout"),
            &json!("production"),
            &json!("automation:alertmanager"),
            &json!(false),
        )
    );
    let held = feed.next().await;
    assert_eq!(held.data, logged[1]);
    assert_eq!(held.data["resource"], json!("kill_switch"));
}

#[tokio::test]
async fn the_feed_refuses_what_other_gets_refuse() {
    let server = TestServer::start().await;
    let (status, body) = json(
        server
            .request(Method::GET, EVENTS, None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], json!("unauthorized"));

    let (status, body) = json(
        server
            .request(
                Method::GET,
                "/api/v1/projects/nope/events",
                Some(&server.admin),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], json!("not_found"));

    let (status, body) = json(
        server
            .request(Method::GET, EVENTS, Some(&server.admin))
            .header("Last-Event-ID", "yesterday")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["message"],
        json!("`Last-Event-ID` must be a change id (a whole number), not `yesterday`")
    );
}

/// A session of the admin of a `launch`ed server.
async fn session_at(base: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": sdk_e2e_support::ADMIN, "password": sdk_e2e_support::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn shutdown_ends_open_feeds() {
    use sdk_e2e_support::{Server, Storage, within};
    let server = Server::start(&Storage::fresh_sqlite()).await;
    let session = session_at(&server.base).await;
    let mut feed = Feed::open_at(&server.base, &session).await;
    // `stop` returns once `launch` has: the open feed did not hold up the
    // graceful shutdown.
    server.stop().await;
    let end = within("the feed to end", feed.response.chunk()).await;
    assert!(matches!(end, Ok(None)), "{end:?}");
}

#[tokio::test]
async fn a_change_through_one_replica_reaches_a_feed_on_the_other() {
    use sdk_e2e_support::{Api, Server, Storage};
    let Some(url) =
        fresh_db::postgres_url("a_change_through_one_replica_reaches_a_feed_on_the_other")
    else {
        return;
    };
    let Ok(redis) = std::env::var("VEXIL_TEST_REDIS_URL") else {
        eprintln!("two-replica live feed test SKIPPED: VEXIL_TEST_REDIS_URL is not set");
        return;
    };
    let db = fresh_db::FreshDatabase::create(&url).await;
    let storage = Storage::Postgres(db.url().to_owned());
    // No version poll to speak of: the change travels by the doorbell (or
    // the feed's own poll of the log).
    let start = |storage: Storage, redis: String| async move {
        Server::start_configured(&storage, |config| {
            config.poll_interval_ms = 3_600_000;
            config.redis_url = Some(redis.parse().unwrap());
        })
        .await
    };
    let a = start(storage.clone(), redis.clone()).await;
    let b = start(storage, redis).await;
    let session = session_at(&b.base).await;
    let mut feed = Feed::open_at(&b.base, &session).await;

    let created = Api::login(&a)
        .await
        .call(
            Method::POST,
            "/api/v1/projects/default/flags",
            Some(boolean_flag("checkout")),
            201,
        )
        .await;
    assert_eq!(created["key"], json!("checkout"));
    let asked = std::time::Instant::now();
    let event = feed.next().await;
    // Sooner than the feed's own poll of the log: the doorbell woke it
    // (about 15 ms on the development machine).
    assert!(asked.elapsed() < vexil_server::api::live::POLL_EVERY);
    assert_eq!(
        (
            &event.event,
            &event.data["resource"],
            &event.data["key"],
            &event.data["action"]
        ),
        (
            &"change".to_owned(),
            &json!("flag"),
            &json!("checkout"),
            &json!("created")
        )
    );
    a.stop().await;
    b.stop().await;
    let store = vexil_server::store::postgres::PostgresStore::connect(db.url())
        .await
        .unwrap();
    db.drop(&store).await;
}
