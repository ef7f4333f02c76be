//! Typed operands of clause operators: dates, semantic versions and regular
//! expressions. Validation (at write time) and the engine (at compile and
//! evaluation time) both parse through here, so a value the API accepts is
//! exactly a value the engine understands.

#[cfg(feature = "regex")]
use regex::{Regex, RegexBuilder};
use semver::{BuildMetadata, Prerelease, Version};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::clause::Scalar;
#[cfg(feature = "regex")]
use crate::limits::{MAX_REGEX_COMPILED_SIZE, MAX_REGEX_LEN};

/// A date as epoch milliseconds: an RFC 3339 string, or a number taken as
/// epoch milliseconds. `None` for anything else, or a non-finite number.
pub fn parse_date(value: &Scalar) -> Option<f64> {
    match value {
        Scalar::Number(ms) if ms.is_finite() => Some(*ms),
        Scalar::String(s) => parse_rfc3339(s),
        _ => None,
    }
}

/// An RFC 3339 timestamp as epoch milliseconds (sub-millisecond precision kept).
pub fn parse_rfc3339(s: &str) -> Option<f64> {
    let parsed = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    Some(parsed.unix_timestamp_nanos() as f64 / 1_000_000.0)
}

/// A semantic version. Strict SemVer 2.0 first; a version missing its minor
/// or patch part (`2`, `2.1`, `2.1-beta`) is padded with zeros, as
/// LaunchDarkly does. Does not allocate for pre-release identifiers of up to
/// eight bytes.
pub fn parse_semver(s: &str) -> Option<Version> {
    if let Ok(version) = Version::parse(s) {
        return Some(version);
    }
    let (rest, build) = match s.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (s, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let mut parts = core.split('.');
    let major = parse_numeric(parts.next()?)?;
    let minor = parts.next().map(parse_numeric).unwrap_or(Some(0))?;
    let patch = parts.next().map(parse_numeric).unwrap_or(Some(0))?;
    if parts.next().is_some() {
        return None;
    }
    let mut version = Version::new(major, minor, patch);
    if pre == Some("") || build == Some("") {
        return None;
    }
    if let Some(pre) = pre {
        version.pre = Prerelease::new(pre).ok()?;
    }
    if let Some(build) = build {
        version.build = BuildMetadata::new(build).ok()?;
    }
    Some(version)
}

/// A SemVer numeric identifier: digits, no leading zero.
fn parse_numeric(part: &str) -> Option<u64> {
    let valid = !part.is_empty()
        && part.bytes().all(|b| b.is_ascii_digit())
        && (part == "0" || !part.starts_with('0'));
    if valid { part.parse().ok() } else { None }
}

/// Compiles a `matches` pattern with the limits that keep one flag from
/// exhausting memory. The regex crate runs in time linear in the input, so no
/// pattern can backtrack catastrophically; the compiled-size limit stops
/// short patterns that expand enormously (`(a{1000}){1000}`).
#[cfg(feature = "regex")]
pub fn compile_regex(pattern: &str) -> Result<Regex, String> {
    if pattern.len() > MAX_REGEX_LEN {
        return Err(format!(
            "regular expression is {} bytes long; the limit is {MAX_REGEX_LEN}",
            pattern.len()
        ));
    }
    RegexBuilder::new(pattern)
        .size_limit(MAX_REGEX_COMPILED_SIZE)
        .dfa_size_limit(MAX_REGEX_COMPILED_SIZE)
        .build()
        .map_err(|err| match err {
            regex::Error::CompiledTooBig(limit) => {
                format!("regular expression is too complex: it compiles to more than {limit} bytes")
            }
            other => format!("regular expression does not compile: {other}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_both_formats() {
        assert_eq!(
            parse_date(&Scalar::from("1970-01-01T00:00:01Z")),
            Some(1000.0)
        );
        assert_eq!(
            parse_date(&Scalar::from("2026-11-22T01:00:00+01:00")),
            parse_date(&Scalar::from("2026-11-22T00:00:00Z"))
        );
        assert_eq!(
            parse_date(&Scalar::from("1970-01-01T00:00:00.0015Z")),
            Some(1.5)
        );
        assert_eq!(
            parse_date(&Scalar::Number(1_700_000_000_000.0)),
            Some(1_700_000_000_000.0)
        );
        for bad in [
            Scalar::from("2026-11-22"),
            Scalar::from("yesterday"),
            Scalar::from(""),
            Scalar::Number(f64::NAN),
            Scalar::Number(f64::INFINITY),
            Scalar::Bool(true),
        ] {
            assert_eq!(parse_date(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn semvers_strict_and_padded() {
        assert_eq!(parse_semver("1.2.3").unwrap(), Version::new(1, 2, 3));
        assert_eq!(parse_semver("2").unwrap(), Version::new(2, 0, 0));
        assert_eq!(parse_semver("2.1").unwrap(), Version::new(2, 1, 0));
        assert_eq!(
            parse_semver("2.1-beta.1").unwrap(),
            Version::parse("2.1.0-beta.1").unwrap()
        );
        assert!(parse_semver("1.0.0-alpha").unwrap() < parse_semver("1.0.0").unwrap());
        assert!(parse_semver("1.0.0-alpha.1").unwrap() < parse_semver("1.0.0-alpha.beta").unwrap());
        for bad in [
            "", "v1.2.3", "1.2.3.4", "01.2.3", "1..2", "a.b.c", "1.2.3-", "1.2.3-01",
        ] {
            assert!(parse_semver(bad).is_none(), "{bad}");
        }
    }

    proptest::proptest! {
        /// Wherever the `semver` crate accepts a full version, the padded
        /// parser reads exactly the same version.
        #[test]
        fn agrees_with_the_semver_crate(s in "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}(-[0-9a-z.-]{0,6})?(\\+[0-9a-z.+-]{0,6})?") {
            if let Ok(strict) = Version::parse(&s) {
                proptest::prop_assert_eq!(parse_semver(&s), Some(strict));
            }
        }
    }

    #[test]
    fn regexes_compile_within_limits() {
        assert!(compile_regex("^user-[0-9]+$").unwrap().is_match("user-42"));
        assert!(
            compile_regex("(unclosed")
                .unwrap_err()
                .starts_with("regular expression does not compile")
        );
        assert!(
            compile_regex("(a{1000}){1000}")
                .unwrap_err()
                .contains("too complex")
        );
        assert!(
            compile_regex(&"a".repeat(MAX_REGEX_LEN + 1))
                .unwrap_err()
                .contains("limit is 1024")
        );
        assert!(
            compile_regex("(a)\\1").is_err(),
            "backreferences are not supported"
        );
    }
}
