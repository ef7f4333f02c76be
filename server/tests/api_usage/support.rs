//! What the usage tests share.

use reqwest::Method;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use vexil_server::store::UsageBucket;

use crate::api_support::{boolean_flag, create_flag, flags_path};
use crate::common::{TestServer, json};

pub const USAGE: &str = "/api/v1/usage";

pub fn usage_path(flag: &str) -> String {
    format!("{}/{flag}/usage", flags_path())
}

pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap()
}

/// A report of the last minute (ending `end_ago` before now) with
/// `counts` as `(flag, variant, count)`.
pub fn report_ending(end_ago: Duration, counts: &[(&str, Option<&str>, u64)]) -> Value {
    let end = OffsetDateTime::now_utc() - end_ago;
    let counts: Vec<Value> = counts
        .iter()
        .map(|(flag, variant, count)| match variant {
            Some(variant) => json!({"flag": flag, "variant": variant, "count": count}),
            None => json!({"flag": flag, "count": count}),
        })
        .collect();
    json!({
        "window_start": rfc3339(end - Duration::minutes(1)),
        "window_end": rfc3339(end),
        "counts": counts,
    })
}

pub fn report(counts: &[(&str, Option<&str>, u64)]) -> Value {
    report_ending(Duration::ZERO, counts)
}

/// Posts `body` as `bearer`.
pub async fn post_usage(server: &TestServer, bearer: &str, body: &Value) -> (u16, Value) {
    json(server.send(Method::POST, USAGE, bearer, body).await).await
}

/// The boolean flags `keys`, created as the admin.
pub async fn flags(server: &TestServer, keys: &[&str]) {
    for key in keys {
        create_flag(server, &boolean_flag(key)).await;
    }
}

/// Every stored count of `flag` in the default project, flushing the
/// buffer first: what a report left in the database.
pub async fn stored(server: &TestServer, flag: &str) -> Vec<UsageBucket> {
    server.usage.flush().await.unwrap();
    let now = OffsetDateTime::now_utc();
    server
        .store
        .flag_usage(
            "default",
            flag,
            None,
            now - Duration::days(30),
            now + Duration::days(1),
        )
        .await
        .unwrap()
}
