//! Runs the shared evaluation fixtures (`spec/cases/*.json`, format in
//! `spec/README.md`) against the engine.
//!
//! Every case is run and every mismatch is reported (file, case, expected,
//! actual) before the test fails. The suite also checks its own coverage, so
//! it cannot silently lose it: every operator appears with and without
//! `negate` in a flag some case evaluates, and every reason the engine can
//! give is expected by some case. Finally `evaluate_all` must agree with
//! single evaluations over every fixture snapshot and context.
//!
//! `spec/pending/` holds cases that docs/evaluation.md decides but the engine
//! does not pass yet; `cargo test -p vexil-engine --test cases -- --ignored`
//! runs them.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use serde_json::Value;
use vexil_engine::CompiledSnapshot;
use vexil_proto::{
    AttributeValue, Context, ErrorCode, EvaluationResult, Operator, Reason, Scalar, Serve, Snapshot,
};

/// One `spec/cases/*.json` file.
struct Fixture {
    file: String,
    snapshot: Snapshot,
    cases: Vec<Case>,
}

/// One case: evaluate `flag` for `context`, expect `expected`.
struct Case {
    name: String,
    flag: String,
    context: Context,
    /// The expectation as written, compared as JSON so that a `null` variant
    /// value is told apart from no value.
    expected_json: Value,
    expected: EvaluationResult,
}

fn spec_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../spec")
        .join(name)
}

/// Fails on any key outside `allowed`, so a typo in a fixture is an error
/// rather than a silently ignored field.
fn check_keys(object: &serde_json::Map<String, Value>, allowed: &[&str], what: &str) {
    for key in object.keys() {
        assert!(
            allowed.contains(&key.as_str()),
            "{what}: unknown field `{key}` (allowed: {allowed:?})"
        );
    }
}

fn load_fixtures() -> Vec<Fixture> {
    let fixtures = load_dir("cases", false);
    assert!(!fixtures.is_empty(), "no fixtures in spec/cases");
    fixtures
}

/// Every `*.json` in `spec/{name}`; only pending fixtures may mark cases `pending`.
fn load_dir(name: &str, pending: bool) -> Vec<Fixture> {
    let dir = spec_dir(name);
    if pending && !dir.exists() {
        return Vec::new();
    }
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| load_fixture(path, pending))
        .collect()
}

fn load_fixture(path: &std::path::Path, pending: bool) -> Fixture {
    let file = path
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned();
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let doc: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: invalid JSON: {e}"));
    let top = doc
        .as_object()
        .unwrap_or_else(|| panic!("{file}: not an object"));
    check_keys(top, &["description", "snapshot", "cases"], &file);
    assert!(
        top.get("description").is_some_and(Value::is_string),
        "{file}: `description` must be a string"
    );
    let snapshot: Snapshot = serde_json::from_value(top["snapshot"].clone())
        .unwrap_or_else(|e| panic!("{file}: snapshot does not parse: {e}"));
    let raw_cases = top["cases"]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: `cases` must be a list"));
    assert!(!raw_cases.is_empty(), "{file}: no cases");

    let mut names = BTreeSet::new();
    let cases = raw_cases
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let object = raw.as_object().unwrap_or_else(|| panic!("{file}: case {i} is not an object"));
            let name = object
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{file}: case {i} has no name"))
                .to_owned();
            let what = format!("{file}: case {name:?}");
            check_keys(object, &["name", "flag", "context", "context_numbers", "expected", "note", "pending"], &what);
            assert_eq!(
                object.get("pending").is_some_and(Value::is_string),
                pending,
                "{what}: cases in spec/pending (and only there) say why they are pending"
            );
            assert!(names.insert(name.clone()), "{what}: duplicate case name");
            let flag = object
                .get("flag")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{what}: `flag` must be a string"))
                .to_owned();
            let mut context: Context = serde_json::from_value(object["context"].clone())
                .unwrap_or_else(|e| panic!("{what}: context does not parse: {e}"));
            if let Some(numbers) = object.get("context_numbers") {
                let numbers = numbers.as_object().unwrap_or_else(|| panic!("{what}: context_numbers must be an object"));
                for (attribute, value) in numbers {
                    let n = match value.as_str() {
                        Some("NaN") => f64::NAN,
                        Some("Infinity") => f64::INFINITY,
                        Some("-Infinity") => f64::NEG_INFINITY,
                        _ => panic!("{what}: context_numbers.{attribute} must be \"NaN\", \"Infinity\" or \"-Infinity\""),
                    };
                    let previous = context.attributes.insert(attribute.clone(), AttributeValue::Scalar(Scalar::Number(n)));
                    assert!(previous.is_none(), "{what}: {attribute} is both in context and in context_numbers");
                }
            }
            let expected_json = object.get("expected").cloned().unwrap_or_else(|| panic!("{what}: no `expected`"));
            let expected: EvaluationResult = serde_json::from_value(expected_json.clone())
                .unwrap_or_else(|e| panic!("{what}: expected does not parse as an EvaluationResult: {e}"));
            assert_eq!(expected.flag, flag, "{what}: expected.flag differs from flag");
            Case { name, flag, context, expected_json, expected }
        })
        .collect();
    Fixture {
        file,
        snapshot,
        cases,
    }
}

fn actual_json(compiled: &CompiledSnapshot, flag: &str, context: &Context) -> Value {
    let result = compiled.evaluate(flag, context).to_result(flag);
    serde_json::to_value(&result).expect("an EvaluationResult serializes")
}

/// Runs every case; returns how many failed, and a report of each failure.
fn run(fixtures: &[Fixture]) -> (usize, usize, String) {
    let mut failures = String::new();
    let mut failed = 0;
    let mut total = 0;
    for fixture in fixtures {
        let compiled = CompiledSnapshot::compile(&fixture.snapshot);
        for case in &fixture.cases {
            total += 1;
            let actual = actual_json(&compiled, &case.flag, &case.context);
            if actual != case.expected_json {
                failed += 1;
                let _ = writeln!(
                    failures,
                    "{} / {}\n  flag:     {}\n  expected: {}\n  actual:   {}",
                    fixture.file, case.name, case.flag, case.expected_json, actual
                );
            }
        }
    }
    (failed, total, failures)
}

#[test]
fn every_case_evaluates_as_expected() {
    let fixtures = load_fixtures();
    let (failed, total, failures) = run(&fixtures);
    assert!(
        failed == 0,
        "{failed} of {total} fixture cases failed:\n{failures}"
    );
    eprintln!("{total} fixture cases in {} files passed", fixtures.len());
}

#[test]
fn pending_fixtures_parse() {
    load_dir("pending", true);
}

#[test]
#[ignore = "cases the engine does not pass yet; see spec/README.md"]
fn pending_cases() {
    let fixtures = load_dir("pending", true);
    let (failed, total, failures) = run(&fixtures);
    assert!(
        failed == 0,
        "{failed} of {total} pending cases still disagree with the engine:\n{failures}"
    );
    eprintln!(
        "all {total} pending cases pass now: move them to spec/cases (drop `pending=` in spec/tools/gen_cases.py)"
    );
}

#[test]
fn evaluate_all_agrees_with_single_evaluations() {
    let mut failures = Vec::new();
    for fixture in load_fixtures() {
        let compiled = CompiledSnapshot::compile(&fixture.snapshot);
        let snapshot_keys: Vec<&str> = fixture
            .snapshot
            .flags
            .iter()
            .map(|f| f.key.as_str())
            .collect();
        for case in &fixture.cases {
            let all = compiled.evaluate_all(&case.context);
            let keys: Vec<&str> = all.iter().map(|(key, _)| *key).collect();
            if keys != snapshot_keys {
                failures.push(format!(
                    "{} / {}: evaluate_all keys {keys:?} are not the snapshot's flags in order",
                    fixture.file, case.name
                ));
                continue;
            }
            for (key, evaluation) in &all {
                let single = compiled.evaluate(key, &case.context);
                if *evaluation != single {
                    failures.push(format!(
                        "{} / {} (context of this case), flag {key}: evaluate_all gave {evaluation:?}, evaluate gave {single:?}",
                        fixture.file, case.name
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The reasons the engine can give. `STATIC` is reserved for providers that
/// serve constants (see `vexil_proto::Reason`); the engine never returns it.
/// The exhaustive match makes this fail to compile when a reason is added.
fn reasons_to_cover() -> Vec<Reason> {
    let engine_can_give = |reason: Reason| match reason {
        Reason::Static => false,
        Reason::Default
        | Reason::TargetingMatch
        | Reason::Split
        | Reason::Disabled
        | Reason::PrerequisiteFailed
        | Reason::Error => true,
    };
    [
        Reason::Static,
        Reason::Default,
        Reason::TargetingMatch,
        Reason::Split,
        Reason::Disabled,
        Reason::PrerequisiteFailed,
        Reason::Error,
    ]
    .into_iter()
    .filter(|reason| engine_can_give(*reason))
    .collect()
}

#[test]
fn fixtures_cover_every_operator_and_reason() {
    let fixtures = load_fixtures();
    let mut ops_seen: BTreeSet<(&str, bool)> = BTreeSet::new();
    let mut reasons_seen = BTreeSet::new();
    let mut errors_seen = BTreeSet::new();
    let (mut rule_indexes, mut buckets, mut prerequisites, mut fallbacks) = (0, 0, 0, 0);
    for fixture in &fixtures {
        for case in &fixture.cases {
            reasons_seen.insert(case.expected.reason.as_str());
            if let Some(code) = case.expected.error_code {
                errors_seen.insert(code.as_str());
            }
            rule_indexes +=
                usize::from(case.expected.rule_index.is_some() && case.expected.rule_id.is_some());
            buckets += usize::from(case.expected.bucket.is_some());
            prerequisites += usize::from(case.expected.prerequisite.is_some());
            // Only operators of flags that some case evaluates count.
            let Some(flag) = fixture.snapshot.flag(&case.flag) else {
                continue;
            };
            let mut clauses: Vec<_> = flag
                .config
                .rules
                .iter()
                .flat_map(|r| r.clauses.iter())
                .collect();
            let segment_keys: Vec<&str> = clauses
                .iter()
                .filter(|c| c.op == Operator::InSegment)
                .flat_map(|c| c.values.iter().filter_map(Scalar::as_str))
                .collect();
            for segment in fixture
                .snapshot
                .segments
                .iter()
                .filter(|s| segment_keys.contains(&s.key.as_str()))
            {
                clauses.extend(segment.rules.iter().flat_map(|r| r.clauses.iter()));
            }
            for clause in clauses {
                ops_seen.insert((clause.op.as_str(), clause.negate));
            }
            let has_fallback_rollout = flag
                .config
                .rules
                .iter()
                .map(|r| &r.serve)
                .chain([&flag.config.default_serve])
                .any(|serve| matches!(serve, Serve::Rollout(r) if r.bucket_by.is_some()));
            fallbacks +=
                usize::from(has_fallback_rollout && case.expected.reason == Reason::Default);
        }
    }
    let mut missing = Vec::new();
    for op in Operator::ALL {
        for negate in [false, true] {
            if !ops_seen.contains(&(op.as_str(), negate)) {
                missing.push(format!(
                    "operator {op}{}",
                    if negate { " with negate" } else { "" }
                ));
            }
        }
    }
    for reason in reasons_to_cover() {
        if !reasons_seen.contains(reason.as_str()) {
            missing.push(format!("reason {reason}"));
        }
    }
    for code in [ErrorCode::FlagNotFound, ErrorCode::ParseError] {
        if !errors_seen.contains(code.as_str()) {
            missing.push(format!("error code {code}"));
        }
    }
    for (what, count) in [
        ("a rule index and id", rule_indexes),
        ("a bucket", buckets),
        ("a failed prerequisite", prerequisites),
        ("a rollout fallback", fallbacks),
    ] {
        if count == 0 {
            missing.push(format!("a case expecting {what}"));
        }
    }
    assert!(
        missing.is_empty(),
        "the fixtures lost coverage of: {}",
        missing.join(", ")
    );
}
