//! Properties of validation: it never panics, whatever it is given, and a
//! config built only from valid parts passes.

use proptest::prelude::*;
use vexil_proto::validate::{
    validate_flag, validate_flag_config, validate_segment, validate_snapshot,
};
use vexil_proto::{
    Clause, Flag, FlagConfig, FlagKind, Operator, Prerequisite, Rollout, Rule, Scalar, Segment,
    SegmentRule, Serve, Snapshot, SnapshotFlag, Target, Variant, WeightedVariant,
};

// ------------------------------------------------------------ anything at all

/// Short strings of any characters, biased towards the keys used below so
/// references sometimes resolve.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["a", "b", "c", "on", "off", "seg", "", "A", "a/b~"])
            .prop_map(String::from),
        ".{0,8}",
    ]
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        text().prop_map(Scalar::String),
        prop::sample::select(vec![
            "(",
            "(a{1000}){1000}",
            "1.2.3",
            "1.2.3.4",
            "2026-13-01T00:00:00Z",
            "2026-01-01T00:00:00Z"
        ])
        .prop_map(Scalar::from),
        any::<f64>().prop_map(Scalar::Number),
        any::<bool>().prop_map(Scalar::Bool),
    ]
}

fn clause() -> impl Strategy<Value = Clause> {
    (
        text(),
        prop::sample::select(Operator::ALL.to_vec()),
        prop::collection::vec(scalar(), 0..4),
        any::<bool>(),
    )
        .prop_map(|(attribute, op, values, negate)| Clause {
            attribute,
            op,
            values,
            negate,
        })
}

fn serve() -> impl Strategy<Value = Serve> {
    let weights = prop::collection::vec(
        (text(), prop_oneof![any::<u32>(), 0..100_001u32])
            .prop_map(|(variant, weight)| WeightedVariant { variant, weight }),
        0..4,
    );
    prop_oneof![
        text().prop_map(Serve::Variant),
        (
            prop::option::of(text()),
            prop::option::of(text()),
            weights,
            prop::option::of(text()),
            0..3u32
        )
            .prop_map(
                |(bucket_by, salt, weights, fallback, algorithm)| Serve::Rollout(Rollout {
                    bucket_by,
                    salt,
                    weights,
                    fallback,
                    algorithm
                })
            ),
    ]
}

fn variant() -> impl Strategy<Value = Variant> {
    let value = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        text().prop_map(serde_json::Value::from),
    ];
    (text(), value).prop_map(|(key, value)| Variant::new(key, value))
}

fn kind() -> impl Strategy<Value = FlagKind> {
    prop::sample::select(vec![
        FlagKind::Boolean,
        FlagKind::String,
        FlagKind::Number,
        FlagKind::Json,
    ])
}

fn config() -> impl Strategy<Value = FlagConfig> {
    let target = (text(), prop::collection::vec(text(), 0..3))
        .prop_map(|(variant, values)| Target { variant, values });
    let rule = (text(), prop::collection::vec(clause(), 0..3), serve()).prop_map(
        |(id, clauses, serve)| Rule {
            id,
            description: String::new(),
            clauses,
            serve,
        },
    );
    let prerequisite = (text(), text()).prop_map(|(flag, variant)| Prerequisite { flag, variant });
    (
        any::<bool>(),
        text(),
        prop::collection::vec(target, 0..3),
        prop::collection::vec(rule, 0..3),
        serve(),
        prop::collection::vec(prerequisite, 0..3),
    )
        .prop_map(
            |(enabled, off_variant, targets, rules, default_serve, prerequisites)| FlagConfig {
                enabled,
                off_variant,
                targets,
                rules,
                default_serve,
                prerequisites,
                version: 0,
            },
        )
}

fn segment() -> impl Strategy<Value = Segment> {
    let rule = (text(), prop::collection::vec(clause(), 0..3))
        .prop_map(|(id, clauses)| SegmentRule { id, clauses });
    (
        text(),
        text(),
        prop::collection::vec(text(), 0..3),
        prop::collection::vec(text(), 0..3),
        prop::collection::vec(rule, 0..3),
    )
        .prop_map(|(key, name, included, excluded, rules)| Segment {
            key,
            name,
            description: String::new(),
            included,
            excluded,
            rules,
            version: 0,
        })
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    let flag = (
        text(),
        kind(),
        prop::collection::vec(variant(), 0..4),
        config(),
    )
        .prop_map(|(key, kind, variants, config)| SnapshotFlag {
            key,
            kind,
            variants,
            config,
        });
    (
        text(),
        prop::collection::vec(flag, 0..6),
        prop::collection::vec(segment(), 0..3),
    )
        .prop_map(|(environment, flags, segments)| Snapshot {
            environment,
            version: 1,
            flags,
            segments,
        })
}

proptest! {
    #[test]
    fn never_panics_on_a_snapshot(snapshot in snapshot()) {
        let _ = validate_snapshot(&snapshot);
        for flag in &snapshot.flags {
            let _ = validate_flag_config(&flag.key, &flag.variants, &flag.config, &snapshot);
            let definition = Flag {
                key: flag.key.clone(),
                name: flag.key.clone(),
                description: String::new(),
                tags: vec![],
                owner: None,
                kind: flag.kind,
                variants: flag.variants.clone(),
                temporary: false,
            };
            let _ = validate_flag(&definition);
        }
        for segment in &snapshot.segments {
            let _ = validate_segment(segment);
        }
    }
}

// ------------------------------------------------------------ valid parts only

const SEGMENT: &str = "beta-users";

/// Values each operator accepts.
fn valid_clause() -> impl Strategy<Value = Clause> {
    let pick = |values: Vec<Scalar>| prop::collection::vec(prop::sample::select(values), 1..4);
    let strings = |values: &[&str]| values.iter().map(|s| Scalar::from(*s)).collect::<Vec<_>>();
    let finite = prop::num::f64::NORMAL | prop::num::f64::ZERO | prop::num::f64::SUBNORMAL;
    prop::sample::select(Operator::ALL.to_vec())
        .prop_flat_map(move |op| {
            let values: BoxedStrategy<Vec<Scalar>> = match op {
                Operator::In => prop::collection::vec(
                    prop_oneof![
                        "[a-z0-9-]{0,10}".prop_map(Scalar::String),
                        finite.prop_map(Scalar::Number),
                        any::<bool>().prop_map(Scalar::Bool),
                    ],
                    1..5,
                )
                .boxed(),
                Operator::Contains | Operator::StartsWith | Operator::EndsWith => {
                    prop::collection::vec(".{0,10}".prop_map(Scalar::String), 1..4).boxed()
                }
                Operator::Matches => {
                    pick(strings(&["^a", "b+$", "[0-9]{2,4}", "(?i)beta", "x|y"])).boxed()
                }
                Operator::Eq | Operator::Lt | Operator::Lte | Operator::Gt | Operator::Gte => {
                    prop::collection::vec(finite.prop_map(Scalar::Number), 1..4).boxed()
                }
                Operator::SemverEq | Operator::SemverLt | Operator::SemverGt => pick(strings(&[
                    "1.2.3",
                    "2",
                    "2.1",
                    "1.0.0-beta.1",
                    "3.0.0+build.5",
                ]))
                .boxed(),
                Operator::Before | Operator::After => prop::collection::vec(
                    prop_oneof![
                        prop::sample::select(strings(&[
                            "2026-01-31T09:00:00Z",
                            "1999-12-31T23:59:59.999+01:00"
                        ])),
                        (-1e15..1e15f64).prop_map(Scalar::Number),
                    ],
                    1..4,
                )
                .boxed(),
                Operator::InSegment => Just(vec![Scalar::from(SEGMENT)]).boxed(),
                Operator::Exists => Just(vec![]).boxed(),
            };
            (Just(op), "[a-z_]{1,10}", values, any::<bool>())
        })
        .prop_map(|(op, attribute, values, negate)| Clause {
            attribute,
            op,
            values,
            negate,
        })
}

/// Weights summing to 100 000 over variants `v0..v{n}`, each once.
fn valid_serve(variants: usize) -> impl Strategy<Value = Serve> {
    let rollout = prop::collection::vec(0..=100_000u32, variants - 1).prop_map(move |mut cuts| {
        cuts.push(0);
        cuts.push(100_000);
        cuts.sort_unstable();
        let weights = cuts
            .windows(2)
            .enumerate()
            .map(|(i, pair)| WeightedVariant {
                variant: format!("v{i}"),
                weight: pair[1] - pair[0],
            })
            .collect();
        Serve::Rollout(Rollout {
            bucket_by: None,
            salt: None,
            weights,
            fallback: Some("v0".into()),
            algorithm: 1,
        })
    });
    prop_oneof![
        (0..variants).prop_map(|i| Serve::Variant(format!("v{i}"))),
        rollout
    ]
}

fn valid_flag() -> impl Strategy<Value = (Vec<Variant>, FlagConfig)> {
    (1..6usize)
        .prop_flat_map(|n| {
            let variants: Vec<Variant> = (0..n)
                .map(|i| Variant::new(format!("v{i}"), format!("value {i}")))
                .collect();
            let rules = prop::collection::vec(
                (prop::collection::vec(valid_clause(), 0..4), valid_serve(n)),
                0..4,
            );
            let targets = prop::collection::vec("[a-z]{1,6}", 0..5);
            let prerequisites = prop::sample::subsequence(vec!["on-flag", "off-flag"], 0..=2);
            (
                Just(variants),
                rules,
                valid_serve(n),
                targets,
                prerequisites,
                0..n,
            )
        })
        .prop_map(
            |(variants, rules, default_serve, target_keys, prerequisites, off)| {
                let mut target_keys = target_keys;
                target_keys.sort();
                target_keys.dedup();
                let config = FlagConfig {
                    enabled: true,
                    off_variant: format!("v{off}"),
                    targets: vec![Target {
                        variant: "v0".into(),
                        values: target_keys,
                    }],
                    rules: rules
                        .into_iter()
                        .enumerate()
                        .map(|(i, (clauses, serve))| Rule {
                            id: format!("rule-{i}"),
                            description: String::new(),
                            clauses,
                            serve,
                        })
                        .collect(),
                    default_serve,
                    prerequisites: prerequisites
                        .into_iter()
                        .map(|flag| Prerequisite {
                            flag: flag.into(),
                            variant: "on".into(),
                        })
                        .collect(),
                    version: 1,
                };
                (variants, config)
            },
        )
}

/// Two boolean flags and the segment the valid clauses refer to.
fn environment() -> Snapshot {
    let boolean =
        |key: &str| SnapshotFlag::boolean(key, FlagConfig::new("off", Serve::Variant("on".into())));
    Snapshot {
        environment: "production".into(),
        version: 1,
        flags: vec![boolean("on-flag"), boolean("off-flag")],
        segments: vec![Segment {
            key: SEGMENT.into(),
            name: "Beta users".into(),
            description: String::new(),
            included: vec!["alice".into()],
            excluded: vec![],
            rules: vec![],
            version: 1,
        }],
    }
}

proptest! {
    #[test]
    fn a_valid_config_passes((variants, config) in valid_flag()) {
        let mut environment = environment();
        prop_assert_eq!(validate_flag_config("generated", &variants, &config, &environment), Ok(()));
        environment.flags.push(SnapshotFlag { key: "generated".into(), kind: FlagKind::String, variants, config });
        prop_assert_eq!(validate_snapshot(&environment), Ok(()));
    }
}
