//! What a flag config refers to outside itself (segments, other flags), and
//! the search of the prerequisite graph for cycles and chains too deep.

use std::collections::{HashMap, HashSet};

use super::path::{Path, Problems, quote};
use crate::flag::Prerequisite;
use crate::limits::MAX_PREREQUISITE_DEPTH;
use crate::snapshot::{Snapshot, SnapshotFlag};

/// The rest of the project and environment, as seen by
/// [`validate_flag_config`](super::validate_flag_config): the server
/// implements it over its database, and [`Snapshot`] implements it over its
/// own flags and segments.
///
/// Validation calls these once per reference it checks (`segment_exists` for
/// every `in_segment` value, the prerequisite methods once per flag it walks
/// through), so an implementation over a database should load the keys it
/// needs up front rather than query per call.
pub trait References {
    /// Whether a segment with this key exists (for `in_segment` clauses).
    fn segment_exists(&self, key: &str) -> bool;

    /// The variant keys of the flag with this key, in order; `None` when there
    /// is no such flag (for prerequisites).
    fn flag_variants(&self, key: &str) -> Option<Vec<String>>;

    /// The flags that `flag_key`'s config in this environment lists as
    /// prerequisites, in order; empty when it has none or does not exist.
    fn prerequisites_of(&self, flag_key: &str) -> Vec<String>;

    /// The flags whose config in this environment lists `flag_key` as a
    /// prerequisite. Lets validation reject a change that makes *another*
    /// flag's chain deeper than [`MAX_PREREQUISITE_DEPTH`]. The default (none)
    /// checks only the chains that start at the validated flag; cycles are
    /// found either way.
    fn dependents_of(&self, flag_key: &str) -> Vec<String> {
        let _ = flag_key;
        Vec::new()
    }
}

/// Linear scans over the snapshot; fine for one config. Validating a whole
/// snapshot builds an index instead.
impl References for Snapshot {
    fn segment_exists(&self, key: &str) -> bool {
        self.segments.iter().any(|s| s.key == key)
    }

    fn flag_variants(&self, key: &str) -> Option<Vec<String>> {
        self.flag(key).map(variant_keys)
    }

    fn prerequisites_of(&self, flag_key: &str) -> Vec<String> {
        self.flag(flag_key)
            .map(prerequisite_flags)
            .unwrap_or_default()
    }

    fn dependents_of(&self, flag_key: &str) -> Vec<String> {
        self.flags
            .iter()
            .filter(|f| f.config.prerequisites.iter().any(|p| p.flag == flag_key))
            .map(|f| f.key.clone())
            .collect()
    }
}

/// A flag's variant keys, as [`References::flag_variants`] returns them.
pub(super) fn variant_keys(flag: &SnapshotFlag) -> Vec<String> {
    flag.variants.iter().map(|v| v.key.clone()).collect()
}

/// The flags a flag lists as prerequisites, as [`References::prerequisites_of`] returns them.
pub(super) fn prerequisite_flags(flag: &SnapshotFlag) -> Vec<String> {
    flag.config
        .prerequisites
        .iter()
        .map(|p| p.flag.clone())
        .collect()
}

/// Which way a walk follows prerequisite links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Direction {
    /// From a flag to its prerequisites.
    Down,
    /// From a flag to the flags that require it.
    Up,
}

/// One layer of a breadth-first walk: the flags reached after exactly `n`
/// links, each with the index of the flag it was reached from in layer `n-1`.
type Layer = Vec<(String, usize)>;

/// The prerequisite graph as it would be with `me`'s new prerequisites, each
/// flag's links fetched from `refs` once.
struct Graph<'r> {
    refs: &'r dyn References,
    me: &'r str,
    mine: Vec<String>,
    cache: HashMap<(Direction, String), Vec<String>>,
}

impl Graph<'_> {
    fn links(&mut self, direction: Direction, key: &str) -> Vec<String> {
        if direction == Direction::Down && key == self.me {
            return self.mine.clone();
        }
        let cache_key = (direction, key.to_owned());
        if let Some(links) = self.cache.get(&cache_key) {
            return links.clone();
        }
        let mut links = match direction {
            Direction::Down => self.refs.prerequisites_of(key),
            // `me`'s old prerequisites are replaced by its new ones.
            Direction::Up => self.refs.dependents_of(key),
        };
        if direction == Direction::Up {
            links.retain(|k| k != self.me);
        }
        self.cache.insert(cache_key, links.clone());
        links
    }

    /// Walks up to `MAX_PREREQUISITE_DEPTH + 1` links from `me`. Returns the
    /// layers (layer 0 is `me`) and, going down, the first walk that came
    /// back to `me` (a cycle) as the layer and predecessor index.
    fn walk(&mut self, direction: Direction) -> (Vec<Layer>, Option<(usize, usize)>) {
        let mut layers: Vec<Layer> = vec![vec![(self.me.to_owned(), 0)]];
        let mut cycle = None;
        for depth in 1..=MAX_PREREQUISITE_DEPTH + 1 {
            let Some(previous) = layers.last() else { break };
            let froms: Vec<String> = previous.iter().map(|(k, _)| k.clone()).collect();
            let mut layer: Layer = Vec::new();
            let mut seen: HashSet<String> = HashSet::new();
            for (from_index, from) in froms.iter().enumerate() {
                for next in self.links(direction, from) {
                    if next == self.me {
                        if cycle.is_none() {
                            cycle = Some((depth, from_index));
                        }
                        continue;
                    }
                    if direction == Direction::Up
                        && chain(&layers, depth - 1, from_index).contains(&next)
                    {
                        // Someone else's cycle upstream: not this flag's doing.
                        continue;
                    }
                    if seen.insert(next.clone()) {
                        layer.push((next, from_index));
                    }
                }
            }
            if layer.is_empty() {
                break;
            }
            layers.push(layer);
        }
        (layers, cycle)
    }
}

/// The keys from `me` (layer 0) to entry `index` of layer `depth`, in walk order.
fn chain(layers: &[Layer], depth: usize, index: usize) -> Vec<String> {
    let mut keys = Vec::new();
    let mut position = Some((depth, index));
    while let Some((d, i)) = position {
        let Some((key, from)) = layers.get(d).and_then(|layer| layer.get(i)) else {
            break;
        };
        keys.push(key.clone());
        position = d.checked_sub(1).map(|d| (d, *from));
    }
    keys.reverse();
    keys
}

fn arrows(keys: &[String]) -> String {
    keys.join(" -> ")
}

/// Reports a prerequisite cycle through `me` (at the prerequisite it starts
/// with), a prerequisite that leads into another cycle, and a chain of more
/// than [`MAX_PREREQUISITE_DEPTH`] links through `me` (at `/prerequisites`).
/// `path` is the config's path.
pub(super) fn check_prerequisite_graph(
    problems: &mut Problems,
    path: &Path<'_>,
    me: &str,
    prerequisites: &[Prerequisite],
    refs: &dyn References,
) {
    let mine: Vec<String> = prerequisites
        .iter()
        .filter(|p| p.flag != me) // reported on its own
        .map(|p| p.flag.clone())
        .collect();
    if mine.is_empty() {
        return;
    }
    let mut graph = Graph {
        refs,
        me,
        mine,
        cache: HashMap::new(),
    };
    let list_path = path.field("prerequisites");
    // A problem found by a walk belongs to the prerequisite it started with.
    let report = |problems: &mut Problems, keys: &[String], message: String| {
        let first = keys.get(1);
        match prerequisites.iter().position(|p| Some(&p.flag) == first) {
            Some(i) => {
                let prerequisite = list_path.index(i);
                problems.add(&prerequisite.field("flag"), message);
            }
            None => problems.add(&list_path, message),
        }
    };

    let (down, cycle) = graph.walk(Direction::Down);
    if let Some((depth, from)) = cycle {
        let mut keys = chain(&down, depth - 1, from);
        keys.push(me.to_owned());
        let message = format!("prerequisite cycle: {}", arrows(&keys));
        report(problems, &keys, message);
        return;
    }
    let down_depth = down.len() - 1;
    let down_chain = match down.last() {
        Some(layer) => chain(&down, down_depth, layer.len() - 1),
        None => Vec::new(),
    };
    if let Some(loop_keys) = repeated_tail(&down_chain) {
        let message = format!(
            "leads into a prerequisite cycle: {} (reached from {})",
            arrows(&loop_keys),
            quote(me)
        );
        report(problems, &down_chain, message);
        return;
    }
    let (up, _) = graph.walk(Direction::Up);
    let up_depth = up.len() - 1;
    if up_depth + down_depth > MAX_PREREQUISITE_DEPTH {
        let mut keys = match up.last() {
            Some(layer) => chain(&up, up_depth, layer.len() - 1),
            None => Vec::new(),
        };
        keys.reverse();
        keys.extend(down_chain.into_iter().skip(1));
        if keys.len() > MAX_PREREQUISITE_DEPTH + 2 {
            keys.truncate(MAX_PREREQUISITE_DEPTH + 2);
            keys.push("…".to_owned());
        }
        problems.add(
            &list_path,
            format!(
                "prerequisite chain {} is more than {MAX_PREREQUISITE_DEPTH} links deep; the limit is {MAX_PREREQUISITE_DEPTH}",
                arrows(&keys)
            ),
        );
    }
}

/// When a walk repeats a key, the loop it went round: `b -> c -> b`.
fn repeated_tail(keys: &[String]) -> Option<Vec<String>> {
    for (j, key) in keys.iter().enumerate() {
        if let Some(i) = keys.iter().take(j).position(|k| k == key) {
            return keys.get(i..=j).map(<[String]>::to_vec);
        }
    }
    None
}
