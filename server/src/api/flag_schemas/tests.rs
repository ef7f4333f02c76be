//! The mirrored schemas name exactly the fields the real types serialize.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use time::OffsetDateTime;
use utoipa::OpenApi;
use vexil_proto::{
    Clause, Flag, FlagConfig, FlagKind, Operator, Prerequisite, Rollout, Rule, Segment,
    SegmentRule, Serve, Target, Variant, WeightedVariant,
};

use super::*;
use crate::store::{
    Change, ChangeAction, EnvironmentVersion, FlagRecord, ResourceKind, SegmentRecord,
};

#[derive(OpenApi)]
#[openapi(components(schemas(
    FlagSchema,
    FlagRecordSchema,
    FlagViewSchema,
    FlagPageSchema,
    FlagConfigSchema,
    SegmentRecordSchema,
    SegmentPageSchema,
    ChangeSchema,
    ChangePageSchema
)))]
struct All;

fn components() -> Value {
    serde_json::to_value(All::openapi()).unwrap()["components"]["schemas"].clone()
}

/// The property names of schema `name`, following `allOf` and `$ref`.
fn properties(components: &Value, schema: &Value) -> BTreeSet<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return properties(components, &components[name]);
    }
    let mut names: BTreeSet<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        names.extend(properties(components, part));
    }
    names
}

fn keys(value: &impl serde::Serialize) -> BTreeSet<String> {
    let value = serde_json::to_value(value).unwrap();
    value.as_object().unwrap().keys().cloned().collect()
}

fn assert_fields(components: &Value, name: &str, value: &impl serde::Serialize) {
    let documented = properties(components, &components[name]);
    assert_eq!(documented, keys(value), "schema {name}");
}

fn rollout() -> Rollout {
    Rollout {
        bucket_by: Some("org".into()),
        salt: Some("s".into()),
        weights: vec![WeightedVariant {
            variant: "on".into(),
            weight: 100_000,
        }],
        fallback: Some("off".into()),
        algorithm: 1,
    }
}

fn clause() -> Clause {
    Clause {
        attribute: "plan".into(),
        op: Operator::In,
        values: vec!["pro".into()],
        negate: true,
    }
}

#[test]
fn object_schemas_match_the_real_types() {
    let components = components();
    let now = OffsetDateTime::UNIX_EPOCH;
    let flag = Flag {
        key: "f".into(),
        name: "F".into(),
        description: "d".into(),
        tags: vec!["t".into()],
        owner: Some("o".into()),
        kind: FlagKind::Boolean,
        variants: vec![Variant {
            name: Some("On".into()),
            description: Some("d".into()),
            ..Variant::new("on", true)
        }],
        temporary: true,
    };
    assert_fields(&components, "Flag", &flag);
    assert_fields(&components, "Variant", &flag.variants[0]);
    let record = FlagRecord {
        flag,
        version: 1,
        archived: false,
        created_at: now,
        updated_at: now,
    };
    assert_fields(&components, "FlagRecord", &record);
    let view = crate::api::flags::FlagView {
        record: record.clone(),
        last_evaluated: [("production".to_string(), crate::api::flags::Rfc3339(now))].into(),
    };
    assert_fields(&components, "FlagView", &view);
    let rule = Rule {
        id: "r".into(),
        description: "d".into(),
        clauses: vec![clause()],
        serve: Serve::Rollout(rollout()),
    };
    let config = FlagConfig {
        targets: vec![Target {
            variant: "on".into(),
            values: vec!["k".into()],
        }],
        rules: vec![rule.clone()],
        prerequisites: vec![Prerequisite {
            flag: "g".into(),
            variant: "on".into(),
        }],
        ..FlagConfig::new("off", Serve::Variant("on".into()))
    };
    assert_fields(&components, "FlagConfig", &config);
    assert_fields(&components, "Target", &config.targets[0]);
    assert_fields(&components, "Rule", &rule);
    assert_fields(&components, "Rollout", &rollout());
    assert_fields(&components, "WeightedVariant", &rollout().weights[0]);
    assert_fields(&components, "Prerequisite", &config.prerequisites[0]);
    assert_fields(&components, "Clause", &clause());
    let segment = Segment {
        key: "s".into(),
        name: "S".into(),
        description: "d".into(),
        included: vec!["a".into()],
        excluded: vec!["b".into()],
        rules: vec![SegmentRule {
            id: "r".into(),
            clauses: vec![clause()],
        }],
        version: 1,
    };
    assert_fields(&components, "Segment", &segment);
    assert_fields(&components, "SegmentRule", &segment.rules[0]);
    let segment = SegmentRecord {
        segment,
        created_at: now,
        updated_at: now,
    };
    assert_fields(&components, "SegmentRecord", &segment);
    let change = Change {
        id: 1,
        project: Some("default".into()),
        environment: None,
        resource: ResourceKind::Flag,
        key: "f".into(),
        action: ChangeAction::Created,
        actor: "user:a".into(),
        reason: None,
        at: now,
        before: None,
        after: Some(json!({})),
        versions: vec![EnvironmentVersion {
            environment: "production".into(),
            version: 2,
        }],
    };
    assert_fields(&components, "Change", &change);
    assert_fields(&components, "EnvironmentVersion", &change.versions[0]);
}

/// The string values an enum schema lists.
fn enum_values(components: &Value, name: &str) -> Vec<String> {
    components[name]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{name} is not a string enum"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn names<T: serde::Serialize>(values: &[T]) -> Vec<String> {
    values
        .iter()
        .map(|v| {
            serde_json::to_value(v)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Stops compiling when a variant is added, so the lists below stay whole.
fn _lists_are_exhaustive(kind: FlagKind, resource: ResourceKind, action: ChangeAction) {
    match kind {
        FlagKind::Boolean | FlagKind::String | FlagKind::Number | FlagKind::Json => {}
    }
    match resource {
        ResourceKind::Project
        | ResourceKind::Environment
        | ResourceKind::Flag
        | ResourceKind::FlagConfig
        | ResourceKind::Segment
        | ResourceKind::User
        | ResourceKind::Token
        | ResourceKind::KillSwitch
        | ResourceKind::RolloutPlan => {}
    }
    match action {
        ChangeAction::Created
        | ChangeAction::Updated
        | ChangeAction::Toggled
        | ChangeAction::Archived
        | ChangeAction::Restored
        | ChangeAction::Deleted
        | ChangeAction::Revoked => {}
    }
}

#[test]
fn enum_schemas_match_the_real_types() {
    let components = components();
    assert_eq!(
        enum_values(&components, "Operator"),
        names(&Operator::ALL),
        "Operator"
    );
    let kinds = [
        FlagKind::Boolean,
        FlagKind::String,
        FlagKind::Number,
        FlagKind::Json,
    ];
    assert_eq!(enum_values(&components, "FlagKind"), names(&kinds));
    let resources = [
        ResourceKind::Project,
        ResourceKind::Environment,
        ResourceKind::Flag,
        ResourceKind::FlagConfig,
        ResourceKind::Segment,
        ResourceKind::User,
        ResourceKind::Token,
        ResourceKind::KillSwitch,
        ResourceKind::RolloutPlan,
    ];
    assert_eq!(enum_values(&components, "ResourceKind"), names(&resources));
    let actions = [
        ChangeAction::Created,
        ChangeAction::Updated,
        ChangeAction::Toggled,
        ChangeAction::Archived,
        ChangeAction::Restored,
        ChangeAction::Deleted,
        ChangeAction::Revoked,
    ];
    assert_eq!(enum_values(&components, "ChangeAction"), names(&actions));
}
