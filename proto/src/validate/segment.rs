//! Segments: key, name, included/excluded keys, and rules without
//! `in_segment` (so segments never refer to each other).

use std::collections::HashMap;

use super::ValidationErrors;
use super::clause::{Segments, check_clauses};
use super::config::check_rule_id;
use super::path::{Path, Problems, check_count, check_key, check_len, check_name};
use crate::limits::{MAX_RULES, MAX_SEGMENT_KEYS, MAX_TEXT_LEN, MAX_VALUE_LEN};
use crate::segment::Segment;

/// Checks a segment document: key syntax, name, at most [`MAX_SEGMENT_KEYS`]
/// included and excluded keys together (each non-empty and at most
/// [`MAX_VALUE_LEN`] bytes), at most [`MAX_RULES`] rules with unique ids, and
/// clauses as in flag rules except that `in_segment` is not allowed.
pub fn validate_segment(segment: &Segment) -> Result<(), ValidationErrors> {
    let mut problems = Problems::default();
    check_segment(&mut problems, &Path::ROOT, segment);
    problems.finish()
}

/// Shared with snapshot validation, where `path` is `/segments/2`.
pub(super) fn check_segment(problems: &mut Problems, path: &Path<'_>, segment: &Segment) {
    check_key(problems, &path.field("key"), &segment.key);
    check_name(problems, &path.field("name"), &segment.name);
    check_len(
        problems,
        &path.field("description"),
        &segment.description,
        MAX_TEXT_LEN,
    );

    let included_path = path.field("included");
    let excluded_path = path.field("excluded");
    let total = segment
        .included
        .len()
        .saturating_add(segment.excluded.len());
    if total > MAX_SEGMENT_KEYS {
        let at = if segment.included.len() > MAX_SEGMENT_KEYS {
            &included_path
        } else {
            &excluded_path
        };
        problems.add(
            at,
            format!(
                "included and excluded hold {total} keys together; the limit is {MAX_SEGMENT_KEYS}"
            ),
        );
    }
    let mut budget = MAX_SEGMENT_KEYS;
    for (list_path, keys) in [
        (&included_path, &segment.included),
        (&excluded_path, &segment.excluded),
    ] {
        for (i, key) in keys.iter().take(budget).enumerate() {
            check_context_key(problems, &list_path.index(i), key);
        }
        budget = budget.saturating_sub(keys.len());
    }

    let rules_path = path.field("rules");
    check_count(
        problems,
        &rules_path,
        segment.rules.len(),
        MAX_RULES,
        "rules",
    );
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, rule) in segment.rules.iter().take(MAX_RULES).enumerate() {
        let rule_path = rules_path.index(i);
        // Segment rule ids are optional; the ones given must be unique.
        if !rule.id.is_empty() {
            check_rule_id(problems, &rules_path, &mut ids, i, &rule.id);
        }
        check_clauses(
            problems,
            &rule_path.field("clauses"),
            &rule.clauses,
            Segments::NotAllowed,
        );
    }
}

/// A context key in a target or a segment list: non-empty, bounded.
pub(super) fn check_context_key(problems: &mut Problems, path: &Path<'_>, key: &str) {
    if key.is_empty() {
        problems.add(path, "a context key must not be empty");
    } else {
        check_len(problems, path, key, MAX_VALUE_LEN);
    }
}
