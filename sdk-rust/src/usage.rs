//! Evaluation counts per flag and variant, cheap enough for the hot path.
//!
//! Each installed snapshot carries a [`CounterTable`]: one [`FlagCounters`]
//! per flag, with one slot per variant plus one for "the caller's default
//! was returned". A slot is a few cache-line-sized atomics (stripes); a
//! thread always adds to its own stripe, so threads evaluating the same flag
//! do not fight over one cache line. No evaluation takes a lock, except one
//! for a flag the snapshot does not have (an error path).
//!
//! Installing a snapshot reuses the counters of every flag whose variants
//! did not change; the others are retired and drained by the next report.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use foldhash::fast::RandomState;
use vexil_proto::{Snapshot, UsageCount};

/// Stripes per slot: enough for the few threads a service evaluates on
/// without paying a cache line per thread for every flag and variant.
const STRIPES: usize = 4;

/// One atomic alone on its cache line.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Stripe(AtomicU64);

/// A slot's stripes; their sum is the slot's count.
#[derive(Debug, Default)]
struct Slot([Stripe; STRIPES]);

impl Slot {
    fn add(&self) {
        self.0[stripe()].0.fetch_add(1, Ordering::Relaxed);
    }

    fn take(&self) -> u64 {
        self.0.iter().map(|s| s.0.swap(0, Ordering::Relaxed)).sum()
    }
}

/// The stripe this thread adds to, chosen round-robin at its first count.
fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
    }
    STRIPE.with(|s| *s)
}

/// One flag's counters.
#[derive(Debug)]
pub(crate) struct FlagCounters {
    key: Box<str>,
    /// Variant keys in snapshot order; a counter is reused only while they
    /// stay the same.
    variants: Box<[Box<str>]>,
    /// One slot per variant, then the default/error slot.
    slots: Box<[Slot]>,
}

impl FlagCounters {
    fn new(key: &str, variants: Box<[Box<str>]>) -> Self {
        let slots = (0..=variants.len()).map(|_| Slot::default()).collect();
        FlagCounters {
            key: key.into(),
            variants,
            slots,
        }
    }

    fn record(&self, variant: Option<&str>) {
        let index = variant
            .and_then(|v| self.variants.iter().position(|k| &**k == v))
            .unwrap_or(self.variants.len());
        if let Some(slot) = self.slots.get(index) {
            slot.add();
        }
    }

    fn drain_into(&self, into: &mut Totals) {
        for (index, slot) in self.slots.iter().enumerate() {
            let count = slot.take();
            if count > 0 {
                let variant = self.variants.get(index).map(|v| v.to_string());
                *into.entry((self.key.to_string(), variant)).or_default() += count;
            }
        }
    }
}

/// Counts by flag and variant, as drained.
pub(crate) type Totals = HashMap<(String, Option<String>), u64>;

/// The counters of one installed snapshot, looked up by flag key.
#[derive(Debug, Default)]
pub(crate) struct CounterTable {
    flags: HashMap<Box<str>, Arc<FlagCounters>, RandomState>,
}

impl CounterTable {
    /// A table for `snapshot`, reusing `previous`'s counters where the
    /// variants are unchanged. Returns the counters no longer in use.
    pub(crate) fn for_snapshot(
        snapshot: &Snapshot,
        previous: &CounterTable,
    ) -> (CounterTable, Vec<Arc<FlagCounters>>) {
        let mut flags =
            HashMap::with_capacity_and_hasher(snapshot.flags.len(), RandomState::default());
        for flag in &snapshot.flags {
            let variants: Box<[Box<str>]> = flag
                .variants
                .iter()
                .map(|v| v.key.as_str().into())
                .collect();
            let counters = match previous.flags.get(flag.key.as_str()) {
                Some(old) if old.variants == variants => Arc::clone(old),
                _ => Arc::new(FlagCounters::new(&flag.key, variants)),
            };
            flags.insert(flag.key.as_str().into(), counters);
        }
        let retired = previous
            .flags
            .values()
            .filter(|old| {
                flags
                    .get(&old.key)
                    .is_none_or(|new: &Arc<FlagCounters>| !Arc::ptr_eq(new, old))
            })
            .cloned()
            .collect();
        (CounterTable { flags }, retired)
    }

    /// Counts one evaluation; `false` when the flag is not in the table.
    pub(crate) fn record(&self, flag_key: &str, variant: Option<&str>) -> bool {
        match self.flags.get(flag_key) {
            Some(counters) => {
                counters.record(variant);
                true
            }
            None => false,
        }
    }

    fn drain_into(&self, into: &mut Totals) {
        for counters in self.flags.values() {
            counters.drain_into(into);
        }
    }
}

/// What outlives a snapshot: counts for flags it does not have, and the
/// counters of flags a newer snapshot changed or removed.
#[derive(Debug, Default)]
pub(crate) struct UsageLedger {
    missing: Mutex<HashMap<String, u64>>,
    retired: Mutex<Vec<Arc<FlagCounters>>>,
}

impl UsageLedger {
    /// Counts an evaluation of a flag the snapshot does not have.
    pub(crate) fn record_missing(&self, flag_key: &str) {
        let mut missing = self.missing.lock().unwrap_or_else(|p| p.into_inner());
        match missing.get_mut(flag_key) {
            Some(count) => *count += 1,
            None => {
                missing.insert(flag_key.to_owned(), 1);
            }
        }
    }

    pub(crate) fn retire(&self, counters: Vec<Arc<FlagCounters>>) {
        if !counters.is_empty() {
            let mut retired = self.retired.lock().unwrap_or_else(|p| p.into_inner());
            retired.extend(counters);
        }
    }

    /// Takes every count so far: `current`'s, the retired counters' and the
    /// missing flags'. Sorted by flag and variant, so reports are stable.
    pub(crate) fn drain(&self, current: &CounterTable) -> Vec<UsageCount> {
        let mut totals = Totals::new();
        let retired = std::mem::take(&mut *self.retired.lock().unwrap_or_else(|p| p.into_inner()));
        for counters in &retired {
            counters.drain_into(&mut totals);
        }
        current.drain_into(&mut totals);
        let missing = std::mem::take(&mut *self.missing.lock().unwrap_or_else(|p| p.into_inner()));
        for (flag, count) in missing {
            *totals.entry((flag, None)).or_default() += count;
        }
        into_counts(totals)
    }
}

/// Sorted report entries from totals.
pub(crate) fn into_counts(totals: Totals) -> Vec<UsageCount> {
    let mut counts: Vec<UsageCount> = totals
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|((flag, variant), count)| UsageCount {
            flag,
            variant,
            count,
        })
        .collect();
    counts.sort_by(|a, b| (&a.flag, &a.variant).cmp(&(&b.flag, &b.variant)));
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use vexil_proto::{FlagConfig, Serve, SnapshotFlag};

    fn snapshot(keys: &[&str]) -> Snapshot {
        Snapshot {
            environment: "test".into(),
            version: 1,
            flags: keys
                .iter()
                .map(|k| {
                    SnapshotFlag::boolean(*k, FlagConfig::new("off", Serve::Variant("on".into())))
                })
                .collect(),
            segments: vec![],
        }
    }

    #[test]
    fn counts_survive_a_new_snapshot_and_threads_add_up() {
        let ledger = UsageLedger::default();
        let (table, _) =
            CounterTable::for_snapshot(&snapshot(&["a", "b"]), &CounterTable::default());
        std::thread::scope(|scope| {
            for _ in 0..3 {
                scope.spawn(|| {
                    for _ in 0..1000 {
                        assert!(table.record("a", Some("on")));
                    }
                });
            }
        });
        table.record("b", None);
        assert!(!table.record("gone", Some("on")));
        ledger.record_missing("gone");

        let (next, retired) = CounterTable::for_snapshot(&snapshot(&["a"]), &table);
        assert_eq!(retired.len(), 1, "b was removed");
        ledger.retire(retired);
        next.record("a", Some("off"));

        let counts = ledger.drain(&next);
        let flat: Vec<(&str, Option<&str>, u64)> = counts
            .iter()
            .map(|c| (c.flag.as_str(), c.variant.as_deref(), c.count))
            .collect();
        assert_eq!(
            flat,
            [
                ("a", Some("off"), 1),
                ("a", Some("on"), 3000),
                ("b", None, 1),
                ("gone", None, 1)
            ]
        );
        assert!(ledger.drain(&next).is_empty(), "a drain takes the counts");
    }
}
