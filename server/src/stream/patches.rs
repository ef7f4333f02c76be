//! Patches from the change log: one patch per committed change, in order.
//!
//! A change-log entry names what changed (a flag, its config in one
//! environment, a segment, the environment itself); the patch carries that
//! object as it is in the snapshot the patches lead up to: an upsert if it
//! is there, a delete if it is not (deleted or archived). Applying every
//! patch up to that snapshot's version therefore gives exactly that
//! snapshot, and each patch moves the version by one, as DESIGN.md asks.

use vexil_proto::{Delete, Patch, Snapshot, Upsert};

use crate::store::{Change, ResourceKind};

/// The patches from `from` up to `snapshot.version`, one per change, or
/// `None` when `changes` (as `Store::changes_since(from)` returned them)
/// do not cover every version in between: then only a snapshot is right.
/// Changes past the snapshot's version are left for the next round.
pub fn from_changes(
    from: u64,
    changes: &[(u64, Change)],
    snapshot: &Snapshot,
) -> Option<Vec<Patch>> {
    let target = snapshot.version;
    if from == 0 || from > target {
        return None;
    }
    let mut patches = Vec::with_capacity(changes.len());
    let mut at = from;
    for (version, change) in changes.iter().take_while(|(v, _)| *v <= target) {
        if *version != at + 1 {
            return None;
        }
        let mut patch = Patch {
            from_version: at,
            to_version: *version,
            upserts: Vec::new(),
            deletes: Vec::new(),
        };
        add_object(&mut patch, change, snapshot);
        patches.push(patch);
        at = *version;
    }
    (at == target).then_some(patches)
}

/// The changed object as it is in `snapshot`.
fn add_object(patch: &mut Patch, change: &Change, snapshot: &Snapshot) {
    let key = &change.key;
    match change.resource {
        ResourceKind::Flag | ResourceKind::FlagConfig => {
            match snapshot.flags.iter().find(|f| &f.key == key) {
                Some(flag) => patch.upserts.push(Upsert::Flag(flag.clone())),
                None => patch.deletes.push(Delete::Flag(key.clone())),
            }
        }
        ResourceKind::Segment => match snapshot.segments.iter().find(|s| &s.key == key) {
            Some(segment) => patch.upserts.push(Upsert::Segment(segment.clone())),
            None => patch.deletes.push(Delete::Segment(key.clone())),
        },
        // The environment's own changes (rename, `production`) bump its
        // version but change no flag: an empty patch keeps the count.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;
    use vexil_proto::{FlagConfig, Serve, SnapshotFlag};

    use super::*;
    use crate::store::ChangeAction;

    fn change(resource: ResourceKind, key: &str) -> Change {
        Change {
            id: 1,
            project: Some("default".into()),
            environment: None,
            resource,
            key: key.into(),
            action: ChangeAction::Updated,
            actor: "test".into(),
            reason: None,
            at: OffsetDateTime::UNIX_EPOCH,
            before: None,
            after: None,
            versions: vec![],
        }
    }

    fn snapshot(version: u64) -> Snapshot {
        let config = FlagConfig::new("off", Serve::Variant("on".into()));
        Snapshot {
            environment: "production".into(),
            version,
            flags: vec![SnapshotFlag::boolean("a", config)],
            segments: vec![],
        }
    }

    #[test]
    fn one_patch_per_change_with_the_objects_as_in_the_snapshot() {
        let changes = vec![
            (4, change(ResourceKind::FlagConfig, "a")),
            (5, change(ResourceKind::Flag, "gone")),
            (6, change(ResourceKind::Environment, "production")),
        ];
        let target = snapshot(6);
        let patches = from_changes(3, &changes, &target).unwrap();
        let spans: Vec<_> = patches
            .iter()
            .map(|p| (p.from_version, p.to_version))
            .collect();
        assert_eq!(spans, [(3, 4), (4, 5), (5, 6)]);
        assert_eq!(patches[0].upserts, [Upsert::Flag(target.flags[0].clone())]);
        assert_eq!(patches[1].deletes, [Delete::Flag("gone".into())]);
        assert!(patches[2].upserts.is_empty() && patches[2].deletes.is_empty());

        let mut resumed = snapshot(3);
        resumed.flags.clear();
        for patch in &patches {
            resumed.apply_patch(patch).unwrap();
        }
        assert_eq!(resumed, target);
    }

    #[test]
    fn a_gap_or_an_unknown_start_means_a_snapshot() {
        let target = snapshot(6);
        let gap = vec![
            (4, change(ResourceKind::FlagConfig, "a")),
            (6, change(ResourceKind::FlagConfig, "a")),
        ];
        assert_eq!(from_changes(3, &gap, &target), None);
        let short = vec![(4, change(ResourceKind::FlagConfig, "a"))];
        assert_eq!(from_changes(3, &short, &target), None);
        assert_eq!(from_changes(0, &[], &target), None);
        assert_eq!(from_changes(7, &[], &target), None);
        assert_eq!(from_changes(6, &[], &target), Some(vec![]));
        // Changes past the snapshot wait for the next round.
        let ahead = vec![
            (6, change(ResourceKind::FlagConfig, "a")),
            (7, change(ResourceKind::FlagConfig, "a")),
        ];
        assert_eq!(from_changes(5, &ahead, &target).unwrap().len(), 1);
    }
}
