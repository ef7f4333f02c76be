//! Size limits enforced by validation, so that one flag or segment cannot
//! exhaust the memory of the server or of an SDK. Each is far above what a
//! hand-written configuration needs; see `docs/decisions.md`.

/// Variants of one flag.
pub const MAX_VARIANTS: usize = 100;
/// Rules in one flag's environment config or one segment.
pub const MAX_RULES: usize = 1_000;
/// Clauses in one rule.
pub const MAX_CLAUSES: usize = 100;
/// Values in one clause (a 10 000-value `in` list is supported; this is ten times that).
pub const MAX_CLAUSE_VALUES: usize = 100_000;
/// Individual-target keys in one flag config, all variants together.
pub const MAX_TARGET_KEYS: usize = 100_000;
/// Keys in one segment's included plus excluded lists.
pub const MAX_SEGMENT_KEYS: usize = 100_000;
/// Prerequisites of one flag config.
pub const MAX_PREREQUISITES: usize = 50;
/// How deep a chain of prerequisites may go before evaluation stops following it.
pub const MAX_PREREQUISITE_DEPTH: usize = 10;
/// Length in bytes of an attribute name.
pub const MAX_ATTRIBUTE_LEN: usize = 256;
/// Length in bytes of one string value in a clause, a target or a segment.
pub const MAX_VALUE_LEN: usize = 4_096;
/// Length in bytes of a regular expression's source.
pub const MAX_REGEX_LEN: usize = 1_024;
/// Compiled size of a regular expression (bytes of the regex crate's program);
/// bounds patterns like `(a{100}){100}` that are short but expand enormously.
pub const MAX_REGEX_COMPILED_SIZE: usize = 256 * 1024;
/// Length in bytes of a rule id, a description, a name.
pub const MAX_TEXT_LEN: usize = 1_024;
/// Tags on a flag.
pub const MAX_TAGS: usize = 50;
/// Serialized size of one variant's JSON value.
pub const MAX_VARIANT_VALUE_BYTES: usize = 64 * 1024;
/// Sum of all rollout weights: 100 000 units of 0.001 %.
pub const TOTAL_WEIGHT: u32 = 100_000;
