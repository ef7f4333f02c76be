//! Clauses: one condition on one context attribute.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// One condition: `attribute op values`, optionally negated. A clause on an
/// attribute the context does not have is false, and stays false under
/// `negate` (as in LaunchDarkly).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clause {
    /// Context attribute name; `key` and `kind` name the context's own key and kind.
    pub attribute: String,
    /// How the attribute is compared with `values`.
    pub op: Operator,
    /// Any one value matching makes the clause match (before `negate`).
    /// `exists` takes none; `in_segment` takes segment keys.
    #[serde(default)]
    pub values: Vec<Scalar>,
    /// Inverts a match on a present attribute; a missing attribute stays false.
    #[serde(default)]
    pub negate: bool,
}

/// Clause operators. String operators compare strings only, number operators
/// numbers only: a value of another type never matches (no coercion).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// Equal to one of the values (same type: string, number or bool).
    In,
    Contains,
    StartsWith,
    EndsWith,
    /// Regular expression (RE2-like syntax, linear time), unanchored.
    Matches,
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
    SemverEq,
    SemverLt,
    SemverGt,
    /// Date before the value; dates are RFC 3339 strings or epoch milliseconds.
    Before,
    After,
    /// In one of the segments named by the values (attribute is ignored).
    InSegment,
    /// The attribute is present (values are ignored).
    Exists,
}

impl Operator {
    /// Every operator, for tests and the UI's pickers.
    pub const ALL: [Operator; 17] = [
        Operator::In,
        Operator::Contains,
        Operator::StartsWith,
        Operator::EndsWith,
        Operator::Matches,
        Operator::Eq,
        Operator::Lt,
        Operator::Lte,
        Operator::Gt,
        Operator::Gte,
        Operator::SemverEq,
        Operator::SemverLt,
        Operator::SemverGt,
        Operator::Before,
        Operator::After,
        Operator::InSegment,
        Operator::Exists,
    ];

    /// The name used in JSON and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::In => "in",
            Operator::Contains => "contains",
            Operator::StartsWith => "starts_with",
            Operator::EndsWith => "ends_with",
            Operator::Matches => "matches",
            Operator::Eq => "eq",
            Operator::Lt => "lt",
            Operator::Lte => "lte",
            Operator::Gt => "gt",
            Operator::Gte => "gte",
            Operator::SemverEq => "semver_eq",
            Operator::SemverLt => "semver_lt",
            Operator::SemverGt => "semver_gt",
            Operator::Before => "before",
            Operator::After => "after",
            Operator::InSegment => "in_segment",
            Operator::Exists => "exists",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A single string, number or boolean: a clause value, or one element of a
/// context attribute. Numbers are `f64` (integers beyond 2^53 lose precision,
/// as in JavaScript).
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    String(String),
    Number(f64),
    Bool(bool),
}

impl Scalar {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The JSON type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Scalar::String(_) => "string",
            Scalar::Number(_) => "number",
            Scalar::Bool(_) => "boolean",
        }
    }
}

impl From<&str> for Scalar {
    fn from(s: &str) -> Self {
        Scalar::String(s.to_owned())
    }
}
impl From<String> for Scalar {
    fn from(s: String) -> Self {
        Scalar::String(s)
    }
}
impl From<f64> for Scalar {
    fn from(n: f64) -> Self {
        Scalar::Number(n)
    }
}
impl From<i64> for Scalar {
    fn from(n: i64) -> Self {
        Scalar::Number(n as f64)
    }
}
impl From<bool> for Scalar {
    fn from(b: bool) -> Self {
        Scalar::Bool(b)
    }
}

impl Serialize for Scalar {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Scalar::String(s) => serializer.serialize_str(s),
            Scalar::Number(n) => serialize_number(*n, serializer),
            Scalar::Bool(b) => serializer.serialize_bool(*b),
        }
    }
}

/// Integral numbers serialize without a decimal point (`42`, not `42.0`) so
/// they round-trip through other languages' JSON unchanged.
pub(crate) fn serialize_number<S: Serializer>(n: f64, serializer: S) -> Result<S::Ok, S::Error> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if n.fract() == 0.0 && n.abs() <= EXACT {
        serializer.serialize_i64(n as i64)
    } else {
        serializer.serialize_f64(n)
    }
}

/// Shared by [`Scalar`] and [`crate::AttributeValue`]: accepts JSON scalars.
pub(crate) struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, a number or a boolean")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::String(v))
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clause_json_round_trips() {
        let json =
            r#"{"attribute":"region","op":"in","values":["eu-west-1",42,true,1.5],"negate":true}"#;
        let clause: Clause = serde_json::from_str(json).unwrap();
        assert_eq!(clause.op, Operator::In);
        assert_eq!(
            clause.values,
            vec![
                Scalar::from("eu-west-1"),
                Scalar::Number(42.0),
                Scalar::Bool(true),
                Scalar::Number(1.5)
            ]
        );
        assert_eq!(serde_json::to_string(&clause).unwrap(), json);
    }

    #[test]
    fn rejects_unknown_fields_operators_and_nested_values() {
        let unknown = r#"{"attribute":"a","op":"in","values":[],"negated":true}"#;
        assert!(
            serde_json::from_str::<Clause>(unknown)
                .unwrap_err()
                .to_string()
                .contains("unknown field `negated`")
        );
        let bad_op = r#"{"attribute":"a","op":"like","values":[]}"#;
        assert!(
            serde_json::from_str::<Clause>(bad_op)
                .unwrap_err()
                .to_string()
                .contains("unknown variant `like`")
        );
        let nested = r#"{"attribute":"a","op":"in","values":[[1]]}"#;
        assert!(
            serde_json::from_str::<Clause>(nested)
                .unwrap_err()
                .to_string()
                .contains("a string, a number or a boolean")
        );
    }

    #[test]
    fn every_operator_has_its_json_name() {
        for op in Operator::ALL {
            let json = serde_json::to_string(&op).unwrap();
            assert_eq!(json, format!("\"{}\"", op.as_str()));
            assert_eq!(serde_json::from_str::<Operator>(&json).unwrap(), op);
        }
    }
}
