//! Compiled clauses: operands parsed once, matched without parsing
//! configuration or allocating.

use std::cmp::Ordering;
use std::sync::Arc;

use memchr::memmem::Finder;
use rustc_hash::FxHashSet;
use vexil_proto::operand::{parse_date, parse_rfc3339};
use vexil_proto::{AttributeValue, Clause, Operator, Scalar};

use crate::attribute::{AttrName, AttrRef, Lookups, ScalarRef};
use crate::pattern::Pattern;
use crate::shared::Shared;
use crate::version::{Version, VersionRef};

/// Lists longer than this are hashed; shorter ones are scanned, which is faster.
const SMALL_LIST: usize = 16;

/// Resolves a segment key to its compiled segment, for `in_segment`.
pub(crate) type SegmentLookup<'s> = dyn Fn(&str) -> Option<Arc<CompiledSegment>> + 's;

/// A clause ready to match.
#[derive(Debug)]
pub(crate) struct CompiledClause {
    attribute: AttrName,
    matcher: Matcher,
    negate: bool,
    /// The clause's slot in [`crate::memo::Memo`] when the snapshot repeats it.
    memo: Option<u8>,
}

#[derive(Debug)]
enum Matcher {
    In(InSet),
    Contains(Vec<Finder<'static>>),
    StartsWith(Vec<Box<str>>),
    EndsWith(Vec<Box<str>>),
    Matches(Vec<Arc<Pattern>>),
    Number(Ordering, bool, Vec<f64>),
    Semver(Ordering, Vec<Version>),
    Date(Ordering, Vec<f64>),
    InSegment(Vec<Arc<CompiledSegment>>),
    Exists,
}

/// A segment with its clauses compiled, shared by every clause naming it.
#[derive(Debug)]
pub(crate) struct CompiledSegment {
    pub(crate) included: FxHashSet<Box<str>>,
    pub(crate) excluded: FxHashSet<Box<str>>,
    pub(crate) rules: Vec<Vec<CompiledClause>>,
}

impl CompiledSegment {
    pub(crate) fn contains(&self, lookups: &mut Lookups<'_>) -> bool {
        let key = lookups.context().key.as_str();
        if self.included.contains(key) {
            return true;
        }
        if self.excluded.contains(key) {
            return false;
        }
        self.rules
            .iter()
            .any(|clauses| clauses.iter().all(|c| c.matches(lookups)))
    }
}

/// The values of an `in` clause, split by type.
#[derive(Debug, Default)]
struct InSet {
    strings: StrSet,
    numbers: NumSet,
    has_true: bool,
    has_false: bool,
}

#[derive(Debug)]
enum StrSet {
    Small(Vec<Box<str>>),
    Large(FxHashSet<Box<str>>),
}

impl Default for StrSet {
    fn default() -> Self {
        StrSet::Small(Vec::new())
    }
}

impl StrSet {
    fn contains(&self, s: &str) -> bool {
        match self {
            StrSet::Small(list) => list.iter().any(|v| **v == *s),
            StrSet::Large(set) => set.contains(s),
        }
    }
}

#[derive(Debug)]
enum NumSet {
    Small(Vec<f64>),
    /// Bit patterns, with -0 stored as 0 so that they compare like numbers.
    Large(FxHashSet<u64>),
}

impl Default for NumSet {
    fn default() -> Self {
        NumSet::Small(Vec::new())
    }
}

impl NumSet {
    fn contains(&self, n: f64) -> bool {
        match self {
            NumSet::Small(list) => list.contains(&n),
            NumSet::Large(set) => !n.is_nan() && set.contains(&(n + 0.0).to_bits()),
        }
    }
}

impl InSet {
    fn new(values: &[Scalar]) -> Self {
        let mut strings = Vec::new();
        let mut numbers = Vec::new();
        let mut set = InSet::default();
        for value in values {
            match value {
                Scalar::String(s) => strings.push(Box::<str>::from(s.as_str())),
                Scalar::Number(n) => numbers.push(*n),
                Scalar::Bool(true) => set.has_true = true,
                Scalar::Bool(false) => set.has_false = true,
            }
        }
        set.strings = if strings.len() > SMALL_LIST {
            StrSet::Large(strings.into_iter().collect())
        } else {
            StrSet::Small(strings)
        };
        set.numbers = if numbers.len() > SMALL_LIST {
            NumSet::Large(numbers.into_iter().map(|n| (n + 0.0).to_bits()).collect())
        } else {
            NumSet::Small(numbers)
        };
        set
    }

    fn contains(&self, value: ScalarRef<'_>) -> bool {
        match value {
            ScalarRef::Str(s) => self.strings.contains(s),
            ScalarRef::Num(n) => self.numbers.contains(n),
            ScalarRef::Bool(b) => {
                if b {
                    self.has_true
                } else {
                    self.has_false
                }
            }
        }
    }
}

/// A rule's clauses as written, kept for [`crate::CompiledSnapshot::explain`]:
/// evaluation runs the compiled clauses cheapest first and never reads these.
#[derive(Debug, Default)]
pub(crate) struct WrittenClauses {
    /// The clauses in written order, as the snapshot has them.
    pub(crate) clauses: Vec<Clause>,
    /// For each written clause, its position among the compiled clauses.
    pub(crate) compiled_at: Vec<usize>,
}

/// Compiles a rule's clauses, cheapest first: clauses are ANDed and matching
/// has no side effects, so the order changes only how soon a rule that does
/// not match gives up. Also returns the clauses as written, with where each
/// one went, for explain.
pub(crate) fn compile_clauses(
    clauses: &[Clause],
    segment: Option<&SegmentLookup<'_>>,
    shared: &mut Shared,
) -> Result<(Vec<CompiledClause>, WrittenClauses), String> {
    let mut compiled = clauses
        .iter()
        .enumerate()
        .map(|(written, clause)| {
            CompiledClause::compile(clause, segment, shared).map(|compiled| (written, compiled))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Stable: clauses of equal cost keep their written order.
    compiled.sort_by_key(|(_, clause)| clause.matcher.cost());
    let mut compiled_at = vec![0; clauses.len()];
    for (position, (written, _)) in compiled.iter().enumerate() {
        if let Some(at) = compiled_at.get_mut(*written) {
            *at = position;
        }
    }
    let written = WrittenClauses {
        clauses: clauses.to_vec(),
        compiled_at,
    };
    Ok((compiled.into_iter().map(|(_, c)| c).collect(), written))
}

impl CompiledClause {
    /// Compiles a clause; `segment` resolves `in_segment` values (and is
    /// `None` inside a segment, where `in_segment` is not allowed).
    fn compile(
        clause: &Clause,
        segment: Option<&SegmentLookup<'_>>,
        shared: &mut Shared,
    ) -> Result<Self, String> {
        let values = &clause.values;
        let matcher = match clause.op {
            Operator::In => Matcher::In(InSet::new(values)),
            Operator::Contains => Matcher::Contains(
                strings(clause)?
                    .iter()
                    .map(|needle| Finder::new(needle.as_bytes()).into_owned())
                    .collect(),
            ),
            Operator::StartsWith => Matcher::StartsWith(strings(clause)?),
            Operator::EndsWith => Matcher::EndsWith(strings(clause)?),
            Operator::Matches => Matcher::Matches(
                strings(clause)?
                    .iter()
                    .map(|pattern| shared.pattern(pattern))
                    .collect::<Result<_, _>>()?,
            ),
            Operator::Eq => Matcher::Number(Ordering::Equal, true, numbers(clause)?),
            Operator::Lt => Matcher::Number(Ordering::Less, false, numbers(clause)?),
            Operator::Lte => Matcher::Number(Ordering::Less, true, numbers(clause)?),
            Operator::Gt => Matcher::Number(Ordering::Greater, false, numbers(clause)?),
            Operator::Gte => Matcher::Number(Ordering::Greater, true, numbers(clause)?),
            Operator::SemverEq => Matcher::Semver(Ordering::Equal, semvers(clause)?),
            Operator::SemverLt => Matcher::Semver(Ordering::Less, semvers(clause)?),
            Operator::SemverGt => Matcher::Semver(Ordering::Greater, semvers(clause)?),
            Operator::Before => Matcher::Date(Ordering::Less, dates(clause)?),
            Operator::After => Matcher::Date(Ordering::Greater, dates(clause)?),
            Operator::InSegment => {
                let resolve = segment.ok_or("in_segment cannot be used inside a segment")?;
                let keys = strings(clause)?;
                let segments = keys
                    .iter()
                    .map(|key| {
                        resolve(key).ok_or_else(|| format!("segment \"{key}\" does not exist"))
                    })
                    .collect::<Result<_, _>>()?;
                Matcher::InSegment(segments)
            }
            Operator::Exists => Matcher::Exists,
        };
        Ok(CompiledClause {
            attribute: shared.attribute(&clause.attribute),
            matcher,
            negate: clause.negate,
            memo: shared.memo_slot(clause),
        })
    }

    /// Whether the clause holds for the context, computed once per
    /// evaluation when the clause has a memo slot.
    pub(crate) fn matches(&self, lookups: &mut Lookups<'_>) -> bool {
        let Some(slot) = self.memo else {
            return self.evaluate(lookups);
        };
        if let Some(result) = lookups.memo.get(slot) {
            return result;
        }
        let result = self.evaluate(lookups);
        lookups.memo.set(slot, result);
        result
    }

    /// The attribute the clause reads.
    pub(crate) fn attribute(&self) -> &AttrName {
        &self.attribute
    }

    /// The segments an `in_segment` clause names, in the order of its
    /// values; empty for every other operator.
    pub(crate) fn segments(&self) -> &[Arc<CompiledSegment>] {
        match &self.matcher {
            Matcher::InSegment(segments) => segments,
            _ => &[],
        }
    }

    /// Whether the clause holds, computed now: [`CompiledClause::matches`]
    /// without the memo for this clause (an `in_segment` clause's segment
    /// clauses still use it, which gives the same results).
    ///
    /// A missing attribute is false even under `negate`; `exists` and
    /// `in_segment` do not read the value; a list matches when any element does.
    pub(crate) fn evaluate(&self, lookups: &mut Lookups<'_>) -> bool {
        let matched = match &self.matcher {
            Matcher::Exists => lookups.get(&self.attribute).is_some(),
            Matcher::InSegment(segments) => segments.iter().any(|s| s.contains(lookups)),
            matcher => match lookups.get(&self.attribute) {
                None => return false,
                Some(AttrRef::Str(s)) => matcher.matches(ScalarRef::Str(s)),
                Some(AttrRef::Value(AttributeValue::Scalar(scalar))) => {
                    matcher.matches(scalar.into())
                }
                Some(AttrRef::Value(AttributeValue::List(list))) => {
                    list.iter().any(|element| matcher.matches(element.into()))
                }
            },
        };
        matched != self.negate
    }
}

impl Matcher {
    /// Relative cost of matching, for ordering a rule's clauses.
    fn cost(&self) -> u8 {
        match self {
            Matcher::Exists => 0,
            Matcher::In(_) | Matcher::Number(..) => 1,
            Matcher::Contains(_) | Matcher::StartsWith(_) | Matcher::EndsWith(_) => 2,
            Matcher::Date(..) => 3,
            Matcher::Semver(..) => 4,
            Matcher::Matches(_) => 5,
            Matcher::InSegment(_) => 6,
        }
    }

    #[inline]
    fn matches(&self, element: ScalarRef<'_>) -> bool {
        match (self, element) {
            (Matcher::In(set), element) => set.contains(element),
            (Matcher::Contains(v), ScalarRef::Str(s)) => {
                v.iter().any(|p| p.find(s.as_bytes()).is_some())
            }
            (Matcher::StartsWith(v), ScalarRef::Str(s)) => v.iter().any(|p| s.starts_with(&**p)),
            (Matcher::EndsWith(v), ScalarRef::Str(s)) => v.iter().any(|p| s.ends_with(&**p)),
            (Matcher::Matches(v), ScalarRef::Str(s)) => v.iter().any(|p| p.is_match(s)),
            (Matcher::Number(order, or_equal, v), ScalarRef::Num(n)) => v
                .iter()
                .any(|value| compare(n.partial_cmp(value), *order, *or_equal)),
            (Matcher::Semver(order, v), ScalarRef::Str(s)) => {
                VersionRef::parse(s).is_some_and(|version| {
                    v.iter()
                        .any(|value| version.cmp_precedence(&value.as_ref()) == *order)
                })
            }
            (Matcher::Date(order, v), element) => {
                let date = match element {
                    ScalarRef::Str(s) => parse_rfc3339(s),
                    ScalarRef::Num(ms) if ms.is_finite() => Some(ms),
                    _ => None,
                };
                date.is_some_and(|d| v.iter().any(|value| d.partial_cmp(value) == Some(*order)))
            }
            _ => false,
        }
    }
}

fn compare(actual: Option<Ordering>, order: Ordering, or_equal: bool) -> bool {
    match actual {
        Some(Ordering::Equal) => or_equal,
        Some(o) => o == order,
        None => false,
    }
}

fn strings(clause: &Clause) -> Result<Vec<Box<str>>, String> {
    typed(clause, "string", |v| v.as_str().map(Box::from))
}

fn numbers(clause: &Clause) -> Result<Vec<f64>, String> {
    typed(clause, "finite number", |v| {
        v.as_f64().filter(|n| n.is_finite())
    })
}

fn semvers(clause: &Clause) -> Result<Vec<Version>, String> {
    typed(clause, "semantic version", |v| {
        v.as_str().and_then(Version::parse)
    })
}

fn dates(clause: &Clause) -> Result<Vec<f64>, String> {
    typed(clause, "RFC 3339 date or epoch milliseconds", parse_date)
}

fn typed<T>(
    clause: &Clause,
    expected: &str,
    parse: impl Fn(&Scalar) -> Option<T>,
) -> Result<Vec<T>, String> {
    clause
        .values
        .iter()
        .map(|v| {
            parse(v).ok_or_else(|| {
                let got = serde_json::to_string(v).unwrap_or_default();
                format!("`{}` needs {expected} values, got {got}", clause.op)
            })
        })
        .collect()
}
