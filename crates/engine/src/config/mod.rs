//! Configuration of the engine, in the shape of the original service's configuration.
//!
//! JSON field names are the original's (`isolationForest.nTrees`, `retraining.modelWindowDays`,
//! `prediction.ensembleWeight`...), every field has a default, and any subset may be given, so a
//! host that configured the JavaScript service can pass the same object. Fields the original did
//! not have (schedules, reservoir cap, store, seed) are additions with defaults that reproduce
//! its behaviour. [`EngineConfig::validate`] names the first bad field; [`EngineConfig::train_config`]
//! translates to the core's [`TrainConfig`].

use anomaly_core::autoencoder::AutoencoderParams;
use anomaly_core::bundle::TrainConfig;
use anomaly_core::calibration::CalibrationConfig;
use anomaly_core::decision::DecisionConfig;
use anomaly_core::drift::DriftConfig;
use anomaly_core::ensemble::{EnsembleConfig, EnsembleWeights};
use anomaly_core::features::StateConfig;
use anomaly_core::forest::{ForestParams, MaxDepth};
use anomaly_core::policy::ActionPolicy;
use serde::{Deserialize, Serialize};

mod validate;

use crate::error::{EngineError, Result};
use crate::store::WriterSettings;
use crate::time::days_to_ms;
pub use crate::time::{MS_PER_DAY, MS_PER_HOUR};

/// Kept here for callers of `config::MEMORY_STORE`; the store owns what the path means.
pub use crate::store::MEMORY_STORE;

/// Isolation Forest settings (the original's `isolationForest` block).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IsolationForestConfig {
    pub n_trees: usize,
    pub sample_size: usize,
    /// A number, or `"auto"` for scikit-learn's `ceil(log2(sampleSize))`.
    pub max_tree_depth: MaxDepth,
    /// Expected fraction of anomalies in the training data; sets the calibrated alarm rate.
    pub contamination: f64,
}

impl IsolationForestConfig {
    /// The core's forest parameters of this block.
    pub fn forest_params(&self) -> ForestParams {
        ForestParams {
            n_trees: self.n_trees,
            sample_size: self.sample_size,
            max_depth: self.max_tree_depth,
        }
    }
}

impl Default for IsolationForestConfig {
    fn default() -> Self {
        IsolationForestConfig {
            n_trees: 100,
            sample_size: 256,
            max_tree_depth: MaxDepth::Limit(12),
            contamination: 0.05,
        }
    }
}

/// Autoencoder settings (the original's `autoencoder` block): the core's
/// [`AutoencoderParams`] as they are (`encodingDim`, `learningRate`, `epochs`, `batchSize`,
/// `validationSplit`, `patience`, `minDelta`), beside the original's `inputDim`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AutoencoderConfig {
    /// Accepted for compatibility; must be 59 (the width of the feature vector) when given.
    pub input_dim: Option<usize>,
    /// The training parameters, in the same JSON object.
    #[serde(flatten)]
    pub params: AutoencoderParams,
}

/// When and on what to (re)train (the original's `retraining` block plus the schedules).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RetrainingConfig {
    /// A training needs at least this many vectors in the window (1000).
    pub min_samples_for_training: usize,
    /// Retrain when the drift composite exceeds this (0.15).
    pub hourly_retrain_threshold: f64,
    /// Retrain every `forcedRetrainIntervalMs` regardless of drift (true).
    pub daily_retrain_forced: bool,
    /// Train on the vectors of the last this many days (30).
    pub model_window_days: f64,
    /// Check drift every this many ms (1 hour).
    pub drift_check_interval_ms: i64,
    /// Whether the drift check runs at all (true).
    pub drift_check_enabled: bool,
    /// Forced retrain period (1 day).
    pub forced_retrain_interval_ms: i64,
    /// Train the first model automatically, off the request path, once the window holds
    /// `minSamplesForTraining` vectors (true).
    pub auto_train: bool,
    /// Cap of the training window (a reservoir sample of the window's vectors; 50,000).
    pub max_training_samples: usize,
    /// Number of recent scored vectors the drift check compares with the model's reference (5000).
    pub drift_window: usize,
    /// Inactive model versions kept beyond the active one; older ones are pruned (30).
    pub keep_model_versions: usize,
    /// Largest share of the training window one user, session or source address may hold
    /// (0.02): no single account can make its traffic the model's idea of normal.
    pub max_entity_share: f64,
}

impl RetrainingConfig {
    /// Slots of the training window one user, session or source may hold.
    pub fn max_entity_rows(&self) -> usize {
        (self.max_entity_share * self.max_training_samples as f64).ceil() as usize
    }
}

impl Default for RetrainingConfig {
    fn default() -> Self {
        RetrainingConfig {
            min_samples_for_training: 1000,
            hourly_retrain_threshold: 0.15,
            daily_retrain_forced: true,
            model_window_days: 30.0,
            drift_check_interval_ms: MS_PER_HOUR,
            drift_check_enabled: true,
            forced_retrain_interval_ms: MS_PER_DAY,
            auto_train: true,
            max_training_samples: 50_000,
            drift_window: 5000,
            keep_model_versions: 30,
            max_entity_share: 0.02,
        }
    }
}

/// How a score becomes a decision (the original's `prediction` block plus the action ladder).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PredictionConfig {
    pub ensemble_weight: EnsembleWeights,
    /// `isAnomaly` when the composite is strictly above this (0.65).
    pub anomaly_threshold: f64,
    /// `CHALLENGE` from this decision score (0.70). With a model fitted on sessions the
    /// decision score is the evidence of [`anomaly_core::decision`], whose fitted friction
    /// budget lands on these thresholds; a model without one judges the composite.
    pub challenge: f64,
    /// `REQUIRE_2FA` from this decision score (0.80).
    pub require2fa: f64,
    /// `BLOCK` from this decision score (0.90).
    pub block: f64,
    /// Features listed in a prediction's explanation (5).
    pub top_features: usize,
    /// A request whose confidence is at most this (0.8) does not act on its own evidence: its
    /// action comes from the evidence of the requests before it (the original's rule, that one
    /// uncertain judgement only monitors, kept where evidence accumulates). Part of
    /// [`crate::PredictionOutcome::enforced_action`] and the stored `actionTaken`.
    pub enforce_min_confidence: f64,
    /// Store the explanation of every prediction, not only of anomalies (false). Explanations
    /// not stored are recomputed exactly on read from the stored features and model version.
    pub store_all_explanations: bool,
    /// The decision layer: friction budget, evidence, feedback ([`DecisionConfig`]).
    pub decision: DecisionConfig,
    /// When a model is too young to act ([`LearningConfig`]).
    pub learning: LearningConfig,
}

/// Learning mode: until the traffic a model was trained on covers enough days, users and
/// sessions, the model scores and records but enforces nothing above MONITOR (and says so). A
/// model trained on a day of forty users flags most of what it has not seen yet; friction from
/// it is noise. The automatic first training waits for the same coverage, and a model trained
/// before it (an explicit `trainModels()`) graduates by itself: once the window reaches the
/// coverage, the next maintenance retrains.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LearningConfig {
    /// Days between the oldest and the newest training request (7).
    pub min_days: f64,
    /// Distinct users in the training requests (50).
    pub min_users: usize,
    /// Distinct sessions in the training requests (0: no condition).
    pub min_sessions: usize,
}

impl LearningConfig {
    /// Whether traffic spanning `days` with `users` and `sessions` distinct is enough to act on.
    pub fn covered(&self, days: f64, users: usize, sessions: usize) -> bool {
        days >= self.min_days && users >= self.min_users && sessions >= self.min_sessions
    }
}

impl Default for LearningConfig {
    fn default() -> Self {
        LearningConfig {
            min_days: 7.0,
            min_users: 50,
            min_sessions: 0,
        }
    }
}

impl PredictionConfig {
    /// The action ladder of these thresholds.
    pub fn policy(&self) -> ActionPolicy {
        ActionPolicy {
            anomaly_threshold: self.anomaly_threshold,
            challenge: self.challenge,
            require_2fa: self.require2fa,
            block: self.block,
        }
    }
}

impl Default for PredictionConfig {
    fn default() -> Self {
        let p = ActionPolicy::default();
        PredictionConfig {
            ensemble_weight: EnsembleWeights::default(),
            anomaly_threshold: p.anomaly_threshold,
            challenge: p.challenge,
            require2fa: p.require_2fa,
            block: p.block,
            top_features: 5,
            enforce_min_confidence: 0.8,
            store_all_explanations: false,
            decision: DecisionConfig::default(),
            learning: LearningConfig::default(),
        }
    }
}

/// Periodic housekeeping done by [`crate::Engine::maintenance`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MaintenanceConfig {
    /// Prune records older than the retention window at most this often (1 hour).
    pub prune_interval_ms: i64,
    /// Save the behavioral state (sessions and users) at most this often (10 minutes); it is
    /// also saved by `close()`. Saving takes the state lock for 64 sessions or users at a time
    /// (at most about 0.6 ms per step), so a request arriving meanwhile waits for one step; the
    /// interval trades those steps' work against how much behavioral history a crash loses.
    pub snapshot_interval_ms: i64,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        MaintenanceConfig {
            prune_interval_ms: MS_PER_HOUR,
            snapshot_interval_ms: 10 * 60_000,
        }
    }
}

/// The whole configuration. `Default` is the original's configuration with a store file
/// `ml-anomaly.sqlite` in the working directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EngineConfig {
    pub isolation_forest: IsolationForestConfig,
    pub autoencoder: AutoencoderConfig,
    pub retraining: RetrainingConfig,
    pub prediction: PredictionConfig,
    /// Drift assessment details (bins, term weights, minimum rows); its `threshold` is replaced
    /// by `retraining.hourlyRetrainThreshold`.
    pub drift: DriftConfig,
    /// Behavioral state: caps on tracked sessions and users, idle expiry, calendar.
    pub state: StateConfig,
    pub maintenance: MaintenanceConfig,
    /// SQLite file of the store, or `":memory:"` for a store that lives as long as the engine.
    pub store_path: String,
    /// Seed of every training (version `v` trains with a seed derived from this and `v`) and
    /// of the reservoir sampling.
    pub seed: u64,
    /// Records the writer thread may have queued; beyond it records are dropped and counted
    /// (the request path never waits for the disk).
    pub writer_queue_capacity: usize,
    /// Most records committed in one transaction.
    pub writer_batch_size: usize,
    /// Group commit: after the first record of a batch the writer keeps collecting for this
    /// many milliseconds (or until `writerBatchSize` records) and commits them in one
    /// transaction (10). Queries, `flush()` and `close()` commit at once and never wait for it.
    /// It bounds what a crash of the process can lose beyond what was still queued: the
    /// records of the last interval. 0 commits whatever is queued as soon as the writer sees
    /// it, which under light load means one transaction and one thread wake-up per request.
    pub writer_flush_interval_ms: u64,
    /// Prediction records older than this many days are pruned; `null`: `modelWindowDays`.
    pub retention_days: Option<f64>,
}

/// Smallest accepted `minSamplesForTraining`: the core refuses fewer than 10 rows, and the
/// autoencoder's validation split needs a handful more to mean anything.
pub const MIN_TRAINING_SAMPLES: usize = 20;

/// Default `writerFlushIntervalMs` (why: [`crate::store`]; the measurements behind it:
/// docs/benchmarks.md, "Group commit").
pub const DEFAULT_WRITER_FLUSH_INTERVAL_MS: u64 = 10;

/// Largest accepted `writerFlushIntervalMs`: beyond a second the durability window grows with
/// no throughput left to gain (a batch of one second is already thousands of records).
pub const MAX_WRITER_FLUSH_INTERVAL_MS: u64 = 1000;

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            isolation_forest: IsolationForestConfig::default(),
            autoencoder: AutoencoderConfig::default(),
            retraining: RetrainingConfig::default(),
            prediction: PredictionConfig::default(),
            drift: DriftConfig::default(),
            state: StateConfig::default(),
            maintenance: MaintenanceConfig::default(),
            store_path: "ml-anomaly.sqlite".into(),
            seed: 0x6d6c_2d61_6e6f_6d61, // "ml-anoma"
            writer_queue_capacity: 10_000,
            writer_batch_size: 512,
            writer_flush_interval_ms: DEFAULT_WRITER_FLUSH_INTERVAL_MS,
            retention_days: None,
        }
    }
}

impl EngineConfig {
    /// Parses a JSON configuration (any subset of the fields) and validates it.
    pub fn from_json(text: &str) -> Result<Self> {
        let config: EngineConfig =
            serde_json::from_str(text).map_err(|e| EngineError::InvalidConfig(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// A configuration with the store in memory (tests, demos).
    pub fn in_memory() -> Self {
        EngineConfig {
            store_path: MEMORY_STORE.into(),
            ..EngineConfig::default()
        }
    }

    /// Whether the store lives in memory.
    pub fn is_memory_store(&self) -> bool {
        self.store_path == MEMORY_STORE
    }

    /// Days of prediction records kept.
    pub fn retention_days(&self) -> f64 {
        self.retention_days
            .unwrap_or(self.retraining.model_window_days)
    }

    /// The training window in ms.
    pub fn model_window_ms(&self) -> i64 {
        days_to_ms(self.retraining.model_window_days)
    }

    /// The retention window in ms.
    pub fn retention_ms(&self) -> i64 {
        days_to_ms(self.retention_days())
    }

    /// How the store writer queues and commits.
    pub fn writer_settings(&self) -> WriterSettings {
        WriterSettings {
            queue_capacity: self.writer_queue_capacity,
            batch_size: self.writer_batch_size,
            flush_interval: std::time::Duration::from_millis(self.writer_flush_interval_ms),
        }
    }

    /// The action ladder.
    pub fn policy(&self) -> ActionPolicy {
        self.prediction.policy()
    }

    /// Drift settings with the retrain threshold applied.
    pub fn drift_config(&self) -> DriftConfig {
        DriftConfig {
            threshold: self.retraining.hourly_retrain_threshold,
            ..self.drift.clone()
        }
    }

    /// The core's training configuration.
    pub fn train_config(&self) -> TrainConfig {
        TrainConfig {
            isolation_forest: self.isolation_forest.forest_params(),
            autoencoder: self.autoencoder.params.clone(),
            contamination: self.isolation_forest.contamination,
            ensemble: EnsembleConfig {
                weights: self.prediction.ensemble_weight.clone(),
                policy: self.policy(),
            },
            calibration: CalibrationConfig::default(),
            drift: self.drift_config(),
            feature_names: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_originals_and_valid() {
        let c = EngineConfig::default();
        c.validate().unwrap();
        let t = c.train_config();
        assert_eq!(t.isolation_forest.n_trees, 100);
        assert_eq!(t.isolation_forest.sample_size, 256);
        assert_eq!(t.isolation_forest.max_depth, MaxDepth::Limit(12));
        assert_eq!(t.contamination, 0.05);
        assert_eq!(t.autoencoder.encoding_dim, 16);
        assert_eq!(t.autoencoder.epochs, 50);
        assert_eq!(t.autoencoder.batch_size, 32);
        assert_eq!(t.ensemble.weights.isolation_forest, 0.6);
        assert_eq!(t.ensemble.policy.anomaly_threshold, 0.65);
        assert_eq!(t.drift.threshold, 0.15);
        assert_eq!(c.retraining.min_samples_for_training, 1000);
        assert_eq!(c.model_window_ms(), 30 * MS_PER_DAY);
        assert_eq!(c.retention_ms(), 30 * MS_PER_DAY);
    }

    #[test]
    fn original_json_shape_is_accepted_and_translated() {
        let json = r#"{
            "isolationForest": { "nTrees": 20, "sampleSize": 128, "maxTreeDepth": "auto", "contamination": 0.1 },
            "autoencoder": { "inputDim": 59, "encodingDim": 8, "epochs": 5, "patience": null },
            "retraining": { "minSamplesForTraining": 200, "hourlyRetrainThreshold": 0.2, "modelWindowDays": 7 },
            "prediction": { "ensembleWeight": { "isolationForest": 0.5, "autoencoder": 0.5 }, "anomalyThreshold": 0.6 },
            "storePath": ":memory:", "retentionDays": 3
        }"#;
        let c = EngineConfig::from_json(json).unwrap();
        let t = c.train_config();
        assert_eq!(t.isolation_forest.n_trees, 20);
        assert_eq!(t.isolation_forest.max_depth, MaxDepth::Auto);
        assert_eq!(t.contamination, 0.1);
        assert_eq!(t.autoencoder.encoding_dim, 8);
        assert_eq!(t.autoencoder.patience, None);
        assert_eq!(t.drift.threshold, 0.2);
        assert_eq!(t.ensemble.policy.anomaly_threshold, 0.6);
        assert!(
            c.retraining.auto_train,
            "unspecified fields keep their defaults"
        );
        assert!(c.is_memory_store());
        assert_eq!(c.retention_ms(), 3 * MS_PER_DAY);
        assert_eq!(c.model_window_ms(), 7 * MS_PER_DAY);
    }

    /// The original's `autoencoder` block parses to the core's parameters, and the block's JSON
    /// keeps its keys.
    #[test]
    fn autoencoder_block_keeps_its_json_shape() {
        let json = r#"{ "autoencoder": { "inputDim": 59, "encodingDim": 8, "learningRate": 0.01,
            "epochs": 5, "batchSize": 16, "validationSplit": 0.1, "patience": null } }"#;
        let c = EngineConfig::from_json(json).unwrap();
        assert_eq!(
            c.train_config().autoencoder,
            AutoencoderParams {
                encoding_dim: 8,
                learning_rate: 0.01,
                epochs: 5,
                batch_size: 16,
                validation_split: 0.1,
                patience: None,
                min_delta: 0.0,
            }
        );
        assert_eq!(
            serde_json::to_value(&EngineConfig::default().autoencoder).unwrap(),
            serde_json::json!({
                "inputDim": null, "encodingDim": 16, "learningRate": 0.001, "epochs": 50,
                "batchSize": 32, "validationSplit": 0.2, "patience": 5, "minDelta": 0.0
            }),
            "the original's keys, and the core's minDelta beside them"
        );
        let partial = EngineConfig::from_json(r#"{ "autoencoder": { "epochs": 7 } }"#).unwrap();
        assert_eq!(
            partial.train_config().autoencoder,
            AutoencoderParams {
                epochs: 7,
                ..AutoencoderParams::default()
            },
            "unspecified fields keep the core's defaults"
        );
    }

    #[test]
    fn writer_settings_come_from_the_writer_fields() {
        let c = EngineConfig::default();
        assert_eq!(
            c.writer_settings().flush_interval,
            std::time::Duration::from_millis(DEFAULT_WRITER_FLUSH_INTERVAL_MS)
        );
        let json =
            r#"{ "writerQueueCapacity": 77, "writerBatchSize": 9, "writerFlushIntervalMs": 0 }"#;
        let c = EngineConfig::from_json(json).unwrap();
        assert_eq!(
            c.writer_settings(),
            WriterSettings {
                queue_capacity: 77,
                batch_size: 9,
                flush_interval: std::time::Duration::ZERO,
            }
        );
        let c = EngineConfig::from_json(r#"{ "writerFlushIntervalMs": 1000 }"#).unwrap();
        assert_eq!(
            c.writer_settings().flush_interval,
            std::time::Duration::from_secs(1)
        );
    }
}
