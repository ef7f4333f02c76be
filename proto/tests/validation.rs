//! Validation: for every check, the exact path and problem reported.

use serde_json::{Value, json};
use vexil_proto::validate::{
    MAX_PROBLEMS, validate_environment, validate_flag, validate_flag_config, validate_project,
    validate_segment, validate_snapshot,
};
use vexil_proto::{Environment, Flag, FlagConfig, Project, Segment, Snapshot, ValidationErrors};

fn from<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

/// `(path, problem)` pairs, or nothing when valid.
fn found(result: Result<(), ValidationErrors>) -> Vec<(String, String)> {
    match result {
        Ok(()) => vec![],
        Err(errors) => errors.0.into_iter().map(|p| (p.path, p.problem)).collect(),
    }
}

#[track_caller]
fn assert_only(result: Result<(), ValidationErrors>, path: &str, problem: &str) {
    assert_eq!(found(result), vec![(path.to_owned(), problem.to_owned())]);
}

// ---------------------------------------------------------------- flags

fn color_flag() -> Value {
    json!({
        "key": "button-color",
        "name": "Button color",
        "kind": "string",
        "variants": [
            {"key": "red", "value": "#f00"},
            {"key": "green", "value": "#0f0"},
            {"key": "blue", "value": "#00f"}
        ]
    })
}

fn flag_with(edit: impl FnOnce(&mut Value)) -> Flag {
    let mut value = color_flag();
    edit(&mut value);
    from(value)
}

#[test]
fn valid_flags_pass() {
    assert_eq!(validate_flag(&flag_with(|_| {})), Ok(()));
    let boolean: Flag = from(json!({
        "key": "new-checkout", "name": "New checkout", "kind": "boolean", "tags": ["checkout"],
        "variants": [{"key": "off", "value": false}, {"key": "on", "value": true}]
    }));
    assert_eq!(validate_flag(&boolean), Ok(()));
    let any: Flag = from(json!({
        "key": "limits", "name": "Limits", "kind": "json",
        "variants": [{"key": "small", "value": {"max": 1}}, {"key": "none", "value": []}]
    }));
    assert_eq!(validate_flag(&any), Ok(()));
}

#[test]
fn flag_key_syntax() {
    let flag = flag_with(|f| f["key"] = json!("New Checkout"));
    assert_only(
        validate_flag(&flag),
        "/key",
        "\"New Checkout\" is not a valid key: use 1 to 128 lowercase letters, digits, '.', '_' or '-', starting with a letter or a digit",
    );
}

#[test]
fn flag_texts_and_tags() {
    let flag = flag_with(|f| {
        f["name"] = json!("  ");
        f["description"] = json!("d".repeat(1025));
        f["owner"] = json!("o".repeat(1025));
        f["tags"] = json!(["a", "", "a", "t".repeat(129)]);
    });
    assert_eq!(
        found(validate_flag(&flag)),
        [
            ("/name", "must not be empty"),
            ("/description", "is 1025 bytes long; the limit is 1024"),
            ("/owner", "is 1025 bytes long; the limit is 1024"),
            ("/tags/1", "a tag must not be empty"),
            ("/tags/2", "tag \"a\" is already listed at /tags/0"),
            ("/tags/3", "is 129 bytes long; the limit is 128"),
        ]
        .map(|(p, m)| (p.to_owned(), m.to_owned()))
    );
    let many =
        flag_with(|f| f["tags"] = json!((0..51).map(|i| format!("t{i}")).collect::<Vec<_>>()));
    assert_only(
        validate_flag(&many),
        "/tags",
        "has 51 tags; the limit is 50",
    );
}

#[test]
fn flag_variants() {
    let none = flag_with(|f| f["variants"] = json!([]));
    assert_only(
        validate_flag(&none),
        "/variants",
        "a flag needs at least one variant",
    );

    let many = flag_with(|f| {
        f["variants"] = json!(
            (0..101)
                .map(|i| json!({"key": format!("v{i}"), "value": "x"}))
                .collect::<Vec<_>>()
        )
    });
    assert_only(
        validate_flag(&many),
        "/variants",
        "has 101 variants; the limit is 100",
    );

    let bad = flag_with(|f| {
        f["variants"][1]["key"] = json!("Green");
        f["variants"][2]["key"] = json!("red");
        f["variants"][0]["value"] = json!(3);
    });
    assert_eq!(
        found(validate_flag(&bad)),
        [
            ("/variants/0/value", "must be a string, as the flag's kind is string; got a number"),
            (
                "/variants/1/key",
                "\"Green\" is not a valid key: use 1 to 128 lowercase letters, digits, '.', '_' or '-', starting with a letter or a digit",
            ),
            ("/variants/2/key", "variant key \"red\" is already used at /variants/0"),
        ]
        .map(|(p, m)| (p.to_owned(), m.to_owned()))
    );

    let big = flag_with(|f| {
        f["kind"] = json!("json");
        f["variants"][0]["value"] = json!({"blob": "x".repeat(70_000)});
    });
    assert_only(
        validate_flag(&big),
        "/variants/0/value",
        "is larger than the limit of 65536 bytes of JSON",
    );

    let labels = flag_with(|f| {
        f["variants"][0]["name"] = json!("n".repeat(1025));
        f["variants"][0]["description"] = json!("d".repeat(1025));
    });
    assert_eq!(found(validate_flag(&labels)).len(), 2);
}

#[test]
fn boolean_flags_have_exactly_on_and_off() {
    let flag: Flag = from(json!({
        "key": "b", "name": "B", "kind": "boolean",
        "variants": [{"key": "on", "value": false}, {"key": "maybe", "value": true}, {"key": "off", "value": "no"}]
    }));
    assert_eq!(
        found(validate_flag(&flag)),
        [
            (
                "/variants/0/value",
                "variant \"on\" of a boolean flag must be true"
            ),
            (
                "/variants/1/key",
                "a boolean flag has exactly two variants, \"on\" and \"off\""
            ),
            (
                "/variants/2/value",
                "must be a boolean, as the flag's kind is boolean; got a string"
            ),
        ]
        .map(|(p, m)| (p.to_owned(), m.to_owned()))
    );
    let missing: Flag = from(json!({
        "key": "b", "name": "B", "kind": "boolean", "variants": [{"key": "on", "value": true}]
    }));
    assert_only(
        validate_flag(&missing),
        "/variants",
        "a boolean flag needs a variant \"off\" with the value false",
    );
}

#[test]
fn a_flag_with_several_problems_reports_all_of_them() {
    let flag = flag_with(|f| {
        f["key"] = json!("");
        f["name"] = json!("");
        f["variants"][2]["key"] = json!("green");
        f["variants"][1]["value"] = json!(true);
    });
    let paths: Vec<String> = found(validate_flag(&flag))
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        paths,
        ["/key", "/name", "/variants/1/value", "/variants/2/key"]
    );
}

// ---------------------------------------------------------------- configs

/// Flags `a` (boolean), `b` (string: red, green, blue) and `c` (boolean),
/// and the segment `beta-users`. `b` requires `c`.
fn environment() -> Snapshot {
    from(json!({
        "environment": "production",
        "version": 7,
        "flags": [
            boolean_flag("a", &[]),
            {
                "key": "b", "kind": "string",
                "variants": color_flag()["variants"],
                "config": {"enabled": true, "off_variant": "red", "default_serve": {"variant": "green"},
                           "prerequisites": [{"flag": "c", "variant": "on"}]}
            },
            boolean_flag("c", &[]),
        ],
        "segments": [{"key": "beta-users", "name": "Beta users", "included": ["alice"]}]
    }))
}

fn boolean_flag(key: &str, prerequisites: &[&str]) -> Value {
    json!({
        "key": key, "kind": "boolean",
        "variants": [{"key": "on", "value": true}, {"key": "off", "value": false}],
        "config": {
            "enabled": true, "off_variant": "off", "default_serve": {"variant": "on"},
            "prerequisites": prerequisites.iter().map(|p| json!({"flag": p, "variant": "on"})).collect::<Vec<_>>()
        }
    })
}

fn base_config() -> Value {
    json!({"enabled": true, "off_variant": "red", "default_serve": {"variant": "green"}})
}

/// Validates a config of flag `b` edited by `edit`.
fn check_config(edit: impl FnOnce(&mut Value)) -> Result<(), ValidationErrors> {
    let mut value = base_config();
    edit(&mut value);
    let config: FlagConfig = from(value);
    let flag: Flag = from(color_flag());
    validate_flag_config("b", &flag.variants, &config, &environment())
}

fn rule(clauses: Value) -> Value {
    json!([{"id": "r1", "clauses": clauses, "serve": {"variant": "blue"}}])
}

fn clause(attribute: &str, op: &str, values: Value) -> Value {
    json!([{"attribute": attribute, "op": op, "values": values}])
}

/// The problems of one clause `attribute op values` in rule 0.
fn check_clause(attribute: &str, op: &str, values: Value) -> Vec<(String, String)> {
    found(check_config(|c| {
        c["rules"] = rule(clause(attribute, op, values))
    }))
}

#[track_caller]
fn assert_clause(op: &str, values: Value, path: &str, problem: &str) {
    assert_eq!(
        check_clause("attr", op, values),
        vec![(path.to_owned(), problem.to_owned())],
        "{op}"
    );
}

#[test]
fn a_full_valid_config_passes() {
    let result = check_config(|c| {
        *c = json!({
            "enabled": true,
            "off_variant": "red",
            "targets": [{"variant": "blue", "values": ["alice", "bob"]}, {"variant": "green", "values": ["carol"]}],
            "rules": [
                {"id": "eu", "clauses": [
                    {"attribute": "region", "op": "in", "values": ["eu-west-1", 42, true]},
                    {"attribute": "email", "op": "ends_with", "values": ["@example.com"]},
                    {"attribute": "email", "op": "matches", "values": ["^[a-z]+@"]},
                    {"attribute": "age", "op": "gte", "values": [18]},
                    {"attribute": "app_version", "op": "semver_gt", "values": ["2.1", "1.0.0-beta.1"]},
                    {"attribute": "signup", "op": "after", "values": ["2026-01-31T09:00:00Z", 1700000000000i64]},
                    {"attribute": "", "op": "in_segment", "values": ["beta-users"]},
                    {"attribute": "plan", "op": "exists", "negate": true}
                 ],
                 "serve": {"rollout": {"bucket_by": "org", "salt": "s", "fallback": "red",
                     "weights": [{"variant": "red", "weight": 10000}, {"variant": "green", "weight": 90000}, {"variant": "blue", "weight": 0}]}}},
                {"id": "everyone", "serve": {"variant": "blue"}}
            ],
            "default_serve": {"rollout": {"weights": [{"variant": "green", "weight": 100000}], "algorithm": 1}},
            "prerequisites": [{"flag": "a", "variant": "on"}, {"flag": "c", "variant": "off"}]
        })
    });
    assert_eq!(result, Ok(()));
}

#[test]
fn every_variant_named_must_exist() {
    assert_eq!(
        found(check_config(|c| {
            c["off_variant"] = json!("gren");
            c["targets"] = json!([{"variant": "purple", "values": ["alice"]}]);
            c["rules"] = json!([{"id": "r", "serve": {"variant": "Red"}}]);
            c["default_serve"] = json!({"rollout": {"weights": [{"variant": "x", "weight": 100000}], "fallback": "y"}});
        })),
        [
            ("/off_variant", "variant \"gren\" does not exist; the flag's variants are \"red\", \"green\", \"blue\""),
            ("/targets/0/variant", "variant \"purple\" does not exist; the flag's variants are \"red\", \"green\", \"blue\""),
            ("/rules/0/serve/variant", "variant \"Red\" does not exist; the flag's variants are \"red\", \"green\", \"blue\""),
            ("/default_serve/rollout/weights/0/variant", "variant \"x\" does not exist; the flag's variants are \"red\", \"green\", \"blue\""),
            ("/default_serve/rollout/fallback", "variant \"y\" does not exist; the flag's variants are \"red\", \"green\", \"blue\""),
        ]
        .map(|(p, m)| (p.to_owned(), m.to_owned()))
    );
}

#[test]
fn targets() {
    assert_eq!(
        found(check_config(|c| {
            c["targets"] = json!([
                {"variant": "blue", "values": ["alice", ""]},
                {"variant": "blue", "values": ["bob"]},
                {"variant": "green", "values": ["alice", "k".repeat(4097)]}
            ]);
        })),
        [
            ("/targets/0/values/1", "a context key must not be empty"),
            (
                "/targets/1/variant",
                "variant \"blue\" already has a target at /targets/0; add these keys there"
            ),
            (
                "/targets/2/values/0",
                "context key \"alice\" is already targeted at /targets/0/values/0"
            ),
            (
                "/targets/2/values/1",
                "is 4097 bytes long; the limit is 4096"
            ),
        ]
        .map(|(p, m)| (p.to_owned(), m.to_owned()))
    );
    let keys = |range: std::ops::Range<usize>| range.map(|i| format!("u{i}")).collect::<Vec<_>>();
    assert_eq!(
        check_config(|c| c["targets"] = json!([{"variant": "blue", "values": keys(0..100_000)}])),
        Ok(())
    );
    assert_only(
        check_config(|c| {
            c["targets"] = json!([
                {"variant": "blue", "values": keys(0..50_000)},
                {"variant": "green", "values": keys(50_000..100_001)}
            ])
        }),
        "/targets",
        "targets hold 100001 context keys in all; the limit is 100000",
    );
}

#[test]
fn rules_ids_and_limits() {
    assert_eq!(
        found(check_config(|c| {
            c["rules"] = json!([
                {"id": "", "serve": {"variant": "red"}},
                {"id": "x", "description": "d".repeat(1025), "serve": {"variant": "red"}},
                {"id": "x", "serve": {"variant": "red"}},
                {"id": "i".repeat(1025), "serve": {"variant": "red"}}
            ]);
        })),
        [
            (
                "/rules/0/id",
                "a rule needs an id, so reasons and metrics can name it"
            ),
            (
                "/rules/1/description",
                "is 1025 bytes long; the limit is 1024"
            ),
            ("/rules/2/id", "rule id \"x\" is already used at /rules/1"),
            ("/rules/3/id", "is 1025 bytes long; the limit is 1024"),
        ]
        .map(|(p, m)| (p.to_owned(), m.to_owned()))
    );
    let rules: Vec<Value> = (0..1001)
        .map(|i| json!({"id": format!("r{i}"), "serve": {"variant": "red"}}))
        .collect();
    assert_only(
        check_config(|c| c["rules"] = json!(rules)),
        "/rules",
        "has 1001 rules; the limit is 1000",
    );
    let clauses: Vec<Value> = (0..101)
        .map(|_| json!({"attribute": "a", "op": "exists"}))
        .collect();
    assert_only(
        check_config(|c| c["rules"] = rule(json!(clauses))),
        "/rules/0/clauses",
        "has 101 clauses; the limit is 100",
    );
}

#[test]
fn clause_attributes() {
    assert_eq!(
        check_clause("", "in", json!(["x"])),
        [(
            "/rules/0/clauses/0/attribute".to_owned(),
            "must not be empty: name a context attribute, or \"key\" for the targeting key"
                .to_owned()
        )]
    );
    assert_eq!(
        check_clause(&"a".repeat(257), "exists", json!([])),
        [(
            "/rules/0/clauses/0/attribute".to_owned(),
            "is 257 bytes long; the limit is 256".to_owned()
        )]
    );
    assert_eq!(check_clause("", "in_segment", json!(["beta-users"])), []);
}

#[test]
fn every_operator_but_exists_needs_a_value() {
    for op in vexil_proto::Operator::ALL {
        let problems = check_clause("attr", op.as_str(), json!([]));
        if op == vexil_proto::Operator::Exists {
            assert_eq!(problems, [], "exists");
        } else {
            assert_eq!(
                problems,
                [(
                    "/rules/0/clauses/0/values".to_owned(),
                    format!("\"{op}\" needs at least one value")
                )]
            );
        }
    }
    assert_clause(
        "exists",
        json!(["x"]),
        "/rules/0/clauses/0/values",
        "\"exists\" takes no values; remove them",
    );
}

#[test]
fn in_lists_up_to_the_limit() {
    let values: Vec<String> = (0..10_000).map(|i| format!("user-{i}")).collect();
    assert_eq!(check_clause("key", "in", json!(values)), []);
    let values: Vec<u32> = (0..100_001).collect();
    assert_eq!(
        check_clause("key", "in", json!(values)),
        [(
            "/rules/0/clauses/0/values".to_owned(),
            "has 100001 values; the limit is 100000".to_owned()
        )]
    );
    assert_eq!(check_clause("key", "in", json!(["x", 1.5, false])), []);
    assert_clause(
        "in",
        json!(["v".repeat(4097)]),
        "/rules/0/clauses/0/values/0",
        "is 4097 bytes long; the limit is 4096",
    );
}

#[test]
fn string_operators_need_strings() {
    for op in ["contains", "starts_with", "ends_with"] {
        assert_clause(
            op,
            json!(["ok", 5]),
            "/rules/0/clauses/0/values/1",
            &format!("\"{op}\" compares strings; got the number 5"),
        );
    }
}

#[test]
fn regexes_must_compile_within_limits() {
    assert_eq!(
        check_clause("email", "matches", json!(["^[a-z]+@example\\.com$"])),
        []
    );
    let problems = check_clause(
        "email",
        "matches",
        json!(["(", "(a{1000}){1000}", "a".repeat(1025), true]),
    );
    let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/rules/0/clauses/0/values/0",
            "/rules/0/clauses/0/values/1",
            "/rules/0/clauses/0/values/2",
            "/rules/0/clauses/0/values/3"
        ]
    );
    assert!(
        problems[0]
            .1
            .starts_with("regular expression does not compile"),
        "{}",
        problems[0].1
    );
    assert!(
        problems[1]
            .1
            .starts_with("regular expression is too complex"),
        "{}",
        problems[1].1
    );
    assert_eq!(
        problems[2].1,
        "regular expression is 1025 bytes long; the limit is 1024"
    );
    assert_eq!(
        problems[3].1,
        "\"matches\" takes regular expressions as strings; got the boolean true"
    );
}

#[test]
fn number_operators_need_finite_numbers() {
    for op in ["eq", "lt", "lte", "gt", "gte"] {
        assert_eq!(check_clause("age", op, json!([18, -1.5])), [], "{op}");
        assert_clause(
            op,
            json!(["5"]),
            "/rules/0/clauses/0/values/0",
            &format!("\"{op}\" compares numbers; got the string \"5\""),
        );
    }
    // JSON cannot carry NaN, but a config built in Rust can.
    let mut config: FlagConfig = from(base_config());
    config.rules = from(rule(clause("age", "lt", json!([1]))));
    config.rules[0].clauses[0].values[0] = vexil_proto::Scalar::Number(f64::NAN);
    let flag: Flag = from(color_flag());
    assert_only(
        validate_flag_config("b", &flag.variants, &config, &environment()),
        "/rules/0/clauses/0/values/0",
        "numbers must be finite",
    );
}

#[test]
fn semver_operators_need_semvers() {
    for op in ["semver_eq", "semver_lt", "semver_gt"] {
        assert_eq!(
            check_clause("v", op, json!(["1.2.3", "2", "2.1-beta.1", "1.0.0+build"])),
            [],
            "{op}"
        );
        assert_clause(
            op,
            json!(["1.2.3.4"]),
            "/rules/0/clauses/0/values/0",
            "\"1.2.3.4\" is not a semantic version (like 1.2.3 or 2.0.0-beta.1)",
        );
        assert_clause(
            op,
            json!([1]),
            "/rules/0/clauses/0/values/0",
            &format!("\"{op}\" compares semantic versions, written as strings; got the number 1"),
        );
    }
}

#[test]
fn date_operators_need_dates() {
    for op in ["before", "after"] {
        assert_eq!(
            check_clause("t", op, json!(["2026-01-31T09:00:00+01:00", 0, 1.7e12])),
            [],
            "{op}"
        );
        assert_clause(
            op,
            json!(["2026-13-01T00:00:00Z"]),
            "/rules/0/clauses/0/values/0",
            "\"2026-13-01T00:00:00Z\" is not an RFC 3339 date-time (like 2026-01-31T09:00:00Z)",
        );
        assert_clause(
            op,
            json!([true]),
            "/rules/0/clauses/0/values/0",
            &format!(
                "\"{op}\" compares dates: RFC 3339 strings or epoch milliseconds; got the boolean true"
            ),
        );
    }
}

#[test]
fn segments_referenced_must_exist() {
    assert_eq!(
        check_clause("", "in_segment", json!(["beta-users", "beta-user", 3])),
        [
            (
                "/rules/0/clauses/0/values/1",
                "segment \"beta-user\" does not exist"
            ),
            (
                "/rules/0/clauses/0/values/2",
                "\"in_segment\" takes segment keys; got the number 3"
            ),
        ]
        .map(|(p, m)| (p.to_owned(), m.to_owned()))
    );
}

fn rollout(weights: &[(&str, u32)]) -> Value {
    let weights: Vec<Value> = weights
        .iter()
        .map(|(v, w)| json!({"variant": v, "weight": w}))
        .collect();
    json!({"rollout": {"weights": weights}})
}

#[test]
fn rollout_weights_sum_to_100_000() {
    assert_eq!(
        check_config(|c| c["default_serve"] = rollout(&[("red", 50_000), ("green", 50_000)])),
        Ok(())
    );
    for (weights, sum) in [
        (&[("red", 50_000), ("green", 49_999)], 99_999),
        (&[("red", 50_000), ("green", 50_001)], 100_001),
    ] {
        assert_only(
            check_config(|c| c["rules"] = json!([{"id": "r", "serve": rollout(weights)}])),
            "/rules/0/serve/rollout/weights",
            &format!("weights sum to {sum}; they must sum to 100000 (100 %)"),
        );
    }
    // No overflow on absurd weights.
    assert_only(
        check_config(|c| c["default_serve"] = rollout(&[("red", u32::MAX), ("green", u32::MAX)])),
        "/default_serve/rollout/weights",
        "weights sum to 8589934590; they must sum to 100000 (100 %)",
    );
}

#[test]
fn rollout_shape() {
    assert_only(
        check_config(|c| c["default_serve"] = rollout(&[])),
        "/default_serve/rollout/weights",
        "a rollout needs at least one variant with a weight",
    );
    assert_only(
        check_config(|c| c["default_serve"] = rollout(&[("red", 50_000), ("red", 50_000)])),
        "/default_serve/rollout/weights/1/variant",
        "variant \"red\" already has a weight at /default_serve/rollout/weights/0",
    );
    assert_eq!(
        found(check_config(|c| {
            c["default_serve"] = json!({"rollout": {"bucket_by": "", "salt": "s".repeat(1025), "algorithm": 2,
                "weights": [{"variant": "red", "weight": 100000}]}});
        })),
        [
            (
                "/default_serve/rollout/bucket_by",
                "must not be empty; leave it out to bucket by the context key"
            ),
            (
                "/default_serve/rollout/salt",
                "is 1025 bytes long; the limit is 1024"
            ),
            (
                "/default_serve/rollout/algorithm",
                "unknown algorithm 2; the only algorithm is 1"
            ),
        ]
        .map(|(p, m)| (p.to_owned(), m.to_owned()))
    );
}

#[test]
fn prerequisites_must_exist() {
    assert_eq!(
        found(check_config(|c| {
            c["prerequisites"] = json!([
                {"flag": "a", "variant": "on"},
                {"flag": "b", "variant": "red"},
                {"flag": "zzz", "variant": "on"},
                {"flag": "c", "variant": "maybe"},
                {"flag": "a", "variant": "off"}
            ]);
        })),
        [
            (
                "/prerequisites/1/flag",
                "a flag cannot be its own prerequisite"
            ),
            ("/prerequisites/2/flag", "flag \"zzz\" does not exist"),
            (
                "/prerequisites/3/variant",
                "flag \"c\" has no variant \"maybe\"; its variants are \"on\", \"off\""
            ),
            (
                "/prerequisites/4/flag",
                "flag \"a\" is already a prerequisite at /prerequisites/0"
            ),
        ]
        .map(|(p, m)| (p.to_owned(), m.to_owned()))
    );
    let many: Vec<Value> = (0..51)
        .map(|_| json!({"flag": "a", "variant": "on"}))
        .collect();
    let problems = found(check_config(|c| c["prerequisites"] = json!(many)));
    assert_eq!(
        problems[0],
        (
            "/prerequisites".to_owned(),
            "has 51 prerequisites; the limit is 50".to_owned()
        )
    );
    assert_eq!(
        problems.len(),
        50,
        "the 49 duplicates among the first 50, and the count"
    );
}

/// Validates flag `me`'s config requiring `requires`, in an environment of
/// boolean flags whose prerequisites are `graph`.
fn check_prerequisites(
    me: &str,
    requires: &[&str],
    graph: &[(&str, &[&str])],
) -> Vec<(String, String)> {
    let flags: Vec<Value> = graph
        .iter()
        .map(|(key, prerequisites)| boolean_flag(key, prerequisites))
        .collect();
    let snapshot: Snapshot =
        from(json!({"environment": "production", "version": 1, "flags": flags}));
    let mut config: Value = boolean_flag(me, requires)["config"].take();
    config["version"] = json!(2);
    let config: FlagConfig = from(config);
    let variants = from::<Flag>(json!({"key": me, "name": "x", "kind": "boolean",
        "variants": [{"key": "on", "value": true}, {"key": "off", "value": false}]}))
    .variants;
    found(validate_flag_config(me, &variants, &config, &snapshot))
}

#[test]
fn prerequisite_cycles_are_rejected() {
    assert_eq!(
        check_prerequisites("a", &["a"], &[("a", &[])]),
        [(
            "/prerequisites/0/flag".to_owned(),
            "a flag cannot be its own prerequisite".to_owned()
        )]
    );
    assert_eq!(
        check_prerequisites("a", &["c", "b"], &[("a", &[]), ("b", &["a"]), ("c", &[])]),
        [(
            "/prerequisites/1/flag".to_owned(),
            "prerequisite cycle: a -> b -> a".to_owned()
        )]
    );
    assert_eq!(
        check_prerequisites("a", &["b"], &[("a", &[]), ("b", &["c"]), ("c", &["a"])]),
        [(
            "/prerequisites/0/flag".to_owned(),
            "prerequisite cycle: a -> b -> c -> a".to_owned()
        )]
    );
    // The stored config of `a` is replaced: its old prerequisite on `b` no longer counts.
    assert_eq!(
        check_prerequisites("b", &["c"], &[("a", &["b"]), ("b", &[]), ("c", &[])]),
        []
    );
    // Someone else's cycle below.
    assert_eq!(
        check_prerequisites(
            "a",
            &["b"],
            &[("a", &[]), ("b", &["c"]), ("c", &["d"]), ("d", &["c"])]
        ),
        [(
            "/prerequisites/0/flag".to_owned(),
            "leads into a prerequisite cycle: c -> d -> c (reached from \"a\")".to_owned()
        )]
    );
}

/// `f0 -> f1 -> ... -> f{n}` as a graph, `f{n}` without prerequisites.
fn line(n: usize) -> Vec<(String, Vec<String>)> {
    (0..=n)
        .map(|i| {
            (
                format!("f{i}"),
                if i < n {
                    vec![format!("f{}", i + 1)]
                } else {
                    vec![]
                },
            )
        })
        .collect()
}

fn check_line(
    me: &str,
    requires: &[&str],
    graph: &[(String, Vec<String>)],
) -> Vec<(String, String)> {
    let graph: Vec<(&str, Vec<&str>)> = graph
        .iter()
        .map(|(k, ps)| (k.as_str(), ps.iter().map(String::as_str).collect()))
        .collect();
    let graph: Vec<(&str, &[&str])> = graph.iter().map(|(k, ps)| (*k, ps.as_slice())).collect();
    check_prerequisites(me, requires, &graph)
}

#[test]
fn prerequisite_chains_are_at_most_ten_deep() {
    // f0 -> f1 -> ... -> f10: ten links, fine.
    assert_eq!(check_line("f0", &["f1"], &line(10)), []);
    assert_eq!(
        check_line("f0", &["f1"], &line(11)),
        [(
            "/prerequisites".to_owned(),
            "prerequisite chain f0 -> f1 -> f2 -> f3 -> f4 -> f5 -> f6 -> f7 -> f8 -> f9 -> f10 -> f11 is more than 10 links deep; the limit is 10".to_owned()
        )]
    );
    // Upstream: f0 -> ... -> f10 exists; giving f10 a prerequisite makes f0's chain eleven deep.
    let mut graph = line(10);
    graph.push(("x".to_owned(), vec![]));
    let problems = check_line("f10", &["x"], &graph);
    assert_eq!(
        problems,
        [(
            "/prerequisites".to_owned(),
            "prerequisite chain f0 -> f1 -> f2 -> f3 -> f4 -> f5 -> f6 -> f7 -> f8 -> f9 -> f10 -> x is more than 10 links deep; the limit is 10".to_owned()
        )]
    );
    // In the middle of the same chain, a prerequisite without its own is fine at depth 10.
    assert_eq!(check_line("f9", &["f10"], &line(10)), []);
}

#[test]
fn a_config_with_several_problems_reports_all_of_them() {
    let problems = found(check_config(|c| {
        c["off_variant"] = json!("nope");
        c["rules"] = json!([
            {"id": "r", "clauses": [
                {"attribute": "v", "op": "semver_eq", "values": ["1.2.3.4", "1.0"]},
                {"attribute": "t", "op": "after", "values": ["2026-13-01T00:00:00Z"]},
                {"attribute": "", "op": "in_segment", "values": ["ghosts"]}
            ], "serve": rollout(&[("red", 1)])}
        ]);
        c["prerequisites"] = json!([{"flag": "b", "variant": "red"}]);
    }));
    let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/off_variant",
            "/rules/0/clauses/0/values/0",
            "/rules/0/clauses/1/values/0",
            "/rules/0/clauses/2/values/0",
            "/rules/0/serve/rollout/weights",
            "/prerequisites/0/flag",
        ]
    );
}

#[test]
fn problems_are_capped() {
    let values: Vec<String> = (0..5_000).map(|i| format!("bad {i}")).collect();
    let problems = check_clause("v", "semver_eq", json!(values));
    assert_eq!(problems.len(), MAX_PROBLEMS + 1);
    assert_eq!(problems[MAX_PROBLEMS].0, "");
    assert!(
        problems[MAX_PROBLEMS]
            .1
            .starts_with("4000 more problem(s) not shown")
    );
}

// ---------------------------------------------------------------- segments

fn segment_with(edit: impl FnOnce(&mut Value)) -> Segment {
    let mut value = json!({
        "key": "beta-users", "name": "Beta users", "included": ["alice"], "excluded": ["bob"],
        "rules": [{"id": "eu", "clauses": [{"attribute": "region", "op": "in", "values": ["eu-west-1"]}]}]
    });
    edit(&mut value);
    from(value)
}

#[test]
fn segments() {
    assert_eq!(validate_segment(&segment_with(|_| {})), Ok(()));
    assert_eq!(
        found(validate_segment(&segment_with(|s| {
            s["key"] = json!("Beta");
            s["name"] = json!("");
            s["included"] = json!(["", "alice"]);
            s["rules"] = json!([
                {"id": "x", "clauses": [{"attribute": "a", "op": "in_segment", "values": ["other"]}]},
                {"id": "x", "clauses": [{"attribute": "v", "op": "semver_gt", "values": ["x"]}]},
                {"clauses": []},
                {"clauses": []}
            ]);
        }))),
        [
            ("/key", "\"Beta\" is not a valid key: use 1 to 128 lowercase letters, digits, '.', '_' or '-', starting with a letter or a digit"),
            ("/name", "must not be empty"),
            ("/included/0", "a context key must not be empty"),
            ("/rules/0/clauses/0/op", "\"in_segment\" is not allowed inside a segment"),
            ("/rules/1/id", "rule id \"x\" is already used at /rules/0"),
            ("/rules/1/clauses/0/values/0", "\"x\" is not a semantic version (like 1.2.3 or 2.0.0-beta.1)"),
        ]
        .map(|(p, m)| (p.to_owned(), m.to_owned()))
    );
}

#[test]
fn segment_limits() {
    let keys = |n: usize| (0..n).map(|i| format!("u{i}")).collect::<Vec<_>>();
    assert_only(
        validate_segment(&segment_with(|s| s["included"] = json!(keys(100_000)))),
        "/excluded",
        "included and excluded hold 100001 keys together; the limit is 100000",
    );
    assert_only(
        validate_segment(&segment_with(|s| {
            s["included"] = json!(keys(100_001));
            s["excluded"] = json!([]);
        })),
        "/included",
        "included and excluded hold 100001 keys together; the limit is 100000",
    );
    let rules: Vec<Value> = (0..1001).map(|_| json!({})).collect();
    assert_only(
        validate_segment(&segment_with(|s| s["rules"] = json!(rules))),
        "/rules",
        "has 1001 rules; the limit is 1000",
    );
}

// ---------------------------------------------------------------- snapshots

#[test]
fn a_valid_snapshot_passes() {
    assert_eq!(validate_snapshot(&environment()), Ok(()));
    assert_eq!(
        validate_snapshot(&Snapshot::default()).map_err(|e| e.0[0].path.clone()),
        Err("/environment".to_owned())
    );
}

#[test]
fn snapshot_paths_reach_into_flags_and_segments() {
    let mut snapshot = environment();
    snapshot.flags[0].variants[0].key = "ON".into();
    snapshot.flags[1].config.rules = from(json!([
        {"id": "r", "clauses": [{"attribute": "t", "op": "before", "values": ["soon"]},
                                {"attribute": "", "op": "in_segment", "values": ["nobody"]}],
         "serve": {"variant": "red"}}
    ]));
    snapshot.segments[0].rules =
        from(json!([{"clauses": [{"attribute": "x", "op": "matches", "values": ["("]}]}]));
    let mut duplicate = snapshot.flags[2].clone();
    duplicate.config.off_variant = "of".into();
    snapshot.flags.push(duplicate);
    snapshot.segments.push(snapshot.segments[0].clone());
    let problems = found(validate_snapshot(&snapshot));
    let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/flags/0/variants/0/key",
            "/flags/0/variants/0/key",
            "/flags/0/variants",
            "/flags/0/config/default_serve/variant",
            "/flags/1/config/rules/0/clauses/0/values/0",
            "/flags/1/config/rules/0/clauses/1/values/0",
            "/flags/3/key",
            "/flags/3/config/off_variant",
            "/segments/0/rules/0/clauses/0/values/0",
            "/segments/1/rules/0/clauses/0/values/0",
            "/segments/1/key",
        ]
    );
    assert_eq!(problems[6].1, "flag \"c\" is already defined at /flags/2");
    assert_eq!(
        problems[10].1,
        "segment \"beta-users\" is already defined at /segments/0"
    );
}

#[test]
fn snapshot_cycles_are_reported_at_every_flag_on_them() {
    let snapshot: Snapshot = from(json!({
        "environment": "production", "version": 1,
        "flags": [boolean_flag("a", &["b"]), boolean_flag("b", &["c"]), boolean_flag("c", &["a"]), boolean_flag("d", &["a"])]
    }));
    assert_eq!(
        found(validate_snapshot(&snapshot)),
        [
            (
                "/flags/0/config/prerequisites/0/flag",
                "prerequisite cycle: a -> b -> c -> a"
            ),
            (
                "/flags/1/config/prerequisites/0/flag",
                "prerequisite cycle: b -> c -> a -> b"
            ),
            (
                "/flags/2/config/prerequisites/0/flag",
                "prerequisite cycle: c -> a -> b -> c"
            ),
            (
                "/flags/3/config/prerequisites/0/flag",
                "leads into a prerequisite cycle: a -> b -> c -> a (reached from \"d\")"
            ),
        ]
        .map(|(p, m)| (p.to_owned(), m.to_owned()))
    );
}

#[test]
fn snapshot_chains_too_deep_are_reported_at_their_top() {
    let flags: Vec<Value> = line(11)
        .iter()
        .map(|(key, ps)| boolean_flag(key, &ps.iter().map(String::as_str).collect::<Vec<_>>()))
        .collect();
    let snapshot: Snapshot =
        from(json!({"environment": "production", "version": 1, "flags": flags}));
    let problems = found(validate_snapshot(&snapshot));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].0, "/flags/0/config/prerequisites");
}

// ---------------------------------------------------------------- projects

#[test]
fn projects_and_environments() {
    let project: Project = from(json!({"key": "default", "name": "Default"}));
    assert_eq!(validate_project(&project), Ok(()));
    let project: Project =
        from(json!({"key": "My Project", "name": "", "description": "d".repeat(1025)}));
    let paths: Vec<String> = found(validate_project(&project))
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(paths, ["/key", "/name", "/description"]);

    let environment: Environment =
        from(json!({"key": "production", "name": "Production", "production": true}));
    assert_eq!(validate_environment(&environment), Ok(()));
    let environment: Environment = from(json!({"key": "-prod", "name": " "}));
    let paths: Vec<String> = found(validate_environment(&environment))
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(paths, ["/key", "/name"]);
}

#[test]
fn errors_serialize_as_the_api_details() {
    let errors = validate_project(&from(json!({"key": "ok", "name": ""}))).unwrap_err();
    assert_eq!(
        serde_json::to_value(&errors.0).unwrap(),
        json!([{"path": "/name", "problem": "must not be empty"}])
    );
    assert_eq!(
        errors.to_string(),
        "1 validation problem(s), first: /name: must not be empty"
    );
}

#[test]
fn null_variant_values_are_rejected() {
    let flag: vexil_proto::Flag = serde_json::from_value(serde_json::json!({
        "key": "settings", "name": "Settings", "kind": "json",
        "variants": [{"key": "a", "value": {"x": 1}}, {"key": "b", "value": null}],
    }))
    .unwrap();
    let errors = vexil_proto::validate::validate_flag(&flag).unwrap_err();
    assert_eq!(
        errors.0,
        vec![vexil_proto::Problem {
            path: "/variants/1/value".into(),
            problem:
                "cannot be null: an evaluation without a value means the caller's default applies"
                    .into(),
        }]
    );
}
