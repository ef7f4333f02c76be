//! Evaluation results, reasons and error codes (OpenFeature's names where it
//! has one).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a context got the value it got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// The value cannot vary (reserved for providers that serve constants).
    Static,
    /// `default_serve` with a fixed variant, or a rollout's fallback for a
    /// context without the `bucket_by` attribute.
    Default,
    /// An individual target or a rule serving a fixed variant.
    TargetingMatch,
    /// A rollout picked the variant by bucket.
    Split,
    /// The flag is disabled in this environment: `off_variant`.
    Disabled,
    /// A prerequisite did not serve its required variant: `off_variant`.
    /// Vexil's own; OpenFeature providers report it as `DEFAULT`.
    PrerequisiteFailed,
    /// Evaluation failed; see the error code. The caller's default is used.
    Error,
}

impl Reason {
    /// The name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::Default => "DEFAULT",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Disabled => "DISABLED",
            Reason::PrerequisiteFailed => "PREREQUISITE_FAILED",
            Reason::Error => "ERROR",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an evaluation failed (OpenFeature's error codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// No flag with that key in the snapshot.
    FlagNotFound,
    /// The caller asked for a type the flag does not serve.
    TypeMismatch,
    /// The flag's configuration could not be compiled (it fails closed).
    ParseError,
    /// The SDK has no snapshot yet.
    ProviderNotReady,
    /// The context lacks the targeting key a provider needs.
    TargetingKeyMissing,
    /// The context cannot be used (for example, malformed).
    InvalidContext,
    /// Anything else, such as a prerequisite chain deeper than the limit.
    General,
}

impl ErrorCode {
    /// The name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::FlagNotFound => "FLAG_NOT_FOUND",
            ErrorCode::TypeMismatch => "TYPE_MISMATCH",
            ErrorCode::ParseError => "PARSE_ERROR",
            ErrorCode::ProviderNotReady => "PROVIDER_NOT_READY",
            ErrorCode::TargetingKeyMissing => "TARGETING_KEY_MISSING",
            ErrorCode::InvalidContext => "INVALID_CONTEXT",
            ErrorCode::General => "GENERAL",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An evaluation, owned: what the server-side evaluate API returns and what
/// the shared evaluation fixtures expect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationResult {
    /// The flag evaluated.
    pub flag: String,
    /// The served value; absent on error (the caller's default applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// The served variant's key; absent on error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Why this value.
    pub reason: Reason,
    /// Zero-based index of the rule that matched, for `TARGETING_MATCH`/`SPLIT` from a rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_index: Option<usize>,
    /// Id of the rule that matched (stable across reorders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// The bucket (0..100 000) when a rollout decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<u32>,
    /// The prerequisite flag that was not satisfied, for `PREREQUISITE_FAILED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prerequisite: Option<String>,
    /// Set with reason `ERROR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<ErrorCode>,
}
