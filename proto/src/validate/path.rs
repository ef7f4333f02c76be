//! JSON pointers built without allocating, the problem collector, and the
//! small checks every document shares (text lengths, quoting in messages).

use std::borrow::Cow;
use std::fmt::Write as _;

use super::{MAX_PROBLEMS, Problem, ValidationErrors};

/// Escapes one reference token of a JSON pointer (RFC 6901): `~` becomes
/// `~0` and `/` becomes `~1`, so a key like `a/b` stays one segment.
pub fn escape_pointer_segment(segment: &str) -> Cow<'_, str> {
    if segment.contains(['~', '/']) {
        Cow::Owned(segment.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(segment)
    }
}

/// A JSON pointer as a chain of segments living on the stack: a path is only
/// rendered to a string when a problem is found, so checking 100 000 valid
/// values allocates nothing for paths.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    segment: Segment<'a>,
}

#[derive(Debug, Clone, Copy)]
enum Segment<'a> {
    Root,
    Field(&'a str),
    Index(usize),
}

impl Path<'static> {
    /// The whole document (`""`).
    pub(crate) const ROOT: Path<'static> = Path {
        parent: None,
        segment: Segment::Root,
    };
}

impl<'a> Path<'a> {
    /// This path followed by an object member.
    pub(crate) fn field<'b>(&'b self, name: &'b str) -> Path<'b> {
        Path {
            parent: Some(self),
            segment: Segment::Field(name),
        }
    }

    /// This path followed by an array index.
    pub(crate) fn index(&self, index: usize) -> Path<'_> {
        Path {
            parent: Some(self),
            segment: Segment::Index(index),
        }
    }

    /// The pointer as a string, each member name escaped.
    pub(crate) fn render(&self) -> String {
        let mut segments = Vec::new();
        let mut node = Some(self);
        while let Some(path) = node {
            segments.push(path.segment);
            node = path.parent;
        }
        let mut out = String::new();
        for segment in segments.iter().rev() {
            match segment {
                Segment::Root => {}
                Segment::Field(name) => {
                    out.push('/');
                    out.push_str(&escape_pointer_segment(name));
                }
                Segment::Index(index) => {
                    let _ = write!(out, "/{index}");
                }
            }
        }
        out
    }
}

/// Collects the problems of one document, up to [`MAX_PROBLEMS`].
#[derive(Debug, Default)]
pub(crate) struct Problems {
    list: Vec<Problem>,
    omitted: usize,
}

impl Problems {
    /// Records one problem at `path`.
    pub(crate) fn add(&mut self, path: &Path<'_>, problem: impl Into<String>) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(Problem {
                path: path.render(),
                problem: problem.into(),
            });
        } else {
            self.omitted += 1;
        }
    }

    /// `Ok` when nothing was found; otherwise every problem, in document order.
    pub(crate) fn finish(mut self) -> Result<(), ValidationErrors> {
        if self.omitted > 0 {
            self.list.push(Problem {
                path: String::new(),
                problem: format!(
                    "{} more problem(s) not shown; fix the ones above and validate again",
                    self.omitted
                ),
            });
        }
        if self.list.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(self.list))
        }
    }
}

/// Longest user string quoted whole in a message; longer ones are cut.
const QUOTE_LEN: usize = 64;

/// `s` in double quotes for a message, escaped, and cut to a readable length.
pub(crate) fn quote(s: &str) -> String {
    if s.len() <= QUOTE_LEN {
        return format!("{s:?}");
    }
    let mut end = QUOTE_LEN;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let head = s.get(..end).unwrap_or_default();
    format!("{:?}", format!("{head}…"))
}

/// Quoted, comma-separated, cut after ten items: `"a", "b", … (12 in all)`.
pub(crate) fn quote_list<'s>(items: impl ExactSizeIterator<Item = &'s str>) -> String {
    const SHOWN: usize = 10;
    let total = items.len();
    let mut out = items.take(SHOWN).map(quote).collect::<Vec<_>>().join(", ");
    if total > SHOWN {
        let _ = write!(out, ", … ({total} in all)");
    }
    out
}

/// The JSON type of a value, for messages.
pub(crate) fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Whether a required human text (a name) is present: blank is missing.
pub(crate) fn check_name(problems: &mut Problems, path: &Path<'_>, name: &str) {
    if name.trim().is_empty() {
        problems.add(path, "must not be empty");
    } else {
        check_len(problems, path, name, crate::limits::MAX_TEXT_LEN);
    }
}

/// Reports a string longer than `limit` bytes.
pub(crate) fn check_len(problems: &mut Problems, path: &Path<'_>, value: &str, limit: usize) {
    if value.len() > limit {
        problems.add(
            path,
            format!("is {} bytes long; the limit is {limit}", value.len()),
        );
    }
}

/// Reports a list longer than `limit`; the caller then checks only the first
/// `limit` elements, so the work stays bounded.
pub(crate) fn check_count(
    problems: &mut Problems,
    path: &Path<'_>,
    count: usize,
    limit: usize,
    what: &str,
) {
    if count > limit {
        problems.add(path, format!("has {count} {what}; the limit is {limit}"));
    }
}

/// Reports a key that does not match `[a-z0-9][a-z0-9._-]{0,127}`.
pub(crate) fn check_key(problems: &mut Problems, path: &Path<'_>, key: &str) {
    if !crate::keys::is_valid_key(key) {
        problems.add(
            path,
            format!(
                "{} is not a valid key: use 1 to {} lowercase letters, digits, '.', '_' or '-', starting with a letter or a digit",
                quote(key),
                crate::keys::MAX_KEY_LEN
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_pointers_and_escapes_member_names() {
        assert_eq!(Path::ROOT.render(), "");
        let rules = Path::ROOT.field("rules");
        let rule = rules.index(2);
        let odd = rule.field("a/b~c");
        assert_eq!(odd.render(), "/rules/2/a~1b~0c");
        assert_eq!(escape_pointer_segment("~1"), "~01");
        assert_eq!(escape_pointer_segment("plain"), "plain");
    }

    #[test]
    fn caps_the_number_of_problems() {
        let mut problems = Problems::default();
        for i in 0..MAX_PROBLEMS + 5 {
            let path = Path::ROOT.index(i);
            problems.add(&path, "bad");
        }
        let list = problems.finish().unwrap_err().0;
        assert_eq!(list.len(), MAX_PROBLEMS + 1);
        let last = list.last().unwrap();
        assert_eq!(last.path, "");
        assert!(
            last.problem.starts_with("5 more problem(s) not shown"),
            "{}",
            last.problem
        );
    }

    #[test]
    fn quotes_and_cuts_user_strings() {
        assert_eq!(quote("gren"), "\"gren\"");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
        let long = "é".repeat(100);
        let quoted = quote(&long);
        assert!(quoted.ends_with("…\"") && quoted.len() < 80, "{quoted}");
        let many = ["a"; 12];
        assert_eq!(
            quote_list(many.iter().copied()),
            "\"a\", \"a\", \"a\", \"a\", \"a\", \"a\", \"a\", \"a\", \"a\", \"a\", … (12 in all)"
        );
    }
}
