//! Finding a clause's attribute in a context (once per evaluation for the
//! most used names), and rendering a value for bucketing, both without
//! allocating.

use std::fmt::{self, Write};

use vexil_proto::{AttributeValue, Context, Scalar};

use crate::memo::Memo;

/// How many attribute names get a slot in the per-evaluation cache.
pub(crate) const SLOTS: usize = 16;

/// A compiled attribute name: the context's own `key` and `kind` are fields,
/// everything else is looked up in `attributes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttrName {
    Key,
    Kind,
    Named {
        name: Box<str>,
        /// Slot in [`Lookups`]' cache, for the snapshot's most used names.
        slot: Option<u8>,
    },
}

/// What one evaluation has learnt about its context so far: the attributes
/// it looked up, and the results of repeated clauses ([`Memo`]). Rules of a
/// flag (and every flag in an evaluate-all) name the same few attributes
/// again and again; each is hashed and found once. Lives on the stack.
#[derive(Debug)]
pub(crate) struct Lookups<'c> {
    ctx: &'c Context,
    cache: [Cached<'c>; SLOTS],
    pub(crate) memo: Memo,
}

#[derive(Debug, Clone, Copy)]
enum Cached<'c> {
    Unknown,
    Missing,
    Found(&'c AttributeValue),
}

impl<'c> Lookups<'c> {
    pub(crate) fn new(ctx: &'c Context) -> Self {
        Lookups {
            ctx,
            cache: [Cached::Unknown; SLOTS],
            memo: Memo::default(),
        }
    }

    /// The context being evaluated.
    pub(crate) fn context(&self) -> &'c Context {
        self.ctx
    }

    /// The attribute `name`, if the context has it.
    #[inline]
    pub(crate) fn get(&mut self, name: &AttrName) -> Option<AttrRef<'c>> {
        let ctx = self.ctx;
        let (name, slot) = match name {
            AttrName::Key => return Some(AttrRef::Str(&ctx.key)),
            AttrName::Kind => return ctx.kind.as_deref().map(AttrRef::Str),
            AttrName::Named { name, slot } => (name, slot),
        };
        let Some(cached) = slot.and_then(|s| self.cache.get_mut(usize::from(s))) else {
            return ctx.attributes.get(&**name).map(AttrRef::Value);
        };
        let found = match *cached {
            Cached::Found(value) => Some(value),
            Cached::Missing => None,
            Cached::Unknown => {
                let found = ctx.attributes.get(&**name);
                *cached = found.map_or(Cached::Missing, Cached::Found);
                found
            }
        };
        found.map(AttrRef::Value)
    }
}

/// An attribute found in a context.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AttrRef<'c> {
    /// The context key or kind.
    Str(&'c str),
    Value(&'c AttributeValue),
}

/// One element of an attribute, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ScalarRef<'c> {
    Str(&'c str),
    Num(f64),
    Bool(bool),
}

impl<'c> From<&'c Scalar> for ScalarRef<'c> {
    fn from(scalar: &'c Scalar) -> Self {
        match scalar {
            Scalar::String(s) => ScalarRef::Str(s),
            Scalar::Number(n) => ScalarRef::Num(*n),
            Scalar::Bool(b) => ScalarRef::Bool(*b),
        }
    }
}

impl<'c> AttrRef<'c> {
    /// Calls `f` with the attribute rendered for bucketing: strings as they
    /// are, booleans as `true`/`false`, numbers in shortest decimal form with
    /// no decimal point when integral (`-0` as `0`). `None` for lists and
    /// non-finite numbers, which are in no bucket.
    pub(crate) fn with_bucket_value<R>(self, f: impl FnOnce(&str) -> R) -> Option<R> {
        let scalar = match self {
            AttrRef::Str(s) => return Some(f(s)),
            AttrRef::Value(AttributeValue::List(_)) => return None,
            AttrRef::Value(AttributeValue::Scalar(scalar)) => scalar,
        };
        match scalar {
            Scalar::String(s) => Some(f(s)),
            Scalar::Bool(true) => Some(f("true")),
            Scalar::Bool(false) => Some(f("false")),
            Scalar::Number(n) if n.is_finite() => {
                let mut text = StackStr::new();
                // `+ 0.0` turns -0 into 0; f64's Display never uses an exponent
                // and prints integral values without a decimal point.
                write!(text, "{}", n + 0.0).ok()?;
                Some(f(text.as_str()))
            }
            Scalar::Number(_) => None,
        }
    }
}

/// A string on the stack, long enough for any `f64` rendered by `Display`
/// (at most 327 bytes, for subnormals).
struct StackStr {
    buf: [u8; 400],
    len: usize,
}

impl StackStr {
    fn new() -> Self {
        StackStr {
            buf: [0; 400],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        let bytes = self.buf.get(..self.len).unwrap_or_default();
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

impl Write for StackStr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(value: AttributeValue) -> Option<String> {
        AttrRef::Value(&value).with_bucket_value(str::to_owned)
    }

    #[test]
    fn renders_numbers_like_the_spec() {
        assert_eq!(rendered(42.0.into()).as_deref(), Some("42"));
        assert_eq!(rendered((-0.0).into()).as_deref(), Some("0"));
        assert_eq!(rendered(1.5.into()).as_deref(), Some("1.5"));
        assert_eq!(
            rendered(1e21.into()).as_deref(),
            Some("1000000000000000000000")
        );
        assert_eq!(
            rendered(f64::MIN_POSITIVE.into()).map(|s| s.len()),
            Some(326)
        );
        assert_eq!(rendered(5e-324.into()).map(|s| s.len()), Some(326));
        assert_eq!(rendered((-f64::MAX).into()).map(|s| s.len()), Some(310));
        assert_eq!(rendered(f64::NAN.into()), None);
        assert_eq!(rendered(f64::INFINITY.into()), None);
        assert_eq!(rendered(true.into()).as_deref(), Some("true"));
        assert_eq!(
            rendered(AttributeValue::List(vec![Scalar::from("x")])),
            None
        );
    }

    fn named(name: &str, slot: Option<u8>) -> AttrName {
        AttrName::Named {
            name: name.into(),
            slot,
        }
    }

    #[test]
    fn key_and_kind_are_fields() {
        let ctx = Context::new("u1").with("key", "shadowed");
        let mut lookups = Lookups::new(&ctx);
        assert!(matches!(
            lookups.get(&AttrName::Key),
            Some(AttrRef::Str("u1"))
        ));
        assert!(lookups.get(&AttrName::Kind).is_none());
        let ctx = ctx.with_kind("org");
        assert!(matches!(
            Lookups::new(&ctx).get(&AttrName::Kind),
            Some(AttrRef::Str("org"))
        ));
    }

    #[test]
    fn cached_and_uncached_lookups_agree() {
        let ctx = Context::new("u1").with("region", "eu").with("age", 42);
        let mut lookups = Lookups::new(&ctx);
        for _ in 0..2 {
            for slot in [None, Some(0), Some(15), Some(200)] {
                let found = lookups.get(&named("region", slot));
                assert!(matches!(found, Some(AttrRef::Value(v)) if *v == "eu".into()));
                assert!(
                    lookups
                        .get(&named("missing", slot.map(|s| s.saturating_add(1))))
                        .is_none()
                );
            }
        }
    }
}
