//! Snapshots: one environment's flags and segments at one version.

use serde::{Deserialize, Serialize};

use crate::flag::{FlagConfig, FlagKind, Variant};
use crate::segment::Segment;
use crate::wire::{Delete, Patch, Upsert};

/// Everything an SDK needs to evaluate every flag of one environment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// The environment's key; an SDK key reads exactly one.
    pub environment: String,
    /// The environment's change counter; patches apply on top of it.
    pub version: u64,
    /// Every flag's definition and its config in this environment.
    #[serde(default)]
    pub flags: Vec<SnapshotFlag>,
    /// Every segment of the project, for `in_segment` clauses.
    #[serde(default)]
    pub segments: Vec<Segment>,
}

/// A flag as an SDK sees it: what it evaluates to needs the variants and one
/// environment's config, nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotFlag {
    /// The flag key.
    pub key: String,
    /// Lets typed SDK calls report `TYPE_MISMATCH` without looking at values.
    pub kind: FlagKind,
    /// The flag's variants, in order (rollout weights follow this order).
    pub variants: Vec<Variant>,
    /// The flag's config in the snapshot's environment.
    pub config: FlagConfig,
}

/// Why a patch could not be applied; the SDK then asks for a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    #[error("patch starts at version {from} but the snapshot is at version {current}")]
    VersionGap { current: u64, from: u64 },
    #[error("patch goes from version {from} to {to}, which is not forward")]
    NotForward { from: u64, to: u64 },
}

impl SnapshotFlag {
    /// A boolean flag (`on`/`off`) with this config.
    pub fn boolean(key: impl Into<String>, config: FlagConfig) -> Self {
        SnapshotFlag {
            key: key.into(),
            kind: FlagKind::Boolean,
            variants: Variant::boolean_pair(),
            config,
        }
    }
}

impl Snapshot {
    /// Applies a patch in place: upserts replace by key (or append), deletes
    /// remove by key, and the version becomes `to_version`. Nothing changes
    /// when the patch does not start at this snapshot's version.
    pub fn apply_patch(&mut self, patch: &Patch) -> Result<(), PatchError> {
        if patch.from_version != self.version {
            return Err(PatchError::VersionGap {
                current: self.version,
                from: patch.from_version,
            });
        }
        if patch.to_version <= patch.from_version {
            return Err(PatchError::NotForward {
                from: patch.from_version,
                to: patch.to_version,
            });
        }
        for upsert in &patch.upserts {
            match upsert {
                Upsert::Flag(flag) => upsert_by_key(&mut self.flags, flag.clone(), |f| &f.key),
                Upsert::Segment(segment) => {
                    upsert_by_key(&mut self.segments, segment.clone(), |s| &s.key)
                }
            }
        }
        for delete in &patch.deletes {
            match delete {
                Delete::Flag(key) => self.flags.retain(|f| &f.key != key),
                Delete::Segment(key) => self.segments.retain(|s| &s.key != key),
            }
        }
        self.version = patch.to_version;
        Ok(())
    }

    /// The flag with this key, if any.
    pub fn flag(&self, key: &str) -> Option<&SnapshotFlag> {
        self.flags.iter().find(|f| f.key == key)
    }
}

fn upsert_by_key<T>(items: &mut Vec<T>, item: T, key: impl Fn(&T) -> &String) {
    match items
        .iter()
        .position(|existing| key(existing) == key(&item))
    {
        Some(index) => items[index] = item,
        None => items.push(item),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flag::Serve;

    fn flag(key: &str, enabled: bool) -> SnapshotFlag {
        let config = FlagConfig {
            enabled,
            ..FlagConfig::new("off", Serve::Variant("on".into()))
        };
        SnapshotFlag::boolean(key, config)
    }

    #[test]
    fn applies_upserts_and_deletes_in_order() {
        let mut snap = Snapshot {
            environment: "production".into(),
            version: 3,
            flags: vec![flag("a", true), flag("b", true)],
            segments: vec![],
        };
        let patch = Patch {
            from_version: 3,
            to_version: 4,
            upserts: vec![
                Upsert::Flag(flag("a", false)),
                Upsert::Flag(flag("c", true)),
            ],
            deletes: vec![Delete::Flag("b".into())],
        };
        snap.apply_patch(&patch).unwrap();
        assert_eq!(snap.version, 4);
        let keys: Vec<_> = snap
            .flags
            .iter()
            .map(|f| (f.key.as_str(), f.config.enabled))
            .collect();
        assert_eq!(keys, [("a", false), ("c", true)]);
    }

    #[test]
    fn refuses_gaps_and_backward_patches_without_changing_anything() {
        let mut snap = Snapshot {
            environment: "e".into(),
            version: 3,
            flags: vec![flag("a", true)],
            segments: vec![],
        };
        let before = snap.clone();
        let gap = Patch {
            from_version: 4,
            to_version: 5,
            upserts: vec![Upsert::Flag(flag("a", false))],
            deletes: vec![],
        };
        assert_eq!(
            snap.apply_patch(&gap),
            Err(PatchError::VersionGap {
                current: 3,
                from: 4
            })
        );
        let backward = Patch {
            from_version: 3,
            to_version: 3,
            upserts: vec![],
            deletes: vec![],
        };
        assert_eq!(
            snap.apply_patch(&backward),
            Err(PatchError::NotForward { from: 3, to: 3 })
        );
        assert_eq!(snap, before);
    }
}
