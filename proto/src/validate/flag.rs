//! A flag definition: key, texts, tags, and variants matching the flag's kind.

use std::collections::HashMap;
use std::io;

use super::ValidationErrors;
use super::path::{
    Path, Problems, check_count, check_key, check_len, check_name, json_type, quote,
};
use crate::flag::{Flag, FlagKind, Variant};
use crate::keys::MAX_KEY_LEN;
use crate::limits::{MAX_TAGS, MAX_TEXT_LEN, MAX_VARIANT_VALUE_BYTES, MAX_VARIANTS};

/// Checks a flag document: key syntax, name, description, owner and tags,
/// and variants (at least one, at most [`MAX_VARIANTS`], valid unique keys,
/// values of the flag's kind and at most [`MAX_VARIANT_VALUE_BYTES`] of JSON;
/// a boolean flag has exactly `on` = true and `off` = false). Paths are
/// relative to the flag document, such as `/variants/2/key`.
pub fn validate_flag(flag: &Flag) -> Result<(), ValidationErrors> {
    let mut problems = Problems::default();
    let root = Path::ROOT;
    check_key(&mut problems, &root.field("key"), &flag.key);
    check_name(&mut problems, &root.field("name"), &flag.name);
    check_len(
        &mut problems,
        &root.field("description"),
        &flag.description,
        MAX_TEXT_LEN,
    );
    if let Some(owner) = &flag.owner {
        check_len(&mut problems, &root.field("owner"), owner, MAX_TEXT_LEN);
    }
    check_tags(&mut problems, &root.field("tags"), &flag.tags);
    check_variants(
        &mut problems,
        &root.field("variants"),
        flag.kind,
        &flag.variants,
    );
    problems.finish()
}

/// Tags: at most [`MAX_TAGS`], each non-empty, at most a key's length, unique.
fn check_tags(problems: &mut Problems, path: &Path<'_>, tags: &[String]) {
    check_count(problems, path, tags.len(), MAX_TAGS, "tags");
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, tag) in tags.iter().take(MAX_TAGS).enumerate() {
        let tag_path = path.index(i);
        if tag.trim().is_empty() {
            problems.add(&tag_path, "a tag must not be empty");
            continue;
        }
        check_len(problems, &tag_path, tag, MAX_KEY_LEN);
        if let Some(first) = seen.insert(tag, i) {
            let first_path = path.index(first);
            problems.add(
                &tag_path,
                format!(
                    "tag {} is already listed at {}",
                    quote(tag),
                    first_path.render()
                ),
            );
        }
    }
}

/// The variants of a flag of `kind`; shared with snapshot validation, where
/// `path` is `/flags/3/variants`.
pub(super) fn check_variants(
    problems: &mut Problems,
    path: &Path<'_>,
    kind: FlagKind,
    variants: &[Variant],
) {
    if variants.is_empty() {
        problems.add(path, "a flag needs at least one variant");
        return;
    }
    check_count(problems, path, variants.len(), MAX_VARIANTS, "variants");
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, variant) in variants.iter().take(MAX_VARIANTS).enumerate() {
        let variant_path = path.index(i);
        let key_path = variant_path.field("key");
        let value_path = variant_path.field("value");
        check_key(problems, &key_path, &variant.key);
        if let Some(first) = seen.insert(&variant.key, i) {
            let first_path = path.index(first);
            problems.add(
                &key_path,
                format!(
                    "variant key {} is already used at {}",
                    quote(&variant.key),
                    first_path.render()
                ),
            );
        }
        if variant.value.is_null() {
            problems.add(
                &value_path,
                "cannot be null: an evaluation without a value means the caller's default applies",
            );
        } else if !kind.accepts(&variant.value) {
            problems.add(
                &value_path,
                format!(
                    "must be a {}, as the flag's kind is {}; got {}",
                    kind_noun(kind),
                    kind.as_str(),
                    json_type(&variant.value)
                ),
            );
        } else if json_larger_than(&variant.value, MAX_VARIANT_VALUE_BYTES) {
            problems.add(
                &value_path,
                format!("is larger than the limit of {MAX_VARIANT_VALUE_BYTES} bytes of JSON"),
            );
        }
        if kind == FlagKind::Boolean {
            check_boolean_variant(problems, &variant_path, variant);
        }
        if let Some(name) = &variant.name {
            check_len(problems, &variant_path.field("name"), name, MAX_TEXT_LEN);
        }
        if let Some(description) = &variant.description {
            check_len(
                problems,
                &variant_path.field("description"),
                description,
                MAX_TEXT_LEN,
            );
        }
    }
    if kind == FlagKind::Boolean {
        for (key, value) in [("on", true), ("off", false)] {
            if !variants.iter().any(|v| v.key == key) {
                problems.add(
                    path,
                    format!("a boolean flag needs a variant \"{key}\" with the value {value}"),
                );
            }
        }
    }
}

/// A boolean flag's variants are exactly `on` (true) and `off` (false).
fn check_boolean_variant(problems: &mut Problems, path: &Path<'_>, variant: &Variant) {
    let expected = match variant.key.as_str() {
        "on" => true,
        "off" => false,
        _ => {
            problems.add(
                &path.field("key"),
                "a boolean flag has exactly two variants, \"on\" and \"off\"",
            );
            return;
        }
    };
    if variant.value.as_bool() == Some(!expected) {
        problems.add(
            &path.field("value"),
            format!(
                "variant {} of a boolean flag must be {expected}",
                quote(&variant.key)
            ),
        );
    }
}

/// "a string", "a number"... without the article, for "must be a {}".
fn kind_noun(kind: FlagKind) -> &'static str {
    match kind {
        FlagKind::Boolean => "boolean",
        FlagKind::String => "string",
        FlagKind::Number => "number",
        FlagKind::Json => "JSON value",
    }
}

/// Whether `value` serializes to more than `limit` bytes; stops writing at
/// the limit instead of building a string of any size.
fn json_larger_than(value: &serde_json::Value, limit: usize) -> bool {
    struct Counter {
        left: usize,
    }
    impl io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            match self.left.checked_sub(buf.len()) {
                Some(left) => {
                    self.left = left;
                    Ok(buf.len())
                }
                None => Err(io::Error::other("over the limit")),
            }
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    serde_json::to_writer(Counter { left: limit }, value).is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_json_without_building_it() {
        let value = serde_json::Value::String("x".repeat(10));
        assert!(!json_larger_than(&value, 12));
        assert!(json_larger_than(&value, 11));
    }
}
