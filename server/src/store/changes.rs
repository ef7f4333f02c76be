//! Change-log entries as every backend builds them: which project,
//! environment, resource and key a write is about, what it did, and the
//! object's JSON before and after (as the API shows it). The backends add
//! who and when (from [`WriteMeta`](super::WriteMeta)) and the environment
//! versions as they append it.

use serde::Serialize;
use serde_json::Value;
use vexil_proto::FlagConfig;

use super::codec::to_value;
use super::{
    ChangeAction, EnvironmentRecord, FlagRecord, ProjectRecord, ResourceKind, SegmentRecord,
    StoreResult, TokenRecord, UserRecord,
};

/// One change-log entry about to be appended.
#[derive(Debug)]
pub(super) struct NewChange<'a> {
    pub project: Option<&'a str>,
    pub environment: Option<&'a str>,
    pub resource: ResourceKind,
    pub key: &'a str,
    pub action: ChangeAction,
    /// `None` on create.
    pub before: Option<Value>,
    /// `None` on delete.
    pub after: Option<Value>,
}

impl<'a> NewChange<'a> {
    pub(super) fn project(
        key: &'a str,
        action: ChangeAction,
        before: Option<&ProjectRecord>,
        after: Option<&ProjectRecord>,
    ) -> StoreResult<Self> {
        entry(
            Some(key),
            None,
            ResourceKind::Project,
            key,
            action,
            before,
            after,
        )
    }

    /// Environment changes are recorded for the environment itself.
    pub(super) fn environment(
        project: &'a str,
        key: &'a str,
        action: ChangeAction,
        before: Option<&EnvironmentRecord>,
        after: Option<&EnvironmentRecord>,
    ) -> StoreResult<Self> {
        let resource = ResourceKind::Environment;
        entry(
            Some(project),
            Some(key),
            resource,
            key,
            action,
            before,
            after,
        )
    }

    /// A flag's definition: project-wide, no environment.
    pub(super) fn flag(
        project: &'a str,
        key: &'a str,
        action: ChangeAction,
        before: Option<&FlagRecord>,
        after: Option<&FlagRecord>,
    ) -> StoreResult<Self> {
        entry(
            Some(project),
            None,
            ResourceKind::Flag,
            key,
            action,
            before,
            after,
        )
    }

    /// A flag's config in one environment, keyed by the flag.
    pub(super) fn flag_config(
        project: &'a str,
        flag: &'a str,
        environment: &'a str,
        action: ChangeAction,
        before: &FlagConfig,
        after: &FlagConfig,
    ) -> StoreResult<Self> {
        let resource = ResourceKind::FlagConfig;
        let (before, after) = (Some(before), Some(after));
        entry(
            Some(project),
            Some(environment),
            resource,
            flag,
            action,
            before,
            after,
        )
    }

    pub(super) fn segment(
        project: &'a str,
        key: &'a str,
        action: ChangeAction,
        before: Option<&SegmentRecord>,
        after: Option<&SegmentRecord>,
    ) -> StoreResult<Self> {
        entry(
            Some(project),
            None,
            ResourceKind::Segment,
            key,
            action,
            before,
            after,
        )
    }

    /// Users belong to no project.
    pub(super) fn user(
        username: &'a str,
        action: ChangeAction,
        before: Option<&UserRecord>,
        after: Option<&UserRecord>,
    ) -> StoreResult<Self> {
        entry(
            None,
            None,
            ResourceKind::User,
            username,
            action,
            before,
            after,
        )
    }

    /// A token belongs to its project (SDK keys) or to none.
    pub(super) fn token(
        token: &'a TokenRecord,
        action: ChangeAction,
        before: Option<&TokenRecord>,
        after: Option<&TokenRecord>,
    ) -> StoreResult<Self> {
        let project = token.project.as_deref();
        entry(
            project,
            None,
            ResourceKind::Token,
            &token.id,
            action,
            before,
            after,
        )
    }
}

/// Archiving or restoring, as the change log names it.
pub(super) fn archive_action(archived: bool) -> ChangeAction {
    if archived {
        ChangeAction::Archived
    } else {
        ChangeAction::Restored
    }
}

fn entry<'a, T: Serialize>(
    project: Option<&'a str>,
    environment: Option<&'a str>,
    resource: ResourceKind,
    key: &'a str,
    action: ChangeAction,
    before: Option<&T>,
    after: Option<&T>,
) -> StoreResult<NewChange<'a>> {
    Ok(NewChange {
        project,
        environment,
        resource,
        key,
        action,
        before: before.map(to_value).transpose()?,
        after: after.map(to_value).transpose()?,
    })
}

/// How the revocation of an SDK key whose environment is deleted is
/// logged: by the deleting writer, at the same time, with a reason saying
/// why.
pub(super) fn revoked_with_environment(
    meta: &super::WriteMeta,
    environment: &str,
) -> super::WriteMeta {
    super::WriteMeta {
        reason: Some(format!("environment `{environment}` was deleted")),
        expected_version: None,
        ..meta.clone()
    }
}
