//! Writing a flag's definition (PUT and metadata PATCH): the checks that
//! need the stored flag and its configs, and the `PATCH` body.
//!
//! A definition write reads the flag, checks it against the caller's
//! `If-Match` and the archive state, builds the new definition, checks that
//! its kind is unchanged and that no environment's config (nor another
//! flag's prerequisite) names a variant it removes, then writes with the
//! version it read as the store's `expected_version`. So nothing it checked
//! can change before it commits; a caller without `If-Match` who loses that
//! race is retried from the start, a caller with one gets the 409.

use std::collections::HashSet;

use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;
use vexil_proto::validate::{
    MAX_PROBLEMS, escape_pointer_segment, validate_flag, validate_flag_config,
};
use vexil_proto::{Flag, Problem};

use crate::api::error::ApiError;
use crate::api::write::WriteOptions;
use crate::store::{FlagRecord, Store, StoreError, WriteMeta};

/// Tries of an unconditional write that keeps losing the race to other
/// writers of the same flag before it answers 409.
const ATTEMPTS: usize = 5;

/// Writes the definition `build` makes from the stored flag; see the
/// module doc for the checks and their order.
pub(super) async fn write_definition(
    store: &dyn Store,
    project: &str,
    key: &str,
    options: &WriteOptions,
    meta: WriteMeta,
    build: impl Fn(&FlagRecord) -> Result<Flag, ApiError>,
) -> Result<FlagRecord, ApiError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let current = store.get_flag(project, key).await?;
        options.check(current.version)?;
        if current.archived {
            return Err(ApiError::Conflict(format!(
                "flag {key} is archived: restore it first"
            )));
        }
        let flag = build(&current)?;
        validate_flag(&flag)?;
        if flag.kind != current.flag.kind {
            return Err(ApiError::invalid(
                "/kind",
                format!(
                    "must stay `{}`: applications read the flag as that type; create a new flag instead",
                    current.flag.kind.as_str()
                ),
            ));
        }
        check_variants_in_use(store, project, &current.flag, &flag).await?;
        let meta = WriteMeta {
            expected_version: Some(current.version),
            ..meta.clone()
        };
        match store.update_flag(project, &flag, &meta).await {
            Err(StoreError::Conflict { .. })
                if options.if_match.is_none() && attempt < ATTEMPTS =>
            {
                continue;
            }
            result => return Ok(result?),
        }
    }
}

/// Refuses new variants that break a stored config: each environment's
/// config is validated against them, and problems it did not have with the
/// old variants are reported at `/environments/{environment}/…`; another
/// flag whose prerequisite requires a removed variant is reported at
/// `/variants`.
async fn check_variants_in_use(
    store: &dyn Store,
    project: &str,
    old: &Flag,
    new: &Flag,
) -> Result<(), ApiError> {
    let keys =
        |flag: &Flag| -> Vec<String> { flag.variants.iter().map(|v| v.key.clone()).collect() };
    let new_keys = keys(new);
    if keys(old) == new_keys {
        return Ok(());
    }
    let removed: HashSet<String> = keys(old)
        .into_iter()
        .filter(|k| !new_keys.contains(k))
        .collect();
    let mut problems = Vec::new();
    for (environment, config) in store.list_flag_configs(project, &new.key).await? {
        let snapshot = store.snapshot(project, &environment).await?;
        let before: HashSet<String> =
            match validate_flag_config(&new.key, &old.variants, &config, &snapshot) {
                Ok(()) => HashSet::new(),
                Err(errors) => errors.0.into_iter().map(|p| p.path).collect(),
            };
        if let Err(errors) = validate_flag_config(&new.key, &new.variants, &config, &snapshot) {
            let prefix = format!("/environments/{}", escape_pointer_segment(&environment));
            problems.extend(
                errors
                    .0
                    .into_iter()
                    .filter(|p| !before.contains(&p.path))
                    .map(|p| Problem {
                        path: format!("{prefix}{}", p.path),
                        problem: format!("in environment `{environment}`: {}", p.problem),
                    }),
            );
        }
        for other in snapshot.flags.iter().filter(|f| f.key != new.key) {
            for prerequisite in &other.config.prerequisites {
                if prerequisite.flag == new.key && removed.contains(&prerequisite.variant) {
                    problems.push(Problem {
                        path: "/variants".into(),
                        problem: format!(
                            "variant `{}` is required by a prerequisite of flag `{}` in environment `{environment}`; change that prerequisite first",
                            prerequisite.variant, other.key
                        ),
                    });
                }
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    if problems.len() > MAX_PROBLEMS {
        let more = problems.len() - (MAX_PROBLEMS - 1);
        problems.truncate(MAX_PROBLEMS - 1);
        problems.push(Problem {
            path: String::new(),
            problem: format!("{more} more problems not shown"),
        });
    }
    Err(ApiError::Invalid(problems))
}

/// `PATCH` of a flag: `archived` alone archives or restores it; otherwise
/// the metadata fields given replace the stored ones and the rest (key,
/// kind, variants) stays.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagPatch {
    /// `true` archives the flag (it leaves every snapshot), `false`
    /// restores it. Cannot be combined with the other fields.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    archived: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    description: Option<String>,
    /// Replaces the whole list.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    tags: Option<Vec<String>>,
    /// `null` removes the owner.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable = true)]
    owner: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    temporary: Option<bool>,
}

/// A field that may be left out but not sent as `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A field that may be left out (`None`) or sent as `null` (`Some(None)`).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl FlagPatch {
    /// `Some(archived)` for an archive or restore; `None` for a metadata
    /// change. An empty patch, or `archived` with other fields, is a 422.
    pub(super) fn archive(&self) -> Result<Option<bool>, ApiError> {
        let metadata = self.name.is_some()
            || self.description.is_some()
            || self.tags.is_some()
            || self.owner.is_some()
            || self.temporary.is_some();
        match (self.archived, metadata) {
            (None, false) => Err(ApiError::invalid(
                "",
                "nothing to change: send `archived`, or any of `name`, `description`, `tags`, `owner`, `temporary`",
            )),
            (Some(_), true) => Err(ApiError::invalid(
                "/archived",
                "archive or restore on its own, in a request without other fields",
            )),
            (archived, _) => Ok(archived),
        }
    }

    /// The definition with this patch's fields replaced.
    pub(super) fn apply(&self, flag: &Flag) -> Flag {
        let mut flag = flag.clone();
        if let Some(name) = &self.name {
            flag.name = name.clone();
        }
        if let Some(description) = &self.description {
            flag.description = description.clone();
        }
        if let Some(tags) = &self.tags {
            flag.tags = tags.clone();
        }
        if let Some(owner) = &self.owner {
            flag.owner = owner.clone();
        }
        if let Some(temporary) = self.temporary {
            flag.temporary = temporary;
        }
        flag
    }
}

#[cfg(test)]
mod tests {
    use vexil_proto::{FlagKind, Variant};

    use super::*;
    use crate::api::json::parse;

    fn flag() -> Flag {
        Flag {
            key: "f".into(),
            name: "F".into(),
            description: String::new(),
            tags: vec![],
            owner: Some("team-a".into()),
            kind: FlagKind::Boolean,
            variants: Variant::boolean_pair(),
            temporary: false,
        }
    }

    #[test]
    fn patches_archive_alone_or_change_metadata() {
        let patch: FlagPatch = parse(br#"{"archived": true}"#).unwrap();
        assert_eq!(patch.archive().unwrap(), Some(true));

        let patch: FlagPatch = parse(br#"{"name": "New", "owner": null, "tags": ["a"]}"#).unwrap();
        assert_eq!(patch.archive().unwrap(), None);
        let patched = patch.apply(&flag());
        assert_eq!(patched.name, "New");
        assert_eq!(patched.owner, None);
        assert_eq!(patched.tags, vec!["a".to_owned()]);
        assert_eq!(patched.variants, flag().variants);

        let patch: FlagPatch = parse(br#"{"temporary": true}"#).unwrap();
        assert_eq!(patch.apply(&flag()).owner.as_deref(), Some("team-a"));
    }

    #[test]
    fn empty_mixed_and_null_patches_are_refused() {
        let empty: FlagPatch = parse(b"{}").unwrap();
        assert!(matches!(empty.archive(), Err(ApiError::Invalid(p)) if p[0].path.is_empty()));
        let mixed: FlagPatch = parse(br#"{"archived": false, "name": "x"}"#).unwrap();
        assert!(matches!(mixed.archive(), Err(ApiError::Invalid(p)) if p[0].path == "/archived"));
        let null = parse::<FlagPatch>(br#"{"name": null}"#).unwrap_err();
        assert!(matches!(null, ApiError::Invalid(p) if p[0].path == "/name"));
        let unknown = parse::<FlagPatch>(br#"{"kind": "string"}"#).unwrap_err();
        assert!(matches!(unknown, ApiError::Invalid(p) if p[0].path == "/kind"));
    }
}
