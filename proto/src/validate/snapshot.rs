//! A whole environment snapshot: every flag and segment, cross-checked.

use std::collections::{HashMap, HashSet};

use super::ValidationErrors;
use super::config::check_config;
use super::flag::check_variants;
use super::path::{Path, Problems, check_key, quote};
use super::refs::{References, prerequisite_flags, variant_keys};
use super::segment::check_segment;
use crate::snapshot::{Snapshot, SnapshotFlag};

/// Checks everything [`validate_flag`](super::validate_flag),
/// [`validate_flag_config`](super::validate_flag_config) and
/// [`validate_segment`](super::validate_segment) check, for every flag and
/// segment of the snapshot, with the snapshot itself as the references: keys
/// unique, segments and prerequisite flags present, no prerequisite cycle and
/// no chain too deep. Paths are relative to the snapshot, such as
/// `/flags/3/config/rules/0/clauses/1/values/0` or `/segments/2/key`.
///
/// A flag is reported for its own chain only (as the engine fails it), so a
/// chain one link too deep is reported once, at the flag at its top; every
/// flag on a cycle is reported.
pub fn validate_snapshot(snapshot: &Snapshot) -> Result<(), ValidationErrors> {
    let mut problems = Problems::default();
    let root = Path::ROOT;
    check_key(
        &mut problems,
        &root.field("environment"),
        &snapshot.environment,
    );
    let index = Index::new(snapshot);

    let flags_path = root.field("flags");
    let mut first_flag: HashMap<&str, usize> = HashMap::new();
    for (i, flag) in snapshot.flags.iter().enumerate() {
        let flag_path = flags_path.index(i);
        let key_path = flag_path.field("key");
        check_key(&mut problems, &key_path, &flag.key);
        if let Some(first) = first_flag.insert(&flag.key, i) {
            let first_path = flags_path.index(first);
            problems.add(
                &key_path,
                format!(
                    "flag {} is already defined at {}",
                    quote(&flag.key),
                    first_path.render()
                ),
            );
        }
        check_variants(
            &mut problems,
            &flag_path.field("variants"),
            flag.kind,
            &flag.variants,
        );
        let config_path = flag_path.field("config");
        check_config(
            &mut problems,
            &config_path,
            &flag.key,
            &flag.variants,
            &flag.config,
            &index,
        );
    }

    let segments_path = root.field("segments");
    let mut first_segment: HashMap<&str, usize> = HashMap::new();
    for (i, segment) in snapshot.segments.iter().enumerate() {
        let segment_path = segments_path.index(i);
        check_segment(&mut problems, &segment_path, segment);
        if let Some(first) = first_segment.insert(&segment.key, i) {
            let first_path = segments_path.index(first);
            problems.add(
                &segment_path.field("key"),
                format!(
                    "segment {} is already defined at {}",
                    quote(&segment.key),
                    first_path.render()
                ),
            );
        }
    }
    problems.finish()
}

/// The snapshot's flags and segments by key (the first of duplicates), so
/// validating every flag is not quadratic. Follows prerequisites downward
/// only: see [`validate_snapshot`].
struct Index<'s> {
    flags: HashMap<&'s str, &'s SnapshotFlag>,
    segments: HashSet<&'s str>,
}

impl<'s> Index<'s> {
    fn new(snapshot: &'s Snapshot) -> Self {
        let mut flags = HashMap::new();
        for flag in &snapshot.flags {
            flags.entry(flag.key.as_str()).or_insert(flag);
        }
        let segments = snapshot.segments.iter().map(|s| s.key.as_str()).collect();
        Index { flags, segments }
    }
}

impl References for Index<'_> {
    fn segment_exists(&self, key: &str) -> bool {
        self.segments.contains(key)
    }

    fn flag_variants(&self, key: &str) -> Option<Vec<String>> {
        self.flags.get(key).copied().map(variant_keys)
    }

    fn prerequisites_of(&self, flag_key: &str) -> Vec<String> {
        self.flags
            .get(flag_key)
            .copied()
            .map(prerequisite_flags)
            .unwrap_or_default()
    }
}
