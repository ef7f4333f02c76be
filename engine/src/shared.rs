//! What one compile shares across all flags and segments: compiled `matches`
//! patterns, the cache slots of the most used attribute names, and the memo
//! slots of repeated clauses.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use vexil_proto::{Clause, Serve, Snapshot};

use crate::attribute::{AttrName, SLOTS};
use crate::memo::{self, ClauseKey};
use crate::pattern::Pattern;

#[derive(Debug, Default)]
pub(crate) struct Shared<'s> {
    /// Flags often share patterns; each is compiled once and shared.
    patterns: FxHashMap<Box<str>, Arc<Pattern>>,
    /// The `SLOTS` attribute names clauses use most, each with its slot in
    /// the per-evaluation lookup cache.
    slots: FxHashMap<Box<str>, u8>,
    /// The clauses the snapshot repeats most, each with its memo slot.
    memo_slots: FxHashMap<ClauseKey<'s>, u8>,
}

impl<'s> Shared<'s> {
    /// Counts how often each attribute is named and each clause repeated,
    /// and gives the most used ones a slot.
    pub(crate) fn new(snapshot: &'s Snapshot) -> Self {
        let mut counts: FxHashMap<&str, usize> = FxHashMap::default();
        let mut clause_counts: FxHashMap<ClauseKey<'s>, (usize, usize)> = FxHashMap::default();
        let segment_clauses = snapshot
            .segments
            .iter()
            .flat_map(|s| &s.rules)
            .flat_map(|r| &r.clauses);
        let flag_clauses = snapshot
            .flags
            .iter()
            .flat_map(|f| &f.config.rules)
            .flat_map(|r| &r.clauses);
        for (order, clause) in segment_clauses.chain(flag_clauses).enumerate() {
            *counts.entry(&clause.attribute).or_default() += 1;
            clause_counts
                .entry(ClauseKey(clause))
                .or_insert((0, order))
                .0 += 1;
        }
        let serves = snapshot.flags.iter().flat_map(|flag| {
            let rules = flag.config.rules.iter().map(|rule| &rule.serve);
            rules.chain(std::iter::once(&flag.config.default_serve))
        });
        for serve in serves {
            if let Serve::Rollout(rollout) = serve {
                *counts
                    .entry(rollout.bucket_by.as_deref().unwrap_or("key"))
                    .or_default() += 1;
            }
        }
        // `key` and `kind` are fields of the context, never looked up.
        let mut ranked: Vec<(&str, usize)> = counts
            .into_iter()
            .filter(|(name, _)| !matches!(*name, "key" | "kind"))
            .collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let slots = ranked
            .into_iter()
            .take(SLOTS)
            .zip(0u8..)
            .map(|((name, _), slot)| (Box::<str>::from(name), slot))
            .collect();
        Shared {
            patterns: FxHashMap::default(),
            slots,
            memo_slots: memo_slots(clause_counts),
        }
    }

    /// Gives no clause a memo slot.
    pub(crate) fn without_memo(self) -> Self {
        Shared {
            memo_slots: FxHashMap::default(),
            ..self
        }
    }

    /// The memo slot of a clause, if the snapshot repeats it often enough to get one.
    pub(crate) fn memo_slot(&self, clause: &Clause) -> Option<u8> {
        self.memo_slots.get(&ClauseKey(clause)).copied()
    }

    /// The compiled form of a `matches` pattern, compiled once per snapshot.
    pub(crate) fn pattern(&mut self, pattern: &str) -> Result<Arc<Pattern>, String> {
        if let Some(compiled) = self.patterns.get(pattern) {
            return Ok(Arc::clone(compiled));
        }
        let compiled = Arc::new(Pattern::new(pattern)?);
        self.patterns.insert(pattern.into(), Arc::clone(&compiled));
        Ok(compiled)
    }

    /// The compiled form of an attribute name, with its cache slot if it has one.
    pub(crate) fn attribute(&self, name: &str) -> AttrName {
        match name {
            "key" => AttrName::Key,
            "kind" => AttrName::Kind,
            other => AttrName::Named {
                name: other.into(),
                slot: self.slots.get(other).copied(),
            },
        }
    }
}

/// Memo slots for the clauses seen more than once, most repeated first (ties
/// by first appearance, so compiling the same snapshot twice gives the same
/// slots).
fn memo_slots<'s>(
    counts: FxHashMap<ClauseKey<'s>, (usize, usize)>,
) -> FxHashMap<ClauseKey<'s>, u8> {
    let mut repeated: Vec<(ClauseKey<'s>, (usize, usize))> = counts
        .into_iter()
        .filter(|(_, (count, _))| *count > 1)
        .collect();
    repeated.sort_unstable_by(|a, b| b.1.0.cmp(&a.1.0).then(a.1.1.cmp(&b.1.1)));
    repeated
        .into_iter()
        .take(memo::SLOTS)
        .zip(0..=u8::MAX)
        .map(|((key, _), slot)| (key, slot))
        .collect()
}
