//! One builder per benchmarked flag shape, the segment they use, and a small
//! snapshot holding one flag of each shape.

use vexil_proto::{
    Clause, FlagConfig, Operator, Rollout, Rule, Scalar, Segment, SegmentRule, Serve, Snapshot,
    SnapshotFlag, WeightedVariant,
};

/// The flag of [`snapshot`] built by [`boolean`].
pub const BOOLEAN: &str = "boolean-no-rules";
/// The flag of [`snapshot`] built by [`five_rules`].
pub const FIVE_RULES: &str = "five-rules";
/// The flag of [`snapshot`] built by [`in_list`] with [`LONG_LIST_LEN`] values.
pub const LONG_LIST: &str = "long-in-list";
/// The flag of [`snapshot`] built by [`in_segment`].
pub const SEGMENT_MATCH: &str = "segment-match";
/// The segment of [`snapshot`], built by [`segment`].
pub const SEGMENT: &str = "beta-testers";

/// Length of the `in` list of [`LONG_LIST`].
pub const LONG_LIST_LEN: usize = 10_000;
/// Number of included keys of [`SEGMENT`].
pub const SEGMENT_INCLUDED_LEN: usize = 1_000;

/// A snapshot with one flag of each shape and the segment they need: the
/// single-flag benchmarks evaluate its flags by the constants above.
pub fn snapshot() -> Snapshot {
    Snapshot {
        environment: "production".into(),
        version: 1,
        flags: vec![
            boolean(BOOLEAN),
            five_rules(FIVE_RULES),
            in_list(LONG_LIST, LONG_LIST_LEN),
            in_segment(SEGMENT_MATCH, SEGMENT),
        ],
        segments: vec![segment(SEGMENT, SEGMENT_INCLUDED_LEN)],
    }
}

/// A boolean flag with no targets and no rules: everyone gets `on` with
/// reason `DEFAULT`. The cheapest enabled flag there is.
pub fn boolean(key: &str) -> SnapshotFlag {
    boolean_flag(key, Vec::new(), "on")
}

/// Five rules of three clauses, written so that for
/// [`crate::contexts::user`] each of the first four rules matches two clauses
/// and fails on the third, and the last rule matches: all fifteen clauses are
/// evaluated, then the last rule's 50/50 rollout hashes the context key
/// (reason `SPLIT`, rule index 4).
///
/// The engine evaluates a rule's clauses cheapest first (`in` and numbers,
/// then string operators, semver, regex), so in every rule the failing
/// clause is also the costliest one (or, among equals, the last written):
/// whichever order the engine picks among the others, it reaches it last.
pub fn five_rules(key: &str) -> SnapshotFlag {
    let on = || Serve::Variant("on".into());
    let rules = vec![
        rule(
            "eu-example-legacy",
            [
                clause("region", Operator::In, ["eu-west-1", "eu-central-1"]),
                clause("email", Operator::EndsWith, ["@example.com"]),
                clause("app_version", Operator::SemverLt, ["2.0.0"]),
            ],
            on(),
        ),
        rule(
            "named-org-admins",
            [
                clause("seats", Operator::Gte, [10.0]),
                clause("email", Operator::StartsWith, ["alice", "bob"]),
                clause("email", Operator::Matches, [r"^[a-z.]+@example\.org$"]),
            ],
            on(),
        ),
        rule(
            "dach-partners-new-app",
            [
                clause("country", Operator::In, ["DE", "AT", "CH"]),
                clause("app_version", Operator::SemverGt, ["2.5.0"]),
                clause("email", Operator::Matches, [r"@(partner|reseller)\.com$"]),
            ],
            on(),
        ),
        rule(
            "eu-teams-testing",
            [
                clause("seats", Operator::Gte, [10.0]),
                clause("region", Operator::StartsWith, ["eu-"]),
                clause("email", Operator::Contains, ["+test"]),
            ],
            on(),
        ),
        rule(
            "eu-new-app-rollout",
            [
                clause(
                    "region",
                    Operator::In,
                    ["eu-west-1", "eu-central-1", "eu-north-1"],
                ),
                clause("app_version", Operator::SemverGt, ["2.5.0"]),
                clause("email", Operator::Matches, [r"@example\.(com|org)$"]),
            ],
            Serve::Rollout(Rollout {
                bucket_by: None,
                salt: None,
                weights: vec![weight("on", 50_000), weight("off", 50_000)],
                fallback: None,
                algorithm: 1,
            }),
        ),
    ];
    boolean_flag(key, rules, "off")
}

/// One rule with one `account in [...]` clause over `len` accounts from
/// [`account_list`]. Serves `on` with `TARGETING_MATCH` to
/// [`crate::contexts::user`] when `len` exceeds 4 242, and `off` with
/// `DEFAULT` to [`crate::contexts::stranger`].
pub fn in_list(key: &str, len: usize) -> SnapshotFlag {
    let rules = vec![rule(
        "listed-accounts",
        [Clause {
            attribute: "account".into(),
            op: Operator::In,
            values: account_list(len),
            negate: false,
        }],
        Serve::Variant("on".into()),
    )];
    boolean_flag(key, rules, "off")
}

/// `acct-000000`, `acct-000001`, … : `len` distinct account ids.
pub fn account_list(len: usize) -> Vec<Scalar> {
    (0..len)
        .map(|i| Scalar::String(format!("acct-{i:06}")))
        .collect()
}

/// One rule, `in_segment [segment]`, serving `on` with `TARGETING_MATCH`.
pub fn in_segment(key: &str, segment: &str) -> SnapshotFlag {
    let rules = vec![rule(
        "beta-audience",
        [clause("key", Operator::InSegment, [segment])],
        Serve::Variant("on".into()),
    )];
    boolean_flag(key, rules, "off")
}

/// A segment with `included` keys (`tester-00000`, …), ten excluded keys and
/// two rules. [`crate::contexts::user`] is neither included nor excluded,
/// fails the first rule and matches the second, so both key sets are looked
/// up and three clauses evaluated.
pub fn segment(key: &str, included: usize) -> Segment {
    Segment {
        key: key.into(),
        name: format!("Segment {key}"),
        description: "Early adopters: named testers, staff, and paying teams.".into(),
        included: (0..included).map(|i| format!("tester-{i:05}")).collect(),
        excluded: (0..10).map(|i| format!("user-{i:04}")).collect(),
        rules: vec![
            SegmentRule {
                id: "staff".into(),
                clauses: vec![clause("email", Operator::EndsWith, ["@vexil.dev"])],
            },
            SegmentRule {
                id: "paying-teams".into(),
                clauses: vec![
                    clause("plan", Operator::In, ["enterprise", "team"]),
                    clause("seats", Operator::Gte, [10.0]),
                ],
            },
        ],
        version: 1,
    }
}

/// An enabled boolean flag with these rules, serving `off` when disabled and
/// `default` to whoever matches no rule.
fn boolean_flag(key: &str, rules: Vec<Rule>, default: &str) -> SnapshotFlag {
    let config = FlagConfig {
        rules,
        ..FlagConfig::new("off", Serve::Variant(default.into()))
    };
    SnapshotFlag::boolean(key, config)
}

fn rule<const N: usize>(id: &str, clauses: [Clause; N], serve: Serve) -> Rule {
    Rule {
        id: id.into(),
        description: String::new(),
        clauses: clauses.into(),
        serve,
    }
}

fn clause<T: Into<Scalar>, const N: usize>(
    attribute: &str,
    op: Operator,
    values: [T; N],
) -> Clause {
    Clause {
        attribute: attribute.into(),
        op,
        values: values.into_iter().map(Into::into).collect(),
        negate: false,
    }
}

fn weight(variant: &str, weight: u32) -> WeightedVariant {
    WeightedVariant {
        variant: variant.into(),
        weight,
    }
}

#[cfg(test)]
mod tests {
    use vexil_engine::CompiledSnapshot;
    use vexil_proto::Reason;

    use super::*;
    use crate::contexts;

    fn compiled(flags: Vec<SnapshotFlag>) -> CompiledSnapshot {
        let snapshot = Snapshot {
            environment: "test".into(),
            version: 1,
            flags,
            segments: vec![segment(SEGMENT, SEGMENT_INCLUDED_LEN)],
        };
        let compiled = CompiledSnapshot::compile(&snapshot);
        assert_eq!(compiled.errors(), &[]);
        compiled
    }

    #[test]
    fn every_shape_takes_its_path() {
        let snapshot = compiled(snapshot().flags);
        let user = contexts::user();
        let stranger = contexts::stranger();

        assert_eq!(snapshot.evaluate(BOOLEAN, &user).reason, Reason::Default);

        let five = snapshot.evaluate(FIVE_RULES, &user);
        assert_eq!((five.reason, five.rule_index), (Reason::Split, Some(4)));
        assert!(five.bucket.is_some());

        let hit = snapshot.evaluate(LONG_LIST, &user);
        assert_eq!(
            (hit.reason, hit.variant),
            (Reason::TargetingMatch, Some("on"))
        );
        let miss = snapshot.evaluate(LONG_LIST, &stranger);
        assert_eq!((miss.reason, miss.variant), (Reason::Default, Some("off")));

        let seg = snapshot.evaluate(SEGMENT_MATCH, &user);
        assert_eq!(
            (seg.reason, seg.variant),
            (Reason::TargetingMatch, Some("on"))
        );
    }

    /// Each of the first four rules fails on its third clause only (the
    /// costliest, which the engine evaluates last), so the user pays for all
    /// fifteen clauses before the last rule matches.
    #[test]
    fn the_first_four_rules_fail_on_their_last_clause_only() {
        let user = contexts::user();
        let rules = five_rules(FIVE_RULES).config.rules;
        for (i, rule) in rules.iter().take(4).enumerate() {
            let mut first_two = rule.clone();
            let last = first_two.clauses.pop().map(|c| vec![c]).unwrap_or_default();
            let last = Rule {
                clauses: last,
                ..rule.clone()
            };
            let snapshot = compiled(vec![
                boolean_flag("first-two", vec![first_two], "off"),
                boolean_flag("last", vec![last], "off"),
            ]);
            let reason = |flag| snapshot.evaluate(flag, &user).reason;
            assert_eq!(reason("first-two"), Reason::TargetingMatch, "rule {i}");
            assert_eq!(reason("last"), Reason::Default, "rule {i}");
        }
    }

    /// The user is in the segment by its second rule, not by key.
    #[test]
    fn the_segment_matches_by_its_second_rule() {
        let user = contexts::user();
        let built = segment(SEGMENT, SEGMENT_INCLUDED_LEN);
        assert!(!built.included.contains(&user.key) && !built.excluded.contains(&user.key));
        let mut first_rule_only = built.clone();
        first_rule_only.rules.truncate(1);
        let snapshot = CompiledSnapshot::compile(&Snapshot {
            environment: "test".into(),
            version: 1,
            flags: vec![in_segment("flag", SEGMENT)],
            segments: vec![first_rule_only],
        });
        assert_eq!(snapshot.evaluate("flag", &user).reason, Reason::Default);
    }
}
