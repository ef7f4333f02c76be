//! A flag's config in one environment over HTTP: read and replace with
//! `ETag`/`If-Match`, the toggle, validation against the environment, and
//! what each write leaves in the change log and the environment versions.

mod api_support;
mod common;

use api_support::*;
use common::{TestServer, json};
use reqwest::Method;
use serde_json::{Value, json};

/// A config with targeting, a rollout and a segment clause.
fn targeted() -> Value {
    json!({
        "enabled": true,
        "off_variant": "off",
        "targets": [{"variant": "on", "values": ["qa-1"]}],
        "rules": [{
            "id": "beta-testers",
            "clauses": [
                {"attribute": "email", "op": "ends_with", "values": ["@example.com"]},
                {"attribute": "", "op": "in_segment", "values": ["beta"]},
            ],
            "serve": {"variant": "on"},
        }],
        "default_serve": {"rollout": {"weights": [
            {"variant": "on", "weight": 10000},
            {"variant": "off", "weight": 90000},
        ]}},
    })
}

#[tokio::test]
async fn put_replaces_one_environment_and_bumps_only_it() {
    let server = TestServer::start().await;
    create_flag(&server, &boolean_flag("checkout")).await;
    create_segment(&server, &segment("beta")).await;
    let before = versions(&server).await;

    let (status, stored, etag) = send_with(
        &server,
        Method::PUT,
        &config_path("checkout", "production"),
        &server.admin,
        &[("if-match", "\"1\""), ("x-vexil-reason", "10% rollout")],
        &targeted(),
    )
    .await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(etag.as_deref(), Some("\"2\""));
    assert_eq!(stored["version"], 2);
    assert_eq!(stored["rules"][0]["id"], "beta-testers");
    assert_eq!(stored["default_serve"]["rollout"]["algorithm"], 1);
    assert_eq!(versions(&server).await, bumped(&before, &["production"]));

    let (status, fetched, etag) = get(&server, &config_path("checkout", "production")).await;
    assert_eq!((status, etag.as_deref()), (200, Some("\"2\"")));
    assert_eq!(fetched, stored);
    // Staging kept its default.
    let (_, staging, _) = get(&server, &config_path("checkout", "staging")).await;
    assert_eq!(
        (staging["enabled"].clone(), staging["version"].clone()),
        (json!(false), json!(1))
    );

    let change = newest_change(&server).await;
    assert_eq!(change["resource"], "flag_config");
    assert_eq!(change["action"], "updated");
    assert_eq!(change["key"], "checkout");
    assert_eq!(change["environment"], "production");
    assert_eq!(change["actor"], "user:admin");
    assert_eq!(change["reason"], "10% rollout");
    assert_eq!(change["before"]["enabled"], false);
    assert_eq!(change["before"]["version"], 1);
    assert_eq!(change["after"], stored);
    let production = before["production"] + 1;
    assert_eq!(
        change["versions"],
        json!([{"environment": "production", "version": production}])
    );

    // The store's snapshot serves it.
    let snapshot = server
        .store
        .snapshot("default", "production")
        .await
        .unwrap();
    assert_eq!(snapshot.version, production);
    assert_eq!(snapshot.flag("checkout").unwrap().config.version, 2);
}

#[tokio::test]
async fn toggle_switches_records_the_reason_and_honours_if_match() {
    let server = TestServer::start().await;
    create_flag(&server, &boolean_flag("checkout")).await;
    let stored = put_config(
        &server,
        "checkout",
        "production",
        &targeted_without_segment(),
    )
    .await;
    let before = versions(&server).await;
    let path = toggle_path("checkout", "production");

    // The body's reason wins over the header's.
    let (status, toggled, etag) = send_with(
        &server,
        Method::POST,
        &path,
        &server.admin,
        &[("x-vexil-reason", "from the header")],
        &json!({"enabled": false, "reason": "  INC-7: checkout errors  "}),
    )
    .await;
    assert_eq!(status, 200, "{toggled}");
    assert_eq!(etag.as_deref(), Some("\"3\""));
    assert_eq!(toggled["enabled"], false);
    // Only `enabled` changed.
    let mut expected = stored.clone();
    expected["enabled"] = json!(false);
    expected["version"] = json!(3);
    assert_eq!(toggled, expected);
    assert_eq!(versions(&server).await, bumped(&before, &["production"]));
    let change = newest_change(&server).await;
    assert_eq!(change["action"], "toggled");
    assert_eq!(change["reason"], "INC-7: checkout errors");
    assert_eq!(change["before"]["enabled"], true);
    assert_eq!(change["after"]["enabled"], false);

    // Without a body reason, the header's.
    let (status, _, _) = send_with(
        &server,
        Method::POST,
        &path,
        &server.admin,
        &[("x-vexil-reason", "fixed"), ("if-match", "\"3\"")],
        &json!({"enabled": true}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(newest_change(&server).await["reason"], "fixed");

    // A stale If-Match is refused and changes nothing.
    let changes = change_count(&server).await;
    let (status, body, _) = send_with(
        &server,
        Method::POST,
        &path,
        &server.admin,
        &[("if-match", "\"3\"")],
        &json!({"enabled": false}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            409,
            error(
                "conflict",
                "version conflict: If-Match was 3, the current version is 4; reload and retry"
            )
        )
    );
    assert_eq!(change_count(&server).await, changes);
    assert_eq!(
        get(&server, &config_path("checkout", "production")).await.1["enabled"],
        true
    );

    // Switching to the current state is still a change (the audit trail).
    let (status, same, etag) = send_with(
        &server,
        Method::POST,
        &path,
        &server.admin,
        &[],
        &json!({"enabled": true}),
    )
    .await;
    assert_eq!(
        (status, same["enabled"].clone(), etag.as_deref()),
        (200, json!(true), Some("\"5\""))
    );
    assert_eq!(change_count(&server).await, changes + 1);

    // Unknown fields and overlong reasons.
    let (status, body) = json(
        server
            .send(
                Method::POST,
                &path,
                &server.admin,
                &json!({"enabled": true, "why": "x"}),
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, body),
        (
            422,
            invalid(&[(
                "/why",
                "unknown field `why`, expected `enabled` or `reason`"
            )])
        )
    );
    let long = "x".repeat(1001);
    let (status, body) = json(
        server
            .send(
                Method::POST,
                &path,
                &server.admin,
                &json!({"enabled": true, "reason": long}),
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, body),
        (
            422,
            invalid(&[("/reason", "is longer than 1000 characters")])
        )
    );
    assert_eq!(change_count(&server).await, changes + 1);
}

/// `targeted()` without the segment clause.
fn targeted_without_segment() -> Value {
    let mut config = targeted();
    config["rules"][0]["clauses"].as_array_mut().unwrap().pop();
    config
}

#[tokio::test]
async fn invalid_rules_are_422_with_pointers_and_change_nothing() {
    let server = TestServer::start().await;
    create_flag(&server, &boolean_flag("checkout")).await;
    let path = config_path("checkout", "production");
    let (_, stored, _) = get(&server, &path).await;
    let changes = change_count(&server).await;
    let before = versions(&server).await;

    let mut bad_regex = targeted_without_segment();
    bad_regex["rules"][0]["clauses"] = json!([
        {"attribute": "email", "op": "ends_with", "values": ["@example.com"]},
        {"attribute": "email", "op": "matches", "values": ["(unclosed"]},
    ]);
    let mut bad_weights = targeted_without_segment();
    bad_weights["default_serve"]["rollout"]["weights"][1]["weight"] = json!(80000);
    let mut unknown_variant = targeted_without_segment();
    unknown_variant["rules"][0]["serve"] = json!({"variant": "maybe"});
    unknown_variant["off_variant"] = json!("of");

    let cases = [
        (
            bad_regex,
            invalid(&[(
                "/rules/0/clauses/1/values/0",
                "regular expression does not compile: regex parse error:\n    (unclosed\n    ^\nerror: unclosed group",
            )]),
        ),
        (
            bad_weights,
            invalid(&[(
                "/default_serve/rollout/weights",
                "weights sum to 90000; they must sum to 100000 (100 %)",
            )]),
        ),
        (
            unknown_variant,
            invalid(&[
                (
                    "/off_variant",
                    "variant \"of\" does not exist; the flag's variants are \"on\", \"off\"",
                ),
                (
                    "/rules/0/serve/variant",
                    "variant \"maybe\" does not exist; the flag's variants are \"on\", \"off\"",
                ),
            ]),
        ),
        (
            json!({"enabled": true, "off_variant": "off", "default_serve": {"variant": "on"}, "colour": 1}),
            invalid(&[(
                "/colour",
                "unknown field `colour`, expected one of `enabled`, `off_variant`, `targets`, `rules`, `default_serve`, `prerequisites`, `version`",
            )]),
        ),
        (
            json!({"enabled": true, "off_variant": "off", "default_serve": {"variant": "on"},
                   "rules": [{"id": "r", "clauses": [{"attribute": "a", "op": "like", "values": []}], "serve": {"variant": "on"}}]}),
            invalid(&[(
                "/rules/0/clauses/0/op",
                "unknown variant `like`, expected one of `in`, `contains`, `starts_with`, `ends_with`, `matches`, `eq`, `lt`, `lte`, `gt`, `gte`, `semver_eq`, `semver_lt`, `semver_gt`, `before`, `after`, `in_segment`, `exists`",
            )]),
        ),
    ];
    for (body, expected) in cases {
        let (status, error_body) =
            json(server.send(Method::PUT, &path, &server.admin, &body).await).await;
        assert_eq!((status, error_body), (422, expected), "{body}");
    }
    assert_eq!(get(&server, &path).await.1, stored);
    assert_eq!(change_count(&server).await, changes);
    assert_eq!(versions(&server).await, before);
}

#[tokio::test]
async fn references_are_checked_against_the_environment() {
    let server = TestServer::start().await;
    create_flag(&server, &boolean_flag("checkout")).await;
    create_flag(&server, &boolean_flag("payments")).await;
    create_flag(&server, &boolean_flag("legacy")).await;
    let (status, _) = json(
        server
            .send(
                Method::PATCH,
                &flag_path("legacy"),
                &server.admin,
                &json!({"archived": true}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let path = config_path("checkout", "production");
    let changes = change_count(&server).await;

    let mut config = targeted(); // names segment "beta", which does not exist
    config["prerequisites"] = json!([
        {"flag": "payments", "variant": "on"},
        {"flag": "legacy", "variant": "on"},
        {"flag": "ghost", "variant": "on"},
        {"flag": "payments", "variant": "maybe"},
    ]);
    let (status, body) = json(
        server
            .send(Method::PUT, &path, &server.admin, &config)
            .await,
    )
    .await;
    assert_eq!(
        (status, body),
        (
            422,
            invalid(&[
                (
                    "/rules/0/clauses/1/values/0",
                    "segment \"beta\" does not exist"
                ),
                (
                    "/prerequisites/1/flag",
                    "flag `legacy` is archived; restore it or remove this prerequisite"
                ),
                ("/prerequisites/2/flag", "flag \"ghost\" does not exist"),
                (
                    "/prerequisites/3/flag",
                    "flag \"payments\" is already a prerequisite at /prerequisites/0"
                ),
            ])
        )
    );
    assert_eq!(change_count(&server).await, changes);

    // A cycle: payments requires checkout, so checkout cannot require payments.
    let mut payments = serving("off", "on");
    payments["prerequisites"] = json!([{"flag": "checkout", "variant": "on"}]);
    put_config(&server, "payments", "production", &payments).await;
    let mut checkout = serving("off", "on");
    checkout["prerequisites"] = json!([{"flag": "payments", "variant": "on"}]);
    let (status, body) = json(
        server
            .send(Method::PUT, &path, &server.admin, &checkout)
            .await,
    )
    .await;
    assert_eq!(
        (status, body),
        (
            422,
            invalid(&[(
                "/prerequisites/0/flag",
                "prerequisite cycle: checkout -> payments -> checkout"
            )])
        )
    );
    // In staging payments has no prerequisite: fine there.
    put_config(&server, "checkout", "staging", &checkout).await;

    // The segment, once created, is accepted.
    create_segment(&server, &segment("beta")).await;
    put_config(&server, "checkout", "production", &targeted()).await;
}

#[tokio::test]
async fn unknown_projects_flags_and_environments_are_404() {
    let server = TestServer::start().await;
    create_flag(&server, &boolean_flag("checkout")).await;
    let changes = change_count(&server).await;
    for (path, what) in [
        (
            "/api/v1/projects/nope/flags/checkout/environments/production".to_owned(),
            "project nope",
        ),
        (config_path("nope", "production"), "flag nope"),
        (config_path("checkout", "qa"), "environment qa"),
    ] {
        let expected = error("not_found", &format!("{what} not found"));
        let (status, body, _) = get(&server, &path).await;
        assert_eq!((status, body), (404, expected.clone()), "GET {path}");
        let (status, body) = json(
            server
                .send(Method::PUT, &path, &server.admin, &serving("off", "on"))
                .await,
        )
        .await;
        assert_eq!((status, body), (404, expected.clone()), "PUT {path}");
        let (status, body) = json(
            server
                .send(
                    Method::POST,
                    &format!("{path}/toggle"),
                    &server.admin,
                    &json!({"enabled": true}),
                )
                .await,
        )
        .await;
        assert_eq!((status, body), (404, expected), "toggle {path}");
    }
    assert_eq!(change_count(&server).await, changes);
}
