//! Rollout plans as the store keeps them: one per flag and environment,
//! spec and state as JSON, a version that every write bumps (the
//! conditional update that lets exactly one replica move a stage), and the
//! writes that put the plan's exposure into the flag's config in the same
//! transaction.

use super::changes::NewChange;
use super::codec::to_value;
use super::records::Columns;
use super::{ChangeAction, ResourceKind, StoreResult};
use crate::rollout::{Exposure, PlanState, RolloutPlan, RolloutPlanRecord};

/// Creating or replacing a plan (`PUT`): it starts over from `state`, and
/// `exposure` is written into the flag's config in the same transaction.
/// `WriteMeta::expected_version` is the plan's `If-Match`.
#[derive(Debug, Clone)]
pub struct PlanPut<'a> {
    pub project: &'a str,
    pub flag: &'a str,
    pub environment: &'a str,
    pub spec: &'a RolloutPlan,
    pub state: &'a PlanState,
    pub exposure: &'a Exposure,
}

/// A plan moving on (a stage, a pause, a resume, an abort, a guard).
#[derive(Debug, Clone)]
pub struct PlanTransition<'a> {
    pub project: &'a str,
    pub flag: &'a str,
    pub environment: &'a str,
    /// The plan's version the move was decided on: the update is
    /// conditional on it, so of two replicas deciding the same move one
    /// commits and the other gets `Conflict`.
    pub plan_version: u64,
    pub state: &'a PlanState,
    /// The flag config's new exposure, written as a normal change of the
    /// config; `None` records the move as a change of the plan itself.
    pub exposure: Option<&'a Exposure>,
    /// Refuse (`Refused`) when a kill switch on the flag in the environment
    /// is tripped: for moves that raise exposure, checked inside the write
    /// so a trip cannot slip in between the guard check and the commit.
    pub unless_tripped: bool,
}

pub(super) fn rollout_plan(row: &impl Columns) -> StoreResult<RolloutPlanRecord> {
    Ok(RolloutPlanRecord {
        project: row.text("project")?,
        flag: row.text("flag")?,
        environment: row.text("environment")?,
        spec: row.json("spec", "rollout plan")?,
        state: row.json("state", "rollout plan state")?,
        version: row.version("version")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

impl<'a> NewChange<'a> {
    /// A plan's own change (pause, completion, delete): in its
    /// environment's log, bumping no version.
    pub(super) fn rollout_plan(
        record: &'a RolloutPlanRecord,
        action: ChangeAction,
        before: Option<&RolloutPlanRecord>,
        after: Option<&RolloutPlanRecord>,
    ) -> StoreResult<Self> {
        Ok(NewChange {
            project: Some(&record.project),
            environment: Some(&record.environment),
            resource: ResourceKind::RolloutPlan,
            key: &record.flag,
            action,
            before: before.map(to_value).transpose()?,
            after: after.map(to_value).transpose()?,
        })
    }
}

/// Columns of `rollout_plans`, for every SELECT.
pub(super) const ROLLOUT_PLAN_COLUMNS: &str =
    "project, flag, environment, spec, state, version, created_at, updated_at";
