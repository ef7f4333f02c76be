//! What a write checks before it changes anything, the same on every
//! backend: the writer's `If-Match`, the states of a flag or segment that
//! refuse the write, and a replaced config against the environment as the
//! write's transaction reads it. A refused write changes nothing: the
//! caller returns the error before its first statement that writes.

use vexil_proto::validate::validate_flag_config;
use vexil_proto::{Flag, FlagConfig, Problem, Serve, Snapshot};

use super::{FlagRecord, Role, StoreError, StoreResult, UserRecord, WriteMeta};

/// [`StoreError::Conflict`] unless the writer's `If-Match` is `current`
/// (or it gave none).
pub(super) fn check_version(meta: &WriteMeta, current: u64) -> StoreResult<()> {
    match meta.expected_version {
        Some(expected) if expected != current => Err(StoreError::Conflict { expected, current }),
        _ => Ok(()),
    }
}

/// Refuses writes to an archived flag's definition or configs.
pub(super) fn refuse_archived(flag: &FlagRecord) -> StoreResult<()> {
    if flag.archived {
        return Err(StoreError::Refused(format!(
            "flag {} is archived: restore it first",
            flag.flag.key
        )));
    }
    Ok(())
}

/// Refuses archiving an archived flag and restoring a live one.
pub(super) fn check_archiving(flag: &FlagRecord, archived: bool) -> StoreResult<()> {
    if flag.archived == archived {
        let state = if archived { "already" } else { "not" };
        return Err(StoreError::Refused(format!(
            "flag {} is {state} archived",
            flag.flag.key
        )));
    }
    Ok(())
}

/// Only archived flags can be deleted.
pub(super) fn check_deletable(flag: &FlagRecord) -> StoreResult<()> {
    if !flag.archived {
        return Err(StoreError::Refused(format!(
            "flag {} is not archived: archive it before deleting it",
            flag.flag.key
        )));
    }
    Ok(())
}

/// [`StoreError::Invalid`] unless `config` is valid for `flag` in the
/// environment `snapshot` holds, read inside the write's transaction after
/// its locks: so the variants, segments and prerequisite flags it names
/// still exist when it commits (a concurrent delete waits for it, or it
/// for the delete).
pub(super) fn check_config(
    flag: &FlagRecord,
    config: &FlagConfig,
    snapshot: &Snapshot,
) -> StoreResult<()> {
    validate_flag_config(&flag.flag.key, &flag.flag.variants, config, snapshot)
        .map_err(|errors| StoreError::Invalid(errors.0))
}

/// A stored config, as [`check_variants_kept`] reads them: its flag, its
/// environment and the config.
pub(super) type StoredConfig = (String, String, FlagConfig);

/// The variants a config serves (off, targets, rules, default, rollout
/// fallbacks).
fn served_variants(config: &FlagConfig) -> Vec<&str> {
    fn serve(serve: &Serve) -> Vec<&str> {
        match serve {
            Serve::Variant(variant) => vec![variant.as_str()],
            Serve::Rollout(rollout) => rollout
                .weights
                .iter()
                .map(|w| w.variant.as_str())
                .chain(rollout.fallback.as_deref())
                .collect(),
        }
    }
    let mut served = vec![config.off_variant.as_str()];
    served.extend(config.targets.iter().map(|t| t.variant.as_str()));
    served.extend(config.rules.iter().flat_map(|rule| serve(&rule.serve)));
    served.extend(serve(&config.default_serve));
    served
}

/// [`StoreError::Invalid`] (at `/variants`) when `new` drops a variant of
/// `old` that a stored config of the project still uses: one of the
/// flag's own configs serves it, or another flag's prerequisite requires
/// it. `configs` is read inside the write, after its locks.
pub(super) fn check_variants_kept(
    old: &Flag,
    new: &Flag,
    configs: &[StoredConfig],
) -> StoreResult<()> {
    let kept = |variant: &str| new.variants.iter().any(|v| v.key == variant);
    let removed: Vec<&str> = old
        .variants
        .iter()
        .map(|v| v.key.as_str())
        .filter(|v| !kept(v))
        .collect();
    if removed.is_empty() {
        return Ok(());
    }
    let mut problems = Vec::new();
    for (flag, environment, config) in configs {
        if *flag == new.key {
            for variant in served_variants(config)
                .into_iter()
                .filter(|v| removed.contains(v))
            {
                problems.push(format!(
                    "variant `{variant}` is served by the flag's config in environment `{environment}`; change that config first"
                ));
            }
        }
        for prerequisite in config.prerequisites.iter().filter(|p| p.flag == new.key) {
            if removed.contains(&prerequisite.variant.as_str()) {
                problems.push(format!(
                    "variant `{}` is required by a prerequisite of flag `{flag}` in environment `{environment}`; change that prerequisite first",
                    prerequisite.variant
                ));
            }
        }
    }
    problems.dedup();
    if problems.is_empty() {
        return Ok(());
    }
    Err(StoreError::Invalid(
        problems
            .into_iter()
            .map(|problem| Problem {
                path: "/variants".into(),
                problem,
            })
            .collect(),
    ))
}

/// Refuses a write that leaves no enabled admin: `before` is one, `after`
/// (`None` when deleted) is not, and `other_admins` (the enabled admins
/// besides `before`, read inside the write after locking them) is zero.
pub(super) fn check_admin_remains(
    before: &UserRecord,
    after: Option<&UserRecord>,
    other_admins: u64,
) -> StoreResult<()> {
    let enabled_admin = |user: &UserRecord| user.role == Role::Admin && !user.disabled;
    if enabled_admin(before) && !after.is_some_and(enabled_admin) && other_admins == 0 {
        return Err(StoreError::Refused(format!(
            "`{}` is the last enabled admin; make another user admin first",
            before.username
        )));
    }
    Ok(())
}

/// Why a segment cannot be deleted: a flag's config names it.
pub(super) fn segment_in_use(segment: &str, flag: &str, environment: &str) -> StoreError {
    StoreError::Refused(format!(
        "segment {segment} is used by flag {flag} in environment {environment}"
    ))
}

/// `NotFound` for the first config of a new flag that names an environment
/// the project does not have.
pub(super) fn check_config_environments(
    configs: &[(String, FlagConfig)],
    environments: &[String],
) -> StoreResult<()> {
    match configs.iter().find(|(e, _)| !environments.contains(e)) {
        Some((unknown, _)) => Err(StoreError::NotFound(format!("environment {unknown}"))),
        None => Ok(()),
    }
}
