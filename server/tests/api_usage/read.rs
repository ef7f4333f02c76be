//! Reading counts: the usage endpoint, `last_evaluated` on flag reads, and
//! the stale-flag filter.

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use vexil_server::store::{Role, hour_of};

use crate::api_support::{error, flag_path, flags_path, get};
use crate::common::{TestServer, json};
use crate::support::*;

/// `checkout` evaluated in production and staging, `theme` in neither;
/// the flushed report's `window_end` per environment.
async fn evaluated(server: &TestServer) -> (String, String) {
    flags(server, &["checkout", "theme"]).await;
    let production = report(&[("checkout", Some("on"), 5), ("checkout", None, 1)]);
    let sdk = server.sdk_key("default", "production").await;
    assert_eq!(post_usage(server, &sdk, &production).await.0, 202);
    let staging = report(&[("checkout", Some("off"), 2)]);
    let sdk = server.sdk_key("default", "staging").await;
    assert_eq!(post_usage(server, &sdk, &staging).await.0, 202);
    server.usage.flush().await.unwrap();
    let end = |body: &Value| body["window_end"].as_str().unwrap().to_owned();
    (end(&production), end(&staging))
}

async fn as_user(server: &TestServer, bearer: &str, path: &str) -> (u16, Value) {
    json(
        server
            .request(reqwest::Method::GET, path, Some(bearer))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn usage_shows_hours_totals_and_last_evaluated() {
    let server = TestServer::start().await;
    let (production, staging) = evaluated(&server).await;
    let viewer = server.user("vic", Role::Viewer).await;

    let (status, usage) = as_user(&server, &viewer, &usage_path("checkout")).await;
    assert_eq!(status, 200, "{usage}");
    assert_eq!(usage["flag"], "checkout");
    assert_eq!(usage["environment"], Value::Null);
    let hour = |at: &str| {
        let at = OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).unwrap();
        rfc3339(hour_of(at))
    };
    let (hp, hs) = (hour(&production), hour(&staging));
    let mut buckets = vec![
        json!({"environment": "production", "variant": null, "hour": hp, "count": 1}),
        json!({"environment": "production", "variant": "on", "hour": hp, "count": 5}),
        json!({"environment": "staging", "variant": "off", "hour": hs, "count": 2}),
    ];
    buckets.sort_by_key(|b| b["hour"].as_str().unwrap().to_owned());
    assert_eq!(usage["buckets"], json!(buckets));
    assert_eq!(
        usage["totals"],
        json!([
            {"environment": "production", "variant": null, "count": 1},
            {"environment": "production", "variant": "on", "count": 5},
            {"environment": "staging", "variant": "off", "count": 2},
        ])
    );
    assert_eq!(usage["total"], 8);
    assert_eq!(
        usage["last_evaluated"],
        json!({"production": production, "staging": staging})
    );

    let path = format!("{}?environment=staging", usage_path("checkout"));
    let (status, usage) = as_user(&server, &viewer, &path).await;
    assert_eq!(status, 200, "{usage}");
    assert_eq!(usage["environment"], "staging");
    assert_eq!(usage["total"], 2);
    assert_eq!(usage["last_evaluated"], json!({"staging": staging}));

    // A range before the reports holds nothing.
    let long_ago = rfc3339(OffsetDateTime::now_utc() - Duration::days(20));
    let path = format!("{}?from={long_ago}&to={long_ago}", usage_path("checkout"));
    let (status, body) = as_user(&server, &viewer, &path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["buckets"].clone(), body["total"].clone()),
        (json!([]), json!(0))
    );
}

#[tokio::test]
async fn usage_reads_refuse_bad_queries() {
    let server = TestServer::start().await;
    flags(&server, &["checkout"]).await;
    let now = OffsetDateTime::now_utc();
    let path = usage_path("checkout");
    let sdk = server.sdk_key("default", "production").await;
    let cases = [
        (
            format!(
                "{path}?from={}&to={}",
                rfc3339(now),
                rfc3339(now - Duration::hours(2))
            ),
            (400, error("bad_request", "`from` must be before `to`")),
        ),
        (
            format!("{path}?from={}", rfc3339(now - Duration::days(100))),
            (
                400,
                error(
                    "bad_request",
                    "the range from `from` to `to` must not be longer than 93 days",
                ),
            ),
        ),
        (
            format!("{path}?to=tomorrow"),
            (
                400,
                error(
                    "bad_request",
                    "Failed to deserialize query string: to: `tomorrow` is not an RFC 3339 time such as 2026-11-01T00:00:00Z",
                ),
            ),
        ),
        (
            format!("{path}?environment=qa"),
            (404, error("not_found", "environment qa not found")),
        ),
        (
            usage_path("nope"),
            (404, error("not_found", "flag nope not found")),
        ),
    ];
    for (path, expected) in cases {
        assert_eq!(
            as_user(&server, &server.admin, &path).await,
            expected,
            "{path}"
        );
    }
    assert_eq!(
        as_user(&server, &sdk, &path).await,
        (
            401,
            error(
                "unauthorized",
                "wrong kind of token: this endpoint takes a user session or an API token, not an SDK key"
            )
        )
    );
}

#[tokio::test]
async fn flag_reads_show_last_evaluated_and_the_list_finds_stale_flags() {
    let server = TestServer::start().await;
    let (production, staging) = evaluated(&server).await;

    let (status, flag, _) = get(&server, &flag_path("checkout")).await;
    assert_eq!(status, 200);
    assert_eq!(
        flag["last_evaluated"],
        json!({"production": production, "staging": staging})
    );
    let (_, theme, _) = get(&server, &flag_path("theme")).await;
    assert_eq!(theme["last_evaluated"], json!({}));

    let keys = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, all, _) = get(&server, &flags_path()).await;
    assert_eq!(status, 200);
    assert_eq!(keys(&all), ["checkout", "theme"]);
    assert_eq!(all["items"][0]["last_evaluated"]["staging"], json!(staging));

    let hour_ago = rfc3339(OffsetDateTime::now_utc() - Duration::hours(1));
    let (status, stale, _) = get(
        &server,
        &format!("{}?unevaluated_since={hour_ago}", flags_path()),
    )
    .await;
    assert_eq!(status, 200, "{stale}");
    assert_eq!(
        (keys(&stale), stale["total"].clone()),
        (vec!["theme".to_string()], json!(1))
    );
    let later = rfc3339(OffsetDateTime::now_utc() + Duration::hours(1));
    let (_, everything, _) = get(
        &server,
        &format!("{}?unevaluated_since={later}", flags_path()),
    )
    .await;
    assert_eq!(keys(&everything), ["checkout", "theme"]);

    let (status, body, _) = get(
        &server,
        &format!("{}?unevaluated_since=last-week", flags_path()),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            400,
            error(
                "bad_request",
                "Failed to deserialize query string: unevaluated_since: `last-week` is not an RFC 3339 time such as 2026-11-01T00:00:00Z"
            )
        )
    );
}

#[tokio::test]
async fn the_openapi_document_describes_usage() {
    let server = TestServer::start().await;
    let (status, doc) = json(server.get("/api/openapi.json").await).await;
    assert_eq!(status, 200);
    let report = &doc["paths"]["/api/v1/usage"]["post"];
    assert_eq!(report["security"], json!([{"sdk_key": []}]));
    for status in ["202", "401", "413", "422"] {
        assert!(
            report["responses"][status].is_object(),
            "POST usage {status}"
        );
    }
    let read = &doc["paths"]["/api/v1/projects/{project}/flags/{flag}/usage"]["get"];
    let params: Vec<&str> = read["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["project", "flag", "environment", "from", "to"]);
    let list = &doc["paths"]["/api/v1/projects/{project}/flags"]["get"]["parameters"];
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "unevaluated_since"),
        "{list}"
    );
    let view = &doc["components"]["schemas"]["FlagView"];
    assert!(view.is_object(), "FlagView schema");
    for schema in [
        "UsageReport",
        "UsageCount",
        "UsageAccepted",
        "FlagUsage",
        "UsageBucket",
        "UsageTotal",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
}
