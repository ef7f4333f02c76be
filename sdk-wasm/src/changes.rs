//! What changed between two snapshots, for the JavaScript client's change
//! events. The same rule as `vexil-sdk`'s `changes.rs` (a copy: the two
//! should move into `vexil-engine` together, see docs/decisions.md).

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
