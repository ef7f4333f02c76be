//! The evaluation context: who is asking.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::clause::{Scalar, ScalarVisitor};

/// A context's attributes. Hashed with foldhash (randomly seeded per
/// process) rather than SipHash: rules look attributes up on every
/// evaluation, and SipHash made those lookups half of a rule's cost.
pub type Attributes = HashMap<String, AttributeValue, foldhash::fast::RandomState>;

/// What the application passes in: the targeting key, an optional kind, and
/// free-form attributes. Regions are ordinary attributes (`region`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// OpenFeature's targeting key: what individual targets match and what
    /// rollouts bucket by unless told otherwise. Clauses reach it as `key`.
    pub key: String,
    /// The kind of thing the key identifies (`user`, `org`, `device`);
    /// clauses reach it as `kind`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Everything else rules can match on.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub attributes: Attributes,
}

impl Context {
    /// A context with only a targeting key.
    pub fn new(key: impl Into<String>) -> Self {
        Context {
            key: key.into(),
            kind: None,
            attributes: Attributes::default(),
        }
    }

    /// Sets the context kind.
    pub fn with_kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }

    /// Adds (or replaces) an attribute.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<AttributeValue>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }
}

/// A context attribute: one scalar, or a list of them (a clause on a list
/// matches when any element matches).
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    Scalar(Scalar),
    List(Vec<Scalar>),
}

impl AttributeValue {
    /// The value's elements: one for a scalar, all of them for a list.
    pub fn as_slice(&self) -> &[Scalar] {
        match self {
            AttributeValue::Scalar(s) => std::slice::from_ref(s),
            AttributeValue::List(list) => list,
        }
    }
}

impl<T: Into<Scalar>> From<T> for AttributeValue {
    fn from(value: T) -> Self {
        AttributeValue::Scalar(value.into())
    }
}

impl<T: Into<Scalar>> FromIterator<T> for AttributeValue {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        AttributeValue::List(iter.into_iter().map(Into::into).collect())
    }
}

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AttributeValue::Scalar(s) => s.serialize(serializer),
            AttributeValue::List(list) => list.serialize(serializer),
        }
    }
}

struct AttributeVisitor;

impl<'de> Visitor<'de> for AttributeVisitor {
    type Value = AttributeValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, a number, a boolean or a list of those")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<AttributeValue, E> {
        ScalarVisitor.visit_bool(v).map(AttributeValue::Scalar)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<AttributeValue, E> {
        ScalarVisitor.visit_i64(v).map(AttributeValue::Scalar)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<AttributeValue, E> {
        ScalarVisitor.visit_u64(v).map(AttributeValue::Scalar)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<AttributeValue, E> {
        ScalarVisitor.visit_f64(v).map(AttributeValue::Scalar)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<AttributeValue, E> {
        ScalarVisitor.visit_str(v).map(AttributeValue::Scalar)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<AttributeValue, E> {
        ScalarVisitor.visit_string(v).map(AttributeValue::Scalar)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AttributeValue, A::Error> {
        let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element::<Scalar>()? {
            list.push(item);
        }
        Ok(AttributeValue::List(list))
    }
}

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AttributeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scalars_and_lists() {
        let ctx: Context = serde_json::from_str(
            r#"{"key":"user-1","kind":"user","attributes":{"region":"eu-west-1","age":42,"beta":true,"groups":["a",1]}}"#,
        )
        .unwrap();
        assert_eq!(ctx.key, "user-1");
        assert_eq!(ctx.attributes["age"], AttributeValue::from(42i64));
        assert_eq!(
            ctx.attributes["groups"].as_slice(),
            &[Scalar::from("a"), Scalar::Number(1.0)]
        );
    }

    #[test]
    fn rejects_objects_null_and_nested_lists() {
        for bad in [r#"{"x":{}}"#, r#"{"x":null}"#, r#"{"x":[[1]]}"#] {
            let json = format!(r#"{{"key":"k","attributes":{bad}}}"#);
            assert!(serde_json::from_str::<Context>(&json).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<Context>(r#"{"key":"k","attrs":{}}"#).is_err());
        assert!(serde_json::from_str::<Context>(r#"{"attributes":{}}"#).is_err());
    }

    #[test]
    fn builder_and_round_trip() {
        let ctx = Context::new("u")
            .with_kind("user")
            .with("n", 1.5)
            .with("tags", ["x", "y"].into_iter().collect::<AttributeValue>());
        let back: Context = serde_json::from_str(&serde_json::to_string(&ctx).unwrap()).unwrap();
        assert_eq!(back, ctx);
    }
}
