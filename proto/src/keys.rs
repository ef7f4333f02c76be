//! Key syntax shared by flags, segments, projects and environments:
//! `[a-z0-9][a-z0-9._-]{0,127}`.

/// Longest key accepted anywhere (flag, segment, variant, project, environment).
pub const MAX_KEY_LEN: usize = 128;

/// Whether `key` matches `[a-z0-9][a-z0-9._-]{0,127}`.
pub fn is_valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    match bytes.first() {
        Some(first) if first.is_ascii_lowercase() || first.is_ascii_digit() => {}
        _ => return false,
    }
    bytes.len() <= MAX_KEY_LEN
        && bytes.iter().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_syntax() {
        for key in [
            "a",
            "0",
            "new-checkout",
            "pricing.experiment",
            "banner_2026",
            &"a".repeat(128),
        ] {
            assert!(is_valid_key(key), "{key}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for key in [
            "",
            "-a",
            ".a",
            "_a",
            "A",
            "new checkout",
            "ünï",
            "a/b",
            &"a".repeat(129),
        ] {
            assert!(!is_valid_key(key), "{key}");
        }
    }
}
