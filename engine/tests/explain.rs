//! `CompiledSnapshot::explain`: its result is always `evaluate`'s (over every
//! fixture in `spec/cases/`, for every flag of the fixture's snapshot and
//! every case's context), its trace agrees with that result, and targeted
//! cases pin what the trace says: clauses in written order, the deciding
//! clause, segments, prerequisites, rollouts, disabled, missing and broken
//! flags.

use std::fs;
use std::path::PathBuf;

use serde_json::{Value, json};
use vexil_engine::{
    CompiledSnapshot, Explanation, RuleExplanation, SegmentDecision, Step, WeightRange, bucket,
};
use vexil_proto::{AttributeValue, Context, ErrorCode, Operator, Reason, Scalar, Snapshot};

// ---------------------------------------------------------------------------
// Fixtures

struct Fixture {
    file: String,
    snapshot: Snapshot,
    /// Case name, flag, context.
    cases: Vec<(String, String, Context)>,
}

fn fixtures() -> Vec<Fixture> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/cases");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    let fixtures: Vec<Fixture> = paths.iter().map(|path| load(path)).collect();
    assert!(!fixtures.is_empty(), "no fixtures in spec/cases");
    fixtures
}

/// Reads one fixture as `engine/tests/cases.rs` does (which also checks
/// the format strictly).
fn load(path: &std::path::Path) -> Fixture {
    let file = path
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned();
    let doc: Value = serde_json::from_str(&fs::read_to_string(path).expect("readable fixture"))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let snapshot: Snapshot = serde_json::from_value(doc["snapshot"].clone())
        .unwrap_or_else(|e| panic!("{file}: snapshot: {e}"));
    let cases = doc["cases"]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: no cases"))
        .iter()
        .map(|case| {
            let name = case["name"].as_str().expect("case name").to_owned();
            let flag = case["flag"].as_str().expect("case flag").to_owned();
            let mut context: Context = serde_json::from_value(case["context"].clone())
                .unwrap_or_else(|e| panic!("{file} / {name}: context: {e}"));
            if let Some(numbers) = case.get("context_numbers").and_then(Value::as_object) {
                for (attribute, value) in numbers {
                    let n = match value.as_str() {
                        Some("NaN") => f64::NAN,
                        Some("Infinity") => f64::INFINITY,
                        Some("-Infinity") => f64::NEG_INFINITY,
                        other => panic!("{file} / {name}: context_numbers {other:?}"),
                    };
                    context
                        .attributes
                        .insert(attribute.clone(), AttributeValue::Scalar(Scalar::Number(n)));
                }
            }
            (name, flag, context)
        })
        .collect();
    Fixture {
        file,
        snapshot,
        cases,
    }
}

#[test]
fn explain_returns_what_evaluate_returns_for_every_fixture_case() {
    let mut failures = Vec::new();
    let (mut cases, mut explained) = (0, 0);
    for fixture in fixtures() {
        let compiled = CompiledSnapshot::compile(&fixture.snapshot);
        let mut flags: Vec<&str> = fixture
            .snapshot
            .flags
            .iter()
            .map(|f| f.key.as_str())
            .collect();
        flags.push("no-such-flag");
        for (name, flag, context) in &fixture.cases {
            cases += 1;
            // The case's own flag, then every flag of the snapshot for the same context.
            for key in std::iter::once(flag.as_str()).chain(flags.iter().copied()) {
                explained += 1;
                let expected = compiled.evaluate(key, context).to_result(key);
                let explanation = compiled.explain(key, context);
                let mut problems = Vec::new();
                if explanation.result != expected {
                    problems.push(format!(
                        "result {:?}, evaluate gave {expected:?}",
                        explanation.result
                    ));
                }
                problems.extend(inconsistencies(&explanation));
                // Compared as JSON, since JSON has no NaN; and a `null` variant
                // value reads back as no value, as in any `EvaluationResult`.
                let mut json =
                    serde_json::to_value(&explanation).expect("an explanation serializes");
                let back = serde_json::from_value::<Explanation>(json.clone());
                if json["result"]["value"].is_null() {
                    json["result"].as_object_mut().map(|r| r.remove("value"));
                }
                match back {
                    Ok(back) if serde_json::to_value(&back).ok() == Some(json) => {}
                    Ok(back) => problems.push(format!("JSON round trip gave {back:?}")),
                    Err(e) => problems.push(format!("JSON does not read back: {e}")),
                }
                for problem in problems {
                    failures.push(format!("{} / {name}, flag {key}: {problem}", fixture.file));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{explained} explanations over {cases} fixture cases agree with evaluate");
}

/// What in the trace contradicts the result, or the trace itself.
fn inconsistencies(e: &Explanation) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |ok: bool, what: &str| {
        if !ok {
            problems.push(format!("{what}: {e:#?}"));
        }
    };
    let r = &e.result;
    let reached_rules = matches!(e.decided_by, Step::Rule | Step::Default);
    let reached_target = reached_rules || e.decided_by == Step::Target;
    check(
        reached_rules || e.rules.is_empty(),
        "rules listed though not reached",
    );
    check(
        reached_target == e.target.is_some(),
        "target check present exactly when reached",
    );
    check(
        e.target.as_ref().is_some_and(|t| t.matched) == (e.decided_by == Step::Target),
        "a matched target decides",
    );
    check(
        e.rollout.is_none() || reached_rules,
        "a rollout only when a serve was reached",
    );
    match e.decided_by {
        Step::FlagNotFound => check(
            r.error_code == Some(ErrorCode::FlagNotFound) && e.enabled.is_none(),
            "flag not found",
        ),
        Step::CompileFailed => check(
            r.error_code == Some(ErrorCode::ParseError)
                && !e.compile_errors.is_empty()
                && e.enabled.is_none(),
            "compile failure",
        ),
        Step::Disabled => check(
            r.reason == Reason::Disabled && e.enabled == Some(false),
            "disabled",
        ),
        Step::Prerequisite => {
            let last = e.prerequisites.last();
            check(
                r.reason == Reason::PrerequisiteFailed
                    && last.is_some_and(|p| !p.held && Some(&p.flag) == r.prerequisite.as_ref())
                    && e.prerequisites.iter().rev().skip(1).all(|p| p.held),
                "prerequisite",
            );
        }
        Step::Target => check(
            r.reason == Reason::TargetingMatch
                && r.rule_index.is_none()
                && e.target.as_ref().and_then(|t| t.variant.as_ref()) == r.variant.as_ref(),
            "target",
        ),
        Step::Rule => {
            let last = e.rules.last();
            check(
                last.is_some_and(|rule| {
                    rule.matched
                        && Some(rule.index) == r.rule_index
                        && Some(&rule.id) == r.rule_id.as_ref()
                }),
                "the last rule decided",
            );
            check(
                e.rules.iter().rev().skip(1).all(|rule| !rule.matched),
                "no earlier rule matched",
            );
        }
        Step::Default => check(
            r.rule_index.is_none() && e.rules.iter().all(|rule| !rule.matched),
            "default",
        ),
    }
    if !matches!(e.decided_by, Step::FlagNotFound | Step::CompileFailed) {
        check(
            e.compile_errors.is_empty(),
            "compile errors on a compiled flag",
        );
        check(e.enabled.is_some(), "enabled known");
    }
    if e.decided_by != Step::Prerequisite {
        check(
            e.prerequisites.iter().all(|p| p.held),
            "all prerequisites held",
        );
    }
    for (i, rule) in e.rules.iter().enumerate() {
        check(rule.index == i, "rules in order");
        rule_consistent(rule, &mut check);
    }
    if let Some(rollout) = &e.rollout {
        let covered = rollout.ranges.windows(2).all(|w| w[0].end == w[1].start)
            && rollout.ranges.first().is_none_or(|w| w.start == 0)
            && rollout
                .ranges
                .last()
                .is_some_and(|w| w.end == bucket::BUCKETS);
        check(covered, "ranges cover every bucket");
        check(
            rollout.bucket == r.bucket,
            "the rollout's bucket is the result's",
        );
        match rollout.bucket {
            Some(b) => check(
                rollout.value.is_some()
                    && rollout.fallback.is_none()
                    && rollout.picked.as_ref().is_some_and(|p| {
                        p.start <= b && b < p.end && Some(&p.variant) == r.variant.as_ref()
                    })
                    && r.reason == Reason::Split,
                "the picked range holds the bucket and served",
            ),
            None => check(
                rollout.value.is_none()
                    && rollout.picked.is_none()
                    && rollout.fallback.is_some()
                    && rollout.fallback == r.variant
                    && r.reason == Reason::Default,
                "no bucket: the fallback served",
            ),
        }
    } else {
        check(r.bucket.is_none(), "a bucket without a rollout");
    }
    problems
}

fn rule_consistent(rule: &RuleExplanation, check: &mut impl FnMut(bool, &str)) {
    let first_failing = rule.clauses.iter().position(|c| !c.result);
    check(
        rule.failed_clause == first_failing,
        "failed clause is the first failing",
    );
    check(
        rule.matched == first_failing.is_none(),
        "a rule matches when all clauses do",
    );
    for (i, clause) in rule.clauses.iter().enumerate() {
        check(clause.index == i, "clauses in written order");
        if clause.op == Operator::InSegment {
            check(
                clause.segments.len() == clause.values.len(),
                "every named segment explained",
            );
            let any = clause.segments.iter().any(|s| s.matched);
            check(clause.result == (any != clause.negate), "in_segment result");
            for segment in &clause.segments {
                let decided_in = match &segment.decision {
                    SegmentDecision::Included => segment.rules.is_empty(),
                    SegmentDecision::Excluded => !segment.matched && segment.rules.is_empty(),
                    SegmentDecision::Rule { index, id } => segment
                        .rules
                        .last()
                        .is_some_and(|r| r.matched && r.index == *index && r.id == *id),
                    SegmentDecision::NoMatch => segment.rules.iter().all(|r| !r.matched),
                };
                check(decided_in, "segment decision");
                check(
                    segment.matched
                        == matches!(
                            segment.decision,
                            SegmentDecision::Included | SegmentDecision::Rule { .. }
                        ),
                    "segment matched agrees with its decision",
                );
                for inner in &segment.rules {
                    rule_consistent(inner, check);
                }
            }
        } else {
            check(clause.segments.is_empty(), "segments only for in_segment");
            if clause.op != Operator::Exists && clause.context_value.is_none() {
                check(!clause.result, "a missing attribute is false");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Targeted cases

fn compile(flags: Value, segments: Value) -> CompiledSnapshot {
    let snapshot: Snapshot = serde_json::from_value(json!({
        "environment": "test", "version": 1, "flags": flags, "segments": segments,
    }))
    .expect("test snapshot parses");
    CompiledSnapshot::compile(&snapshot)
}

fn flag(key: &str, config: Value) -> Value {
    json!({
        "key": key,
        "kind": "boolean",
        "variants": [{"key": "on", "value": true}, {"key": "off", "value": false}],
        "config": config,
    })
}

fn rules_flag(key: &str, rules: Value) -> Value {
    flag(
        key,
        json!({
            "enabled": true, "off_variant": "off",
            "rules": rules, "default_serve": {"variant": "off"},
        }),
    )
}

fn clause(attribute: &str, op: &str, values: Value) -> Value {
    json!({"attribute": attribute, "op": op, "values": values})
}

/// Explains, and checks the result against `evaluate` and the trace against itself.
fn explain(compiled: &CompiledSnapshot, key: &str, ctx: &Context) -> Explanation {
    let explanation = compiled.explain(key, ctx);
    assert_eq!(
        explanation.result,
        compiled.evaluate(key, ctx).to_result(key)
    );
    let problems = inconsistencies(&explanation);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    explanation
}

#[test]
fn a_rule_failing_on_its_second_written_clause_names_that_clause() {
    // Written: a regex (evaluated last: the costliest), then `plan in` (evaluated first).
    let compiled = compile(
        json!([rules_flag(
            "f",
            json!([
                {"id": "pro-staff", "clauses": [
                    clause("email", "matches", json!(["@example\\.com$"])),
                    clause("plan", "in", json!(["pro"])),
                ], "serve": {"variant": "on"}},
                {"id": "both-fail", "clauses": [
                    clause("app", "semver_gt", json!(["2.0.0"])),
                    clause("plan", "in", json!(["enterprise"])),
                ], "serve": {"variant": "on"}},
            ])
        )]),
        json!([]),
    );
    let ctx = Context::new("u1")
        .with("email", "ann@example.com")
        .with("plan", "free")
        .with("app", "1.0.0");
    let e = explain(&compiled, "f", &ctx);
    assert_eq!(e.decided_by, Step::Default);
    assert_eq!(e.rules.len(), 2);

    let rule = &e.rules[0];
    assert_eq!(
        (rule.index, rule.id.as_str(), rule.matched),
        (0, "pro-staff", false)
    );
    assert_eq!(rule.failed_clause, Some(1));
    let [first, second] = &rule.clauses[..] else {
        panic!("two clauses: {:?}", rule.clauses)
    };
    assert_eq!(
        (
            first.index,
            first.attribute.as_str(),
            first.op,
            first.negate,
            first.result
        ),
        (0, "email", Operator::Matches, false, true)
    );
    assert_eq!(first.values, vec![Scalar::from("@example\\.com$")]);
    assert_eq!(first.context_value, Some("ann@example.com".into()));
    assert_eq!(
        (
            second.index,
            second.attribute.as_str(),
            second.op,
            second.result
        ),
        (1, "plan", Operator::In, false)
    );
    assert_eq!(second.context_value, Some("free".into()));

    // Both fail: the first written one decides, though `in` was tried first.
    let rule = &e.rules[1];
    assert_eq!(rule.failed_clause, Some(0));
    assert_eq!(rule.clauses[0].op, Operator::SemverGt);
    assert!(rule.clauses.iter().all(|c| !c.result));

    // Matching both: the first rule decides, and nothing after it is listed.
    let ctx = ctx.with("plan", "pro");
    let e = explain(&compiled, "f", &ctx);
    assert_eq!(e.decided_by, Step::Rule);
    assert_eq!(e.rules.len(), 1);
    assert!(e.rules[0].matched && e.rules[0].failed_clause.is_none());
    assert_eq!(e.result.rule_id.as_deref(), Some("pro-staff"));
}

#[test]
fn missing_attributes_and_negation_are_shown() {
    let compiled = compile(
        json!([rules_flag(
            "f",
            json!([
                {"id": "r", "clauses": [
                    {"attribute": "region", "op": "in", "values": ["eu"], "negate": true},
                    {"attribute": "beta", "op": "exists", "negate": true},
                    clause("kind", "in", json!(["user"])),
                ], "serve": {"variant": "on"}},
            ])
        )]),
        json!([]),
    );
    let e = explain(&compiled, "f", &Context::new("u1").with_kind("user"));
    let clauses = &e.rules[0].clauses;
    assert_eq!(clauses[0].context_value, None);
    assert!(
        clauses[0].negate && !clauses[0].result,
        "missing stays false under negate"
    );
    assert_eq!(clauses[1].context_value, None);
    assert!(clauses[1].result, "negated exists: absent");
    assert_eq!(clauses[2].context_value, Some("user".into()));
    assert!(clauses[2].result);
    assert_eq!(e.rules[0].failed_clause, Some(0));
}

fn segment(key: &str, included: &[&str], excluded: &[&str], rules: Value) -> Value {
    json!({"key": key, "name": key, "included": included, "excluded": excluded, "rules": rules})
}

#[test]
fn segments_say_how_they_decided() {
    let compiled = compile(
        json!([rules_flag(
            "f",
            json!([
                {"id": "in-beta", "clauses": [
                    clause("key", "in_segment", json!(["beta", "staff"])),
                ], "serve": {"variant": "on"}},
            ])
        )]),
        json!([
            segment(
                "beta",
                &["alice", "both"],
                &["bob", "both"],
                json!([
                    {"id": "eu-enterprise", "clauses": [
                        clause("region", "matches", json!(["^eu-"])),
                        clause("plan", "in", json!(["enterprise"])),
                    ]},
                ])
            ),
            segment(
                "staff",
                &[],
                &[],
                json!([
                    {"id": "corp", "clauses": [clause("email", "ends_with", json!(["@corp.com"]))]},
                    {"id": "example", "clauses": [clause("email", "ends_with", json!(["@example.com"]))]},
                ])
            ),
        ]),
    );
    let decisions = |e: &Explanation| -> Vec<(String, bool, SegmentDecision)> {
        e.rules[0].clauses[0]
            .segments
            .iter()
            .map(|s| (s.segment.clone(), s.matched, s.decision.clone()))
            .collect()
    };

    // Included, and in `staff` by its second rule.
    let ctx = Context::new("alice").with("email", "alice@example.com");
    let e = explain(&compiled, "f", &ctx);
    assert_eq!(e.decided_by, Step::Rule);
    assert_eq!(
        decisions(&e),
        vec![
            ("beta".into(), true, SegmentDecision::Included),
            (
                "staff".into(),
                true,
                SegmentDecision::Rule {
                    index: 1,
                    id: "example".into()
                }
            ),
        ]
    );
    let staff = &e.rules[0].clauses[0].segments[1];
    assert_eq!(staff.rules.len(), 2);
    assert!(!staff.rules[0].matched && staff.rules[1].matched);
    assert_eq!(staff.rules[0].failed_clause, Some(0));

    // Included wins over excluded; excluded keeps out a key the rules would take in.
    let e = explain(&compiled, "f", &Context::new("both"));
    assert_eq!(decisions(&e)[0].2, SegmentDecision::Included);
    let ctx = Context::new("bob")
        .with("region", "eu-west-1")
        .with("plan", "enterprise");
    let e = explain(&compiled, "f", &ctx);
    assert_eq!(
        decisions(&e),
        vec![
            ("beta".into(), false, SegmentDecision::Excluded),
            ("staff".into(), false, SegmentDecision::NoMatch),
        ]
    );
    assert_eq!(e.decided_by, Step::Default);
    assert_eq!(e.rules[0].failed_clause, Some(0));

    // A segment rule failing on its second written clause names it.
    let ctx = Context::new("carol")
        .with("region", "eu-west-1")
        .with("plan", "free");
    let e = explain(&compiled, "f", &ctx);
    let beta = &e.rules[0].clauses[0].segments[0];
    assert_eq!(beta.decision, SegmentDecision::NoMatch);
    assert_eq!(beta.rules.len(), 1);
    assert_eq!(beta.rules[0].id, "eu-enterprise");
    assert_eq!(beta.rules[0].failed_clause, Some(1));
    assert_eq!(beta.rules[0].clauses[1].context_value, Some("free".into()));

    // Taken in by a segment rule.
    let ctx = Context::new("dave")
        .with("region", "eu-west-1")
        .with("plan", "enterprise");
    let e = explain(&compiled, "f", &ctx);
    assert_eq!(
        decisions(&e)[0].2,
        SegmentDecision::Rule {
            index: 0,
            id: "eu-enterprise".into()
        }
    );
    assert_eq!(e.result.variant.as_deref(), Some("on"));
}

#[test]
fn a_failed_prerequisite_is_named_with_what_it_served() {
    let compiled = compile(
        json!([
            flag(
                "base",
                json!({
                    "enabled": true, "off_variant": "off",
                    "targets": [{"variant": "on", "values": ["vip"]}],
                    "default_serve": {"variant": "off"},
                })
            ),
            flag(
                "always-on",
                json!({
                    "enabled": true, "off_variant": "off", "default_serve": {"variant": "on"},
                })
            ),
            flag(
                "switched-off",
                json!({
                    "enabled": false, "off_variant": "on", "default_serve": {"variant": "on"},
                })
            ),
            flag(
                "child",
                json!({
                    "enabled": true, "off_variant": "off",
                    "prerequisites": [
                        {"flag": "always-on", "variant": "on"},
                        {"flag": "base", "variant": "on"},
                    ],
                    "default_serve": {"variant": "on"},
                })
            ),
            flag(
                "needs-disabled",
                json!({
                    "enabled": true, "off_variant": "off",
                    "prerequisites": [{"flag": "switched-off", "variant": "on"}],
                    "default_serve": {"variant": "on"},
                })
            ),
            flag(
                "needs-missing",
                json!({
                    "enabled": true, "off_variant": "off",
                    "prerequisites": [{"flag": "ghost", "variant": "on"}],
                    "default_serve": {"variant": "on"},
                })
            ),
        ]),
        json!([]),
    );
    let e = explain(&compiled, "child", &Context::new("someone"));
    assert_eq!(e.decided_by, Step::Prerequisite);
    assert_eq!(e.result.reason, Reason::PrerequisiteFailed);
    assert_eq!(e.prerequisites.len(), 2);
    assert!(e.prerequisites[0].held);
    let failed = &e.prerequisites[1];
    assert_eq!(
        (failed.flag.as_str(), failed.variant.as_str(), failed.held),
        ("base", "on", false)
    );
    assert_eq!(failed.served.variant.as_deref(), Some("off"));
    assert_eq!(failed.served.reason, Reason::Default);
    assert!(e.target.is_none() && e.rules.is_empty());

    let e = explain(&compiled, "child", &Context::new("vip"));
    assert_eq!(e.decided_by, Step::Default);
    assert!(e.prerequisites.iter().all(|p| p.held));
    assert_eq!(e.prerequisites[1].served.reason, Reason::TargetingMatch);

    // Off serves the required variant, and still does not hold.
    let e = explain(&compiled, "needs-disabled", &Context::new("someone"));
    let p = &e.prerequisites[0];
    assert!(!p.held);
    assert_eq!(p.served.variant.as_deref(), Some("on"));
    assert_eq!(p.served.reason, Reason::Disabled);

    let e = explain(&compiled, "needs-missing", &Context::new("someone"));
    let p = &e.prerequisites[0];
    assert!(!p.held);
    assert_eq!(p.served.error_code, Some(ErrorCode::FlagNotFound));
    assert_eq!(e.result.prerequisite.as_deref(), Some("ghost"));
}

#[test]
fn rollouts_show_bucket_and_range() {
    let weights = json!([
        {"variant": "on", "weight": 25_000},
        {"variant": "off", "weight": 0},
        {"variant": "a", "weight": 75_000},
    ]);
    let variants = json!([
        {"key": "on", "value": "on"}, {"key": "off", "value": "off"}, {"key": "a", "value": "a"},
    ]);
    let compiled = compile(
        json!([{
            "key": "split", "kind": "string", "variants": variants,
            "config": {
                "enabled": true, "off_variant": "off",
                "rules": [{"id": "by-org", "clauses": [clause("org", "exists", json!([]))],
                    "serve": {"rollout": {"bucket_by": "org", "salt": "s1", "weights": weights, "fallback": "a"}}}],
                "default_serve": {"rollout": {"weights": weights}},
            },
        }]),
        json!([]),
    );
    let expected_ranges = vec![
        WeightRange {
            variant: "on".into(),
            start: 0,
            end: 25_000,
        },
        WeightRange {
            variant: "off".into(),
            start: 25_000,
            end: 25_000,
        },
        WeightRange {
            variant: "a".into(),
            start: 25_000,
            end: 100_000,
        },
    ];
    let pick = |b: u32| expected_ranges.iter().find(|r| r.end > b).cloned();

    // Default serve, by key, salted with the flag key.
    for key in ["user-1", "user-2", "user-3", "user-4"] {
        let e = explain(&compiled, "split", &Context::new(key));
        let rollout = e.rollout.expect("a rollout served");
        let b = bucket::bucket("split", key);
        assert_eq!(
            (
                rollout.bucket_by.as_str(),
                rollout.salt.as_str(),
                rollout.value.as_deref()
            ),
            ("key", "split", Some(key))
        );
        assert_eq!(rollout.context_value, Some(key.into()));
        assert_eq!(rollout.bucket, Some(b));
        assert_eq!(e.result.bucket, Some(b));
        assert_eq!(rollout.ranges, expected_ranges);
        assert_eq!(rollout.picked, pick(b));
        assert_eq!(rollout.fallback, None);
        assert_eq!(e.result.reason, Reason::Split);
        assert_eq!(e.decided_by, Step::Default);
    }

    // A rule's rollout, by a number rendered without a decimal point.
    let e = explain(&compiled, "split", &Context::new("u").with("org", 42));
    let rollout = e.rollout.expect("a rollout served");
    assert_eq!(e.decided_by, Step::Rule);
    assert_eq!(
        (rollout.bucket_by.as_str(), rollout.salt.as_str()),
        ("org", "s1")
    );
    assert_eq!(rollout.value.as_deref(), Some("42"));
    assert_eq!(rollout.bucket, Some(bucket::bucket("s1", "42")));
    assert_eq!(e.result.rule_index, Some(0));

    // A list is in no bucket: the fallback serves.
    let org: AttributeValue = ["x", "y"].into_iter().collect();
    let e = explain(
        &compiled,
        "split",
        &Context::new("u").with("org", org.clone()),
    );
    let rollout = e.rollout.expect("a rollout served");
    assert_eq!(rollout.context_value, Some(org));
    assert_eq!(
        (rollout.value, rollout.bucket, rollout.picked),
        (None, None, None)
    );
    assert_eq!(rollout.fallback.as_deref(), Some("a"));
    assert_eq!(e.result.reason, Reason::Default);
    assert_eq!(e.result.variant.as_deref(), Some("a"));
}

#[test]
fn a_target_decides_before_any_rule() {
    let compiled = compile(
        json!([flag(
            "f",
            json!({
                "enabled": true, "off_variant": "off",
                "targets": [{"variant": "on", "values": ["vip"]}],
                "rules": [{"id": "all", "clauses": [], "serve": {"variant": "off"}}],
                "default_serve": {"variant": "off"},
            })
        )]),
        json!([]),
    );
    let e = explain(&compiled, "f", &Context::new("vip"));
    assert_eq!(e.decided_by, Step::Target);
    let target = e.target.expect("target checked");
    assert!(target.matched);
    assert_eq!(target.variant.as_deref(), Some("on"));
    assert!(e.rules.is_empty() && e.rollout.is_none());

    let e = explain(&compiled, "f", &Context::new("other"));
    assert_eq!(e.decided_by, Step::Rule);
    assert!(!e.target.expect("target checked").matched);
    assert!(e.rules[0].matched && e.rules[0].clauses.is_empty());
}

#[test]
fn disabled_missing_and_broken_flags() {
    let compiled = compile(
        json!([
            flag(
                "off",
                json!({
                    "enabled": false, "off_variant": "off",
                    "rules": [{"id": "all", "clauses": [], "serve": {"variant": "on"}}],
                    "default_serve": {"variant": "on"},
                })
            ),
            rules_flag(
                "bad-regex",
                json!([
                    {"id": "r", "clauses": [clause("email", "matches", json!(["("]))], "serve": {"variant": "on"}},
                ])
            ),
            flag(
                "loop-a",
                json!({
                    "enabled": true, "off_variant": "off",
                    "prerequisites": [{"flag": "loop-b", "variant": "on"}],
                    "default_serve": {"variant": "on"},
                })
            ),
            flag(
                "loop-b",
                json!({
                    "enabled": true, "off_variant": "off",
                    "prerequisites": [{"flag": "loop-a", "variant": "on"}],
                    "default_serve": {"variant": "on"},
                })
            ),
        ]),
        json!([]),
    );
    let ctx = Context::new("u1");

    let e = explain(&compiled, "off", &ctx);
    assert_eq!(e.decided_by, Step::Disabled);
    assert_eq!(e.enabled, Some(false));
    assert_eq!(e.result.variant.as_deref(), Some("off"));
    assert!(e.prerequisites.is_empty() && e.target.is_none() && e.rules.is_empty());

    let e = explain(&compiled, "nope", &ctx);
    assert_eq!(e.decided_by, Step::FlagNotFound);
    assert_eq!(e.result.error_code, Some(ErrorCode::FlagNotFound));
    assert_eq!(e.result.flag, "nope");
    assert_eq!(e.enabled, None);

    let e = explain(&compiled, "bad-regex", &ctx);
    assert_eq!(e.decided_by, Step::CompileFailed);
    assert_eq!(e.result.error_code, Some(ErrorCode::ParseError));
    assert_eq!(e.compile_errors.len(), 1, "{:?}", e.compile_errors);
    assert!(e.rules.is_empty());

    let e = explain(&compiled, "loop-a", &ctx);
    assert_eq!(e.decided_by, Step::CompileFailed);
    assert!(
        e.compile_errors[0].contains("cycle"),
        "{:?}",
        e.compile_errors
    );
}

#[test]
fn the_json_shape() {
    let compiled = compile(
        json!([rules_flag(
            "f",
            json!([
                {"id": "beta", "clauses": [clause("key", "in_segment", json!(["beta"]))], "serve": {"variant": "on"}},
            ])
        )]),
        json!([segment("beta", &["alice"], &[], json!([]))]),
    );
    let json = serde_json::to_value(compiled.explain("f", &Context::new("alice"))).unwrap();
    assert_eq!(
        json,
        json!({
            "result": {"flag": "f", "value": true, "variant": "on", "reason": "TARGETING_MATCH",
                       "rule_index": 0, "rule_id": "beta"},
            "decided_by": "rule",
            "compile_errors": [],
            "enabled": true,
            "prerequisites": [],
            "target": {"matched": false, "variant": null},
            "rules": [{
                "index": 0, "id": "beta", "matched": true, "failed_clause": null,
                "clauses": [{
                    "index": 0, "attribute": "key", "op": "in_segment", "values": ["beta"],
                    "negate": false, "context_value": "alice", "result": true,
                    "segments": [{"segment": "beta", "matched": true,
                                  "decision": {"kind": "included"}, "rules": []}],
                }],
            }],
            "rollout": null,
        })
    );
}
