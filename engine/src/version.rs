//! Semantic versions for the `semver_*` operators, parsed and compared
//! without allocating.
//!
//! The `semver` crate keeps pre-release identifiers longer than eight bytes
//! on the heap, and parsing a context's version is on the evaluation path,
//! which must not allocate. [`VersionRef`] borrows its pre-release from the
//! string it was parsed from. It accepts exactly the strings
//! `vexil_proto::operand::parse_semver` accepts (strict SemVer 2.0, and
//! `2`, `2.1` padded with zeros) and orders them by SemVer precedence as the
//! `semver` crate's `cmp_precedence` does; both are proven by property tests
//! below.

use std::cmp::Ordering;

/// A version borrowed from the string it was parsed from. Build metadata is
/// validated, then dropped: it takes no part in precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VersionRef<'a> {
    major: u64,
    minor: u64,
    patch: u64,
    /// Dot-separated pre-release identifiers, `""` for a release.
    pre: &'a str,
}

/// A compiled clause value: a [`VersionRef`] that owns its pre-release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Box<str>,
}

impl Version {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        let v = VersionRef::parse(s)?;
        Some(Version {
            major: v.major,
            minor: v.minor,
            patch: v.patch,
            pre: v.pre.into(),
        })
    }

    pub(crate) fn as_ref(&self) -> VersionRef<'_> {
        VersionRef {
            major: self.major,
            minor: self.minor,
            patch: self.patch,
            pre: &self.pre,
        }
    }
}

impl<'a> VersionRef<'a> {
    /// Parses `MAJOR[.MINOR[.PATCH]][-PRE][+BUILD]`: numbers without leading
    /// zeros that fit in a `u64`, identifiers of `[0-9A-Za-z-]`, none empty,
    /// numeric pre-release identifiers without leading zeros. One pass over
    /// the bytes: this runs on every `semver_*` clause evaluated.
    pub(crate) fn parse(s: &'a str) -> Option<Self> {
        let bytes = s.as_bytes();
        let mut numbers = [0u64; 3];
        let mut at = 0;
        for (i, number) in numbers.iter_mut().enumerate() {
            let digits = bytes.get(at..)?;
            let len = digits.iter().take_while(|b| b.is_ascii_digit()).count();
            let leading_zero = len > 1 && digits.first() == Some(&b'0');
            if len == 0 || leading_zero {
                return None;
            }
            for digit in digits.get(..len)? {
                *number = number
                    .checked_mul(10)?
                    .checked_add(u64::from(digit - b'0'))?;
            }
            at += len;
            // `2` and `2.1` stand for `2.0.0` and `2.1.0`.
            if i == 2 || bytes.get(at) != Some(&b'.') {
                break;
            }
            at += 1;
        }
        let rest = s.get(at..)?;
        let (pre, build) = match rest.split_at_checked(1) {
            None => ("", None),
            Some(("-", tail)) => match tail.split_once('+') {
                Some((pre, build)) => (pre, Some(build)),
                None => (tail, None),
            },
            Some(("+", build)) => ("", Some(build)),
            Some(_) => return None,
        };
        let pre_valid = pre.is_empty() && !rest.starts_with('-') || identifiers(pre, true);
        if !pre_valid || build.is_some_and(|b| !identifiers(b, false)) {
            return None;
        }
        let [major, minor, patch] = numbers;
        Some(VersionRef {
            major,
            minor,
            patch,
            pre,
        })
    }

    /// SemVer precedence: numbers first; a pre-release sorts before its
    /// release; pre-release identifiers compare one by one, numeric ones by
    /// value and below alphanumeric ones, and a longer list wins a tie.
    pub(crate) fn cmp_precedence(&self, other: &VersionRef<'_>) -> Ordering {
        let numbers =
            (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch));
        numbers.then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                let mut ours = self.pre.split('.');
                let mut theirs = other.pre.split('.');
                loop {
                    match (ours.next(), theirs.next()) {
                        (None, None) => return Ordering::Equal,
                        (None, Some(_)) => return Ordering::Less,
                        (Some(_), None) => return Ordering::Greater,
                        (Some(a), Some(b)) => match identifier_cmp(a, b) {
                            Ordering::Equal => {}
                            unequal => return unequal,
                        },
                    }
                }
            }
        })
    }
}

/// Dot-separated identifiers of `[0-9A-Za-z-]`, none empty; with
/// `no_leading_zero`, all-digit identifiers must not start with `0`.
fn identifiers(s: &str, no_leading_zero: bool) -> bool {
    s.split('.').all(|id| {
        let bytes = id.as_bytes();
        let charset = !bytes.is_empty()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-');
        let leading_zero =
            bytes.len() > 1 && bytes.first() == Some(&b'0') && bytes.iter().all(u8::is_ascii_digit);
        charset && !(no_leading_zero && leading_zero)
    })
}

/// Numeric identifiers (no leading zeros, any length) compare by value,
/// which is by length and then by digits; they sort below alphanumeric ones.
fn identifier_cmp(a: &str, b: &str) -> Ordering {
    let digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    match (digits(a), digits(b)) {
        (true, true) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use vexil_proto::operand::parse_semver;

    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        VersionRef::parse(a)
            .unwrap()
            .cmp_precedence(&VersionRef::parse(b).unwrap())
    }

    #[test]
    fn the_semver_spec_ordering() {
        let ordered = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.1",
            "2",
            "2.0.1",
            "10.0.0",
        ];
        for pair in ordered.windows(2) {
            assert_eq!(cmp(pair[0], pair[1]), Ordering::Less, "{pair:?}");
            assert_eq!(cmp(pair[1], pair[0]), Ordering::Greater, "{pair:?}");
        }
        assert_eq!(cmp("1.0.0+build.1", "1.0.0+other"), Ordering::Equal);
        assert_eq!(cmp("2.1", "2.1.0"), Ordering::Equal);
    }

    #[test]
    fn rejects_what_semver_rejects() {
        for bad in [
            "",
            "v1.2.3",
            "1.2.3.4",
            "01.2.3",
            "1.02",
            "1.2.3-",
            "1.2.3-01",
            "1.2.3+",
            "1.2.3-a..b",
            "1.2.3+a..b",
            "1.2.3-ä",
            " 1.2.3",
            "1.2.3 ",
            "1..2",
            "1.",
            ".1",
            "18446744073709551616.0.0",
        ] {
            assert_eq!(VersionRef::parse(bad), None, "{bad}");
        }
        assert!(VersionRef::parse("1.2.3-0a.00b+001").is_some());
        assert!(VersionRef::parse("18446744073709551615.0.0").is_some());
    }

    fn version() -> impl Strategy<Value = String> {
        "(0|00|1|2|10|18446744073709551616)(\\.(0|01|1|2|11)){0,3}(-([0-9]{1,2}|[a-z]{1,2}|0[a-z]|-)(\\.([0-9]{1,2}|[a-z]{1,2}|-|)){0,2})?(\\+[0-9a-z.-]{0,4})?"
    }

    proptest! {
        /// Accepts exactly what proto's `parse_semver` accepts, and orders
        /// like the `semver` crate.
        #[test]
        fn agrees_with_the_semver_crate(a in version(), b in version()) {
            let (ours_a, ours_b) = (VersionRef::parse(&a), VersionRef::parse(&b));
            let (theirs_a, theirs_b) = (parse_semver(&a), parse_semver(&b));
            prop_assert_eq!(ours_a.is_some(), theirs_a.is_some(), "{}", a);
            prop_assert_eq!(ours_b.is_some(), theirs_b.is_some(), "{}", b);
            if let (Some(oa), Some(ob), Some(ta), Some(tb)) = (ours_a, ours_b, theirs_a, theirs_b) {
                prop_assert_eq!(oa.cmp_precedence(&ob), ta.cmp_precedence(&tb), "{} vs {}", a, b);
                let owned = Version::parse(&a).unwrap();
                prop_assert_eq!(owned.as_ref(), oa);
            }
        }
    }
}
