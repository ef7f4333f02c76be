//! What a rollout plan is: its stages, regions and guards as people write
//! them, and its progress (running, paused, where, since when) as the
//! server keeps it.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::killswitch::{Cause, Matcher};

/// The context attribute region rules match when a plan names none.
pub const DEFAULT_REGION_ATTRIBUTE: &str = "region";

/// A rollout plan as written through the API (`PUT …/rollout-plan`).
///
/// Either everywhere (`stages`, no `regions`) or region by region
/// (`regions` in order, each with its own stages or the plan's `stages`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloutPlan {
    /// The variant being rolled out.
    pub variant: String,
    /// What contexts not (yet) exposed get; `None` means the config's off
    /// variant when the plan starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// Attribute hashed to pick a context's bucket; `None` means the
    /// context key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_by: Option<String>,
    /// The stages everywhere, or the stages of every region that names
    /// none of its own.
    #[serde(default)]
    pub stages: Vec<Stage>,
    /// Regions ramped one after the other, in this order; empty means
    /// everywhere at once.
    #[serde(default)]
    pub regions: Vec<RegionPlan>,
    /// The context attribute that holds a context's region.
    #[serde(default = "default_region_attribute")]
    pub region_attribute: String,
    /// What pauses the plan and rolls its exposure back to 0.
    #[serde(default)]
    pub guards: Guards,
}

fn default_region_attribute() -> String {
    DEFAULT_REGION_ATTRIBUTE.to_owned()
}

/// One step of a ramp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// Share of contexts served the plan's variant, 0.001 to 100.
    pub percent: f64,
    /// How long the stage holds (with every guard quiet) before the next
    /// one starts: `30s`, `15m`, `2h`, `1d`.
    #[serde(with = "hold")]
    #[schema(value_type = String, example = "30m")]
    pub hold: Duration,
}

/// One region of a region-by-region plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionPlan {
    /// The value of the region attribute, such as `eu-west-1`.
    pub region: String,
    /// This region's stages; empty means the plan's `stages`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<Stage>,
}

/// What pauses a plan: alerts matching any of `alerts`, and (unless turned
/// off) any kill switch bound to the flag in the plan's environment
/// being tripped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Guards {
    /// Each entry is one set of label matchers (ANDed, as in a kill
    /// switch's trigger); an alert matching any entry fires the guard.
    #[serde(default)]
    pub alerts: Vec<AlertGuard>,
    /// Whether a tripped kill switch on this flag and environment pauses
    /// the plan.
    #[serde(default = "yes")]
    pub kill_switches: bool,
}

impl Default for Guards {
    fn default() -> Self {
        Guards {
            alerts: Vec::new(),
            kill_switches: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// One alert guard: label matchers, ANDed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertGuard {
    pub matchers: Vec<Matcher>,
}

impl RolloutPlan {
    /// The regions in ramp order with their stages; one unnamed region
    /// (`None`) for a plan that ramps everywhere.
    pub fn phases(&self) -> Vec<(Option<&str>, &[Stage])> {
        if self.regions.is_empty() {
            return vec![(None, self.stages.as_slice())];
        }
        self.regions
            .iter()
            .map(|r| {
                let stages = if r.stages.is_empty() {
                    &self.stages
                } else {
                    &r.stages
                };
                (Some(r.region.as_str()), stages.as_slice())
            })
            .collect()
    }
}

/// Where a plan is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Stages advance as their holds pass.
    #[default]
    Running,
    /// Held where it is by a person or a firing guard; `resume` goes on.
    Paused,
    /// The last stage of the last region held: the plan has nothing left
    /// to do.
    Completed,
    /// Stopped by a person, exposure rolled back to 0; a new `PUT` starts
    /// again.
    Aborted,
}

/// A plan's progress, kept by the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlanState {
    pub status: PlanStatus,
    /// Index of the region ramping now (0 for a plan that ramps
    /// everywhere).
    pub region: usize,
    /// Index of the current stage within that region's stages.
    pub stage: usize,
    /// When the current stage started: its hold counts from here.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub stage_started_at: OffsetDateTime,
    /// Whether the exposure is rolled back to 0 (a guard fired, or the
    /// plan was aborted) rather than at the current stage.
    #[serde(default)]
    pub rolled_back: bool,
    /// Why the plan is paused, aborted or completed, and by whom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Note>,
    /// Alerts matching a guard that have fired and not yet resolved.
    #[serde(default)]
    pub firing: Vec<Cause>,
}

impl PlanState {
    /// The first stage of the first region, started at `now`.
    pub fn start(now: OffsetDateTime) -> Self {
        PlanState {
            status: PlanStatus::Running,
            region: 0,
            stage: 0,
            stage_started_at: now,
            rolled_back: false,
            note: None,
            firing: Vec::new(),
        }
    }
}

/// Who moved a plan out of `running`, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Note {
    /// A person (`user:<name>`, `token:<id>`) or `automation:rollout`.
    pub actor: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub reason: String,
}

/// A stored plan: one per flag and environment.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RolloutPlanRecord {
    pub project: String,
    pub flag: String,
    pub environment: String,
    #[serde(flatten)]
    pub spec: RolloutPlan,
    pub state: PlanState,
    /// Bumped by every write (edits and each stage); its `If-Match`.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// Stage holds as humantime text (`30m`, `1h 30m`), parsed by `humantime`.
mod hold {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(hold: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_duration(*hold))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text)
            .map_err(|e| D::Error::custom(format!("`{text}` is not a duration like `30m`: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_plan_reads_with_defaults_and_writes_holds_as_text() {
        let plan: RolloutPlan = serde_json::from_value(json!({
            "variant": "on",
            "stages": [{"percent": 1, "hold": "30m"}, {"percent": 100, "hold": "1h 30m"}],
            "regions": [{"region": "eu-west-1"}, {"region": "us-east-1", "stages": [{"percent": 50, "hold": "0s"}]}],
        }))
        .unwrap();
        assert_eq!(plan.region_attribute, "region");
        assert!(plan.guards.kill_switches);
        assert_eq!(plan.stages[1].hold, Duration::from_secs(5400));
        let phases = plan.phases();
        assert_eq!(phases[0], (Some("eu-west-1"), plan.stages.as_slice()));
        assert_eq!(phases[1].1.len(), 1);
        let back = serde_json::to_value(&plan).unwrap();
        assert_eq!(back["stages"][1]["hold"], "1h 30m");
        assert_eq!(back["regions"][1]["stages"][0]["hold"], "0s");
    }

    #[test]
    fn unknown_fields_and_bad_holds_are_refused() {
        let unknown = json!({"variant": "on", "stages": [], "speed": 3});
        let error = serde_json::from_value::<RolloutPlan>(unknown).unwrap_err();
        assert!(
            error.to_string().contains("unknown field `speed`"),
            "{error}"
        );
        let bad = json!({"variant": "on", "stages": [{"percent": 1, "hold": "soon"}]});
        let error = serde_json::from_value::<RolloutPlan>(bad).unwrap_err();
        assert!(
            error.to_string().contains("`soon` is not a duration"),
            "{error}"
        );
    }
}
