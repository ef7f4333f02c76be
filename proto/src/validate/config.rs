//! A flag's config in one environment: every variant it names exists, rules
//! and targets stay within their limits, rollouts add up, and prerequisites
//! exist and form no cycle.

use std::collections::{HashMap, HashSet};

use super::ValidationErrors;
use super::clause::{Segments, check_clauses};
use super::path::{Path, Problems, check_count, check_len, quote, quote_list};
use super::refs::{References, check_prerequisite_graph};
use super::segment::check_context_key;
use crate::flag::{FlagConfig, Prerequisite, Rollout, Serve, Target, Variant};
use crate::limits::{
    MAX_ATTRIBUTE_LEN, MAX_PREREQUISITES, MAX_RULES, MAX_TARGET_KEYS, MAX_TEXT_LEN, MAX_VARIANTS,
    TOTAL_WEIGHT,
};

/// Checks the config of flag `flag_key` (whose variants are `variants`) in
/// one environment, against the rest of that environment in `refs`. Paths
/// are relative to the config document, such as `/rules/1/clauses/0/values/3`.
///
/// Every variant named (`off_variant`, targets, serves, rollout weights and
/// fallbacks) must exist; rules need unique ids; targets, rules, clauses,
/// values and prerequisites stay within [`crate::limits`]; a rollout names
/// each variant once, with weights summing to [`TOTAL_WEIGHT`], and uses
/// algorithm 1; clause values suit their operator (see `clause`); each
/// prerequisite is another existing flag and one of its variants, listed
/// once, and following prerequisites never comes back to this flag nor goes
/// deeper than [`MAX_PREREQUISITE_DEPTH`](crate::limits::MAX_PREREQUISITE_DEPTH).
pub fn validate_flag_config(
    flag_key: &str,
    variants: &[Variant],
    config: &FlagConfig,
    refs: &dyn References,
) -> Result<(), ValidationErrors> {
    let mut problems = Problems::default();
    check_config(&mut problems, &Path::ROOT, flag_key, variants, config, refs);
    problems.finish()
}

/// Shared with snapshot validation, where `path` is `/flags/3/config`.
pub(super) fn check_config(
    problems: &mut Problems,
    path: &Path<'_>,
    flag_key: &str,
    variants: &[Variant],
    config: &FlagConfig,
    refs: &dyn References,
) {
    let variants = Variants::new(variants);
    variants.check(problems, &path.field("off_variant"), &config.off_variant);
    check_targets(problems, &path.field("targets"), &config.targets, &variants);
    check_rules(problems, &path.field("rules"), config, &variants, refs);
    check_serve(
        problems,
        &path.field("default_serve"),
        &config.default_serve,
        &variants,
    );
    check_prerequisites(problems, path, flag_key, &config.prerequisites, refs);
}

/// The flag's variant keys, to check references against.
struct Variants<'a> {
    keys: HashSet<&'a str>,
    ordered: &'a [Variant],
}

impl<'a> Variants<'a> {
    fn new(ordered: &'a [Variant]) -> Self {
        Variants {
            keys: ordered.iter().map(|v| v.key.as_str()).collect(),
            ordered,
        }
    }

    fn check(&self, problems: &mut Problems, path: &Path<'_>, key: &str) {
        if self.keys.contains(key) {
            return;
        }
        let known = if self.ordered.is_empty() {
            "the flag has no variants".to_owned()
        } else {
            let keys = quote_list(self.ordered.iter().map(|v| v.key.as_str()));
            format!("the flag's variants are {keys}")
        };
        problems.add(
            path,
            format!("variant {} does not exist; {known}", quote(key)),
        );
    }
}

/// Targets: one per variant, at most [`MAX_TARGET_KEYS`] keys in all, and a
/// context key targeted once (two targets for one key would be ambiguous).
fn check_targets(
    problems: &mut Problems,
    path: &Path<'_>,
    targets: &[Target],
    variants: &Variants<'_>,
) {
    let total = targets
        .iter()
        .fold(0usize, |n, t| n.saturating_add(t.values.len()));
    if total > MAX_TARGET_KEYS {
        problems.add(
            path,
            format!("targets hold {total} context keys in all; the limit is {MAX_TARGET_KEYS}"),
        );
    }
    let mut by_variant: HashMap<&str, usize> = HashMap::new();
    let mut by_key: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut budget = MAX_TARGET_KEYS;
    for (t, target) in targets.iter().take(MAX_TARGET_KEYS).enumerate() {
        let target_path = path.index(t);
        let variant_path = target_path.field("variant");
        variants.check(problems, &variant_path, &target.variant);
        if let Some(first) = by_variant.insert(&target.variant, t) {
            let first_path = path.index(first);
            problems.add(
                &variant_path,
                format!(
                    "variant {} already has a target at {}; add these keys there",
                    quote(&target.variant),
                    first_path.render()
                ),
            );
        }
        let values_path = target_path.field("values");
        for (k, key) in target.values.iter().take(budget).enumerate() {
            let key_path = values_path.index(k);
            check_context_key(problems, &key_path, key);
            if let Some((first_t, first_k)) = by_key.insert(key, (t, k)) {
                let first_target = path.index(first_t);
                let first_values = first_target.field("values");
                let first_path = first_values.index(first_k);
                problems.add(
                    &key_path,
                    format!(
                        "context key {} is already targeted at {}",
                        quote(key),
                        first_path.render()
                    ),
                );
            }
        }
        budget = budget.saturating_sub(target.values.len());
    }
}

/// A rule id within [`MAX_TEXT_LEN`] and not used by an earlier rule of the
/// same list (`ids` remembers where each id was first seen). Shared by flag
/// configs and segments.
pub(super) fn check_rule_id<'a>(
    problems: &mut Problems,
    rules_path: &Path<'_>,
    ids: &mut HashMap<&'a str, usize>,
    index: usize,
    id: &'a str,
) {
    let rule_path = rules_path.index(index);
    let id_path = rule_path.field("id");
    check_len(problems, &id_path, id, MAX_TEXT_LEN);
    if let Some(first) = ids.insert(id, index) {
        problems.add(
            &id_path,
            format!(
                "rule id {} is already used at {}",
                quote(id),
                rules_path.index(first).render()
            ),
        );
    }
}

/// Rules: at most [`MAX_RULES`], unique non-empty ids, clauses, serve.
fn check_rules(
    problems: &mut Problems,
    path: &Path<'_>,
    config: &FlagConfig,
    variants: &Variants<'_>,
    refs: &dyn References,
) {
    check_count(problems, path, config.rules.len(), MAX_RULES, "rules");
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, rule) in config.rules.iter().take(MAX_RULES).enumerate() {
        let rule_path = path.index(i);
        let id_path = rule_path.field("id");
        if rule.id.trim().is_empty() {
            problems.add(
                &id_path,
                "a rule needs an id, so reasons and metrics can name it",
            );
        } else {
            check_rule_id(problems, path, &mut ids, i, &rule.id);
        }
        check_len(
            problems,
            &rule_path.field("description"),
            &rule.description,
            MAX_TEXT_LEN,
        );
        check_clauses(
            problems,
            &rule_path.field("clauses"),
            &rule.clauses,
            Segments::Allowed(refs),
        );
        check_serve(problems, &rule_path.field("serve"), &rule.serve, variants);
    }
}

/// A serve: `{"variant": ...}` or `{"rollout": {...}}`.
fn check_serve(problems: &mut Problems, path: &Path<'_>, serve: &Serve, variants: &Variants<'_>) {
    match serve {
        Serve::Variant(key) => variants.check(problems, &path.field("variant"), key),
        Serve::Rollout(rollout) => {
            check_rollout(problems, &path.field("rollout"), rollout, variants)
        }
    }
}

fn check_rollout(
    problems: &mut Problems,
    path: &Path<'_>,
    rollout: &Rollout,
    variants: &Variants<'_>,
) {
    if let Some(bucket_by) = &rollout.bucket_by {
        let bucket_path = path.field("bucket_by");
        if bucket_by.is_empty() {
            problems.add(
                &bucket_path,
                "must not be empty; leave it out to bucket by the context key",
            );
        }
        check_len(problems, &bucket_path, bucket_by, MAX_ATTRIBUTE_LEN);
    }
    if let Some(salt) = &rollout.salt {
        check_len(problems, &path.field("salt"), salt, MAX_TEXT_LEN);
    }
    let weights_path = path.field("weights");
    if rollout.weights.is_empty() {
        problems.add(
            &weights_path,
            "a rollout needs at least one variant with a weight",
        );
    } else {
        check_count(
            problems,
            &weights_path,
            rollout.weights.len(),
            MAX_VARIANTS,
            "weights",
        );
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, weighted) in rollout.weights.iter().take(MAX_VARIANTS).enumerate() {
            let weight_path = weights_path.index(i);
            let variant_path = weight_path.field("variant");
            variants.check(problems, &variant_path, &weighted.variant);
            if let Some(first) = seen.insert(&weighted.variant, i) {
                let first_path = weights_path.index(first);
                problems.add(
                    &variant_path,
                    format!(
                        "variant {} already has a weight at {}",
                        quote(&weighted.variant),
                        first_path.render()
                    ),
                );
            }
        }
        let sum: u64 = rollout.weights.iter().map(|w| u64::from(w.weight)).sum();
        if sum != u64::from(TOTAL_WEIGHT) {
            problems.add(
                &weights_path,
                format!("weights sum to {sum}; they must sum to {TOTAL_WEIGHT} (100 %)"),
            );
        }
    }
    if let Some(fallback) = &rollout.fallback {
        variants.check(problems, &path.field("fallback"), fallback);
    }
    if rollout.algorithm != 1 {
        problems.add(
            &path.field("algorithm"),
            format!(
                "unknown algorithm {}; the only algorithm is 1",
                rollout.algorithm
            ),
        );
    }
}

/// Prerequisites: at most [`MAX_PREREQUISITES`], each another existing flag
/// and one of its variants, each flag once; then cycles and depth.
fn check_prerequisites(
    problems: &mut Problems,
    config_path: &Path<'_>,
    flag_key: &str,
    prerequisites: &[Prerequisite],
    refs: &dyn References,
) {
    let path = config_path.field("prerequisites");
    check_count(
        problems,
        &path,
        prerequisites.len(),
        MAX_PREREQUISITES,
        "prerequisites",
    );
    let prerequisites = prerequisites
        .get(..MAX_PREREQUISITES)
        .unwrap_or(prerequisites);
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, prerequisite) in prerequisites.iter().enumerate() {
        let item_path = path.index(i);
        let flag_path = item_path.field("flag");
        if prerequisite.flag == flag_key {
            problems.add(&flag_path, "a flag cannot be its own prerequisite");
            continue;
        }
        if let Some(first) = seen.insert(&prerequisite.flag, i) {
            let first_path = path.index(first);
            problems.add(
                &flag_path,
                format!(
                    "flag {} is already a prerequisite at {}",
                    quote(&prerequisite.flag),
                    first_path.render()
                ),
            );
            continue;
        }
        match refs.flag_variants(&prerequisite.flag) {
            None => problems.add(
                &flag_path,
                format!("flag {} does not exist", quote(&prerequisite.flag)),
            ),
            Some(keys) if !keys.contains(&prerequisite.variant) => {
                let known = if keys.is_empty() {
                    "it has no variants".to_owned()
                } else {
                    format!(
                        "its variants are {}",
                        quote_list(keys.iter().map(String::as_str))
                    )
                };
                problems.add(
                    &item_path.field("variant"),
                    format!(
                        "flag {} has no variant {}; {known}",
                        quote(&prerequisite.flag),
                        quote(&prerequisite.variant)
                    ),
                );
            }
            Some(_) => {}
        }
    }
    check_prerequisite_graph(problems, config_path, flag_key, prerequisites, refs);
}
