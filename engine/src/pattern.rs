//! `matches` patterns: a fully compiled DFA when the pattern is small
//! enough, with the `regex` crate behind it for everything else.
//!
//! A dense DFA searches with no per-search cache and no pool, so the
//! patterns flags actually use (`@example\.(com|org)$`, `^beta-[0-9]+$`)
//! cost a few nanoseconds per byte and can be shared by every clause and
//! thread. Patterns whose DFA would be too large, and searches the DFA gives
//! up on (a Unicode word boundary next to a non-ASCII byte), go to the
//! `regex` crate, which accepts exactly the same syntax and semantics.

use regex::Regex;
use regex_automata::Anchored;
use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::nfa::thompson;
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;
use regex_syntax::hir::Look;
use vexil_proto::operand::compile_regex;

/// Largest DFA (and determinization work) spent on one pattern; larger ones
/// use the `regex` crate alone.
const DFA_SIZE_LIMIT: usize = 128 * 1024;

#[derive(Debug)]
pub(crate) struct Pattern {
    dfa: Option<Scan>,
    regex: Regex,
}

/// A DFA with its start state, and the direction it scans the haystack in.
#[derive(Debug)]
struct Scan {
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

impl Pattern {
    /// Compiles a pattern within `proto::operand`'s limits, so the engine
    /// accepts exactly what validation accepts.
    pub(crate) fn new(pattern: &str) -> Result<Self, String> {
        let regex = compile_regex(pattern)?;
        let reverse = regex_automata::util::syntax::parse(pattern)
            .is_ok_and(|hir| hir.properties().look_set_suffix().contains(Look::End));
        Ok(Pattern {
            dfa: Scan::new(pattern, reverse),
            regex,
        })
    }

    /// Whether the pattern matches anywhere in `haystack`.
    pub(crate) fn is_match(&self, haystack: &str) -> bool {
        let scanned = self.dfa.as_ref().and_then(|scan| {
            let bytes = haystack.as_bytes();
            if scan.reverse {
                scan.run(bytes.iter().rev())
            } else {
                scan.run(bytes.iter())
            }
        });
        scanned.unwrap_or_else(|| self.regex.is_match(haystack))
    }

    #[cfg(test)]
    fn has_dfa(&self) -> bool {
        self.dfa.is_some()
    }

    #[cfg(test)]
    fn scans_backwards(&self) -> bool {
        self.dfa.as_ref().is_some_and(|scan| scan.reverse)
    }
}

impl Scan {
    /// `None` when the DFA would exceed [`DFA_SIZE_LIMIT`].
    fn new(pattern: &str, reverse: bool) -> Option<Self> {
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn small_patterns_get_a_dfa_and_large_ones_fall_back() {
        assert!(Pattern::new(r"@example\.(com|org)$").unwrap().has_dfa());
        assert!(
            Pattern::new(r"^[a-z.]+@example\.(com|org)$")
                .unwrap()
                .has_dfa()
        );
        // Unicode classes make DFAs of hundreds of KiB.
        assert!(!Pattern::new(r"\w+@\w+").unwrap().has_dfa());
        assert!(Pattern::new(r"\w+@\w+").unwrap().is_match("ünï@x"));
        assert!(Pattern::new("(").is_err());
    }

    #[test]
    fn patterns_anchored_at_the_end_scan_backwards() {
        for pattern in [r"@example\.(com|org)$", r"^[a-z]+$", r"(a$|b$)", r"x\z"] {
            let compiled = Pattern::new(pattern).unwrap();
            assert!(compiled.scans_backwards(), "{pattern}");
        }
        for pattern in [r"@example\.com", r"(a$|b)", r"(?m)a$", r"^beta-"] {
            let compiled = Pattern::new(pattern).unwrap();
            assert!(
                compiled.has_dfa() && !compiled.scans_backwards(),
                "{pattern}"
            );
        }
        let suffix = Pattern::new(r"@(partner|reseller)\.com$").unwrap();
        assert!(suffix.is_match("bob@partner.com"));
        assert!(!suffix.is_match("bob@partner.com.evil"));
        assert!(!suffix.is_match("alice@example.com"));
        let whole = Pattern::new(r"^[a-z.]+@example\.org$").unwrap();
        assert!(whole.is_match("a.b@example.org"));
        assert!(!whole.is_match("A.b@example.org"));
        assert!(!whole.is_match("x a.b@example.org"));
    }

    #[test]
    fn word_boundaries_next_to_unicode_fall_back_to_the_regex_crate() {
        let pattern = Pattern::new(r"\bcafé\b").unwrap();
        assert!(pattern.is_match("un café noir"));
        assert!(!pattern.is_match("cafés"));
        assert!(Pattern::new(r"\bnaïve\b").unwrap().is_match("so naïve."));
    }

    /// Every atom, Unicode classes and word boundaries included.
    const ATOMS: &[&str] = &[
        "a", "b", "é", "用", ".", r"\d", r"\w", r"\s", "[a-c]", "[^a]", r"\b", r"\B", "(?i)a",
        r"\.", "-",
    ];
    /// Atoms whose patterns always get a DFA: no Unicode classes.
    const SMALL_ATOMS: &[&str] = &["a", "b", "é", "用", "[a-c]", "(?i)a", r"\.", "-", "[0-9]"];

    fn pattern(atoms: &'static [&'static str]) -> impl Strategy<Value = String> {
        let atom = prop::sample::select(atoms);
        let piece = (
            atom,
            prop::sample::select(vec!["", "*", "+", "?", "{2}", "{1,3}"]),
        )
            .prop_map(|(a, q)| {
                if a.starts_with("(?") || a.starts_with(r"\b") || a.starts_with(r"\B") {
                    a.to_string()
                } else {
                    format!("{a}{q}")
                }
            });
        (
            any::<bool>(),
            prop::collection::vec(piece, 1..5),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(start, pieces, alternate, end)| {
                let body = if alternate && pieces.len() > 1 {
                    let (left, right) = pieces.split_at(pieces.len() / 2);
                    format!("(?:{}|{})", left.concat(), right.concat())
                } else {
                    pieces.concat()
                };
                format!(
                    "{}{body}{}",
                    if start { "^" } else { "" },
                    if end { "$" } else { "" }
                )
            })
    }

    proptest! {
        /// The DFA path and the regex crate agree on every pattern and haystack.
        #[test]
        fn dfa_agrees_with_the_regex_crate(pattern in pattern(ATOMS), haystacks in prop::collection::vec("[abé用 .1-]{0,8}", 1..8)) {
            // Patterns over the project's size limits are rejected, as validation does.
            let Ok(compiled) = Pattern::new(&pattern) else { return Ok(()) };
            let reference = Regex::new(&pattern).unwrap();
            for haystack in &haystacks {
                prop_assert_eq!(compiled.is_match(haystack), reference.is_match(haystack), "{} on {:?}", pattern, haystack);
            }
        }

        /// The same, for patterns that always take the DFA path, so the
        /// comparison above is not only the regex crate against itself.
        #[test]
        fn dfa_path_agrees_with_the_regex_crate(pattern in pattern(SMALL_ATOMS), haystacks in prop::collection::vec("[abAé用 .1-]{0,8}", 1..8)) {
            let compiled = Pattern::new(&pattern).unwrap();
            prop_assert!(compiled.has_dfa(), "{} has no DFA", pattern);
            let reference = Regex::new(&pattern).unwrap();
            for haystack in &haystacks {
                prop_assert_eq!(compiled.is_match(haystack), reference.is_match(haystack), "{} on {:?}", pattern, haystack);
            }
        }
    }
}
