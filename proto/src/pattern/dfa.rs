//! The DFA path of `matches` patterns: a dense DFA of the
//! whole pattern, built once, searched with no per-search cache or pool.

use regex_automata::Anchored;
use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::nfa::thompson;
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;
use regex_syntax::hir::Look;

/// Largest DFA (and determinization work) spent on one pattern; larger ones
/// use the `regex` crate alone.
const DFA_SIZE_LIMIT: usize = 128 * 1024;

/// A DFA with its start state, and the direction it scans the haystack in.
#[derive(Debug)]
pub(super) struct Scan {
    dfa: dense::DFA<Vec<u32>>,
    /// Searches always cover the whole haystack, so nothing is before (or,
    /// in reverse, after) it and the start state never changes.
    start: StateID,
    /// For patterns every match of which ends at the end of the haystack
    /// (`@example\.com$`), the DFA is of the reversed pattern, anchored at
    /// the end and run backwards: a haystack with the wrong suffix is
    /// rejected after a byte or two instead of a whole forward scan.
    reverse: bool,
}

impl Scan {
    /// `None` when the DFA would exceed [`DFA_SIZE_LIMIT`].
    pub(super) fn new(pattern: &str) -> Option<Self> {
        let reverse = regex_automata::util::syntax::parse(pattern)
            .is_ok_and(|hir| hir.properties().look_set_suffix().contains(Look::End));
        let anchored = if reverse { Anchored::Yes } else { Anchored::No };
        let start_kind = if reverse {
            StartKind::Anchored
        } else {
            StartKind::Unanchored
        };
        let dfa = dense::Builder::new()
            .configure(
                dense::Config::new()
                    .start_kind(start_kind)
                    .dfa_size_limit(Some(DFA_SIZE_LIMIT))
                    .determinize_size_limit(Some(DFA_SIZE_LIMIT)),
            )
            .thompson(thompson::Config::new().reverse(reverse))
            .build(pattern)
            .ok()?;
        let start = dfa
            .start_state(&start::Config::new().anchored(anchored))
            .ok()?;
        Some(Scan {
            dfa,
            start,
            reverse,
        })
    }

    /// Whether the pattern matches anywhere in `haystack`; `None` when the
    /// DFA gives up and the `regex` crate must answer.
    pub(super) fn is_match(&self, haystack: &str) -> Option<bool> {
        let bytes = haystack.as_bytes();
        if self.reverse {
            self.run(bytes.iter().rev())
        } else {
            self.run(bytes.iter())
        }
    }

    #[cfg(test)]
    pub(super) fn scans_backwards(&self) -> bool {
        self.reverse
    }

    /// Runs the DFA over `bytes` until it knows whether there is a match.
    /// `None` when it gives up (a Unicode word boundary next to a non-ASCII
    /// byte). Match states come one byte late, so entering one means a match
    /// ended just before this byte.
    fn run<'h>(&self, bytes: impl Iterator<Item = &'h u8>) -> Option<bool> {
        let dfa = &self.dfa;
        let mut state = self.start;
        for &byte in bytes {
            state = dfa.next_state(state, byte);
            if dfa.is_special_state(state) {
                if dfa.is_match_state(state) {
                    return Some(true);
                }
                if dfa.is_dead_state(state) {
                    return Some(false);
                }
                if dfa.is_quit_state(state) {
                    return None;
                }
            }
        }
        Some(dfa.is_match_state(dfa.next_eoi_state(state)))
    }
}
