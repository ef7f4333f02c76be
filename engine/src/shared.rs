//! What one compile shares across all flags and segments: compiled `matches`
//! patterns, and the cache slots of the most used attribute names.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use vexil_proto::{Serve, Snapshot};

use crate::attribute::{AttrName, SLOTS};
use crate::pattern::Pattern;

#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Flags often share patterns; each is compiled once and shared.
    patterns: FxHashMap<Box<str>, Arc<Pattern>>,
    /// The `SLOTS` attribute names clauses use most, each with its slot in
    /// the per-evaluation lookup cache.
    slots: FxHashMap<Box<str>, u8>,
}

impl Shared {
    /// Counts how often each attribute is named and gives the most used ones a slot.
    pub(crate) fn new(snapshot: &Snapshot) -> Self {
        let mut counts: FxHashMap<&str, usize> = FxHashMap::default();
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
        for clause in segment_clauses.chain(flag_clauses) {
            *counts.entry(&clause.attribute).or_default() += 1;
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
        }
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
