//! Building a [`CompiledSnapshot`]: everything evaluation needs, resolved
//! and parsed once.

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::Value;
use vexil_proto::limits::{MAX_PREREQUISITE_DEPTH, TOTAL_WEIGHT};
use vexil_proto::{FlagKind, Segment, Serve, Snapshot, SnapshotFlag};

use crate::attribute::AttrName;
use crate::matcher::{
    CompiledClause, CompiledSegment, SegmentLookup, WrittenClauses, compile_clauses,
};
use crate::shared::Shared;

/// A snapshot compiled for evaluation. Cheap to share behind an `Arc`;
/// evaluation takes `&self` and never locks.
#[derive(Debug, Default)]
pub struct CompiledSnapshot {
    pub(crate) environment: Box<str>,
    pub(crate) version: u64,
    /// In snapshot order, so evaluate-all is stable.
    pub(crate) flags: Vec<CompiledFlag>,
    pub(crate) index: FxHashMap<Box<str>, usize>,
    pub(crate) errors: Vec<CompileError>,
    /// What only explain reads, kept apart so that evaluation's data stays
    /// exactly as compact as without it.
    pub(crate) written: Written,
}

/// The rules' clauses as written (evaluation runs them reordered, cheapest
/// first), for [`CompiledSnapshot::explain`].
#[derive(Debug, Default)]
pub(crate) struct Written {
    /// Parallel to [`CompiledSnapshot::flags`]: per rule, its clauses as
    /// written (empty for a flag that failed to compile).
    pub(crate) flags: Vec<Vec<WrittenClauses>>,
    /// Per compiled segment key: per rule, its id and clauses as written.
    pub(crate) segments: FxHashMap<Box<str>, Vec<(Box<str>, WrittenClauses)>>,
}

/// Why one flag or segment could not be compiled. The flag evaluates to
/// `ERROR`/`PARSE_ERROR`; hosts log these as warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// The flag (or, for segments, `segment:<key>`) that failed.
    pub key: String,
    /// What is wrong with it.
    pub problem: String,
}

#[derive(Debug)]
pub(crate) struct CompiledFlag {
    pub(crate) key: Box<str>,
    pub(crate) kind: FlagKind,
    pub(crate) variants: Vec<CompiledVariant>,
    /// `None` when the flag failed to compile: it fails closed.
    pub(crate) body: Option<FlagBody>,
}

#[derive(Debug)]
pub(crate) struct CompiledVariant {
    pub(crate) key: Box<str>,
    pub(crate) value: Value,
}

#[derive(Debug)]
pub(crate) struct FlagBody {
    pub(crate) enabled: bool,
    pub(crate) off: usize,
    pub(crate) prerequisites: Vec<CompiledPrerequisite>,
    /// Context key → variant; the first target naming a key wins.
    pub(crate) targets: FxHashMap<Box<str>, usize>,
    pub(crate) rules: Vec<CompiledRule>,
    pub(crate) default_serve: CompiledServe,
}

#[derive(Debug)]
pub(crate) struct CompiledPrerequisite {
    pub(crate) flag: Box<str>,
    pub(crate) variant: Box<str>,
    /// Index of the prerequisite flag and of the variant it must serve;
    /// `None` when either does not exist, so it can never hold.
    pub(crate) required: Option<(usize, usize)>,
}

#[derive(Debug)]
pub(crate) struct CompiledRule {
    pub(crate) id: Box<str>,
    pub(crate) clauses: Vec<CompiledClause>,
    pub(crate) serve: CompiledServe,
}

#[derive(Debug)]
pub(crate) enum CompiledServe {
    Variant(usize),
    Rollout(CompiledRollout),
}

#[derive(Debug)]
pub(crate) struct CompiledRollout {
    pub(crate) bucket_by: AttrName,
    pub(crate) salt: Box<str>,
    /// Cumulative upper bounds (exclusive) with their variant, in order.
    pub(crate) cumulative: Vec<(u32, usize)>,
    pub(crate) fallback: usize,
}

impl CompiledSnapshot {
    /// Compiles every segment and flag. Never fails as a whole: a flag that
    /// cannot be compiled is recorded in [`CompiledSnapshot::errors`] and
    /// evaluates to `ERROR`/`PARSE_ERROR`.
    pub fn compile(snapshot: &Snapshot) -> Self {
        Self::compile_with(snapshot, Shared::new(snapshot))
    }

    /// [`CompiledSnapshot::compile`] without the per-evaluation clause
    /// memo: every clause is computed each time it is reached. Evaluation
    /// results are the same; tests prove that with it.
    #[doc(hidden)]
    pub fn compile_without_memo(snapshot: &Snapshot) -> Self {
        Self::compile_with(snapshot, Shared::new(snapshot).without_memo())
    }

    fn compile_with(snapshot: &Snapshot, mut shared: Shared<'_>) -> Self {
        let mut errors = Vec::new();
        let mut written = Written::default();
        let segments = compile_segments(
            &snapshot.segments,
            &mut shared,
            &mut errors,
            &mut written.segments,
        );
        let lookup_segment = |key: &str| segments.get(key).cloned();

        let mut index = FxHashMap::default();
        let mut flags = Vec::with_capacity(snapshot.flags.len());
        for flag in &snapshot.flags {
            if index.contains_key(flag.key.as_str()) {
                errors.push(CompileError {
                    key: flag.key.clone(),
                    problem: "duplicate flag key; the first one is used".into(),
                });
                continue;
            }
            index.insert(Box::<str>::from(flag.key.as_str()), flags.len());
            let compiled = compile_flag(flag, &lookup_segment, &mut shared);
            let (body, rules_written) = match compiled {
                Ok((body, rules_written)) => (Some(body), rules_written),
                Err(problem) => {
                    errors.push(CompileError {
                        key: flag.key.clone(),
                        problem,
                    });
                    (None, Vec::new())
                }
            };
            written.flags.push(rules_written);
            flags.push(CompiledFlag {
                key: flag.key.as_str().into(),
                kind: flag.kind,
                variants: flag
                    .variants
                    .iter()
                    .map(|v| CompiledVariant {
                        key: v.key.as_str().into(),
                        value: v.value.clone(),
                    })
                    .collect(),
                body,
            });
        }
        let mut compiled = CompiledSnapshot {
            environment: snapshot.environment.as_str().into(),
            version: snapshot.version,
            flags,
            index,
            errors,
            written,
        };
        compiled.resolve_prerequisites();
        compiled
    }

    /// The environment this snapshot belongs to.
    pub fn environment(&self) -> &str {
        &self.environment
    }

    /// The environment version the snapshot was taken at.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Number of flags.
    pub fn len(&self) -> usize {
        self.flags.len()
    }

    /// Whether the snapshot has no flags.
    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// The flag keys, in snapshot order.
    pub fn flag_keys(&self) -> impl Iterator<Item = &str> {
        self.flags.iter().map(|f| &*f.key)
    }

    /// The kind of a flag, for typed SDK calls.
    pub fn flag_kind(&self, key: &str) -> Option<FlagKind> {
        self.flag_index(key)
            .and_then(|i| self.flags.get(i))
            .map(|f| f.kind)
    }

    /// Whether `flag` exists and has a variant keyed `variant` (the server
    /// checks evaluation counts SDKs report against this).
    pub fn knows_variant(&self, flag: &str, variant: &str) -> bool {
        self.flag_index(flag)
            .and_then(|i| self.flags.get(i))
            .is_some_and(|f| f.variants.iter().any(|v| &*v.key == variant))
    }

    /// Flags and segments that failed to compile, and why.
    pub fn errors(&self) -> &[CompileError] {
        &self.errors
    }

    pub(crate) fn flag_index(&self, key: &str) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// Resolves prerequisites to indexes, then fails every flag whose
    /// prerequisite chain is cyclic or deeper than the limit.
    fn resolve_prerequisites(&mut self) {
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); self.flags.len()];
        for (i, out) in edges.iter_mut().enumerate() {
            // Taken out while its prerequisites are resolved against the others.
            let Some(mut body) = self.flags.get_mut(i).and_then(|f| f.body.take()) else {
                continue;
            };
            for prerequisite in &mut body.prerequisites {
                let Some(target) = self.flag_index(&prerequisite.flag) else {
                    continue;
                };
                out.push(target);
                prerequisite.required = self
                    .flags
                    .get(target)
                    .and_then(|f| {
                        f.variants
                            .iter()
                            .position(|v| v.key == prerequisite.variant)
                    })
                    .map(|variant| (target, variant));
            }
            if let Some(flag) = self.flags.get_mut(i) {
                flag.body = Some(body);
            }
        }
        for (i, depth) in chain_depths(&edges).into_iter().enumerate() {
            if depth <= MAX_PREREQUISITE_DEPTH {
                continue;
            }
            let Some(flag) = self.flags.get_mut(i) else {
                continue;
            };
            if flag.body.take().is_some() {
                let problem = if depth == usize::MAX {
                    "its prerequisites form a cycle".to_string()
                } else {
                    format!(
                        "its prerequisite chain is {depth} deep; the limit is {MAX_PREREQUISITE_DEPTH}"
                    )
                };
                self.errors.push(CompileError {
                    key: flag.key.to_string(),
                    problem,
                });
            }
        }
    }
}

/// Length of the longest prerequisite chain below each flag: 0 without
/// prerequisites, `usize::MAX` on a cycle. Iterative, so a long chain cannot
/// overflow the stack.
fn chain_depths(edges: &[Vec<usize>]) -> Vec<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Visiting,
        Done(usize),
    }
    let mut state = vec![State::New; edges.len()];
    for root in 0..edges.len() {
        if state.get(root) != Some(&State::New) {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        if let Some(s) = state.get_mut(root) {
            *s = State::Visiting;
        }
        while let Some((node, next)) = stack.last_mut() {
            let children = edges.get(*node).map(Vec::as_slice).unwrap_or_default();
            if let Some(&child) = children.get(*next) {
                *next += 1;
                if state.get(child) == Some(&State::New) {
                    if let Some(s) = state.get_mut(child) {
                        *s = State::Visiting;
                    }
                    stack.push((child, 0));
                }
                continue;
            }
            let depth = children
                .iter()
                .map(|&c| match state.get(c) {
                    Some(State::Done(d)) => d.saturating_add(1),
                    _ => usize::MAX, // still visiting: a cycle
                })
                .max()
                .unwrap_or(0);
            let node = *node;
            if let Some(s) = state.get_mut(node) {
                *s = State::Done(depth);
            }
            stack.pop();
        }
    }
    state
        .into_iter()
        .map(|s| match s {
            State::Done(d) => d,
            _ => usize::MAX,
        })
        .collect()
}

fn compile_segments(
    segments: &[Segment],
    shared: &mut Shared,
    errors: &mut Vec<CompileError>,
    written: &mut FxHashMap<Box<str>, Vec<(Box<str>, WrittenClauses)>>,
) -> FxHashMap<String, Arc<CompiledSegment>> {
    let mut compiled = FxHashMap::default();
    for segment in segments {
        let rules: Result<Vec<(Vec<CompiledClause>, WrittenClauses)>, String> = segment
            .rules
            .iter()
            .map(|rule| compile_clauses(&rule.clauses, None, shared))
            .collect();
        match rules {
            Ok(rules) if !compiled.contains_key(&segment.key) => {
                let (rules, rules_written): (Vec<_>, Vec<_>) = rules.into_iter().unzip();
                written.insert(
                    segment.key.as_str().into(),
                    segment
                        .rules
                        .iter()
                        .map(|rule| Box::<str>::from(rule.id.as_str()))
                        .zip(rules_written)
                        .collect(),
                );
                let set = |keys: &[String]| {
                    keys.iter()
                        .map(|k| Box::<str>::from(k.as_str()))
                        .collect::<FxHashSet<_>>()
                };
                compiled.insert(
                    segment.key.clone(),
                    Arc::new(CompiledSegment {
                        included: set(&segment.included),
                        excluded: set(&segment.excluded),
                        rules,
                    }),
                );
            }
            Ok(_) => errors.push(CompileError {
                key: format!("segment:{}", segment.key),
                problem: "duplicate segment key; the first one is used".into(),
            }),
            // A broken segment is left out, so every flag naming it fails closed.
            Err(problem) => errors.push(CompileError {
                key: format!("segment:{}", segment.key),
                problem,
            }),
        }
    }
    compiled
}

/// The flag's body, and its rules' clauses as written.
fn compile_flag(
    flag: &SnapshotFlag,
    segment: &SegmentLookup<'_>,
    shared: &mut Shared,
) -> Result<(FlagBody, Vec<WrittenClauses>), String> {
    let variant = |key: &str| {
        flag.variants
            .iter()
            .position(|v| v.key == key)
            .ok_or_else(|| format!("variant \"{key}\" does not exist"))
    };
    let config = &flag.config;
    let off = variant(&config.off_variant)?;
    let mut targets = FxHashMap::default();
    for target in &config.targets {
        let v = variant(&target.variant)?;
        for key in &target.values {
            targets.entry(Box::<str>::from(key.as_str())).or_insert(v);
        }
    }
    let compile_serve = |serve: &Serve, shared: &Shared| -> Result<CompiledServe, String> {
        match serve {
            Serve::Variant(key) => Ok(CompiledServe::Variant(variant(key)?)),
            Serve::Rollout(rollout) => {
                if rollout.algorithm != 1 {
                    return Err(format!(
                        "rollout algorithm {} is unknown; only 1 exists",
                        rollout.algorithm
                    ));
                }
                let mut total: u32 = 0;
                let mut cumulative = Vec::with_capacity(rollout.weights.len());
                for w in &rollout.weights {
                    total = total.saturating_add(w.weight);
                    cumulative.push((total, variant(&w.variant)?));
                }
                if total != TOTAL_WEIGHT {
                    return Err(format!(
                        "rollout weights sum to {total}; they must sum to {TOTAL_WEIGHT}"
                    ));
                }
                Ok(CompiledServe::Rollout(CompiledRollout {
                    bucket_by: shared.attribute(rollout.bucket_by.as_deref().unwrap_or("key")),
                    salt: rollout.salt.as_deref().unwrap_or(&flag.key).into(),
                    cumulative,
                    fallback: match &rollout.fallback {
                        Some(key) => variant(key)?,
                        None => off,
                    },
                }))
            }
        }
    };
    let mut rules = Vec::with_capacity(config.rules.len());
    let mut rules_written = Vec::with_capacity(config.rules.len());
    for rule in &config.rules {
        let (clauses, written) = compile_clauses(&rule.clauses, Some(segment), shared)?;
        rules.push(CompiledRule {
            id: rule.id.as_str().into(),
            clauses,
            serve: compile_serve(&rule.serve, shared)?,
        });
        rules_written.push(written);
    }
    let body = FlagBody {
        enabled: config.enabled,
        off,
        prerequisites: config
            .prerequisites
            .iter()
            .map(|p| CompiledPrerequisite {
                flag: p.flag.as_str().into(),
                variant: p.variant.as_str().into(),
                required: None,
            })
            .collect(),
        targets,
        rules,
        default_serve: compile_serve(&config.default_serve, shared)?,
    };
    Ok((body, rules_written))
}
