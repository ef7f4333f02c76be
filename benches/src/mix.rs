//! Snapshots of any size cycling through the shapes of [`crate::shapes`] in
//! a fixed proportion, for evaluate-all and compile benchmarks.
//!
//! Out of every ten flags: five booleans without rules, two with five rules
//! of three clauses, one with a 100-value `in` list, two matching a segment.
//! Most flags in a real environment are plain switches or rollouts; a few
//! carry heavy targeting. The lists are shorter than the single-flag
//! benchmark's 10 000 values (still long enough to be hashed), since a list
//! that long in every tenth flag would make a 10 000-flag snapshot carry ten
//! million strings. One segment is shared by every 50 flags.

use vexil_proto::{Snapshot, SnapshotFlag};

use crate::shapes;

/// Length of each mixed `in` list: above the engine's 16-value threshold, so
/// it is hashed like the long list. [`crate::contexts::user`] is in none.
pub const LIST_LEN: usize = 100;
/// Number of included keys of each mixed segment.
pub const SEGMENT_INCLUDED_LEN: usize = 100;
/// How many flags share one segment.
pub const FLAGS_PER_SEGMENT: usize = 50;

/// The shape of the `i`-th flag of a mixed snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// [`shapes::boolean`]: half of the flags.
    Boolean,
    /// [`shapes::five_rules`]: a fifth.
    FiveRules,
    /// [`shapes::in_list`] with [`LIST_LEN`] values: a tenth.
    InList,
    /// [`shapes::in_segment`]: a fifth.
    Segment,
}

impl Shape {
    /// The shape of the flag at `index` in a mixed snapshot.
    pub fn at(index: usize) -> Self {
        match index % 10 {
            0..=4 => Shape::Boolean,
            5 | 6 => Shape::FiveRules,
            7 => Shape::InList,
            _ => Shape::Segment,
        }
    }
}

/// A snapshot of `flags` flags in the proportion above, with the segments
/// they name. Keys are `flag-00042` and `segment-003`.
pub fn snapshot(flags: usize) -> Snapshot {
    let segments = flags.div_ceil(FLAGS_PER_SEGMENT).max(1);
    let segment_key = |i: usize| format!("segment-{:03}", i / FLAGS_PER_SEGMENT);
    Snapshot {
        environment: "production".into(),
        version: 1,
        flags: (0..flags)
            .map(|i| {
                let key = format!("flag-{i:05}");
                match Shape::at(i) {
                    Shape::Boolean => shapes::boolean(&key),
                    Shape::FiveRules => shapes::five_rules(&key),
                    Shape::InList => shapes::in_list(&key, LIST_LEN),
                    Shape::Segment => shapes::in_segment(&key, &segment_key(i)),
                }
            })
            .collect::<Vec<SnapshotFlag>>(),
        segments: (0..segments)
            .map(|s| shapes::segment(&segment_key(s * FLAGS_PER_SEGMENT), SEGMENT_INCLUDED_LEN))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use vexil_engine::CompiledSnapshot;
    use vexil_proto::Reason;

    use super::*;
    use crate::contexts;

    #[test]
    fn the_mix_compiles_and_every_flag_takes_its_shapes_path() {
        let compiled = CompiledSnapshot::compile(&snapshot(1_000));
        assert_eq!(compiled.errors(), &[]);
        assert_eq!(compiled.len(), 1_000);
        let all = compiled.evaluate_all(&contexts::user());
        assert_eq!(all.len(), 1_000);
        let mut counts = [0usize; 4];
        for (i, (_, evaluation)) in all.iter().enumerate() {
            let (slot, expected) = match Shape::at(i) {
                Shape::Boolean => (0, Reason::Default),
                Shape::FiveRules => (1, Reason::Split),
                Shape::InList => (2, Reason::Default),
                Shape::Segment => (3, Reason::TargetingMatch),
            };
            assert_eq!(evaluation.reason, expected, "flag {i}");
            counts[slot] += 1;
        }
        assert_eq!(counts, [500, 200, 100, 200]);
    }

    #[test]
    fn segments_cover_every_flag() {
        let small = snapshot(7);
        assert_eq!(small.segments.len(), 1);
        let large = snapshot(10_000);
        assert_eq!(large.segments.len(), 200);
        assert_eq!(large.flags.len(), 10_000);
    }
}
