//! `POST /api/v1/usage`: what is counted, what is dropped, what is refused.

use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;
use vexil_server::store::{Role, TokenKind, UsageBucket, hour_of};

use crate::api_support::{change_count, error, flag_path, invalid, send_raw, versions};
use crate::common::{TestServer, json};
use crate::support::*;

#[tokio::test]
async fn counts_are_buffered_then_stored_without_a_change() {
    let server = TestServer::start().await;
    flags(&server, &["checkout", "theme"]).await;
    let sdk = server.sdk_key("default", "production").await;
    let versions_before = versions(&server).await;
    let changes_before = change_count(&server).await;

    let body = report(&[
        ("checkout", Some("on"), 5),
        ("checkout", None, 1),
        ("checkout", Some("purple"), 2),
        ("gone", Some("on"), 3),
    ]);
    let (status, answer) = post_usage(&server, &sdk, &body).await;
    assert_eq!(
        (status, answer),
        (202, json!({"accepted": 2, "dropped": 2}))
    );
    assert_eq!(server.usage.pending(), 2, "buffered, not written");
    let (status, answer) = post_usage(&server, &sdk, &body).await;
    assert_eq!(
        (status, answer),
        (202, json!({"accepted": 2, "dropped": 2}))
    );
    assert_eq!(server.usage.pending(), 2, "the same keys add up in memory");

    let hour = hour_of(time::OffsetDateTime::now_utc());
    let bucket = |variant: Option<&str>, count| UsageBucket {
        environment: "production".into(),
        variant: variant.map(str::to_owned),
        hour,
        count,
    };
    let found = stored(&server, "checkout").await;
    // A report straddling the hour lands in the hour of its end; the test
    // reads whichever that was.
    let hour = found[0].hour;
    assert_eq!(hour_of(hour), hour);
    let bucket = |variant, count| UsageBucket {
        hour,
        ..bucket(variant, count)
    };
    assert_eq!(found, [bucket(None, 2), bucket(Some("on"), 10)]);
    assert!(stored(&server, "theme").await.is_empty());
    assert!(stored(&server, "gone").await.is_empty());

    // Telemetry: no environment version moved, nothing in the change log.
    assert_eq!(versions(&server).await, versions_before);
    assert_eq!(change_count(&server).await, changes_before);

    let metrics = server.get("/metrics").await.text().await.unwrap();
    for line in [
        "usage_reports_total{outcome=\"accepted\"}",
        "usage_counts_total{outcome=\"accepted\"}",
        "usage_counts_total{outcome=\"dropped\"}",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}

#[tokio::test]
async fn archived_flags_and_other_environments_are_not_counted_here() {
    let server = TestServer::start().await;
    flags(&server, &["old"]).await;
    let (status, _) = json(
        server
            .send(
                Method::PATCH,
                &flag_path("old"),
                &server.admin,
                &json!({"archived": true}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let sdk = server.sdk_key("default", "staging").await;
    let (status, answer) = post_usage(&server, &sdk, &report(&[("old", Some("on"), 1)])).await;
    assert_eq!(
        (status, answer),
        (202, json!({"accepted": 0, "dropped": 1}))
    );
    assert!(stored(&server, "old").await.is_empty());
}

/// Sends `body` raw as `bearer` and checks the exact answer and that
/// nothing was buffered or stored.
async fn refused(
    server: &TestServer,
    bearer: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
    expected: (u16, Value),
) {
    let shown = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    let answer = send_raw(server, Method::POST, USAGE, bearer, content_type, body).await;
    assert_eq!(answer, expected, "{shown}");
    assert_eq!(server.usage.pending(), 0, "{shown}");
    assert!(stored(server, "checkout").await.is_empty(), "{shown}");
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

#[tokio::test]
async fn bad_reports_are_refused_whole_and_store_nothing() {
    let server = TestServer::start().await;
    flags(&server, &["checkout"]).await;
    let sdk = server.sdk_key("default", "production").await;
    let json_type = Some("application/json");
    let valid = report(&[("checkout", Some("on"), 1)]);

    let mut unknown_field = valid.clone();
    unknown_field["sdk"] = json!("vexil-rust");
    let mut unknown_entry_field = valid.clone();
    unknown_entry_field["counts"][0]["reason"] = json!("SPLIT");
    let mut negative = valid.clone();
    negative["counts"][0]["count"] = json!(-1);
    let mut fractional = valid.clone();
    fractional["counts"][0]["count"] = json!(1.5);
    let mut not_a_time = valid.clone();
    not_a_time["window_end"] = json!("yesterday");
    let mut no_flag = valid.clone();
    no_flag["counts"][0].as_object_mut().unwrap().remove("flag");
    let overflowing = br#"{"window_start":"2026-11-22T10:00:00Z","window_end":"2026-11-22T10:01:00Z","counts":[{"flag":"checkout","count":18446744073709551616}]}"#.to_vec();
    let zero_and_huge = report(&[
        ("checkout", Some("on"), 0),
        ("checkout", None, 1_000_000_000_001),
    ]);
    let backwards = {
        let mut body = valid.clone();
        let start = body["window_start"].clone();
        body["window_start"] = body["window_end"].clone();
        body["window_end"] = start;
        body
    };
    let ahead = report_ending(-Duration::minutes(10), &[("checkout", Some("on"), 1)]);
    let stale = report_ending(Duration::days(8), &[("checkout", Some("on"), 1)]);
    let too_many_entries: Vec<(&str, Option<&str>, u64)> = vec![("checkout", Some("on"), 1); 1001];
    let too_many = report(&too_many_entries);

    let cases: Vec<(Vec<u8>, (u16, Value))> = vec![
        (
            b"{\"window_start\": ".to_vec(),
            (
                400,
                error(
                    "bad_request",
                    "the request body is not valid JSON: EOF while parsing a value at line 1 column 17",
                ),
            ),
        ),
        (
            bytes(&unknown_field),
            (
                422,
                invalid(&[(
                    "/sdk",
                    "unknown field `sdk`, expected one of `window_start`, `window_end`, `counts`",
                )]),
            ),
        ),
        (
            bytes(&unknown_entry_field),
            (
                422,
                invalid(&[(
                    "/counts/0/reason",
                    "unknown field `reason`, expected one of `flag`, `variant`, `count`",
                )]),
            ),
        ),
        (
            bytes(&negative),
            (
                422,
                invalid(&[(
                    "/counts/0/count",
                    "invalid value: integer `-1`, expected u64",
                )]),
            ),
        ),
        (
            bytes(&fractional),
            (
                422,
                invalid(&[(
                    "/counts/0/count",
                    "invalid type: floating point `1.5`, expected u64",
                )]),
            ),
        ),
        (
            overflowing,
            (
                422,
                invalid(&[(
                    "/counts/0/count",
                    "invalid type: floating point `1.8446744073709552e+19`, expected u64",
                )]),
            ),
        ),
        (
            bytes(&not_a_time),
            (
                422,
                invalid(&[("/window_end", "the 'year' component could not be parsed")]),
            ),
        ),
        (
            bytes(&no_flag),
            (422, invalid(&[("/counts/0", "missing field `flag`")])),
        ),
        (
            bytes(&zero_and_huge),
            (
                422,
                invalid(&[
                    ("/counts/0/count", "must be between 1 and 1000000000000"),
                    ("/counts/1/count", "must be between 1 and 1000000000000"),
                ]),
            ),
        ),
        (
            bytes(&backwards),
            (
                422,
                invalid(&[("/window_end", "must not be before window_start")]),
            ),
        ),
        (
            bytes(&ahead),
            (
                422,
                invalid(&[(
                    "/window_end",
                    "must not be more than 5 minutes ahead of the server's clock",
                )]),
            ),
        ),
        (
            bytes(&stale),
            (
                422,
                invalid(&[("/window_end", "must not be more than 7 days ago")]),
            ),
        ),
        (
            bytes(&too_many),
            (
                422,
                invalid(&[("/counts", "at most 1000 entries, got 1001")]),
            ),
        ),
    ];
    for (body, expected) in cases {
        refused(&server, &sdk, json_type, body, expected).await;
    }
    refused(
        &server,
        &sdk,
        Some("text/plain"),
        bytes(&valid),
        (
            415,
            error(
                "unsupported_media_type",
                "expected a body of type application/json",
            ),
        ),
    )
    .await;
    let padding = "x".repeat(256 * 1024);
    let mut oversized = valid.clone();
    oversized["counts"][0]["flag"] = json!(padding);
    refused(
        &server,
        &sdk,
        json_type,
        bytes(&oversized),
        (
            413,
            error(
                "payload_too_large",
                "the request body is larger than 262144 bytes",
            ),
        ),
    )
    .await;
}

#[tokio::test]
async fn only_sdk_keys_may_report() {
    let server = TestServer::start().await;
    flags(&server, &["checkout"]).await;
    let body = bytes(&report(&[("checkout", Some("on"), 1)]));
    let json_type = Some("application/json");
    let viewer_token = server
        .token(TokenKind::Api, Some(Role::Viewer), None, &[])
        .await;
    let integration = server.token(TokenKind::Integration, None, None, &[]).await;
    let wrong_kind = |found: &str| {
        (
            401,
            error(
                "unauthorized",
                &format!("wrong kind of token: this endpoint takes an SDK key, not {found}"),
            ),
        )
    };
    for (bearer, expected) in [
        (server.admin.clone(), wrong_kind("a user session")),
        (viewer_token, wrong_kind("an API or integration token")),
        (integration, wrong_kind("an API or integration token")),
        (
            "not-a-jwt".to_string(),
            (401, error("unauthorized", "invalid token: not a JWT")),
        ),
    ] {
        refused(&server, &bearer, json_type, body.clone(), expected).await;
    }
    let anonymous = server
        .request(Method::POST, USAGE, None)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(anonymous).await,
        (
            401,
            error(
                "unauthorized",
                "missing credentials: send `Authorization: Bearer <token>`"
            )
        )
    );
    assert!(stored(&server, "checkout").await.is_empty());
}
