//! Checking a plan against its flag before it is stored: the variants
//! exist, every region has stages, percents are real shares that never go
//! down, holds are sane, regions are unique, guard matchers compile.

use std::collections::HashMap;
use std::time::Duration;

use vexil_proto::{Flag, Problem};

use super::exposure::{EVERYONE, weight};
use super::model::{RolloutPlan, Stage};
use crate::killswitch::deploy::problem;
use crate::killswitch::matchers;

/// Most stages in one region (or everywhere).
pub const MAX_STAGES: usize = 20;
/// Most regions in one plan.
pub const MAX_REGIONS: usize = 50;
/// Longest hold of one stage.
pub const MAX_HOLD: Duration = Duration::from_secs(30 * 24 * 3600);
/// Longest region name or attribute, in characters.
const MAX_TEXT: usize = 100;

/// Every problem with `spec` for `flag`, as JSON pointers into it; empty
/// when fine.
pub fn problems(flag: &Flag, spec: &RolloutPlan) -> Vec<Problem> {
    let mut problems = Vec::new();
    let has = |variant: &str| flag.variants.iter().any(|v| v.key == variant);
    if !has(&spec.variant) {
        problems.push(problem(
            "/variant",
            format!("flag `{}` has no variant `{}`", flag.key, spec.variant),
        ));
    }
    if let Some(control) = &spec.control {
        if !has(control) {
            problems.push(problem(
                "/control",
                format!("flag `{}` has no variant `{control}`", flag.key),
            ));
        } else if *control == spec.variant {
            problems.push(problem(
                "/control",
                "must differ from `variant` (it is what contexts not yet exposed get)",
            ));
        }
    }
    if spec
        .bucket_by
        .as_deref()
        .is_some_and(|b| b.trim().is_empty())
    {
        problems.push(problem("/bucket_by", "must not be empty when given"));
    }
    text(&mut problems, "/region_attribute", &spec.region_attribute);
    if spec.regions.is_empty() || !spec.stages.is_empty() {
        stages(
            &mut problems,
            "/stages",
            &spec.stages,
            spec.regions.is_empty(),
        );
    }
    if spec.regions.len() > MAX_REGIONS {
        problems.push(problem(
            "/regions",
            format!("has more than {MAX_REGIONS} regions"),
        ));
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, region) in spec.regions.iter().enumerate() {
        let path = format!("/regions/{i}");
        text(&mut problems, &format!("{path}/region"), &region.region);
        if let Some(first) = seen.insert(&region.region, i) {
            problems.push(problem(
                &format!("{path}/region"),
                format!("region `{}` is already at /regions/{first}", region.region),
            ));
        }
        if region.stages.is_empty() {
            if spec.stages.is_empty() {
                problems.push(problem(
                    &format!("{path}/stages"),
                    "needs at least one stage (or give the plan `stages` for every region)",
                ));
            }
        } else {
            stages(
                &mut problems,
                &format!("{path}/stages"),
                &region.stages,
                true,
            );
        }
    }
    for (i, guard) in spec.guards.alerts.iter().enumerate() {
        let path = format!("/guards/alerts/{i}/matchers");
        if let Err(found) = matchers::compile(&guard.matchers, &path) {
            problems.extend(found);
        }
    }
    problems
}

fn text(problems: &mut Vec<Problem>, path: &str, value: &str) {
    if value.trim().is_empty() || value.trim() != value {
        problems.push(problem(
            path,
            "must not be empty or start or end with spaces",
        ));
    } else if value.chars().count() > MAX_TEXT {
        problems.push(problem(
            path,
            format!("is longer than {MAX_TEXT} characters"),
        ));
    }
}

fn stages(problems: &mut Vec<Problem>, path: &str, stages: &[Stage], required: bool) {
    if stages.is_empty() {
        if required {
            problems.push(problem(path, "needs at least one stage"));
        }
        return;
    }
    if stages.len() > MAX_STAGES {
        problems.push(problem(path, format!("has more than {MAX_STAGES} stages")));
    }
    let mut last = 0;
    for (i, stage) in stages.iter().enumerate() {
        let at = format!("{path}/{i}");
        let units = stage.percent * 1000.0;
        if !(stage.percent > 0.0 && stage.percent <= 100.0) {
            problems.push(problem(
                &format!("{at}/percent"),
                "must be more than 0 and at most 100",
            ));
        } else if (units - units.round()).abs() > 1e-6 {
            problems.push(problem(
                &format!("{at}/percent"),
                "must be a multiple of 0.001 (the rollout's precision)",
            ));
        } else if weight(stage) < last {
            problems.push(problem(
                &format!("{at}/percent"),
                "must not be lower than the stage before (a ramp only goes up)",
            ));
        }
        last = weight(stage).min(EVERYONE);
        if stage.hold > MAX_HOLD {
            problems.push(problem(&format!("{at}/hold"), "must be at most 30 days"));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use vexil_proto::{FlagKind, Variant};

    use super::*;

    fn flag() -> Flag {
        Flag {
            key: "checkout".into(),
            name: "Checkout".into(),
            description: String::new(),
            tags: Vec::new(),
            owner: None,
            kind: FlagKind::Boolean,
            variants: vec![Variant::new("on", true), Variant::new("off", false)],
            temporary: true,
        }
    }

    fn paths(spec: serde_json::Value) -> Vec<(String, String)> {
        let spec: RolloutPlan = serde_json::from_value(spec).unwrap();
        problems(&flag(), &spec)
            .into_iter()
            .map(|p| (p.path, p.problem))
            .collect()
    }

    #[test]
    fn a_good_plan_has_no_problems() {
        let found = paths(json!({
            "variant": "on", "control": "off",
            "stages": [{"percent": 0.5, "hold": "10m"}, {"percent": 100, "hold": "1h"}],
            "regions": [{"region": "eu-west-1"}, {"region": "us-east-1", "stages": [{"percent": 50, "hold": "0s"}]}],
            "guards": {"alerts": [{"matchers": [{"label": "service", "op": "=~", "value": "checkout|cart"}]}]},
        }));
        assert_eq!(found, []);
    }

    #[test]
    fn every_problem_is_reported_with_its_pointer() {
        let found = paths(json!({
            "variant": "purple", "control": "green", "bucket_by": " ",
            "stages": [{"percent": 50, "hold": "1h"}, {"percent": 10, "hold": "31d"}, {"percent": 0, "hold": "1m"}, {"percent": 12.3456, "hold": "1m"}],
            "regions": [{"region": "eu"}, {"region": "eu"}, {"region": " us"}],
            "guards": {"alerts": [{"matchers": []}, {"matchers": [{"label": "a", "op": "=~", "value": "("}]}]},
        }));
        let pointers: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/variant",
                "/control",
                "/bucket_by",
                "/stages/1/percent",
                "/stages/1/hold",
                "/stages/2/percent",
                "/stages/3/percent",
                "/regions/1/region",
                "/regions/2/region",
                "/guards/alerts/0/matchers",
                "/guards/alerts/1/matchers/0/value",
            ],
            "{found:#?}"
        );
        assert!(found[3].1.contains("lower than the stage before"));
        assert!(found[7].1.contains("already at /regions/0"));
    }

    #[test]
    fn every_region_needs_stages_of_its_own_or_the_plans() {
        let found = paths(json!({"variant": "on", "regions": [{"region": "eu"}]}));
        assert_eq!(found[0].0, "/regions/0/stages");
        let found = paths(json!({"variant": "on", "control": "on"}));
        assert_eq!(found[0].0, "/control");
        assert_eq!(
            found[1],
            ("/stages".into(), "needs at least one stage".into())
        );
    }
}
