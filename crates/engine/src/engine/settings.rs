//! Changing the configuration of a running engine ([`Engine::update_config`]).
//!
//! Why at run time: ExpenseFlow's quick start tunes the service while it runs
//! (`modelConfig.prediction.anomalyThreshold = 0.75`, `ensembleWeight`, `retraining.*`), and the
//! original read its configuration object on every request. Here the configuration is one
//! `Arc<EngineConfig>` that every operation reads once; an update builds the next one (the current
//! configuration with the patch merged in), validates it whole, and swaps it in with one pointer
//! store, so a request or a training sees either the old settings or the new ones, never a mix.
//!
//! What takes effect when:
//! - `prediction.*` (thresholds, ensemble weights, `topFeatures`, `enforceMinConfidence`): the next
//!   request. The active model is re-wrapped with the new ensemble settings (its base value
//!   follows the weights), so scores, actions and explanations agree.
//! - `isolationForest`, `autoencoder`, `retraining.*`, `drift`: the next training or check;
//!   `retraining.dailyRetrainForced` / `driftCheckEnabled` switch the schedules at once.
//! - `maintenance.*`, `retentionDays`: the next maintenance call.
//!
//! What cannot change without reopening (they size or locate what is already built): the store,
//! the seed, the behavioral state's settings, the writer's queue and batches, the training and
//! drift windows' capacities. A patch touching them is refused and nothing changes.

use std::sync::Arc;

use serde_json::Value;

use super::{ActiveModel, Engine, Inner};
use crate::config::EngineConfig;
use crate::error::{EngineError, Result};
use crate::lock;

/// Paths (in the configuration's camelCase JSON) fixed for the engine's lifetime.
const FIXED: &[&[&str]] = &[
    &["storePath"],
    &["seed"],
    &["state"],
    &["writerQueueCapacity"],
    &["writerBatchSize"],
    &["writerFlushIntervalMs"],
    &["retraining", "maxTrainingSamples"],
    &["retraining", "driftWindow"],
];

/// Merges `patch` into `base`: objects field by field, anything else replaced. A field the
/// configuration does not have is an error naming its path (a typo must not pass silently).
fn merge(base: &mut Value, patch: &Value, path: &mut Vec<String>) -> Result<()> {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (key, value) in p {
                path.push(key.clone());
                match b.get_mut(key) {
                    Some(slot) if slot.is_object() && value.is_object() => {
                        merge(slot, value, path)?
                    }
                    Some(slot) => *slot = value.clone(),
                    None => {
                        return Err(EngineError::InvalidConfig(format!(
                            "{}: no such setting",
                            path.join(".")
                        )))
                    }
                }
                path.pop();
            }
            Ok(())
        }
        _ => Err(EngineError::InvalidConfig(
            "a configuration update must be an object".into(),
        )),
    }
}

/// The configuration `patch` (any subset of the fields, in the JSON shape) makes over the
/// defaults, validated: what [`Engine::open`] is given by the bindings. Unlike
/// [`EngineConfig::from_json`], a field the configuration does not have is an error naming it.
pub fn resolve_config(patch: &Value) -> Result<EngineConfig> {
    let mut merged = serde_json::to_value(EngineConfig::default())
        .map_err(|e| EngineError::Internal(format!("configuration: {e}")))?;
    merge(&mut merged, patch, &mut Vec::new())?;
    let config: EngineConfig =
        serde_json::from_value(merged).map_err(|e| EngineError::InvalidConfig(e.to_string()))?;
    config.validate()?;
    Ok(config)
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

/// `model` under the ensemble settings of `config` (itself when they already agree): every model
/// the engine serves, freshly trained or rolled back to, answers with the settings in force.
pub(crate) fn serving(model: Arc<ActiveModel>, config: &EngineConfig) -> Result<Arc<ActiveModel>> {
    let ensemble = config.train_config().ensemble;
    if model.bundle.ensemble == ensemble {
        return Ok(model);
    }
    let bundle = model.bundle.with_ensemble(ensemble)?;
    Ok(Arc::new(ActiveModel::new(model.info.clone(), bundle)))
}

impl Engine {
    /// Applies `patch` (any subset of the configuration, in its JSON shape) to the running
    /// engine and returns the configuration now in force (see the module docs for when each
    /// part takes effect). The whole result is validated first: on any error nothing changes.
    ///
    /// Errors: [`EngineError::InvalidConfig`] naming the field (unknown, invalid, or fixed for
    /// the engine's lifetime); [`EngineError::Closed`].
    pub fn update_config(&self, patch: &Value) -> Result<Arc<EngineConfig>> {
        self.inner.update_config(patch)
    }
}

impl Inner {
    fn update_config(&self, patch: &Value) -> Result<Arc<EngineConfig>> {
        self.check_open()?;
        // One update at a time: two concurrent patches must not both start from the same base.
        let mut settings = self.settings.write().unwrap_or_else(|p| p.into_inner());
        let current = Arc::clone(&settings);
        let before = serde_json::to_value(&*current)
            .map_err(|e| EngineError::Internal(format!("configuration: {e}")))?;
        let mut merged = before.clone();
        merge(&mut merged, patch, &mut Vec::new())?;
        for path in FIXED {
            if at(&merged, path) != at(&before, path) {
                return Err(EngineError::InvalidConfig(format!(
                    "{}: cannot change while the engine runs (reopen it with the new value)",
                    path.join(".")
                )));
            }
        }
        let next: EngineConfig = serde_json::from_value(merged)
            .map_err(|e| EngineError::InvalidConfig(e.to_string()))?;
        next.validate()?;

        let rewrapped = match self.active() {
            Some(m) => Some(serving(m, &next)?),
            None => None,
        };
        let flags_changed = next.retraining.drift_check_enabled
            != current.retraining.drift_check_enabled
            || next.retraining.daily_retrain_forced != current.retraining.daily_retrain_forced;
        let next = Arc::new(next);
        *settings = Arc::clone(&next);
        if let Some(model) = rewrapped {
            // Still under the settings lock, so a training's swap (which re-wraps under the
            // settings it reads) cannot interleave with this one and leave old settings serving.
            let mut active = self.active.write().unwrap_or_else(|p| p.into_inner());
            if active.as_ref().map(|a| a.version) == Some(model.version) {
                *active = Some(model);
            }
        }
        if flags_changed {
            let mut flags = lock(&self.flags);
            flags.drift_check = next.retraining.drift_check_enabled;
            flags.forced_retrain = next.retraining.daily_retrain_forced;
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::engine::tests::{small_config, trained_engine};
    use crate::EngineError;
    use anomaly_core::policy::Action;

    #[test]
    fn prediction_settings_change_the_next_answer_and_nothing_else() {
        let (engine, mut traffic) = trained_engine(small_config());
        let before = engine.predict(traffic.next_event(), None).unwrap();
        assert!(before.scores.is_some());
        let cfg = engine
            .update_config(&json!({
                "prediction": {
                    "anomalyThreshold": 0.0, "challenge": 0.0, "require2fa": 0.0, "block": 0.0,
                    "enforceMinConfidence": 0.0
                }
            }))
            .unwrap();
        assert_eq!(cfg.prediction.block, 0.0);
        assert_eq!(engine.config().prediction.block, 0.0);
        let after = engine.predict(traffic.next_event(), None).unwrap();
        assert!(after.is_anomaly);
        assert_eq!(after.action, Action::Block);
        assert_eq!(
            engine.config().retraining.min_samples_for_training,
            small_config().retraining.min_samples_for_training,
            "untouched sections keep their values"
        );
    }

    #[test]
    fn weights_change_the_composite_and_its_base_value_together() {
        let (engine, mut traffic) = trained_engine(small_config());
        let only_forest = json!({ "prediction": { "ensembleWeight": { "isolationForest": 1.0, "autoencoder": 0.0 } } });
        engine.update_config(&only_forest).unwrap();
        let p = engine.predict(traffic.next_event(), None).unwrap();
        let s = p.scores.unwrap();
        assert!((s.composite - s.isolation_forest).abs() < 1e-12);
        let e = engine
            .explain_prediction(p.id, AttributionMethod::Exact)
            .unwrap();
        let sum: f64 = e.attribution.contributions.iter().sum();
        assert!(
            (e.attribution.base_value + sum - s.composite).abs() < 1e-9,
            "contributions sum to composite − base value under the new weights"
        );
    }

    #[test]
    fn bad_unknown_and_fixed_settings_are_refused_and_change_nothing() {
        let (engine, _) = trained_engine(small_config());
        let before = engine.config();
        for (patch, field) in [
            (json!({ "prediction": { "challenge": 0.99 } }), "prediction"),
            (
                json!({ "prediction": { "anomalyTreshold": 0.7 } }),
                "prediction.anomalyTreshold",
            ),
            (json!({ "storePath": "/elsewhere.sqlite" }), "storePath"),
            (
                json!({ "retraining": { "driftWindow": 100 } }),
                "retraining.driftWindow",
            ),
            (
                json!({ "retraining": { "minSamplesForTraining": "many" } }),
                "",
            ),
            (json!(7), ""),
        ] {
            match engine.update_config(&patch) {
                Err(EngineError::InvalidConfig(m)) => assert!(m.starts_with(field), "{patch}: {m}"),
                other => panic!("{patch}: expected InvalidConfig, got {other:?}"),
            }
            assert_eq!(
                *engine.config(),
                *before,
                "{patch} changed the configuration"
            );
        }
    }

    #[test]
    fn a_patch_resolves_over_the_defaults_and_names_what_it_does_not_know() {
        let c = super::resolve_config(&json!({ "retraining": { "minSamplesForTraining": 50 } }))
            .unwrap();
        assert_eq!(c.retraining.min_samples_for_training, 50);
        assert_eq!(c.retraining.model_window_days, 30.0);
        match super::resolve_config(&json!({ "retraining": { "minSample": 50 } })) {
            Err(EngineError::InvalidConfig(m)) => {
                assert!(m.starts_with("retraining.minSample:"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn schedules_follow_their_switches() {
        let (engine, _) = trained_engine(small_config());
        engine
            .update_config(&json!({ "retraining": { "dailyRetrainForced": false } }))
            .unwrap();
        assert!(!engine.schedules().forced_retrain);
        assert!(engine.schedules().drift_check);
    }

    use anomaly_core::explain::AttributionMethod;
}
