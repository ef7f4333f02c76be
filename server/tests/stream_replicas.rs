//! Two replicas sharing PostgreSQL and Redis: a write through replica A
//! reaches a subscriber on replica B through the Redis doorbell; with
//! Redis stopped the update still arrives (B's version poll); with Redis
//! back, both replicas resubscribe and notices flow again; a key revoked
//! on A is cut off on B.
//!
//! The test runs its own `redis-server` on a free port as a child process
//! (so stopping it touches nobody else's Redis) and its own database on
//! the server `VEXIL_TEST_POSTGRES_URL` names; without that variable it
//! is skipped, loudly.

mod stream_support;

#[path = "store_scenarios/fresh_db.rs"]
mod fresh_db;

use std::process::Stdio;
use std::time::Duration;

use fresh_db::{FreshDatabase, postgres_url};
use futures_util::StreamExt;
use stream_support::{Replica, WAIT, Ws, config, data_dir, enabled_in};
use tokio::process::{Child, Command};
use vexil_server::store::postgres::PostgresStore;
use vexil_server::stream::{CHANNEL, Notice};

/// A private `redis-server` on `port`, killed when dropped.
struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    async fn start(port: u16) -> PrivateRedis {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server must be installed for this test");
        let redis = PrivateRedis {
            port,
            child: Some(child),
        };
        tokio::time::timeout(WAIT, async {
            while redis.connection().await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("redis-server did not start");
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn connection(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        redis::Client::open(self.url())?
            .get_multiplexed_async_connection()
            .await
    }

    async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
        }
    }

    /// Waits until `n` clients (the replicas' listeners) are subscribed
    /// to the doorbell channel.
    async fn wait_for_subscribers(&self, n: i64) {
        let mut connection = self.connection().await.unwrap();
        tokio::time::timeout(WAIT, async {
            loop {
                let (_, count): (String, i64) = redis::cmd("PUBSUB")
                    .arg("NUMSUB")
                    .arg(CHANNEL)
                    .query_async::<Vec<(String, i64)>>(&mut connection)
                    .await
                    .unwrap()
                    .remove(0);
                if count >= n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("the replicas did not subscribe to the doorbell");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_replica_reaches_subscribers_of_another_with_and_without_redis() {
    let Some(server) = postgres_url("a_write_on_one_replica_reaches_subscribers_of_another") else {
        return;
    };
    let db = FreshDatabase::create(&server).await;
    let port = free_port();
    let mut redis = PrivateRedis::start(port).await;
    let replica = |name: &str, poll_ms: u64| {
        let mut config = config(&data_dir(name));
        config.storage.database_url = Some(db.url().parse().unwrap());
        config.redis_url = Some(redis.url().parse().unwrap());
        config.poll_interval_ms = poll_ms;
        config
    };
    // A polls rarely; B polls every second, the safety net under test.
    let a = Replica::start(replica("replica-a", 60_000)).await;
    let b = Replica::start(replica("replica-b", 1_000)).await;
    redis.wait_for_subscribers(2).await;

    let (_, key) = a.sdk_key("production").await;
    let mut on_b = Ws::subscribe(b.addr, &key, None).await;
    let v = on_b.snapshot().await;

    // 1. Through the doorbell.
    a.create_flag("checkout").await;
    let patch = on_b.patch().await;
    assert_eq!((patch.from_version, patch.to_version), (v, v + 1));

    // 2. Redis stopped: the write still arrives, by B's poll.
    redis.stop().await;
    a.toggle("checkout", true).await;
    let patch = tokio::time::timeout(WAIT, on_b.patch()).await.unwrap();
    assert_eq!((patch.from_version, patch.to_version), (v + 1, v + 2));
    assert_eq!(enabled_in(&patch, "checkout"), Some(true));

    // 3. Redis back on the same port: both listeners resubscribe, A's
    //    notice is published, and B patches its subscriber.
    let redis = PrivateRedis::start(port).await;
    redis.wait_for_subscribers(2).await;
    let mut watcher = redis::Client::open(redis.url())
        .unwrap()
        .get_async_pubsub()
        .await
        .unwrap();
    watcher.subscribe(CHANNEL).await.unwrap();
    let mut notices = watcher.into_on_message();
    a.toggle("checkout", false).await;
    let notice = tokio::time::timeout(WAIT, async {
        loop {
            let message = notices.next().await.unwrap();
            let notice: Notice =
                serde_json::from_str(&message.get_payload::<String>().unwrap()).unwrap();
            if notice.environment == "production" {
                return notice;
            }
        }
    })
    .await
    .expect("no doorbell notice after Redis came back");
    assert_eq!(notice.version, v + 3);
    let patch = on_b.patch().await;
    assert_eq!((patch.from_version, patch.to_version), (v + 2, v + 3));
    assert_eq!(enabled_in(&patch, "checkout"), Some(false));

    // 4. A key revoked through A closes its stream on B (B's key check,
    //    every poll interval).
    let (id, other_key) = a.sdk_key("production").await;
    let mut revoked_on_b = Ws::subscribe(b.addr, &other_key, None).await;
    revoked_on_b.snapshot().await;
    let path = format!("/api/v1/projects/default/environments/production/sdk-keys/{id}");
    assert_eq!(a.call(reqwest::Method::DELETE, &path, None).await.0, 204);
    assert_eq!(revoked_on_b.close_code().await, 4403);

    drop(on_b);
    drop((a, b));
    let store = PostgresStore::connect(db.url()).await.unwrap();
    db.drop(&store).await;
}
