//! Training a bundle: scaler → forest → autoencoder → calibration → baselines → drift reference.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::{Baseline, ModelBundle, TrainingMetrics, SCHEMA_VERSION};
use crate::autoencoder::{Autoencoder, AutoencoderParams, EpochProgress};
use crate::calibration::{Calibration, CalibrationConfig};
use crate::drift::{DriftConfig, DriftReference};
use crate::ensemble::EnsembleConfig;
use crate::error::{CoreError, Result};
use crate::features::names::{FEATURE_NAMES, N_FEATURES};
use crate::forest::{ForestParams, IsolationForest};
use crate::scaler::RobustScaler;

/// Everything a training run needs besides the data and the seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrainConfig {
    pub isolation_forest: ForestParams,
    pub autoencoder: AutoencoderParams,
    /// Expected fraction of anomalies in the training data: sets the alarm rate (0.05).
    pub contamination: f64,
    pub ensemble: EnsembleConfig,
    pub calibration: CalibrationConfig,
    pub drift: DriftConfig,
    /// Names of the columns; `None`: the 59 behavioral features when there are 59 columns,
    /// otherwise `x0, x1, ...`.
    pub feature_names: Option<Vec<String>>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            isolation_forest: ForestParams::default(),
            autoencoder: AutoencoderParams::default(),
            contamination: 0.05,
            ensemble: EnsembleConfig::default(),
            calibration: CalibrationConfig::default(),
            drift: DriftConfig::default(),
            feature_names: None,
        }
    }
}

/// Where a training run is; reported through the callback of [`ModelBundle::train_with_progress`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "camelCase")]
pub enum TrainingProgress {
    Scaling,
    IsolationForest,
    #[serde(rename_all = "camelCase")]
    Autoencoder {
        epoch: usize,
        epochs: usize,
        train_loss: f64,
        validation_loss: f64,
    },
    Calibration,
    DriftReference,
    Done,
}

/// Minimum number of rows a bundle can be trained on (the autoencoder needs a validation split).
pub const MIN_TRAINING_ROWS: usize = 10;

/// Seed offset of the autoencoder, so that its random streams never coincide with the forest's.
const AUTOENCODER_SEED_OFFSET: u64 = 0x9E37_79B9_7F4A_7C15;

impl ModelBundle {
    /// Trains a bundle on `data` (rows × features).
    pub fn train(data: ArrayView2<f64>, config: &TrainConfig, seed: u64) -> Result<Self> {
        Self::train_with_progress(data, config, seed, &mut |_| {})
    }

    /// Trains a bundle, reporting each phase and autoencoder epoch to `progress`.
    pub fn train_with_progress(
        data: ArrayView2<f64>,
        config: &TrainConfig,
        seed: u64,
        progress: &mut dyn FnMut(&TrainingProgress),
    ) -> Result<Self> {
        Self::train_split(data, None, config, seed, progress)
    }

    /// Trains the scaler, forest and autoencoder on `data` and, when `reference` is given,
    /// calibrates the scores and captures the drift reference on `data` and `reference`
    /// together.
    ///
    /// Why two sets: the engine keeps suspected requests (anomalies) out of what the models
    /// learn, so that an attacker cannot teach them his attack; but the calibration must still
    /// see the traffic as it is, suspected requests included. Calibrated on the clean rows
    /// only, each retrain would put `contamination` of the *remaining* rows above the
    /// threshold, quarantine them, and the next retrain would tighten again: a ratchet.
    pub fn train_split(
        data: ArrayView2<f64>,
        reference: Option<ArrayView2<f64>>,
        config: &TrainConfig,
        seed: u64,
        progress: &mut dyn FnMut(&TrainingProgress),
    ) -> Result<Self> {
        let (rows, cols) = data.dim();
        if let Some(r) = &reference {
            if r.ncols() != cols {
                return Err(CoreError::InvalidParameter {
                    name: "reference",
                    reason: format!("{} columns, the training data has {cols}", r.ncols()),
                });
            }
            if let Some((index, value)) = r.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(CoreError::NonFinite {
                    what: "calibration reference",
                    index,
                    value: *value,
                });
            }
        }
        if rows < MIN_TRAINING_ROWS {
            return Err(CoreError::NotEnoughData {
                what: "training",
                needed: MIN_TRAINING_ROWS,
                actual: rows,
            });
        }
        let feature_names = resolve_names(config.feature_names.as_ref(), cols)?;
        config.ensemble.validate()?;
        if let Some((index, value)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(CoreError::NonFinite {
                what: "training data",
                index,
                value: *value,
            });
        }

        progress(&TrainingProgress::Scaling);
        let scaler = RobustScaler::fit(data)?;
        let scaled = scaler.transform(data);

        progress(&TrainingProgress::IsolationForest);
        let forest = IsolationForest::fit(data, &config.isolation_forest, seed)?;

        let autoencoder = Autoencoder::fit(
            scaled.view(),
            &config.autoencoder,
            seed.wrapping_add(AUTOENCODER_SEED_OFFSET),
            &mut |p: &EpochProgress| {
                progress(&TrainingProgress::Autoencoder {
                    epoch: p.epoch,
                    epochs: p.epochs,
                    train_loss: p.train_loss,
                    validation_loss: p.val_loss,
                })
            },
        )?;

        progress(&TrainingProgress::Calibration);
        let mut forest_raw = forest.score_batch(data);
        let mut autoencoder_raw = autoencoder.reconstruction_error_batch(scaled.view());
        let combined = match reference {
            Some(r) if r.nrows() > 0 => {
                forest_raw.extend(forest.score_batch(r));
                autoencoder_raw
                    .extend(autoencoder.reconstruction_error_batch(scaler.transform(r).view()));
                Some(
                    ndarray::concatenate(ndarray::Axis(0), &[data.view(), r.view()]).map_err(
                        |e| CoreError::InvalidParameter {
                            name: "reference",
                            reason: e.to_string(),
                        },
                    )?,
                )
            }
            _ => None,
        };
        let all = match &combined {
            Some(c) => c.view(),
            None => data.view(),
        };
        let calibration = Calibration::fit(
            &forest_raw,
            &autoencoder_raw,
            &config.ensemble.weights,
            config.ensemble.policy.anomaly_threshold,
            config.contamination,
            &config.calibration,
        )?;

        let mut scratch = autoencoder.scratch();
        let mut squared = vec![0.0; cols];
        let mut residual = vec![0.0; cols];
        let mut feature_errors = vec![0.0; cols];
        for row in scaled.rows() {
            let row = row.to_slice().ok_or_else(|| CoreError::InvalidParameter {
                name: "data",
                reason: "scaled rows must be contiguous".into(),
            })?;
            autoencoder.feature_errors(row, &mut scratch, &mut squared, &mut residual);
            for (acc, e) in feature_errors.iter_mut().zip(&squared) {
                *acc += e;
            }
        }
        feature_errors.iter_mut().for_each(|e| *e /= rows as f64);
        let forest_path_length = forest.expected_path_length();
        let autoencoder_error: f64 = feature_errors.iter().sum();
        let baseline_composite = super::baseline_composite(
            &calibration,
            &forest,
            forest_path_length,
            autoencoder_error,
            &config.ensemble,
        )?;

        progress(&TrainingProgress::DriftReference);
        let (wf, wa) = config.ensemble.weights.normalized()?;
        let composite: Vec<f64> = forest_raw
            .iter()
            .zip(&autoencoder_raw)
            .map(|(&f, &a)| {
                wf * calibration.forest_score(f) + wa * calibration.autoencoder_score(a)
            })
            .collect();
        let drift_reference = DriftReference::capture(all, &composite, &config.drift)?;

        let history = autoencoder.history();
        let training = TrainingMetrics {
            training_size: rows,
            features: cols,
            seed,
            isolation_forest: config.isolation_forest.clone(),
            autoencoder: config.autoencoder.clone(),
            autoencoder_epochs_run: history.train_loss.len(),
            autoencoder_best_validation_loss: history
                .val_loss
                .get(history.best_epoch)
                .copied()
                .unwrap_or(f64::NAN),
            contamination: config.contamination,
            training_alarm_rate: calibration.training_alarm_rate,
            mean_composite: composite.iter().sum::<f64>() / composite.len() as f64,
            training_duration_ms: None,
            trained_at: None,
            data_window_days: None,
        };
        let bundle = ModelBundle {
            format: super::FORMAT_NAME.to_string(),
            schema_version: SCHEMA_VERSION,
            feature_names,
            scaler,
            isolation_forest: forest,
            autoencoder,
            calibration,
            ensemble: config.ensemble.clone(),
            baseline: Baseline {
                forest_path_length,
                autoencoder_feature_errors: feature_errors,
                autoencoder_error,
                composite: baseline_composite,
            },
            training,
            drift_reference,
            drift_config: config.drift.clone(),
            calibration_config: config.calibration.clone(),
            decision: None,
        };
        progress(&TrainingProgress::Done);
        Ok(bundle)
    }
}

fn resolve_names(names: Option<&Vec<String>>, cols: usize) -> Result<Vec<String>> {
    match names {
        Some(names) if names.len() != cols => Err(CoreError::DimensionMismatch {
            expected: names.len(),
            actual: cols,
        }),
        Some(names) => Ok(names.clone()),
        None if cols == N_FEATURES => Ok(FEATURE_NAMES.iter().map(|s| s.to_string()).collect()),
        None => Ok((0..cols).map(|i| format!("x{i}")).collect()),
    }
}
