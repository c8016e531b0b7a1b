//! What the engine's calls return.

use anomaly_core::bundle::{TrainingMetrics, TrainingProgress};
use anomaly_core::drift::{DriftPoint, DriftReport, Trend};
use anomaly_core::ensemble::Scores;
use anomaly_core::explain::{Attribution, AttributionMethod, Explanation};
use anomaly_core::features::DerivedKind;
use anomaly_core::policy::Action;
use serde::{Deserialize, Serialize};

use crate::metrics::MetricsSnapshot;
use crate::records::{ModelInfo, PerformanceAggregates};
use crate::schedule::{Due, ScheduleFlags};

/// The answer to one request (`predictStreaming`), also what is stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PredictionOutcome {
    /// Id of the stored record: increases monotonically, also across restarts.
    pub id: i64,
    pub session_id: String,
    pub user_id: String,
    /// The event's timestamp (ms since the epoch).
    pub timestamp: i64,
    pub is_anomaly: bool,
    /// The composite score (0 for a fallback).
    pub anomaly_score: f64,
    pub confidence: f64,
    /// The recommended action (`ALLOW` for a fallback).
    pub action: Action,
    /// What the standard middleware enforces: the recommended action when the confidence is
    /// above `prediction.enforceMinConfidence`, otherwise `MONITOR` for an anomaly and `ALLOW`
    /// for the rest. Stored as `actionTaken`.
    pub enforced_action: Action,
    /// Every score (`None` for a fallback).
    pub scores: Option<Scores>,
    /// The `prediction.topFeatures` largest contributions of the fast attribution, largest
    /// first, as numbers: what every answer carries (empty for a fallback).
    #[serde(default)]
    pub top_features: Vec<TopFeature>,
    /// The readable explanation (labels, text, summary, confidence factors) of the same
    /// attribution: built for anomalies, and for every scored request when
    /// `prediction.storeAllExplanations` is on; `None` otherwise and for a fallback.
    ///
    /// Why not always: on the request path the text and its allocations cost more than the
    /// attribution itself (docs/benchmarks.md, "The model"), and a normal request's text is
    /// never shown; reading a prediction back recomputes it exactly from the stored features.
    pub explanation: Option<Explanation>,
    /// Version of the model that scored the request (`None` for a fallback). Both of the
    /// original's `modelVersions` are this one version: the two models are trained together.
    pub model_version: Option<u32>,
    /// Time spent in the engine for this request, feature extraction included.
    pub processing_time_us: f64,
    /// True when no model scored the request (none trained yet, or a scoring error).
    pub fallback: bool,
    /// Why a model was available but the request fell back.
    pub error: Option<String>,
    /// The 59 features of the request.
    pub features: Vec<f64>,
    /// Behavioral signals the pipeline derived from this request (e.g. `IMPOSSIBLE_TRAVEL`).
    pub signals: Vec<DerivedKind>,
    /// The decision layer's side of the answer, when the model has one (see
    /// [`DecisionOutcome`]); `None` for a fallback and for a model trained before it existed,
    /// whose answer follows the per-request rule.
    #[serde(default)]
    pub decision: Option<DecisionOutcome>,
}

/// How the decision layer reached an answer's action (docs/models.md, "How a score becomes an
/// action"): the evidence accumulated on the request's user, device or source, the score it
/// maps to, and what was enforced because of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionOutcome {
    /// The decision score in [0, 1]: 0.70, 0.80 and 0.90 are the CHALLENGE, REQUIRE_2FA and
    /// BLOCK thresholds fitted to the friction budget.
    pub score: f64,
    /// The enforceable evidence (nats of surprise beyond what normal traffic shows).
    pub evidence: f64,
    /// The entity whose evidence decided (`user`, `device` or `source`), if any.
    pub entity: Option<String>,
    /// Ids of the earlier requests whose evidence escalated this one, most recent first.
    pub contributors: Vec<i64>,
    /// True while the model is too young to act (it then enforces nothing above MONITOR).
    pub learning: bool,
    /// What `strictMLCheck` denies: the strict budget's threshold was reached.
    pub strict_denied: bool,
    /// The factor a reported false positive of the user applied to this request's surprise
    /// (1 = none).
    pub discount: f64,
}

impl PredictionOutcome {
    /// The answer of a request no model scored: `ALLOW`, scores 0, no explanation and no
    /// signals, with `error` saying why when a model was there.
    pub fn fallback(
        id: i64,
        session_id: String,
        user_id: String,
        timestamp: i64,
        features: Vec<f64>,
        error: Option<String>,
    ) -> Self {
        PredictionOutcome {
            id,
            session_id,
            user_id,
            timestamp,
            is_anomaly: false,
            anomaly_score: 0.0,
            confidence: 0.0,
            action: Action::Allow,
            enforced_action: Action::Allow,
            scores: None,
            top_features: Vec::new(),
            explanation: None,
            model_version: None,
            processing_time_us: 0.0,
            fallback: true,
            error,
            features,
            signals: Vec::new(),
            decision: None,
        }
    }
}

/// One of a request's largest contributions (see [`PredictionOutcome::top_features`]): the
/// numbers of core's `FeatureContribution` without its strings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopFeature {
    /// Index in the feature vector (`anomaly_core::features::FEATURE_NAMES`).
    pub index: u32,
    /// Contribution to the composite score.
    pub contribution: f64,
    /// The feature's value.
    pub value: f64,
    /// Its robust-scaled value.
    pub normalized_value: f64,
}

/// One entry of [`crate::Engine::predict_batch`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchPrediction {
    pub session_id: String,
    pub user_id: String,
    /// Timestamp of the session's latest observed request, if any.
    pub timestamp: Option<i64>,
    pub is_anomaly: bool,
    pub anomaly_score: f64,
    pub confidence: f64,
    pub action: Action,
    pub scores: Option<Scores>,
    pub explanation: Option<Explanation>,
    pub model_version: Option<u32>,
    pub fallback: bool,
    pub error: Option<String>,
}

/// Why a training did not run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "camelCase")]
pub enum SkipReason {
    /// Another training is running.
    AlreadyTraining,
    /// The window holds too few vectors from the last `modelWindowDays`.
    #[serde(rename_all = "camelCase")]
    NotEnoughData { available: usize, required: usize },
}

/// What started a training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TrainReason {
    /// An explicit call (`trainModels(false)`).
    Manual,
    /// An explicit forced call (`trainModels(true)`, `forceRetrain()`).
    Forced,
    /// The first model, once the window had enough vectors.
    Automatic,
    /// The drift check found drift above the threshold.
    Drift,
    /// The periodic forced retrain.
    Scheduled,
    /// A model in learning mode retrained once the window covered enough traffic.
    Graduation,
}

/// The result of [`crate::Engine::train`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum TrainOutcome {
    #[serde(rename_all = "camelCase")]
    Trained {
        version: u32,
        reason: TrainReason,
        /// Vectors the models learned from.
        training_size: usize,
        /// Vectors that were anomalies when offered: they calibrated the scores but taught
        /// nothing (docs/models.md, "What the model learns from").
        quarantined: usize,
        /// Vectors left out: their session met friction, or their user, device or source was
        /// confirmed as an attacker.
        excluded: usize,
        duration_ms: f64,
        metrics: Box<TrainingMetrics>,
    },
    Skipped(SkipReason),
}

impl TrainOutcome {
    /// The original's boolean: true when a model was trained.
    pub fn trained(&self) -> bool {
        matches!(self, TrainOutcome::Trained { .. })
    }

    /// The new version, when trained.
    pub fn version(&self) -> Option<u32> {
        match self {
            TrainOutcome::Trained { version, .. } => Some(*version),
            TrainOutcome::Skipped(_) => None,
        }
    }
}

/// Progress of a training, reported to the callback and kept for `status()`.
///
/// The engine's own phases around the fit (`started`, `persisting`, `finished`, `failed`) and,
/// in between, the core's [`TrainingProgress`] as it is: one owner for the fit's phases and
/// their fields. Both serialize with the `phase` tag (`{"phase": "autoencoder", "epoch": 3,
/// ...}`), so the JSON is one flat object whichever side a phase comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "camelCase")]
pub enum TrainingEvent {
    /// Vectors are copied from the window; the version that will be registered.
    #[serde(rename_all = "camelCase")]
    Started {
        version: u32,
        reason: TrainReason,
        samples: usize,
        started_at: i64,
    },
    /// The model is being stored.
    Persisting,
    /// The new model serves predictions.
    #[serde(rename_all = "camelCase")]
    Finished { version: u32, duration_ms: f64 },
    #[serde(rename_all = "camelCase")]
    Failed { error: String },
    /// A phase of the fit itself (scaling, forest, each autoencoder epoch, calibration, drift
    /// reference), as the core reports it. Never the core's `Done`: the engine follows the fit
    /// with `Persisting` and `Finished`.
    #[serde(untagged)]
    Model(TrainingProgress),
}

impl TrainingEvent {
    /// The engine's event for a core progress report (`None` for the core's `Done`, which the
    /// engine follows with `Persisting` and `Finished`).
    pub fn from_core(p: &TrainingProgress) -> Option<TrainingEvent> {
        match p {
            TrainingProgress::Done => None,
            other => Some(TrainingEvent::Model(other.clone())),
        }
    }
}

/// The latest training, successful or not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastTraining {
    pub reason: TrainReason,
    pub started_at: i64,
    pub duration_ms: f64,
    /// The version registered, when it succeeded.
    pub version: Option<u32>,
    pub error: Option<String>,
}

/// The result of [`crate::Engine::check_drift_and_retrain`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftCheckOutcome {
    pub drift_detected: bool,
    /// The composite drift score (0 when no assessment was possible).
    pub drift_score: f64,
    pub retrained: bool,
    /// The assessment; `None` without a model or with too few scored requests.
    pub report: Option<DriftReport>,
    /// Why no assessment was made, when none was.
    pub skipped: Option<String>,
    /// The retrain the drift triggered, if any.
    pub training: Option<TrainOutcome>,
}

/// The drift detector's state (`/drift/status`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftStatus {
    pub model_version: Option<u32>,
    pub threshold: f64,
    pub last_report: Option<DriftReport>,
    pub last_checked_at: Option<i64>,
    /// Composites of the checks against the active model, oldest first.
    pub history: Vec<DriftPoint>,
    pub trend: Trend,
    /// Scored requests waiting in the drift window.
    pub window_size: usize,
    /// Training rows the active model's drift reference summarises (`None` without a model).
    pub reference_rows: Option<usize>,
}

/// What [`crate::Engine::maintenance`] did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceOutcome {
    /// Another maintenance call was still running; nothing was done.
    pub skipped: bool,
    pub due: Due,
    pub drift: Option<DriftCheckOutcome>,
    pub forced_retrain: Option<TrainOutcome>,
    /// The retrain of a model in learning mode once the window covered enough traffic.
    pub graduation: Option<TrainOutcome>,
    /// Alarms confirmed as attacks for want of a false-positive report
    /// (`decision.feedback.confirmAfterMs`).
    pub confirmed_alarms: usize,
    pub pruned_predictions: usize,
    pub pruned_training_samples: usize,
    pub pruned_models: usize,
    pub expired_sessions: usize,
    pub snapshot_saved: bool,
    /// Errors of individual jobs (the other jobs still ran).
    pub errors: Vec<String>,
}

/// Performance over a period (`getModelPerformance(hours)`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Performance {
    pub hours: f64,
    #[serde(flatten)]
    pub aggregates: PerformanceAggregates,
    pub drift_metrics: DriftMetrics,
}

/// The drift part of [`Performance`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftMetrics {
    pub drift_score: Option<f64>,
    pub is_drifting: bool,
    pub threshold: f64,
    pub trend: Trend,
    pub last_checked_at: Option<i64>,
}

/// A stored prediction's explanation, recomputed on demand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExplainOutcome {
    pub id: i64,
    pub model_version: u32,
    pub method: AttributionMethod,
    pub scores: Scores,
    pub explanation: Explanation,
    /// Every feature's attribution (what the viewer draws).
    pub attribution: Attribution,
}

/// The engine at a glance (`/status`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineStatus {
    pub initialized: bool,
    pub closed: bool,
    pub store_path: String,
    pub active_model: Option<ModelInfo>,
    pub is_retraining: bool,
    /// When the latest successful training started (the original's `lastRetrainingTime`).
    pub last_retraining_time: Option<i64>,
    /// The running training's latest progress.
    pub training_progress: Option<TrainingEvent>,
    pub last_training: Option<LastTraining>,
    pub training_window_size: usize,
    pub training_window_capacity: usize,
    pub drift_window_size: usize,
    pub tracked_sessions: usize,
    pub tracked_users: usize,
    pub schedules: ScheduleFlags,
    pub metrics: MetricsSnapshot,
    /// Problems met at open (e.g. an unreadable state snapshot that was discarded).
    pub warnings: Vec<String>,
    pub last_store_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every training event as the bindings and the JS package receive it (`phase` tag,
    /// camelCase fields), both ways.
    #[test]
    fn training_events_keep_their_json_shape() {
        let cases = [
            (
                TrainingEvent::Started {
                    version: 3,
                    reason: TrainReason::Drift,
                    samples: 1000,
                    started_at: 5,
                },
                json!({"phase": "started", "version": 3, "reason": "drift", "samples": 1000, "startedAt": 5}),
            ),
            (
                TrainingEvent::Model(TrainingProgress::Scaling),
                json!({"phase": "scaling"}),
            ),
            (
                TrainingEvent::Model(TrainingProgress::IsolationForest),
                json!({"phase": "isolationForest"}),
            ),
            (
                TrainingEvent::Model(TrainingProgress::Autoencoder {
                    epoch: 2,
                    epochs: 50,
                    train_loss: 0.5,
                    validation_loss: 0.25,
                }),
                json!({"phase": "autoencoder", "epoch": 2, "epochs": 50, "trainLoss": 0.5, "validationLoss": 0.25}),
            ),
            (
                TrainingEvent::Model(TrainingProgress::Calibration),
                json!({"phase": "calibration"}),
            ),
            (
                TrainingEvent::Model(TrainingProgress::DriftReference),
                json!({"phase": "driftReference"}),
            ),
            (TrainingEvent::Persisting, json!({"phase": "persisting"})),
            (
                TrainingEvent::Finished {
                    version: 3,
                    duration_ms: 12.5,
                },
                json!({"phase": "finished", "version": 3, "durationMs": 12.5}),
            ),
            (
                TrainingEvent::Failed {
                    error: "boom".into(),
                },
                json!({"phase": "failed", "error": "boom"}),
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(serde_json::to_value(&event).unwrap(), expected);
            assert_eq!(
                serde_json::from_value::<TrainingEvent>(expected).unwrap(),
                event
            );
        }
    }

    /// The core's progress reports become the engine's events with the same JSON; the core's
    /// `done` has none (the engine follows it with `persisting` and `finished`).
    #[test]
    fn core_progress_maps_to_the_same_json() {
        let progress = [
            TrainingProgress::Scaling,
            TrainingProgress::IsolationForest,
            TrainingProgress::Autoencoder {
                epoch: 1,
                epochs: 5,
                train_loss: 1.0,
                validation_loss: 2.0,
            },
            TrainingProgress::Calibration,
            TrainingProgress::DriftReference,
        ];
        for p in progress {
            let event = TrainingEvent::from_core(&p).expect("an event");
            assert_eq!(
                serde_json::to_value(&event).unwrap(),
                serde_json::to_value(&p).unwrap()
            );
        }
        assert_eq!(TrainingEvent::from_core(&TrainingProgress::Done), None);
    }
}
