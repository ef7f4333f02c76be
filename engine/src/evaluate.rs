//! The evaluation order over a compiled snapshot: disabled, prerequisites,
//! individual targets, rules, default (see `docs/evaluation.md`).

use vexil_proto::limits::MAX_PREREQUISITE_DEPTH;
use vexil_proto::{Context, ErrorCode, Reason};

use crate::attribute::Lookups;
use crate::bucket;
use crate::compile::{CompiledFlag, CompiledServe, CompiledSnapshot, FlagBody};
use crate::evaluation::Evaluation;

impl CompiledSnapshot {
    /// Evaluates one flag for a context. Allocates nothing; never panics.
    pub fn evaluate<'a>(&'a self, flag_key: &str, ctx: &Context) -> Evaluation<'a> {
        match self.flag_index(flag_key) {
            Some(index) => self.evaluate_index(index, &mut Lookups::new(ctx), 0),
            None => Evaluation::error(ErrorCode::FlagNotFound),
        }
    }

    /// Evaluates the flag at `index` in snapshot order (the order of
    /// [`CompiledSnapshot::flag_keys`]), for callers that resolved the key
    /// once, such as the WASM build's fast path. An index past the end is
    /// `FLAG_NOT_FOUND`.
    pub fn evaluate_at<'a>(&'a self, index: usize, ctx: &Context) -> Evaluation<'a> {
        self.evaluate_index(index, &mut Lookups::new(ctx), 0)
    }

    /// Evaluates every flag for a context, in snapshot order. Each attribute
    /// is looked up once for all flags.
    pub fn evaluate_all<'a>(&'a self, ctx: &Context) -> Vec<(&'a str, Evaluation<'a>)> {
        let mut lookups = Lookups::new(ctx);
        let mut all = Vec::with_capacity(self.flags.len());
        for (i, flag) in self.flags.iter().enumerate() {
            all.push((&*flag.key, self.evaluate_index(i, &mut lookups, 0)));
        }
        all
    }

    fn evaluate_index<'a>(
        &'a self,
        index: usize,
        lookups: &mut Lookups<'_>,
        depth: usize,
    ) -> Evaluation<'a> {
        let Some(flag) = self.flags.get(index) else {
            return Evaluation::error(ErrorCode::FlagNotFound);
        };
        let Some(body) = &flag.body else {
            return Evaluation {
                kind: Some(flag.kind),
                ..Evaluation::error(ErrorCode::ParseError)
            };
        };
        if !body.enabled {
            return served(flag, body.off, Reason::Disabled);
        }
        for prerequisite in &body.prerequisites {
            let holds = depth < MAX_PREREQUISITE_DEPTH
                && prerequisite.required.is_some_and(|(flag_index, variant)| {
                    self.prerequisite_holds(flag_index, variant, lookups, depth + 1)
                });
            if !holds {
                return Evaluation {
                    prerequisite: Some(&prerequisite.flag),
                    ..served(flag, body.off, Reason::PrerequisiteFailed)
                };
            }
        }
        if let Some(&variant) = body.targets.get(lookups.context().key.as_str()) {
            return served(flag, variant, Reason::TargetingMatch);
        }
        for (rule_index, rule) in body.rules.iter().enumerate() {
            if rule.clauses.iter().all(|clause| clause.matches(lookups)) {
                return Evaluation {
                    rule_index: Some(rule_index),
                    rule_id: Some(&rule.id),
                    ..serve(flag, body, &rule.serve, lookups, Reason::TargetingMatch)
                };
            }
        }
        serve(flag, body, &body.default_serve, lookups, Reason::Default)
    }

    fn prerequisite_holds(
        &self,
        index: usize,
        variant: usize,
        lookups: &mut Lookups<'_>,
        depth: usize,
    ) -> bool {
        let Some(flag) = self.flags.get(index) else {
            return false;
        };
        let enabled = flag.body.as_ref().is_some_and(|b| b.enabled);
        let expected = flag.variants.get(variant).map(|v| &*v.key);
        enabled
            && expected.is_some()
            && self.evaluate_index(index, lookups, depth).variant == expected
    }
}

/// `fixed_reason` is the reason when `serve` is a fixed variant; a rollout
/// gives `SPLIT`, or `DEFAULT` with the fallback when the context is in no bucket.
fn serve<'a>(
    flag: &'a CompiledFlag,
    body: &FlagBody,
    serve: &CompiledServe,
    lookups: &mut Lookups<'_>,
    fixed_reason: Reason,
) -> Evaluation<'a> {
    let rollout = match serve {
        CompiledServe::Variant(variant) => return served(flag, *variant, fixed_reason),
        CompiledServe::Rollout(rollout) => rollout,
    };
    let bucket = lookups
        .get(&rollout.bucket_by)
        .and_then(|attr| attr.with_bucket_value(|value| bucket::bucket(&rollout.salt, value)));
    let Some(bucket) = bucket else {
        return served(flag, rollout.fallback, Reason::Default);
    };
    let picked = rollout.cumulative.iter().find(|(upper, _)| *upper > bucket);
    match picked {
        Some(&(_, variant)) => Evaluation {
            bucket: Some(bucket),
            ..served(flag, variant, Reason::Split)
        },
        // Unreachable after compilation checked the weights sum; fail safe.
        None => served(flag, body.off, Reason::Default),
    }
}

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
