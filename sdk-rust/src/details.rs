//! A typed evaluation with the reasons behind it.

use vexil_engine::Evaluation;
use vexil_proto::{ErrorCode, Reason};

/// What a `*_details` call returns: the value the application uses (the
/// caller's default on error) and why, with OpenFeature's field names.
#[derive(Debug, Clone, PartialEq)]
pub struct Details<T> {
    /// The served value, or the caller's default when `reason` is `ERROR`.
    pub value: T,
    /// The served variant's key; `None` when the default was used.
    pub variant: Option<String>,
    /// Why this value.
    pub reason: Reason,
    /// Set with reason `ERROR`: `FLAG_NOT_FOUND`, `TYPE_MISMATCH`, ….
    pub error_code: Option<ErrorCode>,
    /// The rule that decided (0-based), when one did.
    pub rule_index: Option<usize>,
    /// The stable id of the rule that decided.
    pub rule_id: Option<String>,
    /// The context's bucket (0..100 000), when a rollout decided.
    pub bucket: Option<u32>,
    /// The prerequisite flag that was not satisfied (`PREREQUISITE_FAILED`).
    pub prerequisite: Option<String>,
}

impl<T> Details<T> {
    /// The engine's evaluation with its value converted to `T`.
    pub(crate) fn from_evaluation(value: T, evaluation: &Evaluation<'_>) -> Self {
        Details {
            value,
            variant: evaluation.variant.map(str::to_owned),
            reason: evaluation.reason,
            error_code: evaluation.error_code,
            rule_index: evaluation.rule_index,
            rule_id: evaluation.rule_id.map(str::to_owned),
            bucket: evaluation.bucket,
            prerequisite: evaluation.prerequisite.map(str::to_owned),
        }
    }

    /// The caller's default, with reason `ERROR` and `code`.
    pub(crate) fn error(default: T, code: ErrorCode) -> Self {
        Details {
            value: default,
            variant: None,
            reason: Reason::Error,
            error_code: Some(code),
            rule_index: None,
            rule_id: None,
            bucket: None,
            prerequisite: None,
        }
    }
}
