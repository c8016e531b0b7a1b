//! The model bundle: one versioned, self-describing value holding everything needed to score
//! and explain a vector — feature names, scaler, forest, autoencoder, calibration, thresholds,
//! baselines, training metrics and the drift reference.
//!
//! ## Why one value
//! A model is only meaningful together with the scaling it was trained with, the calibration
//! that makes its scores comparable, and the reference distribution drift is measured against.
//! Keeping them in one value means the engine swaps models atomically, storage persists them as
//! one blob, and the browser recomputes a server-side prediction from exactly what the server
//! used.
//!
//! ## Two encodings
//! - JSON ([`ModelBundle::to_json`]): what the API serves and the browser reads; camelCase
//!   fields, `format` and `schemaVersion` first. Numbers round-trip exactly (shortest
//!   representation), so a bundle read from JSON scores bit-identically.
//! - Binary ([`ModelBundle::to_bytes`]): what storage keeps: the magic `MLAB`, the schema version
//!   as a little-endian `u32`, then the bundle in postcard's compact encoding.
//!
//! Loading either form checks the schema version first, then decodes, then
//! [`ModelBundle::validate`]s dimensions, that every number is finite and that no finite input
//! can make a score overflow, so a corrupt, foreign or hostile model is a clear error at load
//! time rather than a wrong score later.

mod codec;
mod limits;
mod predict;
mod train;

use serde::{Deserialize, Serialize};

use crate::autoencoder::{Autoencoder, AutoencoderParams};
use crate::calibration::{Calibration, CalibrationConfig};
use crate::drift::{DriftConfig, DriftReference};
use crate::ensemble::EnsembleConfig;
use crate::error::{CoreError, Result};
use crate::forest::{ForestParams, IsolationForest};
use crate::scaler::RobustScaler;

pub use codec::{BINARY_MAGIC, FORMAT_NAME};
pub use limits::MAX_MAGNITUDE;
pub use predict::{Prediction, Workspace};
pub use train::{TrainConfig, TrainingProgress, MIN_TRAINING_ROWS};

/// Version of the bundle layout this build writes and reads.
pub const SCHEMA_VERSION: u32 = 2;

/// Oldest schema version still read (schema 1 bundles have no decision layer).
pub const OLDEST_SCHEMA_VERSION: u32 = 1;

/// What the contributions of an explanation are measured from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Baseline {
    /// `E[h]`: cover-weighted mean path length of the forest.
    pub forest_path_length: f64,
    /// Mean per-feature squared reconstruction error on the training data.
    pub autoencoder_feature_errors: Vec<f64>,
    /// Mean reconstruction error (MSE) on the training data; the sum of the above.
    pub autoencoder_error: f64,
    /// Composite score of the two baselines: the `base_value` of every attribution.
    pub composite: f64,
}

/// Facts about the training run, kept with the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrainingMetrics {
    pub training_size: usize,
    pub features: usize,
    pub seed: u64,
    pub isolation_forest: ForestParams,
    pub autoencoder: AutoencoderParams,
    /// Epochs actually run by the autoencoder (early stopping may end it before `epochs`).
    pub autoencoder_epochs_run: usize,
    pub autoencoder_best_validation_loss: f64,
    pub contamination: f64,
    /// Fraction of training rows flagged with the final calibration (≈ contamination).
    pub training_alarm_rate: f64,
    /// Mean calibrated composite score on the training data.
    pub mean_composite: f64,
    /// Filled in by the caller, who owns the clock: wall time of the training, in ms.
    pub training_duration_ms: Option<f64>,
    /// Filled in by the caller: when the training happened (ms since epoch).
    pub trained_at: Option<i64>,
    /// Filled in by the caller: the width of the data window the rows came from.
    pub data_window_days: Option<f64>,
}

/// A trained detector with everything needed to score, explain and watch for drift.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelBundle {
    /// Always [`FORMAT_NAME`]: says what this value is.
    pub format: String,
    pub schema_version: u32,
    pub feature_names: Vec<String>,
    pub scaler: RobustScaler,
    pub isolation_forest: IsolationForest,
    pub autoencoder: Autoencoder,
    pub calibration: Calibration,
    pub ensemble: EnsembleConfig,
    pub baseline: Baseline,
    pub training: TrainingMetrics,
    pub drift_reference: DriftReference,
    pub drift_config: DriftConfig,
    /// Settings of the calibration fit (kept so a retrain can reproduce it).
    pub calibration_config: CalibrationConfig,
    /// The decision layer fitted on the training window's sessions (schema 2; `None` for a
    /// bundle trained without sessions, whose actions come from the composite alone).
    #[serde(default)]
    pub decision: Option<crate::decision::DecisionModel>,
}

impl ModelBundle {
    /// Number of features a vector must have.
    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    /// Training medians: the baseline value of each feature shown in explanations.
    pub fn feature_baselines(&self) -> &[f64] {
        self.scaler.center()
    }

    /// The same models under other ensemble settings (weights, action thresholds): what a host
    /// changes at run time. The baseline composite, which depends on the weights, follows, so
    /// contributions still sum to `composite − base value`.
    pub fn with_ensemble(&self, ensemble: EnsembleConfig) -> Result<ModelBundle> {
        ensemble.validate()?;
        let composite = baseline_composite(
            &self.calibration,
            &self.isolation_forest,
            self.baseline.forest_path_length,
            self.baseline.autoencoder_error,
            &ensemble,
        )?;
        let mut bundle = self.clone();
        bundle.ensemble = ensemble;
        bundle.baseline.composite = composite;
        Ok(bundle)
    }

    /// Checks that every part agrees on the number of features, every number is finite and the
    /// settings are in range, and that no finite input can make a score overflow (see
    /// [`MAX_MAGNITUDE`]). Called by both decoders.
    pub fn validate(&self) -> Result<()> {
        let invalid = |m: String| Err(CoreError::InvalidBundle(m));
        if self.format != FORMAT_NAME {
            return invalid(format!(
                "format is {:?}, expected {FORMAT_NAME:?}",
                self.format
            ));
        }
        if !(OLDEST_SCHEMA_VERSION..=SCHEMA_VERSION).contains(&self.schema_version) {
            return Err(CoreError::UnsupportedSchema {
                found: self.schema_version,
                supported: SCHEMA_VERSION,
            });
        }
        let n = self.feature_names.len();
        if n == 0 {
            return invalid("no features".into());
        }
        let widths = [
            ("scaler", self.scaler.n_features()),
            ("isolation forest", self.isolation_forest.n_features()),
            ("autoencoder", self.autoencoder.input_dim()),
            ("baseline", self.baseline.autoencoder_feature_errors.len()),
            ("drift reference", self.drift_reference.n_features()),
        ];
        for (part, width) in widths {
            if width != n {
                return invalid(format!("{part} has {width} features, the bundle names {n}"));
            }
        }
        self.scaler.validate().map_err(in_part("scaler"))?;
        self.isolation_forest
            .validate()
            .map_err(in_part("isolation forest"))?;
        self.autoencoder
            .validate()
            .map_err(in_part("autoencoder"))?;
        self.calibration
            .validate()
            .map_err(in_part("calibration"))?;
        self.ensemble.validate().map_err(in_part("ensemble"))?;
        self.drift_reference
            .validate()
            .map_err(in_part("drift reference"))?;
        if let Some(d) = &self.decision {
            d.validate().map_err(in_part("decision"))?;
        }
        let b = &self.baseline;
        let finite = b.forest_path_length.is_finite()
            && b.autoencoder_error.is_finite()
            && b.composite.is_finite()
            && b.autoencoder_feature_errors.iter().all(|v| v.is_finite());
        if !finite {
            return invalid("baseline has a non-finite value".into());
        }
        limits::check(self)
    }
}

/// Composite score at the baselines (the expected path length and the mean reconstruction error):
/// the base value contributions are measured from.
pub(crate) fn baseline_composite(
    calibration: &Calibration,
    forest: &IsolationForest,
    forest_path_length: f64,
    autoencoder_error: f64,
    ensemble: &EnsembleConfig,
) -> Result<f64> {
    let (wf, wa) = ensemble.weights.normalized()?;
    Ok(
        wf * calibration.forest_score(forest.score_from_path_length(forest_path_length))
            + wa * calibration.autoencoder_score(autoencoder_error),
    )
}

/// Prefixes a component's validation error with the component's name.
fn in_part(part: &'static str) -> impl Fn(CoreError) -> CoreError {
    move |e| match e {
        CoreError::InvalidBundle(m) => CoreError::InvalidBundle(format!("{part}: {m}")),
        other => CoreError::InvalidBundle(format!("{part}: {other}")),
    }
}

#[cfg(test)]
mod tests;
