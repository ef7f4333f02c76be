//! How a `matches` pattern matches (the `regex` feature): a fully compiled
//! DFA when the pattern is small enough, with the `regex` crate behind it
//! for everything else. The engine evaluates with it natively; the WASM
//! regex module (`vexil-wasm-regex`) runs the same code for the WASM
//! engine, which links no regex engine itself.
//!
//! A dense DFA searches with no per-search cache and no pool, so the
//! patterns flags actually use (`@example\.(com|org)$`, `^beta-[0-9]+$`)
//! cost a few nanoseconds per byte and can be shared by every clause and
//! thread. Patterns whose DFA would be too large, and searches the DFA gives
//! up on (a Unicode word boundary next to a non-ASCII byte), go to the
//! `regex` crate, which accepts exactly the same syntax and semantics.

mod dfa;

use regex::Regex;

use crate::operand::compile_regex;
use dfa::Scan;

/// A compiled `matches` pattern. Compiles within [`compile_regex`]'s
/// limits, so it accepts exactly what validation accepts.
#[derive(Debug)]
pub struct Pattern {
    dfa: Option<Scan>,
    regex: Regex,
}

impl Pattern {
    /// Compiles a pattern, or says why it does not compile
    /// ([`compile_regex`]'s message).
    pub fn new(pattern: &str) -> Result<Self, String> {
        let regex = compile_regex(pattern)?;
        Ok(Pattern {
            dfa: Scan::new(pattern),
            regex,
        })
    }

    /// Whether the pattern matches anywhere in `haystack`.
    pub fn is_match(&self, haystack: &str) -> bool {
        if let Some(found) = self.dfa.as_ref().and_then(|scan| scan.is_match(haystack)) {
            return found;
        }
        self.regex.is_match(haystack)
    }

    #[cfg(test)]
    fn has_dfa(&self) -> bool {
        self.dfa.is_some()
    }

    #[cfg(test)]
    fn scans_backwards(&self) -> bool {
        self.dfa.as_ref().is_some_and(Scan::scans_backwards)
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
