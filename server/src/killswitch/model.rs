//! What a kill switch is: its trigger, action and restore policy as people
//! write them, and its state (armed, or tripped since when and by what) as
//! the server keeps it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use vexil_proto::FlagConfig;

use super::deploy::DeployStatus;

/// A kill switch as written through the API (`POST`/`PUT`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KillSwitch {
    /// What people call it in lists and on the timeline.
    pub name: String,
    /// The flag the action changes.
    pub flag: String,
    /// The one environment whose config of `flag` the action changes.
    pub environment: String,
    /// What trips it.
    pub trigger: Trigger,
    /// What tripping does to the flag's config.
    pub action: Action,
    /// Whether the flag comes back by itself when the trigger clears.
    #[serde(default)]
    pub restore: Restore,
}

/// What trips a switch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// A firing Alertmanager alert whose labels satisfy every matcher.
    Alert {
        /// ANDed, like a Prometheus selector; at least one.
        matchers: Vec<Matcher>,
    },
    /// A deploy event of `service` in the switch's environment with one of
    /// `statuses`.
    Deploy {
        service: String,
        /// Defaults to `failed` and `rolled_back`.
        #[serde(default = "bad_statuses")]
        statuses: Vec<DeployStatus>,
    },
}

fn bad_statuses() -> Vec<DeployStatus> {
    vec![DeployStatus::Failed, DeployStatus::RolledBack]
}

/// One label matcher, as in Alertmanager's routes and silences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    pub label: String,
    pub op: MatchOp,
    /// A literal for `=`/`!=`, a regex (anchored at both ends) for `=~`/`!~`.
    pub value: String,
}

/// Prometheus' four matcher operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum MatchOp {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = "=~")]
    Re,
    #[serde(rename = "!~")]
    NotRe,
}

/// What tripping does to the bound flag's config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `enabled = false`: everyone gets the off variant.
    Disable,
    /// Everyone gets this variant (targets, rules and prerequisites are
    /// dropped; `enabled` is left as it is).
    Serve(String),
    /// Every percentage rollout gives 100 % to the off variant (or, when
    /// the rollout does not list it, its first variant).
    Rollback,
}

/// Whether the flag's previous config comes back by itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Restore {
    /// A person restores the flag by editing it and re-arms the switch
    /// (`POST …/reset`).
    #[default]
    Manual,
    /// When every alert that tripped it has resolved (or a later deploy of
    /// the service succeeded), the config from before the trip comes back,
    /// unless someone edited the flag since.
    OnResolve,
}

/// Armed or tripped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Armed,
    Tripped,
}

/// A switch's state, kept by the server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SwitchState {
    pub status: Status,
    /// When it tripped; `None` while armed.
    #[serde(with = "time::serde::rfc3339::option", default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub tripped_at: Option<OffsetDateTime>,
    /// What tripped it and still holds it tripped: alerts that have not
    /// resolved, or the deploy.
    #[serde(default)]
    pub tripped_by: Vec<Cause>,
    /// The flag's config before the trip, which `on_resolve` puts back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub restore_config: Option<FlagConfig>,
    /// The config version the trip wrote: restoring is skipped when the
    /// flag was edited since (a person's edit wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tripped_version: Option<u64>,
}

/// One alert or deploy that tripped a switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Cause {
    Alert {
        fingerprint: String,
        alertname: String,
        #[serde(with = "time::serde::rfc3339")]
        #[schema(value_type = String, format = DateTime)]
        starts_at: OffsetDateTime,
    },
    Deploy {
        service: String,
        version: String,
        status: DeployStatus,
    },
}

/// A stored kill switch.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct KillSwitchRecord {
    /// Server-assigned; the `{id}` of its URL.
    pub id: String,
    pub project: String,
    #[serde(flatten)]
    pub spec: KillSwitch,
    pub state: SwitchState,
    /// Bumped by every write (edits and trips); its `If-Match`.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}
