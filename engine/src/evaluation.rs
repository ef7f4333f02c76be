//! The result of one evaluation, borrowed from the compiled snapshot.

use serde_json::Value;
use vexil_proto::{ErrorCode, EvaluationResult, FlagKind, Reason};

/// What a context gets for one flag, and why. Borrows from the
/// [`crate::CompiledSnapshot`], so producing it allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation<'a> {
    /// The served value; `None` on error (the caller's default applies).
    pub value: Option<&'a Value>,
    /// The served variant's key; `None` on error.
    pub variant: Option<&'a str>,
    /// Why this value.
    pub reason: Reason,
    /// Index of the rule that decided, if a rule did.
    pub rule_index: Option<usize>,
    /// Id of the rule that decided, if a rule did.
    pub rule_id: Option<&'a str>,
    /// The context's bucket, when a rollout decided.
    pub bucket: Option<u32>,
    /// The prerequisite that failed, for `PREREQUISITE_FAILED`.
    pub prerequisite: Option<&'a str>,
    /// Set with reason `ERROR`.
    pub error_code: Option<ErrorCode>,
    /// The flag's kind, so typed SDK calls can report `TYPE_MISMATCH`
    /// without a second lookup; `None` when the flag does not exist.
    pub kind: Option<FlagKind>,
}

impl<'a> Evaluation<'a> {
    pub(crate) fn error(code: ErrorCode) -> Self {
        Evaluation {
            value: None,
            variant: None,
            reason: Reason::Error,
            rule_index: None,
            rule_id: None,
            bucket: None,
            prerequisite: None,
            error_code: Some(code),
            kind: None,
        }
    }

    /// The owned form, as the evaluate API returns it.
    pub fn to_result(&self, flag_key: &str) -> EvaluationResult {
        EvaluationResult {
            flag: flag_key.to_owned(),
            value: self.value.cloned(),
            variant: self.variant.map(str::to_owned),
            reason: self.reason,
            rule_index: self.rule_index,
            rule_id: self.rule_id.map(str::to_owned),
            bucket: self.bucket,
            prerequisite: self.prerequisite.map(str::to_owned),
            error_code: self.error_code,
        }
    }
}
