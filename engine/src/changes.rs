//! Which flags may evaluate differently after a snapshot changes: the rule
//! both SDKs use for their change events (the Rust SDK's `on_change`, the
//! JavaScript client's `change` events), kept here so they cannot drift.

use std::collections::{HashMap, HashSet};

use vexil_proto::{Operator, Scalar, Snapshot, SnapshotFlag};

/// The keys of the flags whose evaluation may differ between `old` and `new`.
pub fn changed_flags(old: &Snapshot, new: &Snapshot) -> Vec<String> {
    let old_flags: HashMap<&str, &SnapshotFlag> =
        old.flags.iter().map(|f| (f.key.as_str(), f)).collect();
    let new_flags: HashMap<&str, &SnapshotFlag> =
        new.flags.iter().map(|f| (f.key.as_str(), f)).collect();
    let old_segments: HashMap<&str, _> = old.segments.iter().map(|s| (s.key.as_str(), s)).collect();
    let new_segments: HashMap<&str, _> = new.segments.iter().map(|s| (s.key.as_str(), s)).collect();
    let changed_segments: HashSet<&str> = old_segments
        .keys()
        .chain(new_segments.keys())
        .filter(|key| old_segments.get(*key) != new_segments.get(*key))
        .copied()
        .collect();

    let mut changed: HashSet<&str> = old_flags
        .keys()
        .chain(new_flags.keys())
        .filter(|key| old_flags.get(*key) != new_flags.get(*key))
        .copied()
        .collect();
    for flag in &new.flags {
        if uses_any_segment(flag, &changed_segments) {
            changed.insert(&flag.key);
        }
    }
    // A flag whose prerequisite changed may now evaluate differently too.
    loop {
        let dependents: Vec<&str> = new
            .flags
            .iter()
            .filter(|f| !changed.contains(f.key.as_str()))
            .filter(|f| {
                f.config
                    .prerequisites
                    .iter()
                    .any(|p| changed.contains(p.flag.as_str()))
            })
            .map(|f| f.key.as_str())
            .collect();
        if dependents.is_empty() {
            break;
        }
        changed.extend(dependents);
    }
    let mut keys: Vec<String> = changed.into_iter().map(str::to_owned).collect();
    keys.sort();
    keys
}

fn uses_any_segment(flag: &SnapshotFlag, segments: &HashSet<&str>) -> bool {
    !segments.is_empty()
        && flag
            .config
            .rules
            .iter()
            .flat_map(|rule| &rule.clauses)
            .filter(|clause| clause.op == Operator::InSegment)
            .flat_map(|clause| &clause.values)
            .any(|value| matches!(value, Scalar::String(key) if segments.contains(key.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vexil_proto::{Clause, FlagConfig, Prerequisite, Rule, Segment, Serve};

    fn flag(key: &str) -> SnapshotFlag {
        SnapshotFlag::boolean(key, FlagConfig::new("off", Serve::Variant("on".into())))
    }

    #[test]
    fn segment_and_prerequisite_changes_reach_the_flags_that_use_them() {
        let mut uses_segment = flag("uses-segment");
        uses_segment.config.rules.push(Rule {
            id: "beta".into(),
            description: String::new(),
            clauses: vec![
                serde_json::from_value::<Clause>(serde_json::json!({
                    "attribute": "key", "op": "in_segment", "values": ["beta"]
                }))
                .unwrap(),
            ],
            serve: Serve::Variant("on".into()),
        });
        let mut dependent = flag("dependent");
        dependent.config.prerequisites.push(Prerequisite {
            flag: "uses-segment".into(),
            variant: "on".into(),
        });
        let segment = |included: &[&str]| -> Segment {
            serde_json::from_value(serde_json::json!({
                "key": "beta", "name": "Beta", "included": included
            }))
            .unwrap()
        };
        let old = Snapshot {
            environment: "e".into(),
            version: 1,
            flags: vec![
                uses_segment.clone(),
                dependent.clone(),
                flag("other"),
                flag("gone"),
            ],
            segments: vec![segment(&["a"])],
        };
        let new = Snapshot {
            version: 2,
            flags: vec![uses_segment, dependent, flag("other"), flag("added")],
            segments: vec![segment(&["a", "b"])],
            ..old.clone()
        };
        assert_eq!(
            changed_flags(&old, &new),
            ["added", "dependent", "gone", "uses-segment"]
        );
        assert!(changed_flags(&new, &new).is_empty());
    }
}
