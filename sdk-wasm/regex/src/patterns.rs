//! Compiled patterns by handle. A handle is an index into a table of
//! slots; released slots are reused. WebAssembly hosts run one thread, so
//! the table is thread-local.

use std::cell::RefCell;

use vexil_proto::pattern::Pattern;

#[derive(Default)]
struct Patterns {
    slots: Vec<Option<Pattern>>,
    free: Vec<u32>,
}

thread_local! {
    static PATTERNS: RefCell<Patterns> = RefCell::new(Patterns::default());
}

/// Compiles a pattern and returns its handle, or why it does not compile
/// (`proto::operand::compile_regex`'s message).
pub fn compile(pattern: &str) -> Result<u32, String> {
    let regex = Pattern::new(pattern)?;
    PATTERNS.with_borrow_mut(|patterns| match patterns.free.pop() {
        Some(handle) => {
            patterns.slots[handle as usize] = Some(regex);
            Ok(handle)
        }
        None => {
            let handle = u32::try_from(patterns.slots.len())
                .map_err(|_| "too many regular expressions are compiled".to_owned())?;
            patterns.slots.push(Some(regex));
            Ok(handle)
        }
    })
}

/// Whether the pattern behind `handle` matches anywhere in `haystack`. An
/// unknown or released handle matches nothing.
pub fn is_match(handle: u32, haystack: &str) -> bool {
    PATTERNS.with_borrow(|patterns| {
        patterns
            .slots
            .get(handle as usize)
            .and_then(Option::as_ref)
            .is_some_and(|regex| regex.is_match(haystack))
    })
}

/// Frees a handle for reuse. Releasing an unknown or released handle does
/// nothing.
pub fn release(handle: u32) {
    PATTERNS.with_borrow_mut(|patterns| {
        if let Some(slot) = patterns.slots.get_mut(handle as usize)
            && slot.take().is_some()
        {
            patterns.free.push(handle);
        }
    });
}

#[cfg(test)]
mod tests {
    use vexil_proto::operand::compile_regex;

    use super::*;

    #[test]
    fn handles_match_their_patterns_and_are_reused_after_release() {
        let email = compile(r"@example\.com$").unwrap();
        let greek = compile(r"^\p{Greek}+$").unwrap();
        assert_ne!(email, greek);
        assert!(is_match(email, "ann@example.com"));
        assert!(!is_match(email, "ann@example.com.evil"));
        assert!(is_match(greek, "αβγ"));
        assert!(!is_match(greek, "abc"));

        release(email);
        assert!(
            !is_match(email, "ann@example.com"),
            "released handles match nothing"
        );
        release(email);
        let reused = compile("^beta-").unwrap();
        assert_eq!(reused, email);
        assert!(is_match(reused, "beta-7"));
        assert!(!is_match(reused, "ann@example.com"));
        assert!(!is_match(u32::MAX, "anything"));
        release(u32::MAX);
    }

    #[test]
    fn errors_are_compile_regex_messages() {
        for pattern in ["(unclosed", "(a{1000}){1000}", "(a)\\1"] {
            assert_eq!(compile(pattern), Err(compile_regex(pattern).unwrap_err()));
        }
    }
}
