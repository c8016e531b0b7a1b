//! Validation of the configuration, one function per section.
//!
//! Each section checks its own fields and names the first bad one with its JSON path
//! (`retraining.modelWindowDays: ...`); [`EngineConfig::validate`] runs them in the order the
//! sections appear in the configuration. Checks that span sections (the drift window against
//! `drift.minCurrentRows`) live with the section whose field they name.

use anomaly_core::drift::DriftConfig;
use anomaly_core::N_FEATURES;

use super::{
    AutoencoderConfig, EngineConfig, IsolationForestConfig, MaintenanceConfig, PredictionConfig,
    RetrainingConfig, MAX_WRITER_FLUSH_INTERVAL_MS, MIN_TRAINING_SAMPLES,
};
use crate::error::{EngineError, Result};

fn invalid(field: &str, reason: impl std::fmt::Display) -> EngineError {
    EngineError::InvalidConfig(format!("{field}: {reason}"))
}

fn positive_ms(field: &str, v: i64) -> Result<()> {
    if v <= 0 {
        return Err(invalid(
            field,
            format!("must be a positive number of milliseconds, got {v}"),
        ));
    }
    Ok(())
}

fn positive_days(field: &str, v: f64) -> Result<()> {
    // 100 years: beyond it the cutoff arithmetic in ms stops meaning anything useful.
    if !(v.is_finite() && v > 0.0 && v <= 36_500.0) {
        return Err(invalid(
            field,
            format!("must be a number of days in (0, 36500], got {v}"),
        ));
    }
    Ok(())
}

fn in_range(field: &str, v: usize, range: std::ops::RangeInclusive<usize>) -> Result<()> {
    if !range.contains(&v) {
        return Err(invalid(
            field,
            format!("must be in {}..={}, got {v}", range.start(), range.end()),
        ));
    }
    Ok(())
}

impl EngineConfig {
    /// Checks every field; the error names the first bad one (`retraining.modelWindowDays: ...`).
    pub fn validate(&self) -> Result<()> {
        self.isolation_forest.validate()?;
        self.autoencoder.validate()?;
        self.prediction.validate()?;
        self.drift_config()
            .validate()
            .map_err(|e| invalid("drift", e))?;
        self.state.validate().map_err(|e| invalid("state", e))?;
        self.retraining.validate(&self.drift)?;
        self.maintenance.validate()?;
        self.validate_store()
    }

    /// The top-level store and writer fields.
    fn validate_store(&self) -> Result<()> {
        if self.store_path.trim().is_empty() {
            return Err(invalid("storePath", "must be a file path or \":memory:\""));
        }
        in_range(
            "writerQueueCapacity",
            self.writer_queue_capacity,
            1..=10_000_000,
        )?;
        in_range("writerBatchSize", self.writer_batch_size, 1..=100_000)?;
        if self.writer_flush_interval_ms > MAX_WRITER_FLUSH_INTERVAL_MS {
            return Err(invalid(
                "writerFlushIntervalMs",
                format!(
                    "must be in 0..={MAX_WRITER_FLUSH_INTERVAL_MS}, got {}",
                    self.writer_flush_interval_ms
                ),
            ));
        }
        if let Some(days) = self.retention_days {
            positive_days("retentionDays", days)?;
        }
        Ok(())
    }
}

impl IsolationForestConfig {
    fn validate(&self) -> Result<()> {
        self.forest_params()
            .validate()
            .map_err(|e| invalid("isolationForest", e))?;
        let c = self.contamination;
        if !(c.is_finite() && c > 0.0 && c < 0.5) {
            return Err(invalid(
                "isolationForest.contamination",
                format!("must be in (0, 0.5), got {c}"),
            ));
        }
        Ok(())
    }
}

impl AutoencoderConfig {
    fn validate(&self) -> Result<()> {
        if let Some(dim) = self.input_dim {
            if dim != N_FEATURES {
                return Err(invalid(
                    "autoencoder.inputDim",
                    format!("must be {N_FEATURES} (the number of behavioral features), got {dim}"),
                ));
            }
        }
        self.params
            .validate()
            .map_err(|e| invalid("autoencoder", e))
    }
}

impl PredictionConfig {
    fn validate(&self) -> Result<()> {
        self.ensemble_weight
            .normalized()
            .map_err(|e| invalid("prediction.ensembleWeight", e))?;
        self.policy()
            .validate()
            .map_err(|e| invalid("prediction", e))?;
        in_range("prediction.topFeatures", self.top_features, 1..=N_FEATURES)?;
        let m = self.enforce_min_confidence;
        if !(m.is_finite() && (0.0..=1.0).contains(&m)) {
            return Err(invalid(
                "prediction.enforceMinConfidence",
                format!("must be in [0, 1], got {m}"),
            ));
        }
        self.decision
            .validate()
            .map_err(|e| invalid("prediction.decision", e))?;
        let l = &self.learning;
        if !(l.min_days.is_finite() && (0.0..=3650.0).contains(&l.min_days)) {
            return Err(invalid(
                "prediction.learning.minDays",
                format!("must be a number of days in [0, 3650], got {}", l.min_days),
            ));
        }
        in_range("prediction.learning.minUsers", l.min_users, 0..=10_000_000)?;
        in_range(
            "prediction.learning.minSessions",
            l.min_sessions,
            0..=100_000_000,
        )?;
        Ok(())
    }
}

impl RetrainingConfig {
    /// `drift` is the configuration's drift block: the drift window must hold the rows a
    /// check needs.
    fn validate(&self, drift: &DriftConfig) -> Result<()> {
        if self.min_samples_for_training < MIN_TRAINING_SAMPLES {
            return Err(invalid(
                "retraining.minSamplesForTraining",
                format!(
                    "must be at least {MIN_TRAINING_SAMPLES}, got {}",
                    self.min_samples_for_training
                ),
            ));
        }
        if self.max_training_samples < self.min_samples_for_training
            || self.max_training_samples > 10_000_000
        {
            return Err(invalid(
                "retraining.maxTrainingSamples",
                format!(
                    "must be between minSamplesForTraining ({}) and 10,000,000, got {}",
                    self.min_samples_for_training, self.max_training_samples
                ),
            ));
        }
        let s = self.max_entity_share;
        if !(s > 0.0 && s <= 1.0) {
            return Err(invalid(
                "retraining.maxEntityShare",
                format!("must be in (0, 1], got {s}"),
            ));
        }
        let t = self.hourly_retrain_threshold;
        if !(t.is_finite() && t >= 0.0) {
            return Err(invalid(
                "retraining.hourlyRetrainThreshold",
                format!("must be a non-negative number, got {t}"),
            ));
        }
        positive_days("retraining.modelWindowDays", self.model_window_days)?;
        positive_ms(
            "retraining.driftCheckIntervalMs",
            self.drift_check_interval_ms,
        )?;
        positive_ms(
            "retraining.forcedRetrainIntervalMs",
            self.forced_retrain_interval_ms,
        )?;
        if self.drift_window < drift.min_current_rows || self.drift_window > 1_000_000 {
            return Err(invalid(
                "retraining.driftWindow",
                format!(
                    "must be between drift.minCurrentRows ({}) and 1,000,000, got {}",
                    drift.min_current_rows, self.drift_window
                ),
            ));
        }
        Ok(())
    }
}

impl MaintenanceConfig {
    fn validate(&self) -> Result<()> {
        positive_ms("maintenance.pruneIntervalMs", self.prune_interval_ms)?;
        positive_ms("maintenance.snapshotIntervalMs", self.snapshot_interval_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_field_is_named() {
        type Mutation = Box<dyn Fn(&mut EngineConfig)>;
        let cases: Vec<(&str, Mutation)> = vec![
            (
                "isolationForest",
                Box::new(|c| c.isolation_forest.n_trees = 0),
            ),
            (
                "isolationForest.contamination",
                Box::new(|c| c.isolation_forest.contamination = 0.7),
            ),
            (
                "autoencoder.inputDim",
                Box::new(|c| c.autoencoder.input_dim = Some(53)),
            ),
            (
                "autoencoder",
                Box::new(|c| c.autoencoder.params.batch_size = 0),
            ),
            (
                "prediction.ensembleWeight",
                Box::new(|c| c.prediction.ensemble_weight.autoencoder = -1.0),
            ),
            ("prediction", Box::new(|c| c.prediction.challenge = 0.95)),
            (
                "prediction.topFeatures",
                Box::new(|c| c.prediction.top_features = 0),
            ),
            (
                "retraining.minSamplesForTraining",
                Box::new(|c| c.retraining.min_samples_for_training = 3),
            ),
            (
                "retraining.maxTrainingSamples",
                Box::new(|c| c.retraining.max_training_samples = 10),
            ),
            (
                "retraining.modelWindowDays",
                Box::new(|c| c.retraining.model_window_days = f64::NAN),
            ),
            (
                "retraining.driftCheckIntervalMs",
                Box::new(|c| c.retraining.drift_check_interval_ms = 0),
            ),
            (
                "retraining.driftWindow",
                Box::new(|c| c.retraining.drift_window = 5),
            ),
            ("state", Box::new(|c| c.state.max_sessions = 0)),
            ("storePath", Box::new(|c| c.store_path = " ".into())),
            (
                "writerQueueCapacity",
                Box::new(|c| c.writer_queue_capacity = 0),
            ),
            ("writerBatchSize", Box::new(|c| c.writer_batch_size = 0)),
            (
                "writerFlushIntervalMs",
                Box::new(|c| c.writer_flush_interval_ms = 1001),
            ),
            ("retentionDays", Box::new(|c| c.retention_days = Some(-1.0))),
        ];
        for (field, mutate) in cases {
            let mut c = EngineConfig::default();
            mutate(&mut c);
            match c.validate() {
                Err(EngineError::InvalidConfig(m)) => {
                    assert!(m.starts_with(&format!("{field}:")), "{field}: got {m}")
                }
                other => panic!("{field}: expected InvalidConfig, got {other:?}"),
            }
        }
        assert!(matches!(
            EngineConfig::from_json("{\"seed\": \"x\"}"),
            Err(EngineError::InvalidConfig(_))
        ));
    }
}
