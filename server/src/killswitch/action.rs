//! What a tripped switch makes of the bound flag's config.

use vexil_proto::{FlagConfig, Serve};

use super::model::Action;

/// The config after `action`; its version is the store's business.
pub fn apply(action: &Action, before: &FlagConfig) -> FlagConfig {
    let mut after = before.clone();
    match action {
        Action::Disable => after.enabled = false,
        Action::Serve(variant) => {
            after.targets.clear();
            after.rules.clear();
            after.prerequisites.clear();
            after.default_serve = Serve::Variant(variant.clone());
        }
        Action::Rollback => {
            let off = after.off_variant.clone();
            roll_back(&mut after.default_serve, &off);
            for rule in &mut after.rules {
                roll_back(&mut rule.serve, &off);
            }
        }
    }
    after
}

/// Gives a rollout's whole weight to `off` (or its first variant when it
/// does not list `off`); a fixed variant stays.
fn roll_back(serve: &mut Serve, off: &str) {
    let Serve::Rollout(rollout) = serve else {
        return;
    };
    let keep = if rollout.weights.iter().any(|w| w.variant == off) {
        off.to_owned()
    } else {
        match rollout.weights.first() {
            Some(first) => first.variant.clone(),
            None => return,
        }
    };
    for weight in &mut rollout.weights {
        weight.weight = if weight.variant == keep { 100_000 } else { 0 };
    }
}

#[cfg(test)]
mod tests {
    use vexil_proto::{Rollout, WeightedVariant};

    use super::*;

    fn rollout(weights: &[(&str, u32)]) -> Serve {
        let json = serde_json::json!({
            "rollout": {"weights": weights.iter().map(|(v, w)| serde_json::json!({"variant": v, "weight": w})).collect::<Vec<_>>()}
        });
        serde_json::from_value(json).unwrap()
    }

    fn weights(serve: &Serve) -> Vec<(String, u32)> {
        match serve {
            Serve::Rollout(Rollout { weights, .. }) => weights
                .iter()
                .map(|WeightedVariant { variant, weight }| (variant.clone(), *weight))
                .collect(),
            Serve::Variant(_) => Vec::new(),
        }
    }

    #[test]
    fn disable_serve_and_rollback() {
        let before = FlagConfig::new("off", rollout(&[("on", 25_000), ("off", 75_000)]));
        assert!(!apply(&Action::Disable, &before).enabled);
        let served = apply(&Action::Serve("off".into()), &before);
        assert_eq!(served.default_serve, Serve::Variant("off".into()));
        let rolled = apply(&Action::Rollback, &before);
        assert_eq!(
            weights(&rolled.default_serve),
            vec![("on".into(), 0), ("off".into(), 100_000)]
        );
        let without_off = FlagConfig::new("off", rollout(&[("a", 50_000), ("b", 50_000)]));
        let rolled = apply(&Action::Rollback, &without_off);
        assert_eq!(
            weights(&rolled.default_serve),
            vec![("a".into(), 100_000), ("b".into(), 0)]
        );
    }
}
