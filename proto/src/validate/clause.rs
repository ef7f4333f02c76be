//! Clauses: the attribute, and the values each operator accepts. Shared by
//! flag rules and segment rules; the values accepted here are exactly those
//! the engine compiles, as both parse through [`crate::operand`].

use super::path::{Path, Problems, check_count, check_len, quote};
use super::refs::References;
use crate::clause::{Clause, Operator, Scalar};
use crate::limits::{MAX_ATTRIBUTE_LEN, MAX_CLAUSE_VALUES, MAX_CLAUSES, MAX_VALUE_LEN};
use crate::operand::{compile_regex, parse_date, parse_semver};

/// Where the clauses live: flag rules may use `in_segment` (checked against
/// the project's segments); segment rules may not.
#[derive(Clone, Copy)]
pub(super) enum Segments<'r> {
    Allowed(&'r dyn References),
    NotAllowed,
}

/// A rule's clauses; `path` is the `clauses` array.
pub(super) fn check_clauses(
    problems: &mut Problems,
    path: &Path<'_>,
    clauses: &[Clause],
    segments: Segments<'_>,
) {
    check_count(problems, path, clauses.len(), MAX_CLAUSES, "clauses");
    for (i, clause) in clauses.iter().take(MAX_CLAUSES).enumerate() {
        check_clause(problems, &path.index(i), clause, segments);
    }
}

fn check_clause(problems: &mut Problems, path: &Path<'_>, clause: &Clause, segments: Segments<'_>) {
    let op = clause.op;
    let attribute_path = path.field("attribute");
    // `in_segment` ignores its attribute, so it may be left empty.
    if clause.attribute.is_empty() && op != Operator::InSegment {
        problems.add(
            &attribute_path,
            "must not be empty: name a context attribute, or \"key\" for the targeting key",
        );
    }
    check_len(
        problems,
        &attribute_path,
        &clause.attribute,
        MAX_ATTRIBUTE_LEN,
    );

    let values_path = path.field("values");
    let refs = match (op, segments) {
        (Operator::Exists, _) => {
            if !clause.values.is_empty() {
                problems.add(&values_path, "\"exists\" takes no values; remove them");
            }
            return;
        }
        (Operator::InSegment, Segments::NotAllowed) => {
            problems.add(
                &path.field("op"),
                "\"in_segment\" is not allowed inside a segment",
            );
            return;
        }
        (_, Segments::Allowed(refs)) => Some(refs),
        (_, Segments::NotAllowed) => None,
    };
    if clause.values.is_empty() {
        problems.add(&values_path, format!("\"{op}\" needs at least one value"));
        return;
    }
    check_count(
        problems,
        &values_path,
        clause.values.len(),
        MAX_CLAUSE_VALUES,
        "values",
    );
    for (i, value) in clause.values.iter().take(MAX_CLAUSE_VALUES).enumerate() {
        if let Some(problem) = value_problem(op, value, refs) {
            problems.add(&values_path.index(i), problem);
        }
    }
}

/// What is wrong with one value of a clause with operator `op`, if anything.
fn value_problem(op: Operator, value: &Scalar, refs: Option<&dyn References>) -> Option<String> {
    if let Scalar::Number(n) = value
        && !n.is_finite()
    {
        return Some("numbers must be finite".to_owned());
    }
    if let Scalar::String(s) = value {
        // `matches` has its own, shorter limit, checked by `compile_regex`.
        if op != Operator::Matches && s.len() > MAX_VALUE_LEN {
            return Some(format!(
                "is {} bytes long; the limit is {MAX_VALUE_LEN}",
                s.len()
            ));
        }
    }
    match (op, value) {
        (Operator::In, _) => None,
        (Operator::Contains | Operator::StartsWith | Operator::EndsWith, Scalar::String(_)) => None,
        (Operator::Contains | Operator::StartsWith | Operator::EndsWith, other) => Some(format!(
            "\"{op}\" compares strings; got {}",
            describe(other)
        )),
        (Operator::Matches, Scalar::String(pattern)) => compile_regex(pattern).err(),
        (Operator::Matches, other) => Some(format!(
            "\"matches\" takes regular expressions as strings; got {}",
            describe(other)
        )),
        (
            Operator::Eq | Operator::Lt | Operator::Lte | Operator::Gt | Operator::Gte,
            Scalar::Number(_),
        ) => None,
        (Operator::Eq | Operator::Lt | Operator::Lte | Operator::Gt | Operator::Gte, other) => {
            Some(format!(
                "\"{op}\" compares numbers; got {}",
                describe(other)
            ))
        }
        (Operator::SemverEq | Operator::SemverLt | Operator::SemverGt, Scalar::String(s)) => {
            parse_semver(s).is_none().then(|| {
                format!(
                    "{} is not a semantic version (like 1.2.3 or 2.0.0-beta.1)",
                    quote(s)
                )
            })
        }
        (Operator::SemverEq | Operator::SemverLt | Operator::SemverGt, other) => Some(format!(
            "\"{op}\" compares semantic versions, written as strings; got {}",
            describe(other)
        )),
        (Operator::Before | Operator::After, Scalar::String(s)) => {
            parse_date(value).is_none().then(|| {
                format!(
                    "{} is not an RFC 3339 date-time (like 2026-01-31T09:00:00Z)",
                    quote(s)
                )
            })
        }
        (Operator::Before | Operator::After, Scalar::Number(_)) => None,
        (Operator::Before | Operator::After, other) => Some(format!(
            "\"{op}\" compares dates: RFC 3339 strings or epoch milliseconds; got {}",
            describe(other)
        )),
        (Operator::InSegment, Scalar::String(key)) => match refs {
            Some(refs) if refs.segment_exists(key) => None,
            _ => Some(format!("segment {} does not exist", quote(key))),
        },
        (Operator::InSegment, other) => Some(format!(
            "\"in_segment\" takes segment keys; got {}",
            describe(other)
        )),
        (Operator::Exists, _) => Some("\"exists\" takes no values".to_owned()),
    }
}

/// A value with its type, for messages: `the string "5"`.
fn describe(value: &Scalar) -> String {
    match value {
        Scalar::String(s) => format!("the string {}", quote(s)),
        Scalar::Number(n) => format!("the number {n}"),
        Scalar::Bool(b) => format!("the boolean {b}"),
    }
}
