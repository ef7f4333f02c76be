//! An OpenFeature provider (crate `open-feature`) over a [`Client`], behind
//! the `openfeature` feature.
//!
//! ```no_run
//! # async fn run() -> Result<(), vexil_sdk::Error> {
//! use vexil_sdk::Client;
//! use vexil_sdk::openfeature::VexilProvider;
//!
//! let client = Client::builder("sdk-key").url("https://flags.example.com").build().await?;
//! let mut api = open_feature::OpenFeature::singleton_mut().await;
//! api.set_provider(VexilProvider::new(client)).await;
//! # Ok(()) }
//! ```
//!
//! Values resolve locally, as with the client's typed calls. Reasons map to
//! OpenFeature's; Vexil's `PREREQUISITE_FAILED` is reported as `DEFAULT`
//! with the failed prerequisite in the flag metadata (`prerequisite`). The
//! deciding rule's id and a rollout's bucket are in the metadata too
//! (`rule_id`, `bucket`). Errors (`FLAG_NOT_FOUND`, `TYPE_MISMATCH`,
//! `PARSE_ERROR`, `PROVIDER_NOT_READY`) come back as evaluation errors, and
//! the OpenFeature client then returns the application's default.

use open_feature::provider::{
    FeatureProvider, ProviderMetadata, ProviderStatus, ResolutionDetails,
};
use open_feature::{
    EvaluationContext, EvaluationContextFieldValue, EvaluationError, EvaluationErrorCode,
    EvaluationReason, EvaluationResult, FlagMetadata, StructValue, Value as OfValue,
};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use vexil_proto::{AttributeValue, Context, ErrorCode, Reason};

use crate::client::Client;
use crate::details::Details;
use crate::state::ProviderState;

/// The provider's name in OpenFeature's metadata.
pub const PROVIDER_NAME: &str = "vexil";

/// Resolves flags through a Vexil [`Client`].
#[derive(Debug, Clone)]
pub struct VexilProvider {
    client: Client,
    metadata: ProviderMetadata,
}

impl VexilProvider {
    /// A provider over `client` (built and started by its builder).
    pub fn new(client: Client) -> Self {
        VexilProvider {
            client,
            metadata: ProviderMetadata::new(PROVIDER_NAME),
        }
    }

    /// The client behind the provider, for `on_change` or `close`.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

#[open_feature::async_trait]
impl FeatureProvider for VexilProvider {
    fn status(&self) -> ProviderStatus {
        match self.client.state() {
            ProviderState::NotReady => ProviderStatus::NotReady,
            ProviderState::Ready => ProviderStatus::Ready,
            ProviderState::Stale => ProviderStatus::STALE,
            ProviderState::Error => ProviderStatus::Error,
        }
    }

    fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    async fn resolve_bool_value(
        &self,
        flag_key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<bool>> {
        let context = to_context(context)?;
        resolution(self.client.bool_details(flag_key, &context, false))
    }

    async fn resolve_int_value(
        &self,
        flag_key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<i64>> {
        let context = to_context(context)?;
        let details = resolution(self.client.number_details(flag_key, &context, 0.0))?;
        let value = details.value;
        // Only whole numbers that fit: 2.5 is not an integer flag value.
        if value.fract() != 0.0 || !(-(2f64.powi(63))..2f64.powi(63)).contains(&value) {
            return Err(type_mismatch(format!("{value} is not an integer")));
        }
        Ok(ResolutionDetails {
            value: value as i64,
            variant: details.variant,
            reason: details.reason,
            flag_metadata: details.flag_metadata,
        })
    }

    async fn resolve_float_value(
        &self,
        flag_key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<f64>> {
        let context = to_context(context)?;
        resolution(self.client.number_details(flag_key, &context, 0.0))
    }

    async fn resolve_string_value(
        &self,
        flag_key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<String>> {
        let context = to_context(context)?;
        resolution(self.client.string_details(flag_key, &context, ""))
    }

    async fn resolve_struct_value(
        &self,
        flag_key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<StructValue>> {
        let context = to_context(context)?;
        let details = resolution(self.client.json_details(flag_key, &context, Value::Null))?;
        let value = match &details.value {
            Value::Object(_) => match OfValue::try_from(&details.value)? {
                OfValue::Struct(fields) => fields,
                _ => return Err(type_mismatch("not an object".into())),
            },
            other => return Err(type_mismatch(format!("{other} is not an object"))),
        };
        Ok(ResolutionDetails {
            value,
            variant: details.variant,
            reason: details.reason,
            flag_metadata: details.flag_metadata,
        })
    }
}

/// A Vexil context from OpenFeature's: the targeting key is the context
/// key (empty when absent: flags that do not target still evaluate), a
/// `kind` field is the context kind, date-times become RFC 3339 strings
/// (what `before`/`after` compare), and structures are not supported.
fn to_context(context: &EvaluationContext) -> EvaluationResult<Context> {
    let mut vexil = Context::new(context.targeting_key.clone().unwrap_or_default());
    for (name, value) in &context.custom_fields {
        let value: AttributeValue = match value {
            EvaluationContextFieldValue::Bool(b) => (*b).into(),
            EvaluationContextFieldValue::Int(i) => (*i).into(),
            EvaluationContextFieldValue::Float(f) => (*f).into(),
            EvaluationContextFieldValue::String(s) => s.as_str().into(),
            EvaluationContextFieldValue::DateTime(at) => at
                .format(&Rfc3339)
                .map_err(|e| invalid_context(format!("{name}: {e}")))?
                .into(),
            EvaluationContextFieldValue::Struct(_) => {
                return Err(invalid_context(format!(
                    "{name}: structure attributes are not supported"
                )));
            }
        };
        if let ("kind", AttributeValue::Scalar(vexil_proto::Scalar::String(kind))) =
            (name.as_str(), &value)
        {
            vexil.kind = Some(kind.clone());
            continue;
        }
        vexil.attributes.insert(name.clone(), value);
    }
    Ok(vexil)
}

/// OpenFeature's resolution, or its error, from a typed evaluation.
fn resolution<T>(details: Details<T>) -> EvaluationResult<ResolutionDetails<T>> {
    if let Some(code) = details.error_code {
        return Err(EvaluationError::builder()
            .code(error_code(code))
            .message(format!("{code}"))
            .build());
    }
    let mut metadata = FlagMetadata::default();
    let reason = match details.reason {
        Reason::Static => EvaluationReason::Static,
        Reason::Default => EvaluationReason::Default,
        Reason::TargetingMatch => EvaluationReason::TargetingMatch,
        Reason::Split => EvaluationReason::Split,
        Reason::Disabled => EvaluationReason::Disabled,
        Reason::Error => EvaluationReason::Error,
        Reason::PrerequisiteFailed => EvaluationReason::Default,
    };
    if let Some(prerequisite) = details.prerequisite {
        metadata.add_value("prerequisite", prerequisite);
    }
    if let Some(rule_id) = details.rule_id {
        metadata.add_value("rule_id", rule_id);
    }
    if let Some(bucket) = details.bucket {
        metadata.add_value("bucket", i64::from(bucket));
    }
    Ok(ResolutionDetails {
        value: details.value,
        variant: details.variant,
        reason: Some(reason),
        flag_metadata: Some(metadata),
    })
}

fn error_code(code: ErrorCode) -> EvaluationErrorCode {
    match code {
        ErrorCode::FlagNotFound => EvaluationErrorCode::FlagNotFound,
        ErrorCode::TypeMismatch => EvaluationErrorCode::TypeMismatch,
        ErrorCode::ParseError => EvaluationErrorCode::ParseError,
        ErrorCode::ProviderNotReady => EvaluationErrorCode::ProviderNotReady,
        ErrorCode::TargetingKeyMissing => EvaluationErrorCode::TargetingKeyMissing,
        ErrorCode::InvalidContext => EvaluationErrorCode::InvalidContext,
        ErrorCode::General => EvaluationErrorCode::General("GENERAL".into()),
    }
}

fn type_mismatch(message: String) -> EvaluationError {
    EvaluationError::builder()
        .code(EvaluationErrorCode::TypeMismatch)
        .message(message)
        .build()
}

fn invalid_context(message: String) -> EvaluationError {
    EvaluationError::builder()
        .code(EvaluationErrorCode::InvalidContext)
        .message(message)
        .build()
}
