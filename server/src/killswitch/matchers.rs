//! Label matchers compiled once per switch, with Prometheus' semantics: a
//! missing label is the empty string, and regexes are anchored at both
//! ends (`=~"5.."` matches `500`, not `1500`).

use std::collections::BTreeMap;

use regex::Regex;
use vexil_proto::Problem;

use super::deploy::problem;
use super::model::{MatchOp, Matcher};

/// Longest regex accepted in a matcher, in bytes.
const MAX_PATTERN: usize = 1_000;

/// A matcher ready to test labels.
#[derive(Debug, Clone)]
pub enum Compiled {
    Eq(String, String),
    Ne(String, String),
    Re(String, Regex),
    NotRe(String, Regex),
}

impl Compiled {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = |label: &str| labels.get(label).map_or("", String::as_str);
        match self {
            Compiled::Eq(label, v) => value(label) == v,
            Compiled::Ne(label, v) => value(label) != v,
            Compiled::Re(label, re) => re.is_match(value(label)),
            Compiled::NotRe(label, re) => !re.is_match(value(label)),
        }
    }
}

/// Compiles `matchers` (at `pointer`, for problems); at least one is needed.
pub fn compile(matchers: &[Matcher], pointer: &str) -> Result<Vec<Compiled>, Vec<Problem>> {
    let mut problems = Vec::new();
    if matchers.is_empty() {
        problems.push(problem(
            pointer,
            "needs at least one matcher (an empty list would match every alert)",
        ));
    }
    let mut compiled = Vec::with_capacity(matchers.len());
    for (i, m) in matchers.iter().enumerate() {
        if m.label.trim().is_empty() {
            problems.push(problem(
                &format!("{pointer}/{i}/label"),
                "must not be empty",
            ));
        }
        let regex = |problems: &mut Vec<Problem>| {
            if m.value.len() > MAX_PATTERN {
                problems.push(problem(
                    &format!("{pointer}/{i}/value"),
                    format!("is longer than {MAX_PATTERN} bytes"),
                ));
                return None;
            }
            match Regex::new(&format!("^(?:{})$", m.value)) {
                Ok(re) => Some(re),
                Err(err) => {
                    problems.push(problem(
                        &format!("{pointer}/{i}/value"),
                        format!("is not a valid regex: {err}"),
                    ));
                    None
                }
            }
        };
        let label = m.label.clone();
        let one = match m.op {
            MatchOp::Eq => Some(Compiled::Eq(label, m.value.clone())),
            MatchOp::Ne => Some(Compiled::Ne(label, m.value.clone())),
            MatchOp::Re => regex(&mut problems).map(|re| Compiled::Re(label, re)),
            MatchOp::NotRe => regex(&mut problems).map(|re| Compiled::NotRe(label, re)),
        };
        compiled.extend(one);
    }
    if problems.is_empty() {
        Ok(compiled)
    } else {
        Err(problems)
    }
}

/// Whether every matcher holds for `labels`.
pub fn all_match(matchers: &[Compiled], labels: &BTreeMap<String, String>) -> bool {
    !matchers.is_empty() && matchers.iter().all(|m| m.matches(labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(label: &str, op: MatchOp, value: &str) -> Matcher {
        Matcher {
            label: label.into(),
            op,
            value: value.into(),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_four_operators_with_prometheus_semantics() {
        let compiled = compile(
            &[
                m("alertname", MatchOp::Eq, "CheckoutErrors"),
                m("env", MatchOp::Ne, "staging"),
                m("code", MatchOp::Re, "5.."),
                m("team", MatchOp::NotRe, "payments|billing"),
            ],
            "/trigger/alert/matchers",
        )
        .unwrap();
        let hit = labels(&[("alertname", "CheckoutErrors"), ("code", "503")]);
        assert!(all_match(&compiled, &hit));
        let anchored = labels(&[("alertname", "CheckoutErrors"), ("code", "1503")]);
        assert!(!all_match(&compiled, &anchored));
        let team = labels(&[
            ("alertname", "CheckoutErrors"),
            ("code", "500"),
            ("team", "billing"),
        ]);
        assert!(!all_match(&compiled, &team));
        let env = labels(&[
            ("alertname", "CheckoutErrors"),
            ("code", "500"),
            ("env", "staging"),
        ]);
        assert!(!all_match(&compiled, &env));
    }

    #[test]
    fn bad_regexes_and_empty_lists_are_problems() {
        let problems = compile(&[m("a", MatchOp::Re, "(")], "/m").unwrap_err();
        assert_eq!(problems[0].path, "/m/0/value");
        assert!(problems[0].problem.starts_with("is not a valid regex"));
        let problems = compile(&[], "/m").unwrap_err();
        assert_eq!(problems[0].path, "/m");
    }
}
