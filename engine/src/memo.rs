//! Remembering clause results within one evaluation.
//!
//! A clause's result depends on the context alone, and real snapshots repeat
//! clauses: rules of one flag share a `plan in [...]`, many flags target the
//! same segment or the same `app_version semver_gt`. At compile time, the
//! clauses that occur more than once in a snapshot (equal attribute,
//! operator, values and `negate`) get one of [`SLOTS`] memo slots, the most
//! repeated first; an evaluation computes each such clause once, and every
//! flag in an evaluate-all shares the results.

use std::hash::{Hash, Hasher};

use vexil_proto::{Clause, Scalar};

/// Number of memo slots: clause results kept per evaluation.
pub(crate) const SLOTS: usize = 256;

/// Which memoized clauses this evaluation has computed, and their results.
/// Lives on the stack, inside [`crate::attribute::Lookups`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Memo {
    known: [u64; SLOTS / 64],
    value: [u64; SLOTS / 64],
}

impl Memo {
    /// The remembered result of the clause in `slot`, if computed.
    pub(crate) fn get(&self, slot: u8) -> Option<bool> {
        let (word, bit) = (usize::from(slot >> 6), 1u64 << (slot & 63));
        let known = self.known.get(word).is_some_and(|w| w & bit != 0);
        known.then(|| self.value.get(word).is_some_and(|w| w & bit != 0))
    }

    pub(crate) fn set(&mut self, slot: u8, result: bool) {
        let (word, bit) = (usize::from(slot >> 6), 1u64 << (slot & 63));
        if let (Some(known), Some(value)) = (self.known.get_mut(word), self.value.get_mut(word)) {
            *known |= bit;
            if result {
                *value |= bit;
            } else {
                *value &= !bit;
            }
        }
    }
}

/// A clause compared by content, for finding repeated clauses. Numbers
/// compare by bit pattern: clauses equal under this key compile to the same
/// matcher, so they always agree.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClauseKey<'a>(pub(crate) &'a Clause);

impl PartialEq for ClauseKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0, other.0);
        a.attribute == b.attribute
            && a.op == b.op
            && a.negate == b.negate
            && a.values.len() == b.values.len()
            && a.values.iter().zip(&b.values).all(|pair| match pair {
                (Scalar::String(x), Scalar::String(y)) => x == y,
                (Scalar::Number(x), Scalar::Number(y)) => x.to_bits() == y.to_bits(),
                (Scalar::Bool(x), Scalar::Bool(y)) => x == y,
                _ => false,
            })
    }
}

impl Eq for ClauseKey<'_> {}

impl Hash for ClauseKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let clause = self.0;
        clause.attribute.hash(state);
        clause.op.hash(state);
        clause.negate.hash(state);
        clause.values.len().hash(state);
        for value in &clause.values {
            match value {
                Scalar::String(s) => (0u8, s).hash(state),
                Scalar::Number(n) => (1u8, n.to_bits()).hash(state),
                Scalar::Bool(b) => (2u8, b).hash(state),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use vexil_proto::Operator;

    use super::*;

    #[test]
    fn remembers_each_slot_apart() {
        let mut memo = Memo::default();
        assert_eq!(memo.get(0), None);
        memo.set(0, true);
        memo.set(63, false);
        memo.set(64, true);
        memo.set(255, true);
        assert_eq!(
            [0, 1, 63, 64, 65, 255].map(|s| memo.get(s)),
            [Some(true), None, Some(false), Some(true), None, Some(true)]
        );
        memo.set(255, false);
        assert_eq!(memo.get(255), Some(false));
    }

    fn clause(op: Operator, values: Vec<Scalar>, negate: bool) -> Clause {
        Clause {
            attribute: "seats".into(),
            op,
            values,
            negate,
        }
    }

    #[test]
    fn keys_are_equal_only_for_equal_clauses() {
        let base = clause(Operator::Gte, vec![10.0.into()], false);
        let variants = [
            base.clone(),
            base.clone(),
            clause(Operator::Gt, vec![10.0.into()], false),
            clause(Operator::Gte, vec![10.0.into()], true),
            clause(Operator::Gte, vec![(-0.0).into()], false),
            clause(Operator::Gte, vec![0.0.into()], false),
            clause(Operator::Gte, vec!["10".into()], false),
            clause(Operator::Gte, vec![10.0.into(), 10.0.into()], false),
            Clause {
                attribute: "seat".into(),
                ..base.clone()
            },
        ];
        let keys: HashSet<ClauseKey<'_>> = variants.iter().map(ClauseKey).collect();
        assert_eq!(keys.len(), variants.len() - 1);
        assert!(keys.contains(&ClauseKey(&base)));
    }
}
