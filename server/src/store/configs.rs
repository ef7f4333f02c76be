//! What a flag's configs become, the same on every backend: the configs a
//! new flag starts with, and the config writes (replace, toggle, a rollout
//! plan's exposure).

use vexil_proto::{Flag, FlagConfig};

use super::{ChangeAction, default_config};
use crate::rollout::Exposure;

/// The config a new flag starts with in `environment`: the last one given
/// for it in `given`, else [`default_config`]; at version 1 either way.
pub(super) fn initial_config(
    flag: &Flag,
    given: &[(String, FlagConfig)],
    environment: &str,
) -> FlagConfig {
    match given.iter().rev().find(|(e, _)| e == environment) {
        Some((_, config)) => FlagConfig {
            version: 1,
            ..config.clone()
        },
        None => default_config(flag),
    }
}

/// What a config write does: replace the config, flip `enabled` only, or
/// serve a rollout plan's exposure on top of the current config.
#[derive(Debug, Clone, Copy)]
pub(super) enum ConfigWrite<'a> {
    Put(&'a FlagConfig),
    Enabled(bool),
    Exposure(&'a Exposure),
}

impl ConfigWrite<'_> {
    /// Whether the config after the write may name something new
    /// (variants, segments, flags) that the write must check against the
    /// environment. A toggle names nothing new.
    pub(super) fn names_anything(self) -> bool {
        !matches!(self, ConfigWrite::Enabled(_))
    }

    /// The config after the write, at the version after `before`'s, and
    /// how the change log names the write.
    pub(super) fn apply(self, before: &FlagConfig) -> (FlagConfig, ChangeAction) {
        let (after, action) = match self {
            ConfigWrite::Put(config) => (config.clone(), ChangeAction::Updated),
            ConfigWrite::Enabled(enabled) => (
                FlagConfig {
                    enabled,
                    ..before.clone()
                },
                ChangeAction::Toggled,
            ),
            ConfigWrite::Exposure(exposure) => (exposure.apply(before), ChangeAction::Updated),
        };
        let after = FlagConfig {
            version: before.version + 1,
            ..after
        };
        (after, action)
    }
}

#[cfg(test)]
mod tests {
    use vexil_proto::{FlagKind, Serve, Variant};

    use super::*;

    /// A string flag: its default config serves its last variant.
    fn flag() -> Flag {
        Flag {
            key: "banner".into(),
            name: "Banner".into(),
            description: "Which banner to show".into(),
            tags: vec!["web".into()],
            owner: Some("growth".into()),
            kind: FlagKind::String,
            variants: vec![Variant::new("red", "red"), Variant::new("green", "green")],
            temporary: true,
        }
    }

    fn serving(variant: &str, version: u64) -> FlagConfig {
        FlagConfig {
            version,
            ..FlagConfig::new("green", Serve::Variant(variant.into()))
        }
    }

    #[test]
    fn initial_configs_take_the_last_given_at_version_one() {
        let given = [
            ("prod".to_string(), serving("off", 7)),
            ("prod".to_string(), serving("on", 9)),
        ];
        assert_eq!(initial_config(&flag(), &given, "prod"), serving("on", 1));
        assert_eq!(
            initial_config(&flag(), &given, "dev"),
            default_config(&flag())
        );
    }

    #[test]
    fn writes_go_one_version_past_the_current_config() {
        let before = FlagConfig {
            enabled: true,
            ..serving("red", 4)
        };
        let (put, action) = ConfigWrite::Put(&serving("green", 99)).apply(&before);
        assert_eq!((put, action), (serving("green", 5), ChangeAction::Updated));
        let (toggled, action) = ConfigWrite::Enabled(false).apply(&before);
        let expected = FlagConfig {
            enabled: false,
            ..serving("red", 5)
        };
        assert_eq!((toggled, action), (expected, ChangeAction::Toggled));
    }
}
