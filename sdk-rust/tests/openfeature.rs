//! The OpenFeature provider (`--features openfeature`): values, variants,
//! reasons, metadata, error codes and provider status.
#![cfg(feature = "openfeature")]

use std::path::PathBuf;
use std::time::Duration;

use open_feature::provider::{FeatureProvider, ProviderStatus};
use open_feature::{
    EvaluationContext, EvaluationErrorCode, EvaluationReason, FlagMetadataValue, OpenFeature, Value,
};
use vexil_sdk::Client;
use vexil_sdk::openfeature::VexilProvider;

fn provider() -> VexilProvider {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bootstrap.json");
    VexilProvider::new(Client::from_bootstrap_file(fixture).unwrap())
}

fn user(key: &str) -> EvaluationContext {
    EvaluationContext::default().with_targeting_key(key)
}

#[tokio::test]
async fn resolves_every_type_with_variant_and_reason() {
    let provider = provider();
    assert_eq!(provider.status(), ProviderStatus::Ready);
    assert_eq!(provider.metadata().name, "vexil");

    let vip = provider
        .resolve_bool_value("new-checkout", &user("vip-1"))
        .await
        .unwrap();
    assert!(vip.value);
    assert_eq!(vip.variant.as_deref(), Some("on"));
    assert_eq!(vip.reason, Some(EvaluationReason::TargetingMatch));

    let eu = user("user-1").with_custom_field("region", "eu-west-1");
    let split = provider
        .resolve_bool_value("new-checkout", &eu)
        .await
        .unwrap();
    assert_eq!(split.reason, Some(EvaluationReason::Split));
    let metadata = split.flag_metadata.unwrap();
    assert_eq!(
        metadata.values.get("rule_id"),
        Some(&FlagMetadataValue::String("eu-first".into()))
    );
    assert!(metadata.values.contains_key("bucket"));

    let pro = user("u").with_custom_field("plan", "pro");
    let banner = provider
        .resolve_string_value("banner-text", &pro)
        .await
        .unwrap();
    assert_eq!(
        (banner.value.as_str(), banner.variant.as_deref()),
        ("50% off today", Some("sale"))
    );

    let old_app = user("u").with_custom_field("app_version", "1.0.0");
    let few = provider
        .resolve_int_value("max-items", &old_app)
        .await
        .unwrap();
    assert_eq!(
        (few.value, few.reason),
        (10, Some(EvaluationReason::Default))
    );
    let new_app = user("u").with_custom_field("app_version", "2.3.1");
    let many = provider
        .resolve_float_value("max-items", &new_app)
        .await
        .unwrap();
    assert_eq!(many.value, 100.5);
    let not_int = provider
        .resolve_int_value("max-items", &new_app)
        .await
        .unwrap_err();
    assert_eq!(not_int.code, EvaluationErrorCode::TypeMismatch);

    let theme = provider
        .resolve_struct_value("theme", &user("user-1"))
        .await
        .unwrap();
    assert_eq!(theme.reason, Some(EvaluationReason::Split));
    assert!(matches!(
        theme.value.fields.get("background"),
        Some(Value::String(_))
    ));
}

#[tokio::test]
async fn disabled_and_prerequisite_failed_map_to_openfeature_reasons() {
    let provider = provider();
    let disabled = provider
        .resolve_bool_value("legacy-search", &user("u"))
        .await
        .unwrap();
    assert_eq!(
        (disabled.value, disabled.reason),
        (false, Some(EvaluationReason::Disabled))
    );
    let failed = provider
        .resolve_bool_value("checkout-v2", &user("u"))
        .await
        .unwrap();
    assert_eq!(failed.reason, Some(EvaluationReason::Default));
    assert_eq!(
        failed.flag_metadata.unwrap().values.get("prerequisite"),
        Some(&FlagMetadataValue::String("new-checkout".into()))
    );
}

#[tokio::test]
async fn errors_carry_openfeature_codes() {
    let provider = provider();
    let missing = provider
        .resolve_bool_value("no-such-flag", &user("u"))
        .await
        .unwrap_err();
    assert_eq!(missing.code, EvaluationErrorCode::FlagNotFound);
    let wrong = provider
        .resolve_string_value("new-checkout", &user("u"))
        .await
        .unwrap_err();
    assert_eq!(wrong.code, EvaluationErrorCode::TypeMismatch);
    let not_object = provider
        .resolve_struct_value("banner-text", &user("u"))
        .await
        .unwrap_err();
    assert_eq!(not_object.code, EvaluationErrorCode::TypeMismatch);
}

#[tokio::test(start_paused = true)]
async fn status_follows_the_client_and_not_ready_is_an_error() {
    // Nothing listens on port 1: no snapshot ever arrives.
    let client = Client::builder("k")
        .url("http://127.0.0.1:1")
        .send_usage(false)
        .init_timeout(Duration::from_millis(10))
        .build()
        .await
        .unwrap();
    let provider = VexilProvider::new(client);
    assert_eq!(provider.status(), ProviderStatus::Error);
    let error = provider
        .resolve_bool_value("new-checkout", &user("u"))
        .await
        .unwrap_err();
    assert_eq!(error.code, EvaluationErrorCode::ProviderNotReady);
    provider.client().close().await;
    assert_eq!(provider.status(), ProviderStatus::NotReady);
}

#[tokio::test]
async fn works_through_the_openfeature_api() {
    let mut api = OpenFeature::singleton_mut().await;
    api.set_provider(provider()).await;
    let client = api.create_client();
    drop(api);
    assert!(
        client
            .get_bool_value("new-checkout", Some(&user("vip-1")), None)
            .await
            .unwrap()
    );
    let details = client
        .get_bool_details("no-such-flag", Some(&user("u")), None)
        .await;
    assert_eq!(details.unwrap_err().code, EvaluationErrorCode::FlagNotFound);
}
