//! Kill switches and health events as the store keeps them: the switch
//! records (spec and state as JSON), a switch's state transition (which
//! may carry the flag config a trip or restore writes, in the same
//! transaction), and the alerts and deploys received, each stored once
//! under its idempotency key.

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use vexil_proto::FlagConfig;

use super::changes::NewChange;
use super::codec::to_value;
use super::records::Columns;
use super::{ChangeAction, ResourceKind, StoreResult};
use crate::killswitch::{KillSwitchRecord, SwitchState};

/// What kind of health event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthEventKind {
    /// One alert of an Alertmanager notification.
    Alert,
    Deploy,
}

/// One alert or deploy as received.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthEvent {
    /// Increasing in insertion order; 0 before it is stored.
    pub id: u64,
    pub kind: HealthEventKind,
    /// The idempotency key: a second event with it is not stored again.
    pub key: String,
    /// A deploy's environment key; `None` for alerts (they name none).
    pub environment: Option<String>,
    /// Who posted it: `token:<id>` of the integration token.
    pub actor: String,
    /// The event as received (the deploy body, or the one alert).
    pub body: Value,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

/// Which health events to list; newest first.
#[derive(Debug, Clone, Default)]
pub struct HealthEventFilter {
    pub kind: Option<HealthEventKind>,
    /// Deploys to these environment keys (alerts have none, so they drop
    /// out); `None` means any.
    pub environments: Option<Vec<String>>,
    /// At or after (inclusive).
    pub since: Option<OffsetDateTime>,
    /// Strictly before.
    pub until: Option<OffsetDateTime>,
    /// At most this many.
    pub limit: u32,
}

/// A switch moving from one state to another (tripped, more alerts
/// holding it, restored, re-armed).
#[derive(Debug, Clone)]
pub struct SwitchTransition<'a> {
    pub project: &'a str,
    pub id: &'a str,
    /// The switch's version the transition was decided on; a concurrent
    /// transition makes this one a `Conflict`, so each alert trips once.
    pub switch_version: u64,
    pub state: &'a SwitchState,
    /// The bound flag's new config, written in the same transaction as a
    /// normal change of it (`WriteMeta::expected_version` is the config's
    /// `If-Match`). `None` records the transition as a change of the
    /// switch itself.
    pub config: Option<&'a FlagConfig>,
}

pub(super) fn kill_switch(row: &impl Columns) -> StoreResult<KillSwitchRecord> {
    Ok(KillSwitchRecord {
        id: row.text("id")?,
        project: row.text("project")?,
        spec: row.json("spec", "kill switch")?,
        state: row.json("state", "kill switch state")?,
        version: row.version("version")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

pub(super) fn health_event(row: &impl Columns) -> StoreResult<HealthEvent> {
    Ok(HealthEvent {
        id: row.version("id")?,
        kind: row.name("kind", "health event kind")?,
        key: row.text("key")?,
        environment: row.optional_text("environment")?,
        actor: row.text("actor")?,
        body: row.json("body", "health event")?,
        received_at: row.time("received_at")?,
    })
}

impl<'a> NewChange<'a> {
    /// A kill switch's own change: project-wide, no environment version.
    pub(super) fn kill_switch(
        project: &'a str,
        id: &'a str,
        action: ChangeAction,
        before: Option<&KillSwitchRecord>,
        after: Option<&KillSwitchRecord>,
    ) -> StoreResult<Self> {
        Ok(NewChange {
            project: Some(project),
            environment: None,
            resource: ResourceKind::KillSwitch,
            key: id,
            action,
            before: before.map(to_value).transpose()?,
            after: after.map(to_value).transpose()?,
        })
    }
}

/// Columns of `kill_switches`, for every SELECT.
pub(super) const KILL_SWITCH_COLUMNS: &str =
    "project, id, spec, state, version, created_at, updated_at";

/// Columns of `health_events`.
pub(super) const HEALTH_EVENT_COLUMNS: &str =
    "id, kind, key, environment, actor, body, received_at";
