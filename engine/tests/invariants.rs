//! Property tests of the engine's invariants: rollouts are stable when
//! raised, shares match weights, salts make flags independent, no
//! snapshot or context can make evaluation (or explain) panic, and explain
//! always returns what evaluation returns.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::json;
use vexil_engine::CompiledSnapshot;
use vexil_proto::{
    AttributeValue, Clause, Context, FlagConfig, FlagKind, Operator, Prerequisite, Rollout, Rule,
    Scalar, Segment, SegmentRule, Serve, Snapshot, SnapshotFlag, Target, Variant, WeightedVariant,
};

const KEYS: usize = 100_000;

fn weights(shares: &[(&str, u32)]) -> Vec<WeightedVariant> {
    shares
        .iter()
        .map(|(v, w)| WeightedVariant {
            variant: (*v).into(),
            weight: *w,
        })
        .collect()
}

fn rollout_flag(key: &str, salt: Option<&str>, shares: &[(&str, u32)]) -> SnapshotFlag {
    let variants = shares
        .iter()
        .map(|(v, _)| Variant::new(*v, json!(v)))
        .collect();
    SnapshotFlag {
        key: key.into(),
        kind: FlagKind::String,
        variants,
        config: FlagConfig {
            enabled: true,
            off_variant: shares[0].0.into(),
            targets: vec![],
            rules: vec![],
            default_serve: Serve::Rollout(Rollout {
                bucket_by: None,
                salt: salt.map(str::to_owned),
                weights: weights(shares),
                fallback: None,
                algorithm: 1,
            }),
            prerequisites: vec![],
            version: 1,
        },
    }
}

fn compile(flags: Vec<SnapshotFlag>) -> CompiledSnapshot {
    let compiled = CompiledSnapshot::compile(&Snapshot {
        environment: "test".into(),
        version: 1,
        flags,
        segments: vec![],
    });
    assert!(compiled.errors().is_empty(), "{:?}", compiled.errors());
    compiled
}

/// `count` distinct pseudo-random keys derived from `seed`.
fn keys(seed: u64, count: usize) -> Vec<Context> {
    (0..count)
        .map(|i| Context::new(format!("{seed:x}-{i}-{}", i.wrapping_mul(2_654_435_761))))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Raising a rollout from `low` to `high` keeps everyone who was in.
    #[test]
    fn raising_a_rollout_never_moves_anyone_out(key in ".{0,40}", salt in "[a-z-]{1,20}", low in 0u32..=100_000, raise in 0u32..=100_000) {
        let high = low.saturating_add(raise).min(100_000);
        let before = compile(vec![rollout_flag("f", Some(&salt), &[("on", low), ("off", 100_000 - low)])]);
        let after = compile(vec![rollout_flag("f", Some(&salt), &[("on", high), ("off", 100_000 - high)])]);
        let ctx = Context::new(key);
        if before.evaluate("f", &ctx).variant == Some("on") {
            prop_assert_eq!(after.evaluate("f", &ctx).variant, Some("on"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Over 100 000 random keys, each variant's share is within 1 % (absolute) of its weight.
    #[test]
    fn shares_match_weights(seed in any::<u64>(), a in 0u32..=100_000, b in 0u32..=100_000) {
        let (a, b) = (a.min(b), a.max(b));
        let shares = [("red", a), ("green", b - a), ("blue", 100_000 - b)];
        let compiled = compile(vec![rollout_flag("colour", None, &shares)]);
        let mut counts = [0usize; 3];
        for ctx in keys(seed, KEYS) {
            let variant = compiled.evaluate("colour", &ctx).variant;
            let index = shares.iter().position(|(v, _)| Some(*v) == variant).ok_or_else(|| TestCaseError::fail("no variant"))?;
            counts[index] += 1;
        }
        for ((name, weight), count) in shares.iter().zip(counts) {
            let expected = f64::from(*weight) / 100_000.0;
            let actual = count as f64 / KEYS as f64;
            prop_assert!((expected - actual).abs() < 0.01, "{name}: expected {expected}, got {actual}");
        }
    }

    /// Two flags with different salts bucket independently: the share of
    /// contexts "on" in both is the product of the shares.
    #[test]
    fn different_salts_are_independent(seed in any::<u64>(), p in 0u32..=100_000, q in 0u32..=100_000, salt in "[a-z]{1,12}") {
        let compiled = compile(vec![
            rollout_flag("first", None, &[("on", p), ("off", 100_000 - p)]),
            rollout_flag("second", Some(&salt), &[("on", q), ("off", 100_000 - q)]),
        ]);
        let both = keys(seed, KEYS)
            .iter()
            .filter(|ctx| compiled.evaluate("first", ctx).variant == Some("on") && compiled.evaluate("second", ctx).variant == Some("on"))
            .count();
        let expected = f64::from(p) / 100_000.0 * f64::from(q) / 100_000.0;
        let actual = both as f64 / KEYS as f64;
        prop_assert!((expected - actual).abs() < 0.01, "expected {expected}, got {actual}");
    }
}

// ---- arbitrary snapshots and contexts: evaluation never panics ----

const ATTRIBUTES: [&str; 6] = ["key", "kind", "region", "age", "tags", "version"];
const NAMES: [&str; 4] = ["a", "b", "on", "off"];

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        ".{0,12}".prop_map(Scalar::String),
        prop_oneof![
            Just("1.2.3".to_string()),
            Just("2026-11-22T00:00:00Z".to_string()),
            Just("(".to_string()),
            Just("^a.*$".to_string())
        ]
        .prop_map(Scalar::String),
        any::<f64>().prop_map(Scalar::Number),
        prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(-0.0), Just(1e308)]
            .prop_map(Scalar::Number),
        any::<bool>().prop_map(Scalar::Bool),
    ]
}

fn clause() -> impl Strategy<Value = Clause> {
    (
        prop::sample::select(ATTRIBUTES.to_vec()),
        prop::sample::select(Operator::ALL.to_vec()),
        prop::collection::vec(prop_oneof![scalar(), Just(Scalar::from("seg"))], 0..4),
        any::<bool>(),
    )
        .prop_map(|(attribute, op, values, negate)| Clause {
            attribute: attribute.into(),
            op,
            values,
            negate,
        })
}

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(NAMES.to_vec()).prop_map(str::to_owned)
}

fn serve() -> impl Strategy<Value = Serve> {
    prop_oneof![
        name().prop_map(Serve::Variant),
        (
            prop::option::of(prop::sample::select(ATTRIBUTES.to_vec())),
            prop::option::of(".{0,8}"),
            prop::collection::vec(
                (
                    name(),
                    prop_oneof![Just(50_000u32), Just(100_000u32), any::<u32>()]
                ),
                0..3
            ),
            prop::option::of(name()),
            prop_oneof![Just(1u32), Just(2u32)]
        )
            .prop_map(
                |(bucket_by, salt, weights, fallback, algorithm)| Serve::Rollout(Rollout {
                    bucket_by: bucket_by.map(str::to_owned),
                    salt,
                    weights: weights
                        .into_iter()
                        .map(|(variant, weight)| WeightedVariant { variant, weight })
                        .collect(),
                    fallback,
                    algorithm,
                })
            ),
    ]
}

fn flag(key: String) -> impl Strategy<Value = SnapshotFlag> {
    let rules = prop::collection::vec((prop::collection::vec(clause(), 0..4), serve()), 0..4);
    let prerequisites = prop::collection::vec(
        (prop::sample::select(vec!["f0", "f1", "f2", "f3"]), name()),
        0..3,
    );
    let targets = prop::collection::vec((name(), prop::collection::vec(".{0,6}", 0..3)), 0..2);
    (
        any::<bool>(),
        name(),
        rules,
        serve(),
        prerequisites,
        targets,
    )
        .prop_map(
            move |(enabled, off_variant, rules, default_serve, prerequisites, targets)| {
                SnapshotFlag {
                    key: key.clone(),
                    kind: FlagKind::Boolean,
                    variants: [Variant::boolean_pair(), vec![Variant::new("a", "a")]].concat(),
                    config: FlagConfig {
                        enabled,
                        off_variant,
                        targets: targets
                            .into_iter()
                            .map(|(variant, values)| Target { variant, values })
                            .collect(),
                        rules: rules
                            .into_iter()
                            .enumerate()
                            .map(|(i, (clauses, serve))| Rule {
                                id: format!("r{i}"),
                                description: String::new(),
                                clauses,
                                serve,
                            })
                            .collect(),
                        default_serve,
                        prerequisites: prerequisites
                            .into_iter()
                            .map(|(flag, variant)| Prerequisite {
                                flag: flag.into(),
                                variant,
                            })
                            .collect(),
                        version: 1,
                    },
                }
            },
        )
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    let flags = (
        flag("f0".into()),
        flag("f1".into()),
        flag("f2".into()),
        flag("f3".into()),
    );
    let segment = (
        prop::collection::vec(".{0,4}", 0..3),
        prop::collection::vec(".{0,4}", 0..3),
        prop::collection::vec(prop::collection::vec(clause(), 0..3), 0..3),
    )
        .prop_map(|(included, excluded, rules)| Segment {
            key: "seg".into(),
            name: "Segment".into(),
            description: String::new(),
            included,
            excluded,
            rules: rules
                .into_iter()
                .map(|clauses| SegmentRule {
                    id: String::new(),
                    clauses,
                })
                .collect(),
            version: 1,
        });
    (flags, prop::option::of(segment)).prop_map(|((a, b, c, d), segment)| Snapshot {
        environment: "fuzz".into(),
        version: 1,
        flags: vec![a, b, c, d],
        segments: segment.into_iter().collect(),
    })
}

fn context() -> impl Strategy<Value = Context> {
    let attribute = prop_oneof![
        scalar().prop_map(AttributeValue::Scalar),
        prop::collection::vec(scalar(), 0..3).prop_map(AttributeValue::List)
    ];
    (
        ".{0,6}",
        prop::option::of(".{0,4}"),
        prop::collection::hash_map(
            prop::sample::select(ATTRIBUTES.to_vec()).prop_map(str::to_owned),
            attribute,
            0..5,
        ),
    )
        .prop_map(|(key, kind, attributes)| Context {
            key,
            kind,
            attributes: attributes.into_iter().collect(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn evaluation_never_panics(snapshot in snapshot(), contexts in prop::collection::vec(context(), 1..4)) {
        let compiled = CompiledSnapshot::compile(&snapshot);
        for ctx in &contexts {
            let all = compiled.evaluate_all(ctx);
            prop_assert_eq!(all.len(), 4);
            for (key, evaluation) in all {
                prop_assert_eq!(compiled.evaluate(key, ctx), evaluation);
                // A result always has a value or an error, never neither.
                prop_assert!(evaluation.value.is_some() != evaluation.error_code.is_some());
            }
            prop_assert!(compiled.evaluate("missing", ctx).error_code.is_some());
        }
    }

    /// The clause memo changes no result: snapshots whose flags and segment
    /// draw their clauses from a small pool (so clauses repeat within rules,
    /// across rules and across flags) evaluate the same with and without it.
    #[test]
    fn the_clause_memo_changes_no_result(
        snapshot in snapshot(),
        pool in prop::collection::vec(clause(), 1..5),
        picks in prop::collection::vec(any::<usize>(), 16),
        contexts in prop::collection::vec(context(), 1..4),
    ) {
        let snapshot = with_pooled_clauses(snapshot, &pool, &picks);
        let memoized = CompiledSnapshot::compile(&snapshot);
        let plain = CompiledSnapshot::compile_without_memo(&snapshot);
        for ctx in &contexts {
            prop_assert_eq!(memoized.evaluate_all(ctx), plain.evaluate_all(ctx));
            for key in ["f0", "f1", "f2", "f3"] {
                prop_assert_eq!(memoized.evaluate(key, ctx), plain.evaluate(key, ctx));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// Explain never panics and its result is always `evaluate`'s, also
    /// when clauses repeat (and so use the memo) within and across flags.
    #[test]
    fn explain_agrees_with_evaluate(
        snapshot in snapshot(),
        pool in prop::collection::vec(clause(), 1..5),
        picks in prop::collection::vec(any::<usize>(), 16),
        pooled in any::<bool>(),
        contexts in prop::collection::vec(context(), 1..4),
    ) {
        let snapshot = if pooled { with_pooled_clauses(snapshot, &pool, &picks) } else { snapshot };
        let compiled = CompiledSnapshot::compile(&snapshot);
        for ctx in &contexts {
            for key in ["f0", "f1", "f2", "f3", "missing"] {
                let explanation = compiled.explain(key, ctx);
                prop_assert_eq!(&explanation.result, &compiled.evaluate(key, ctx).to_result(key));
                prop_assert!(serde_json::to_string(&explanation).is_ok());
            }
        }
    }
}

/// `snapshot` with each clause replaced by one of `pool`, chosen by `picks`.
fn with_pooled_clauses(mut snapshot: Snapshot, pool: &[Clause], picks: &[usize]) -> Snapshot {
    let flag_clauses = snapshot
        .flags
        .iter_mut()
        .flat_map(|f| &mut f.config.rules)
        .flat_map(|r| &mut r.clauses);
    let segment_clauses = snapshot
        .segments
        .iter_mut()
        .flat_map(|s| &mut s.rules)
        .flat_map(|r| &mut r.clauses);
    for (n, clause) in flag_clauses.chain(segment_clauses).enumerate() {
        *clause = pool[picks[n % picks.len()] % pool.len()].clone();
    }
    snapshot
}
