//! An offline client started from a bootstrap file evaluates every kind of
//! flag through the engine.

use std::path::PathBuf;

use serde_json::json;
use vexil_sdk::{Client, Context, Error, ErrorCode, ProviderState, Reason, Snapshot};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bootstrap.json")
}

fn client() -> Client {
    Client::from_bootstrap_file(fixture()).unwrap()
}

#[tokio::test]
async fn starts_ready_from_the_bootstrap_file() {
    let client = client();
    assert_eq!(client.state(), ProviderState::Ready);
    let snapshot = client.snapshot();
    assert_eq!(
        (snapshot.environment(), snapshot.version()),
        ("production", 42)
    );
    assert!(snapshot.errors().is_empty(), "{:?}", snapshot.errors());

    let built = Client::builder("unused-offline")
        .bootstrap_file(fixture())
        .offline(true)
        .build()
        .await
        .unwrap();
    assert_eq!(built.state(), ProviderState::Ready);
    assert_eq!(built.snapshot().len(), snapshot.len());
}

#[test]
fn boolean_flags_follow_targets_rules_and_segments() {
    let client = client();
    let eu = Context::new("user-1").with("region", "eu-west-1");
    let us = Context::new("user-1").with("region", "us-east-1");
    assert!(client.bool_value("new-checkout", &eu, false));
    assert!(!client.bool_value("new-checkout", &us, true));

    let vip = client.bool_details("new-checkout", &Context::new("vip-1"), false);
    assert_eq!(
        (vip.value, vip.reason, vip.variant.as_deref()),
        (true, Reason::TargetingMatch, Some("on"))
    );
    assert_eq!(vip.rule_index, None);

    let rollout = client.bool_details("new-checkout", &eu, false);
    assert_eq!(rollout.reason, Reason::Split);
    assert_eq!(
        (rollout.rule_index, rollout.rule_id.as_deref()),
        (Some(0), Some("eu-first"))
    );
    assert!(rollout.bucket.is_some());

    let beta = client.bool_details("new-checkout", &Context::new("beta-1"), false);
    assert_eq!(
        (beta.value, beta.reason, beta.rule_id.as_deref()),
        (true, Reason::TargetingMatch, Some("beta"))
    );

    let default = client.bool_details("new-checkout", &us, true);
    assert_eq!(
        (default.value, default.reason, default.variant.as_deref()),
        (false, Reason::Default, Some("off"))
    );
}

#[test]
fn disabled_flags_and_failed_prerequisites_serve_the_off_variant() {
    let client = client();
    let disabled = client.bool_details("legacy-search", &Context::new("u"), true);
    assert_eq!((disabled.value, disabled.reason), (false, Reason::Disabled));

    let failed = client.bool_details("checkout-v2", &Context::new("u"), true);
    assert_eq!(
        (failed.value, failed.reason),
        (false, Reason::PrerequisiteFailed)
    );
    assert_eq!(failed.prerequisite.as_deref(), Some("new-checkout"));

    assert!(client.bool_value("checkout-v2", &Context::new("vip-1"), false));
}

#[test]
fn string_number_and_json_flags() {
    let client = client();
    let pro = Context::new("u").with("plan", "pro");
    assert_eq!(
        client.string_value("banner-text", &pro, "fallback"),
        "50% off today"
    );
    assert_eq!(
        client.string_value("banner-text", &Context::new("u"), "fallback"),
        "Welcome back"
    );

    let new_app = Context::new("u").with("app_version", "2.3.1");
    assert_eq!(client.number_value("max-items", &new_app, 0.0), 100.5);
    let details = client.number_details(
        "max-items",
        &Context::new("u").with("app_version", "1.9.0"),
        0.0,
    );
    assert_eq!((details.value, details.reason), (10.0, Reason::Default));

    let theme = client.json_details("theme", &Context::new("user-1"), json!(null));
    assert_eq!(theme.reason, Reason::Split);
    let bucket = vexil_engine::bucket::bucket("theme", "user-1");
    assert_eq!(theme.bucket, Some(bucket));
    let expected = if bucket < 50_000 { "light" } else { "dark" };
    assert_eq!(theme.variant.as_deref(), Some(expected));
    assert!(theme.value["background"].is_string());

    // Every kind is JSON.
    assert_eq!(
        client.json_value("banner-text", &pro, json!(null)),
        json!("50% off today")
    );
}

#[test]
fn a_call_of_the_wrong_type_returns_the_default_with_type_mismatch() {
    let client = client();
    let ctx = Context::new("vip-1");
    assert_eq!(client.string_value("new-checkout", &ctx, "nope"), "nope");
    assert_eq!(client.number_value("banner-text", &ctx, 7.0), 7.0);
    assert!(client.bool_value("max-items", &ctx, true));

    let details = client.string_details("new-checkout", &ctx, "nope");
    assert_eq!(details.value, "nope");
    assert_eq!(
        (details.reason, details.error_code),
        (Reason::Error, Some(ErrorCode::TypeMismatch))
    );
    assert_eq!(details.variant, None);
}

#[test]
fn a_missing_flag_returns_the_default_with_flag_not_found() {
    let client = client();
    let details = client.bool_details("does-not-exist", &Context::new("u"), true);
    assert!(details.value);
    assert_eq!(
        (details.reason, details.error_code),
        (Reason::Error, Some(ErrorCode::FlagNotFound))
    );

    let result = client.evaluate("does-not-exist", &Context::new("u"));
    assert_eq!(
        (result.value, result.error_code),
        (None, Some(ErrorCode::FlagNotFound))
    );
}

#[test]
fn evaluate_and_evaluate_all_return_the_engine_result() {
    let client = client();
    let ctx = Context::new("user-1").with("region", "eu-central-1");
    let result = client.evaluate("new-checkout", &ctx);
    assert_eq!(result.flag, "new-checkout");
    assert_eq!(
        (result.value.clone(), result.variant.as_deref()),
        (Some(json!(true)), Some("on"))
    );
    assert_eq!(result.reason, Reason::Split);

    let all = client.evaluate_all(&ctx);
    let keys: Vec<&str> = all.iter().map(|r| r.flag.as_str()).collect();
    assert_eq!(
        keys,
        [
            "new-checkout",
            "checkout-v2",
            "banner-text",
            "max-items",
            "theme",
            "legacy-search"
        ]
    );
    assert_eq!(all[0], result);
}

#[test]
fn installing_a_snapshot_swaps_it_for_every_clone() {
    let client = client();
    let other_handle = client.clone();
    let mut snapshot: Snapshot =
        serde_json::from_slice(&std::fs::read(fixture()).unwrap()).unwrap();
    snapshot.version = 43;
    for flag in &mut snapshot.flags {
        if flag.key == "legacy-search" {
            flag.config.enabled = true;
        }
    }

    let ctx = Context::new("u");
    let before = client.snapshot();
    client.install(&snapshot);
    assert!(other_handle.bool_value("legacy-search", &ctx, false));
    assert_eq!(other_handle.snapshot().version(), 43);
    // Whoever still holds the old snapshot keeps a consistent view of it.
    assert_eq!(before.version(), 42);
    assert_eq!(
        before.evaluate("legacy-search", &ctx).reason,
        Reason::Disabled
    );
}

#[test]
fn readers_never_see_a_half_installed_snapshot() {
    let client = client();
    let mut snapshot: Snapshot =
        serde_json::from_slice(&std::fs::read(fixture()).unwrap()).unwrap();
    let ctx = Context::new("u");
    std::thread::scope(|scope| {
        for _ in 0..2 {
            let reader = client.clone();
            let ctx = &ctx;
            scope.spawn(move || {
                for _ in 0..2_000 {
                    let details = reader.bool_details("legacy-search", ctx, true);
                    assert!(matches!(
                        (details.value, details.reason),
                        (false, Reason::Disabled) | (true, Reason::Default)
                    ));
                }
            });
        }
        for round in 0..200u64 {
            snapshot.version = 100 + round;
            for flag in &mut snapshot.flags {
                if flag.key == "legacy-search" {
                    flag.config.enabled = round % 2 == 0;
                }
            }
            client.install(&snapshot);
        }
    });
    assert_eq!(client.snapshot().version(), 299);
}

#[tokio::test]
async fn bootstrap_errors_name_the_file() {
    let missing = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-such-bootstrap.json");
    let error = Client::from_bootstrap_file(&missing).unwrap_err();
    assert!(matches!(error, Error::ReadBootstrap { .. }), "{error}");
    assert!(error.to_string().contains("no-such-bootstrap.json"));

    let malformed = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("malformed-bootstrap.json");
    std::fs::write(
        &malformed,
        r#"{"environment": "production", "version": "not a number"}"#,
    )
    .unwrap();
    let error = Client::from_bootstrap_file(&malformed).unwrap_err();
    assert!(matches!(error, Error::ParseBootstrap { .. }), "{error}");

    let error = Client::builder("k")
        .offline(true)
        .build()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NoBootstrap));
    let error = Client::builder("k")
        .bootstrap_file(&missing)
        .url("http://127.0.0.1:1")
        .build()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::ReadBootstrap { .. }), "{error}");
    let error = Client::builder("k").build().await.unwrap_err();
    assert!(matches!(error, Error::NoUrl), "{error}");
}

#[test]
fn installing_by_hand_tells_on_change_listeners_which_flags_changed() {
    let client = client();
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = std::sync::Arc::clone(&events);
    client.on_change(move |event| record.lock().unwrap().push(event.clone()));

    let mut snapshot: Snapshot =
        serde_json::from_slice(&std::fs::read(fixture()).unwrap()).unwrap();
    snapshot.version = 43;
    for flag in &mut snapshot.flags {
        if flag.key == "new-checkout" {
            flag.config.enabled = false;
        }
    }
    client.install(&snapshot);
    let events = events.lock().unwrap();
    // checkout-v2 has new-checkout as a prerequisite.
    assert_eq!(
        *events,
        [vexil_sdk::ChangeEvent {
            version: 43,
            flags: vec!["checkout-v2".into(), "new-checkout".into()]
        }]
    );
}
