//! Fixtures shared by the scenarios.

use std::fmt::Debug;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use vexil_proto::{
    Clause, Environment, Flag, FlagConfig, FlagKind, Operator, Project, Rule, Scalar, Segment,
    Serve, Variant,
};
use vexil_server::store::{
    Change, ChangeAction, ChangeFilter, FlagRecord, Page, ResourceKind, Role, SegmentRecord, Store,
    StoreError, StoreResult, UserRecord, WriteMeta,
};

/// A fixed instant plus `secs` seconds: whole seconds, so every backend
/// stores it exactly (PostgreSQL keeps microseconds).
pub fn at(secs: i64) -> OffsetDateTime {
    datetime!(2026-03-01 09:00 UTC) + Duration::seconds(secs)
}

/// An unconditional write by `actor` at `at(secs)`.
pub fn meta(actor: &str, secs: i64) -> WriteMeta {
    WriteMeta {
        actor: actor.into(),
        reason: None,
        at: at(secs),
        expected_version: None,
    }
}

/// The same write with `If-Match: version`.
pub fn if_match(mut meta: WriteMeta, version: u64) -> WriteMeta {
    meta.expected_version = Some(version);
    meta
}

/// The same write with a reason.
pub fn because(mut meta: WriteMeta, reason: &str) -> WriteMeta {
    meta.reason = Some(reason.into());
    meta
}

pub fn boolean_flag(key: &str) -> Flag {
    Flag {
        key: key.into(),
        name: format!("Flag {key}"),
        description: String::new(),
        tags: Vec::new(),
        owner: None,
        kind: FlagKind::Boolean,
        variants: Variant::boolean_pair(),
        temporary: false,
    }
}

pub fn string_flag(key: &str) -> Flag {
    Flag {
        kind: FlagKind::String,
        variants: vec![Variant::new("blue", "blue"), Variant::new("green", "green")],
        owner: Some("team-checkout".into()),
        temporary: true,
        ..boolean_flag(key)
    }
}

/// Enabled, serving `on` to everyone.
pub fn serving_on() -> FlagConfig {
    FlagConfig::new("off", Serve::Variant("on".into()))
}

/// Enabled, serving `on` to the members of `segment`, `off` to others.
pub fn serving_segment(segment: &str) -> FlagConfig {
    FlagConfig {
        rules: vec![Rule {
            id: "in-segment".into(),
            description: String::new(),
            clauses: vec![Clause {
                attribute: "key".into(),
                op: Operator::InSegment,
                values: vec![Scalar::String(segment.into())],
                negate: false,
            }],
            serve: Serve::Variant("on".into()),
        }],
        ..FlagConfig::new("off", Serve::Variant("off".into()))
    }
}

pub fn project(key: &str) -> Project {
    Project {
        key: key.into(),
        name: format!("Project {key}"),
        description: String::new(),
    }
}

pub fn environment(key: &str, production: bool) -> Environment {
    Environment {
        key: key.into(),
        name: format!("Env {key}"),
        production,
        version: 0,
    }
}

/// A user as a writer passes it: the store sets `id`, `version` and the
/// timestamps.
pub fn user(username: &str, role: Role) -> UserRecord {
    UserRecord {
        id: String::new(),
        username: username.into(),
        password_hash: format!("$argon2id$v=19$hash-of-{username}"),
        role,
        disabled: false,
        version: 0,
        created_at: at(0),
        updated_at: at(0),
    }
}

/// A segment of the `included` keys, without exclusions or rules.
pub fn segment(key: &str, included: &[&str]) -> Segment {
    Segment {
        key: key.into(),
        name: format!("Segment {key}"),
        description: String::new(),
        included: included.iter().map(|k| k.to_string()).collect(),
        excluded: Vec::new(),
        rules: Vec::new(),
        version: 0,
    }
}

/// Creates the boolean flag `key` in `project`, with default configs, as
/// an unconditional write by `u` at `at(secs)`.
pub async fn add_flag(store: &dyn Store, project: &str, key: &str, secs: i64) -> FlagRecord {
    store
        .create_flag(project, &boolean_flag(key), &[], &meta("u", secs))
        .await
        .unwrap()
}

/// Archives or restores `key`, unconditionally, by `u` at `at(secs)`.
pub async fn set_archived(
    store: &dyn Store,
    project: &str,
    key: &str,
    archived: bool,
    secs: i64,
) -> FlagRecord {
    store
        .set_flag_archived(project, key, archived, &meta("u", secs))
        .await
        .unwrap()
}

/// Creates `segment` in `project`, unconditionally, by `u` at `at(secs)`.
pub async fn add_segment(
    store: &dyn Store,
    project: &str,
    segment: &Segment,
    secs: i64,
) -> SegmentRecord {
    store
        .create_segment(project, segment, &meta("u", secs))
        .await
        .unwrap()
}

/// Creates `key` with `development` and `production`.
pub async fn two_env_project(store: &dyn Store, key: &str) {
    let environments = [
        environment("development", false),
        environment("production", true),
    ];
    store
        .create_project(&project(key), &environments, &meta("user:admin", 0))
        .await
        .unwrap();
}

/// Each environment's key and version, in the project's order.
pub async fn versions(store: &dyn Store, project: &str) -> Vec<(String, u64)> {
    store
        .list_environments(project)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.environment.key, e.environment.version))
        .collect()
}

/// `before` with every version in `bumped` one higher.
pub fn bumped(before: &[(String, u64)], bumped: &[&str]) -> Vec<(String, u64)> {
    before
        .iter()
        .map(|(key, version)| {
            let plus = u64::from(bumped.contains(&key.as_str()));
            (key.clone(), version + plus)
        })
        .collect()
}

/// Every change of `project` (or of accounts and tokens), newest first.
/// What a change says: resource, key, environment, action, actor, reason.
pub fn summary(
    change: &Change,
) -> (
    ResourceKind,
    &str,
    Option<&str>,
    ChangeAction,
    &str,
    Option<&str>,
) {
    (
        change.resource,
        change.key.as_str(),
        change.environment.as_deref(),
        change.action,
        change.actor.as_str(),
        change.reason.as_deref(),
    )
}

pub async fn all_changes(store: &dyn Store, project: Option<&str>) -> Vec<Change> {
    let filter = ChangeFilter {
        page: Page {
            page: 1,
            per_page: 10_000,
        },
        ..ChangeFilter::default()
    };
    store.list_changes(project, &filter).await.unwrap().items
}

pub async fn change_count(store: &dyn Store, project: Option<&str>) -> u64 {
    store
        .list_changes(project, &ChangeFilter::default())
        .await
        .unwrap()
        .total
}

/// Panics unless `result` is the error `is` accepts (`expected` names it).
#[track_caller]
fn assert_error<T: Debug>(result: StoreResult<T>, expected: &str, is: fn(&StoreError) -> bool) {
    match result {
        Err(error) if is(&error) => {}
        other => panic!("expected {expected}, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_not_found<T: Debug>(result: StoreResult<T>) {
    assert_error(result, "NotFound", |e| matches!(e, StoreError::NotFound(_)));
}

#[track_caller]
pub fn assert_already_exists<T: Debug>(result: StoreResult<T>) {
    assert_error(result, "AlreadyExists", |e| {
        matches!(e, StoreError::AlreadyExists(_))
    });
}

#[track_caller]
pub fn assert_refused<T: Debug>(result: StoreResult<T>) {
    assert_error(result, "Refused", |e| matches!(e, StoreError::Refused(_)));
}

#[track_caller]
pub fn assert_corrupt<T: Debug>(result: StoreResult<T>) {
    assert_error(result, "Corrupt", |e| matches!(e, StoreError::Corrupt(_)));
}

#[track_caller]
pub fn assert_conflict<T: Debug>(result: StoreResult<T>, expected: u64, current: u64) {
    match result {
        Err(StoreError::Conflict {
            expected: e,
            current: c,
        }) if (e, c) == (expected, current) => {}
        other => panic!("expected Conflict {{ {expected}, {current} }}, got {other:?}"),
    }
}
