//! Explaining an evaluation: why a context gets what it gets for one flag.
//!
//! [`CompiledSnapshot::explain`] walks the evaluation order again, step by
//! step, over the same compiled snapshot and with the same compiled clauses
//! as [`CompiledSnapshot::evaluate`], and records every step it takes: the
//! disabled check, each prerequisite, the individual targets, each rule up to
//! the one that decided (its clauses in the order they were *written*, not
//! the cheapest-first order evaluation uses), how each segment decided, and
//! the bucket of a rollout. It allocates freely and is slower than
//! `evaluate`.
//!
//! It leaves evaluation as it was, code and data. The clauses as written
//! are kept apart from everything evaluation reads
//! ([`crate::compile::Written`]). And explain gives none of the functions
//! evaluation inlines a second caller: one more caller of `Lookups::get`,
//! `serve` or `CompiledClause::matches` in the same codegen unit changes how
//! the compiler inlines them into `evaluate`. Explain computes clause
//! results through [`CompiledClause::explain_result`], which is never
//! inlined, evaluates prerequisites through the public `evaluate`, and
//! repeats the few lines of attribute lookup, bucket rendering, serving and
//! prerequisite logic it needs. `engine/tests/explain.rs` and a proptest
//! prove that explain's result is always `evaluate`'s.

use serde::{Deserialize, Serialize};
use vexil_proto::{AttributeValue, Context, ErrorCode, EvaluationResult, Operator, Reason, Scalar};

use crate::attribute::{AttrName, Lookups};
use crate::bucket;
use crate::compile::{CompiledFlag, CompiledServe, CompiledSnapshot, FlagBody};
use crate::evaluation::Evaluation;
use crate::matcher::{CompiledClause, CompiledSegment, WrittenClauses};

/// Why a context gets what it gets for one flag: the result, exactly as
/// [`CompiledSnapshot::evaluate`] returns it, and the steps that led to it.
///
/// Every field is always present in JSON (`null` or `[]` when a step was
/// not reached), so clients can rely on one shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// What `evaluate` returns for this flag and context, owned.
    pub result: EvaluationResult,
    /// The step of the evaluation order that decided.
    pub decided_by: Step,
    /// Why the flag failed to compile (with [`Step::CompileFailed`]; a flag
    /// can have more than one problem, such as a duplicate key as well).
    pub compile_errors: Vec<String>,
    /// Whether the flag is enabled in this environment; `None` when the flag
    /// does not exist or failed to compile.
    pub enabled: Option<bool>,
    /// The prerequisites checked, in order, up to the first that did not hold.
    pub prerequisites: Vec<PrerequisiteExplanation>,
    /// The individual-target check; `None` when not reached.
    pub target: Option<TargetExplanation>,
    /// The rules evaluated, in order, up to the one that matched (all of
    /// them when none did); empty when not reached.
    pub rules: Vec<RuleExplanation>,
    /// The rollout that served (the matching rule's or `default_serve`);
    /// `None` when a fixed variant served or no serve was reached.
    pub rollout: Option<RolloutExplanation>,
}

/// The step of the evaluation order (`docs/evaluation.md`) that decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The snapshot has no flag with that key (`FLAG_NOT_FOUND`).
    FlagNotFound,
    /// The flag failed to compile (`PARSE_ERROR`); see `compile_errors`.
    CompileFailed,
    /// The flag is disabled: `off_variant`.
    Disabled,
    /// A prerequisite did not hold: `off_variant`; it is the last of `prerequisites`.
    Prerequisite,
    /// An individual target named the context key.
    Target,
    /// A rule matched; it is the last of `rules`.
    Rule,
    /// No target and no rule: `default_serve`.
    Default,
}

/// One prerequisite, as checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrerequisiteExplanation {
    /// The prerequisite flag's key.
    pub flag: String,
    /// The variant it must serve.
    pub variant: String,
    /// Whether it held: the flag exists, is enabled and served `variant`.
    pub held: bool,
    /// What the prerequisite flag itself evaluated to for this context
    /// (`ERROR`/`FLAG_NOT_FOUND` when the snapshot does not have it).
    pub served: EvaluationResult,
}

/// The individual-target check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetExplanation {
    /// Whether a target names the context key.
    pub matched: bool,
    /// The variant of the target that named it.
    pub variant: Option<String>,
}

/// One rule (of a flag, or of a segment), as evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleExplanation {
    /// Zero-based position of the rule.
    pub index: usize,
    /// The rule's id (segment rules may have an empty one).
    pub id: String,
    /// Whether every clause matched (an empty clause list matches everyone).
    pub matched: bool,
    /// When the rule did not match: the index of the clause that decided, the
    /// first one that failed in written order (evaluation may have tried the
    /// clauses in another order; the result is the same).
    pub failed_clause: Option<usize>,
    /// Every clause of the rule, in written order, each with its result.
    pub clauses: Vec<ClauseExplanation>,
}

/// One clause, as written, with its result for this context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClauseExplanation {
    /// Zero-based position of the clause in its rule, as written.
    pub index: usize,
    /// The attribute the clause reads (`key` and `kind` are the context's own).
    pub attribute: String,
    /// The operator.
    pub op: Operator,
    /// The clause's values (segment keys for `in_segment`).
    pub values: Vec<Scalar>,
    /// Whether the clause is negated.
    pub negate: bool,
    /// The context's value of `attribute`; `None` when it is missing (which
    /// makes the clause false, even negated, except for `exists` and
    /// `in_segment`, which do not compare the value).
    pub context_value: Option<AttributeValue>,
    /// The clause's result, `negate` applied.
    pub result: bool,
    /// For `in_segment`: how each named segment decided, in the order of
    /// `values`; empty for every other operator.
    pub segments: Vec<SegmentExplanation>,
}

/// How one segment decided whether the context is in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentExplanation {
    /// The segment's key.
    pub segment: String,
    /// Whether the context is in the segment.
    pub matched: bool,
    /// What decided it.
    pub decision: SegmentDecision,
    /// The segment's rules evaluated, in order, up to the one that matched;
    /// empty when the key was included or excluded.
    pub rules: Vec<RuleExplanation>,
}

/// What decided a segment: included keys, then excluded keys, then rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SegmentDecision {
    /// The context key is in the segment's `included` list: in.
    Included,
    /// The context key is in the segment's `excluded` list: out.
    Excluded,
    /// This rule of the segment matched: in.
    Rule {
        /// Zero-based position of the rule in the segment.
        index: usize,
        /// The rule's id.
        id: String,
    },
    /// No list named the key and no rule matched: out.
    NoMatch,
}

/// How a rollout placed the context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutExplanation {
    /// The attribute hashed (`key` unless the rollout says otherwise).
    pub bucket_by: String,
    /// The salt (the flag key unless the rollout says otherwise).
    pub salt: String,
    /// The context's value of `bucket_by`; `None` when missing.
    pub context_value: Option<AttributeValue>,
    /// The value as hashed: `murmur3("{salt}:{value}") mod 100000`. `None`
    /// when the context has no bucket value (missing, a list, or a
    /// non-finite number), so is in no bucket.
    pub value: Option<String>,
    /// The context's bucket, `0..100000`.
    pub bucket: Option<u32>,
    /// Every variant's range of buckets, in weight order.
    pub ranges: Vec<WeightRange>,
    /// The range the bucket fell in, which picked the variant.
    pub picked: Option<WeightRange>,
    /// When the context is in no bucket: the variant served instead (the
    /// rollout's `fallback`, or the flag's off variant).
    pub fallback: Option<String>,
}

/// A variant's share of a rollout, as cumulative bucket bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightRange {
    /// The variant served to buckets in the range.
    pub variant: String,
    /// First bucket of the range (inclusive).
    pub start: u32,
    /// End of the range (exclusive): the cumulative weight up to this variant.
    /// A variant of weight 0 has `start == end`.
    pub end: u32,
}

/// What explain records while it walks; [`Explanation`] without the result.
#[derive(Debug)]
struct Trace {
    decided_by: Step,
    compile_errors: Vec<String>,
    enabled: Option<bool>,
    prerequisites: Vec<PrerequisiteExplanation>,
    target: Option<TargetExplanation>,
    rules: Vec<RuleExplanation>,
    rollout: Option<RolloutExplanation>,
}

impl CompiledSnapshot {
    /// Explains why `ctx` gets what it gets for a flag: the same result as
    /// [`CompiledSnapshot::evaluate`] (in [`Explanation::result`]), and the
    /// steps that decided it. Allocates, and is slower than `evaluate`; meant
    /// for people (the explain API, the UI), not for serving. Never panics.
    pub fn explain(&self, flag_key: &str, ctx: &Context) -> Explanation {
        let mut lookups = Lookups::new(ctx);
        let mut trace = Trace {
            decided_by: Step::FlagNotFound,
            compile_errors: Vec::new(),
            enabled: None,
            prerequisites: Vec::new(),
            target: None,
            rules: Vec::new(),
            rollout: None,
        };
        let evaluation = match self.flag_index(flag_key) {
            Some(index) => self.explain_index(index, &mut lookups, &mut trace),
            None => Evaluation::error(ErrorCode::FlagNotFound),
        };
        Explanation {
            result: evaluation.to_result(flag_key),
            decided_by: trace.decided_by,
            compile_errors: trace.compile_errors,
            enabled: trace.enabled,
            prerequisites: trace.prerequisites,
            target: trace.target,
            rules: trace.rules,
            rollout: trace.rollout,
        }
    }

    /// `evaluate_index`, step by step, recording each step.
    fn explain_index<'a>(
        &'a self,
        index: usize,
        lookups: &mut Lookups<'_>,
        trace: &mut Trace,
    ) -> Evaluation<'a> {
        let Some(flag) = self.flags.get(index) else {
            trace.decided_by = Step::FlagNotFound;
            return Evaluation::error(ErrorCode::FlagNotFound);
        };
        let Some(body) = &flag.body else {
            trace.decided_by = Step::CompileFailed;
            trace.compile_errors = self
                .errors
                .iter()
                .filter(|error| *error.key == *flag.key)
                .map(|error| error.problem.clone())
                .collect();
            return Evaluation {
                kind: Some(flag.kind),
                ..Evaluation::error(ErrorCode::ParseError)
            };
        };
        trace.enabled = Some(body.enabled);
        if !body.enabled {
            trace.decided_by = Step::Disabled;
            return served(flag, body.off, Reason::Disabled);
        }
        for prerequisite in &body.prerequisites {
            // As `prerequisite_holds`. Evaluating the prerequisite from the
            // top rather than one level down changes nothing: compilation
            // rejects chains deeper than evaluation's depth guard allows.
            let served_by_it = self.evaluate(&prerequisite.flag, lookups.context());
            let held = prerequisite.required.is_some_and(|(flag_index, variant)| {
                let Some(required) = self.flags.get(flag_index) else {
                    return false;
                };
                let enabled = required.body.as_ref().is_some_and(|b| b.enabled);
                let expected = required.variants.get(variant).map(|v| &*v.key);
                enabled && expected.is_some() && served_by_it.variant == expected
            });
            trace.prerequisites.push(PrerequisiteExplanation {
                flag: prerequisite.flag.to_string(),
                variant: prerequisite.variant.to_string(),
                held,
                served: served_by_it.to_result(&prerequisite.flag),
            });
            if !held {
                trace.decided_by = Step::Prerequisite;
                return Evaluation {
                    prerequisite: Some(&prerequisite.flag),
                    ..served(flag, body.off, Reason::PrerequisiteFailed)
                };
            }
        }
        let target = body.targets.get(lookups.context().key.as_str()).copied();
        trace.target = Some(TargetExplanation {
            matched: target.is_some(),
            variant: target.and_then(|v| variant_key(flag, v)),
        });
        if let Some(variant) = target {
            trace.decided_by = Step::Target;
            return served(flag, variant, Reason::TargetingMatch);
        }
        let written = self.written.flags.get(index);
        for (rule_index, rule) in body.rules.iter().enumerate() {
            let as_written = written.and_then(|rules| rules.get(rule_index));
            let explained =
                self.explain_rule(rule_index, &rule.id, &rule.clauses, as_written, lookups);
            let matched = explained.matched;
            trace.rules.push(explained);
            if matched {
                trace.decided_by = Step::Rule;
                let (evaluation, rollout) =
                    explain_serve(flag, body, &rule.serve, lookups, Reason::TargetingMatch);
                trace.rollout = rollout;
                return Evaluation {
                    rule_index: Some(rule_index),
                    rule_id: Some(&rule.id),
                    ..evaluation
                };
            }
        }
        trace.decided_by = Step::Default;
        let (evaluation, rollout) =
            explain_serve(flag, body, &body.default_serve, lookups, Reason::Default);
        trace.rollout = rollout;
        evaluation
    }

    /// Evaluates every clause of a rule, in written order. The rule matches
    /// when all do: the same clauses evaluation ANDs, in another order.
    fn explain_rule(
        &self,
        index: usize,
        id: &str,
        compiled: &[CompiledClause],
        written: Option<&WrittenClauses>,
        lookups: &mut Lookups<'_>,
    ) -> RuleExplanation {
        let written = written.filter(|w| {
            w.clauses.len() == compiled.len() && is_permutation(&w.compiled_at, compiled.len())
        });
        let Some(written) = written else {
            // Cannot happen: compilation keeps every rule's clauses as
            // written. Decide with the compiled clauses alone.
            return RuleExplanation {
                index,
                id: id.to_owned(),
                matched: compiled.iter().all(|clause| clause.explain_result(lookups)),
                failed_clause: None,
                clauses: Vec::new(),
            };
        };
        let mut clauses = Vec::with_capacity(written.clauses.len());
        for (position, (source, &at)) in
            written.clauses.iter().zip(&written.compiled_at).enumerate()
        {
            let Some(clause) = compiled.get(at) else {
                continue; // checked above: every position exists
            };
            clauses.push(self.explain_clause(position, source, clause, lookups));
        }
        let failed_clause = clauses.iter().position(|clause| !clause.result);
        RuleExplanation {
            index,
            id: id.to_owned(),
            matched: failed_clause.is_none(),
            failed_clause,
            clauses,
        }
    }

    fn explain_clause(
        &self,
        index: usize,
        source: &vexil_proto::Clause,
        clause: &CompiledClause,
        lookups: &mut Lookups<'_>,
    ) -> ClauseExplanation {
        let result = clause.explain_result(lookups);
        let context_value = attribute_value(lookups.context(), clause.attribute());
        let segment_keys = source.values.iter().filter_map(Scalar::as_str);
        let segments = clause
            .segments()
            .iter()
            .zip(segment_keys)
            .map(|(segment, key)| self.explain_segment(key, segment, lookups))
            .collect();
        ClauseExplanation {
            index,
            attribute: source.attribute.clone(),
            op: source.op,
            values: source.values.clone(),
            negate: source.negate,
            context_value,
            result,
            segments,
        }
    }

    /// [`CompiledSegment::contains`], step by step.
    fn explain_segment(
        &self,
        key: &str,
        segment: &CompiledSegment,
        lookups: &mut Lookups<'_>,
    ) -> SegmentExplanation {
        let explained = |matched, decision, rules| SegmentExplanation {
            segment: key.to_owned(),
            matched,
            decision,
            rules,
        };
        let context_key = lookups.context().key.as_str();
        if segment.included.contains(context_key) {
            return explained(true, SegmentDecision::Included, Vec::new());
        }
        if segment.excluded.contains(context_key) {
            return explained(false, SegmentDecision::Excluded, Vec::new());
        }
        let written = self.written.segments.get(key);
        let mut rules = Vec::new();
        for (index, clauses) in segment.rules.iter().enumerate() {
            let as_written = written.and_then(|rules| rules.get(index));
            let id = as_written.map(|(id, _)| &**id).unwrap_or_default();
            let rule = self.explain_rule(index, id, clauses, as_written.map(|(_, w)| w), lookups);
            let matched = rule.matched;
            rules.push(rule);
            if matched {
                let decision = SegmentDecision::Rule {
                    index,
                    id: id.to_owned(),
                };
                return explained(true, decision, rules);
            }
        }
        explained(false, SegmentDecision::NoMatch, rules)
    }
}

/// `evaluate.rs`'s `serve`, explained: what a serve gives, and for a
/// rollout, the bucket and the range that picked the variant.
fn explain_serve<'a>(
    flag: &'a CompiledFlag,
    body: &FlagBody,
    serve: &CompiledServe,
    lookups: &mut Lookups<'_>,
    fixed_reason: Reason,
) -> (Evaluation<'a>, Option<RolloutExplanation>) {
    let rollout = match serve {
        CompiledServe::Variant(variant) => return (served(flag, *variant, fixed_reason), None),
        CompiledServe::Rollout(rollout) => rollout,
    };
    let attribute = attribute_value(lookups.context(), &rollout.bucket_by);
    let hashed = attribute.as_ref().and_then(bucket_value).map(|value| {
        let bucket = bucket::bucket(&rollout.salt, &value);
        (value, bucket)
    });
    let mut start = 0;
    let ranges: Vec<WeightRange> = rollout
        .cumulative
        .iter()
        .map(|&(end, variant)| {
            let range = WeightRange {
                variant: variant_key(flag, variant).unwrap_or_default(),
                start,
                end,
            };
            start = end;
            range
        })
        .collect();
    let bucket = hashed.as_ref().map(|&(_, bucket)| bucket);
    let picked = bucket.and_then(|b| ranges.iter().find(|range| range.end > b).cloned());
    let (evaluation, fallback) = match bucket {
        None => (
            served(flag, rollout.fallback, Reason::Default),
            variant_key(flag, rollout.fallback),
        ),
        Some(bucket) => {
            let picked = rollout.cumulative.iter().find(|(upper, _)| *upper > bucket);
            let evaluation = match picked {
                Some(&(_, variant)) => Evaluation {
                    bucket: Some(bucket),
                    ..served(flag, variant, Reason::Split)
                },
                // Unreachable after compilation checked the weights sum; fail safe.
                None => served(flag, body.off, Reason::Default),
            };
            (evaluation, None)
        }
    };
    let explanation = RolloutExplanation {
        bucket_by: match &rollout.bucket_by {
            AttrName::Key => "key".to_owned(),
            AttrName::Kind => "kind".to_owned(),
            AttrName::Named { name, .. } => name.to_string(),
        },
        salt: rollout.salt.to_string(),
        context_value: attribute,
        value: hashed.map(|(value, _)| value),
        bucket,
        ranges,
        picked,
        fallback,
    };
    (evaluation, Some(explanation))
}

/// `evaluate.rs`'s `served`, repeated (see the module's documentation).
fn served(flag: &CompiledFlag, variant: usize, reason: Reason) -> Evaluation<'_> {
    match flag.variants.get(variant) {
        Some(v) => Evaluation {
            value: Some(&v.value),
            variant: Some(&v.key),
            reason,
            rule_index: None,
            rule_id: None,
            bucket: None,
            prerequisite: None,
            error_code: None,
            kind: Some(flag.kind),
        },
        None => Evaluation::error(ErrorCode::General),
    }
}

fn variant_key(flag: &CompiledFlag, variant: usize) -> Option<String> {
    flag.variants.get(variant).map(|v| v.key.to_string())
}

/// `Lookups::get`, uncached and owned: the attribute `name` of `ctx`.
fn attribute_value(ctx: &Context, name: &AttrName) -> Option<AttributeValue> {
    let string = |s: &str| AttributeValue::Scalar(Scalar::String(s.to_owned()));
    match name {
        AttrName::Key => Some(string(&ctx.key)),
        AttrName::Kind => ctx.kind.as_deref().map(string),
        AttrName::Named { name, .. } => ctx.attributes.get(&**name).cloned(),
    }
}

/// `AttrRef::with_bucket_value`, allocating: an attribute rendered for
/// bucketing (strings as they are, booleans as `true`/`false`, finite
/// numbers in shortest form without a decimal point when integral, `-0` as
/// `0`); `None` for lists and non-finite numbers, which are in no bucket.
fn bucket_value(attribute: &AttributeValue) -> Option<String> {
    match attribute {
        AttributeValue::List(_) => None,
        AttributeValue::Scalar(Scalar::String(s)) => Some(s.clone()),
        AttributeValue::Scalar(Scalar::Bool(b)) => Some(b.to_string()),
        AttributeValue::Scalar(Scalar::Number(n)) if n.is_finite() => Some((n + 0.0).to_string()),
        AttributeValue::Scalar(Scalar::Number(_)) => None,
    }
}

/// Whether `positions` holds each of `0..len` exactly once.
fn is_permutation(positions: &[usize], len: usize) -> bool {
    let mut seen = vec![false; len];
    positions.len() == len
        && positions.iter().all(|&p| match seen.get_mut(p) {
            Some(slot) if !*slot => {
                *slot = true;
                true
            }
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutations() {
        assert!(is_permutation(&[], 0));
        assert!(is_permutation(&[2, 0, 1], 3));
        assert!(!is_permutation(&[0, 0, 1], 3));
        assert!(!is_permutation(&[0, 1], 3));
        assert!(!is_permutation(&[0, 1, 3], 3));
    }
}
