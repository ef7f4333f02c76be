//! What a plan exposes: the share of each region (or of everyone) served
//! the plan's variant, and the flag config that serves it.
//!
//! A plan that ramps everywhere writes the config's `default_serve`. A
//! region-by-region plan writes one rule per region, `region-<region>`,
//! with the one clause `<attribute> in [<region>]` (the shape the UI's
//! region table reads), replacing a rule of that id in place or appending
//! it after the flag's own rules, so people's targeting still wins.
//!
//! The plan's variant is the rollout's first weight: raising its share
//! keeps everyone who was in (bucketing walks the weights in order).

use serde::Serialize;
use utoipa::ToSchema;
use vexil_proto::{Clause, FlagConfig, Operator, Rollout, Rule, Scalar, Serve, WeightedVariant};

use super::model::{PlanState, PlanStatus, RolloutPlan, Stage};

/// Everyone, in rollout weight units (1/100 000).
pub const EVERYONE: u32 = 100_000;

/// Prefix of the rules a region-by-region plan writes.
pub const RULE_PREFIX: &str = "region-";

/// The shares a plan serves its variant to, ready to write into a config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Exposure {
    pub variant: String,
    /// `None`: the config's off variant.
    pub control: Option<String>,
    pub bucket_by: Option<String>,
    /// The region attribute (unused when ramping everywhere).
    pub attribute: String,
    /// One share per region in plan order; one with `region: None` when
    /// the plan ramps everywhere.
    pub shares: Vec<Share>,
}

/// One region's (or everyone's) share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Share {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// In 1/100 000: 25 000 is 25 %.
    pub weight: u32,
}

/// A stage's percent in weight units, rounded to the nearest 0.001 %.
pub fn weight(stage: &Stage) -> u32 {
    // `as` saturates: NaN and negatives give 0, validation refuses them.
    ((stage.percent * 1000.0).round() as u32).min(EVERYONE)
}

/// `weight` as a percent for people: `25 %`, `0.5 %`.
pub fn percent(weight: u32) -> String {
    let whole = weight / 1000;
    let fraction = weight % 1000;
    if fraction == 0 {
        format!("{whole} %")
    } else {
        let digits = format!("{fraction:03}");
        format!("{whole}.{} %", digits.trim_end_matches('0'))
    }
}

impl Exposure {
    /// What `spec` exposes in `state`: regions before the current one at
    /// their last stage, the current one at its stage, later ones at 0;
    /// everything at 0 when rolled back or aborted.
    pub fn of(spec: &RolloutPlan, state: &PlanState) -> Exposure {
        let off = state.rolled_back || state.status == PlanStatus::Aborted;
        let shares = spec
            .phases()
            .iter()
            .enumerate()
            .map(|(i, (region, stages))| {
                let stage = match i.cmp(&state.region) {
                    std::cmp::Ordering::Less => stages.last(),
                    std::cmp::Ordering::Equal => stages.get(state.stage),
                    std::cmp::Ordering::Greater => None,
                };
                let weight = match stage {
                    Some(stage) if !off => weight(stage),
                    _ => 0,
                };
                Share {
                    region: region.map(str::to_owned),
                    weight,
                }
            })
            .collect();
        Exposure {
            variant: spec.variant.clone(),
            control: spec.control.clone(),
            bucket_by: spec.bucket_by.clone(),
            attribute: spec.region_attribute.clone(),
            shares,
        }
    }

    /// `before` serving this exposure; its version is the store's business.
    pub fn apply(&self, before: &FlagConfig) -> FlagConfig {
        let mut after = before.clone();
        let control = self.control.as_deref().unwrap_or(&before.off_variant);
        for share in &self.shares {
            let serve = Serve::Rollout(Rollout {
                bucket_by: self.bucket_by.clone(),
                salt: None,
                weights: vec![
                    WeightedVariant {
                        variant: self.variant.clone(),
                        weight: share.weight,
                    },
                    WeightedVariant {
                        variant: control.to_owned(),
                        weight: EVERYONE - share.weight,
                    },
                ],
                fallback: None,
                algorithm: 1,
            });
            let Some(region) = &share.region else {
                after.default_serve = serve;
                continue;
            };
            let rule = Rule {
                id: format!("{RULE_PREFIX}{region}"),
                description: format!("Rollout plan: {region}"),
                clauses: vec![Clause {
                    attribute: self.attribute.clone(),
                    op: Operator::In,
                    values: vec![Scalar::String(region.clone())],
                    negate: false,
                }],
                serve,
            };
            match after.rules.iter_mut().find(|r| r.id == rule.id) {
                Some(existing) => *existing = rule,
                None => after.rules.push(rule),
            }
        }
        after
    }

    /// The shares in words, for change-log reasons: `eu-west-1 25 %,
    /// us-east-1 0 %`, or `25 %` everywhere.
    pub fn describe(&self) -> String {
        self.shares
            .iter()
            .map(|s| match &s.region {
                Some(region) => format!("{region} {}", percent(s.weight)),
                None => percent(s.weight),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn plan(json: serde_json::Value) -> RolloutPlan {
        serde_json::from_value(json).unwrap()
    }

    fn regional() -> RolloutPlan {
        plan(json!({
            "variant": "on",
            "stages": [{"percent": 10, "hold": "1h"}, {"percent": 100, "hold": "1h"}],
            "regions": [{"region": "eu-west-1"}, {"region": "us-east-1", "stages": [{"percent": 0.5, "hold": "1h"}]}],
        }))
    }

    fn at(region: usize, stage: usize) -> PlanState {
        PlanState {
            region,
            stage,
            ..PlanState::start(datetime!(2030-01-01 00:00 UTC))
        }
    }

    fn weights(exposure: &Exposure) -> Vec<u32> {
        exposure.shares.iter().map(|s| s.weight).collect()
    }

    #[test]
    fn earlier_regions_hold_their_last_stage_and_later_ones_wait() {
        let spec = regional();
        assert_eq!(weights(&Exposure::of(&spec, &at(0, 0))), [10_000, 0]);
        assert_eq!(weights(&Exposure::of(&spec, &at(0, 1))), [100_000, 0]);
        let second = Exposure::of(&spec, &at(1, 0));
        assert_eq!(weights(&second), [100_000, 500]);
        assert_eq!(second.describe(), "eu-west-1 100 %, us-east-1 0.5 %");
        let rolled_back = PlanState {
            rolled_back: true,
            ..at(1, 0)
        };
        assert_eq!(weights(&Exposure::of(&spec, &rolled_back)), [0, 0]);
    }

    #[test]
    fn region_rules_are_replaced_in_place_or_appended_after_people_rules() {
        let before: FlagConfig = serde_json::from_value(json!({
            "enabled": true, "off_variant": "off", "version": 7,
            "rules": [
                {"id": "beta", "clauses": [{"attribute": "beta", "op": "in", "values": [true]}], "serve": {"variant": "on"}},
                {"id": "region-us-east-1", "clauses": [], "serve": {"variant": "off"}},
            ],
            "default_serve": {"variant": "off"},
        }))
        .unwrap();
        let after = Exposure::of(&regional(), &at(1, 0)).apply(&before);
        let ids: Vec<&str> = after.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["beta", "region-us-east-1", "region-eu-west-1"]);
        let rule = serde_json::to_value(&after.rules[1]).unwrap();
        assert_eq!(
            rule["clauses"],
            json!([{"attribute": "region", "op": "in", "values": ["us-east-1"], "negate": false}])
        );
        assert_eq!(
            rule["serve"]["rollout"]["weights"],
            json!([{"variant": "on", "weight": 500}, {"variant": "off", "weight": 99_500}])
        );
        assert_eq!(after.default_serve, before.default_serve);
        assert_eq!(after.version, 7);
    }

    #[test]
    fn everywhere_writes_the_default_serve() {
        let spec = plan(json!({
            "variant": "blue", "control": "red", "bucket_by": "org",
            "stages": [{"percent": 25, "hold": "0s"}],
        }));
        let before = FlagConfig::new("red", Serve::Variant("red".into()));
        let exposure = Exposure::of(&spec, &at(0, 0));
        assert_eq!(exposure.describe(), "25 %");
        let after = exposure.apply(&before);
        let serve = serde_json::to_value(&after.default_serve).unwrap();
        assert_eq!(serve["rollout"]["bucket_by"], "org");
        assert_eq!(
            serve["rollout"]["weights"],
            json!([{"variant": "blue", "weight": 25_000}, {"variant": "red", "weight": 75_000}])
        );
        assert!(after.rules.is_empty());
    }
}
