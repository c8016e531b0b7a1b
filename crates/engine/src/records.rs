//! The records the engine answers with: stored predictions, feedback, per-user summaries,
//! aggregates and registered models.
//!
//! They are the API's vocabulary, not the store's: the store reads and writes them, the engine's
//! queries return them, the bindings translate them. Field names (camelCase in JSON) follow the
//! original's `MLPrediction` and `MLAnomalyModel` documents so that the routes answer with the
//! shapes ExpenseFlow's dashboards read.

use anomaly_core::bundle::TrainingMetrics;
use anomaly_core::drift::{DriftHistory, DriftReport};
use anomaly_core::explain::{Explanation, FeatureContribution};
use anomaly_core::policy::Action;
use serde::{Deserialize, Serialize};

/// Feedback a user gave on one of their predictions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserFeedback {
    pub is_false_positive: bool,
    pub is_false_negative: bool,
    pub notes: Option<String>,
    /// ms since the epoch.
    pub submitted_at: i64,
}

/// One report in a prediction's feedback history: who sent it, when, and what it said. A new
/// report never erases an earlier one (the record's `user_feedback` is the latest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackReport {
    /// The user id the report was submitted as.
    pub submitted_by: String,
    /// ms since the epoch.
    pub submitted_at: i64,
    pub is_false_positive: bool,
    pub is_false_negative: bool,
    pub notes: Option<String>,
}

/// What a user submits about a prediction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Feedback {
    pub is_false_positive: bool,
    pub is_false_negative: bool,
    pub notes: Option<String>,
}

/// Longest accepted feedback note, in bytes.
pub const MAX_NOTES_BYTES: usize = 4096;

/// One stored prediction (the original's `MLPrediction`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PredictionRecord {
    pub id: i64,
    pub session_id: String,
    pub user_id: String,
    /// ms since the epoch (the event's timestamp).
    pub timestamp: i64,
    /// The 59 feature values.
    pub features: Vec<f64>,
    pub isolation_forest_score: f64,
    pub autoencoder_score: f64,
    pub composite_score: f64,
    pub is_anomaly: bool,
    pub confidence: f64,
    /// The explanation; recomputed exactly from the features and model when it was not stored
    /// (see `prediction.storeAllExplanations`). `None` for fallback predictions.
    pub explanation: Option<Explanation>,
    /// The request context the host passed, as JSON (a string when it was not valid JSON).
    pub request_context: Option<serde_json::Value>,
    pub model_version: Option<u32>,
    pub recommended_action: Action,
    pub action_taken: Action,
    /// The latest feedback report.
    pub user_feedback: Option<UserFeedback>,
    /// Every feedback report, oldest first. Filled by `Engine::prediction` (one record); the
    /// list queries leave it empty (and it is then left out of the JSON).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feedback_history: Vec<FeedbackReport>,
    /// Milliseconds spent serving the prediction (the original's unit).
    pub processing_time: f64,
    pub fallback: bool,
    pub error: Option<String>,
    /// Behavioral signals the feature pipeline derived from this request.
    pub signals: Vec<String>,
}

/// One line of a user's recent anomalies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnomalySummary {
    pub id: i64,
    pub timestamp: i64,
    pub anomaly_score: f64,
    pub confidence: f64,
    /// The explanation's one-line summary.
    pub summary: String,
    /// The explanation's three largest contributions (the original's explanation summary).
    pub top_features: Vec<FeatureContribution>,
    /// `1 − |IF − AE|` of the explanation (`None` without one).
    pub model_agreement: Option<f64>,
    pub recommended_action: Action,
    pub action_taken: Action,
}

/// A session with anomalies over a period (`suspiciousSessions`): what ExpenseFlow's admin
/// example aggregated from its prediction collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuspiciousSession {
    pub session_id: String,
    pub user_id: String,
    /// Anomalies of the session at or above the score floor.
    pub anomaly_count: u64,
    pub max_score: f64,
    pub avg_score: f64,
    /// ms since the epoch of its latest such anomaly.
    pub last_seen: i64,
    /// The three largest contributions of its highest-scoring anomaly.
    pub top_features: Vec<FeatureContribution>,
}

/// One day of a user's predictions (UTC days).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyStatistics {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    /// Start of the day, ms since the epoch.
    pub day_start: i64,
    pub total_predictions: u64,
    pub anomaly_count: u64,
    /// Over predictions scored by a model; `None` when the day had only fallbacks.
    pub avg_anomaly_score: Option<f64>,
    pub max_anomaly_score: Option<f64>,
}

/// How one model behaved over a period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ModelScoreSummary {
    /// Mean calibrated score.
    pub average_score: f64,
    /// Fraction of scored predictions where this model alone exceeded the anomaly threshold.
    pub anomaly_rate: f64,
}

/// Aggregates of stored predictions over a period (`getModelPerformance`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PerformanceAggregates {
    pub total_predictions: u64,
    pub scored_predictions: u64,
    pub fallback_predictions: u64,
    pub anomaly_count: u64,
    pub average_anomaly_score: f64,
    pub average_confidence: f64,
    pub model_agreement: f64,
    pub isolation_forest: ModelScoreSummary,
    pub autoencoder: ModelScoreSummary,
    pub false_positive_reports: u64,
    /// Mean time spent serving a prediction, in milliseconds (the original's `avgProcessingTime`).
    pub average_processing_time: f64,
}

/// Drift detector state kept with each model (`driftDetectorState`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DriftState {
    pub history: DriftHistory,
    pub last_report: Option<DriftReport>,
    /// ms since the epoch of the last check.
    pub last_checked_at: Option<i64>,
}

/// A registered model without its parameters (`MLAnomalyModel` minus the weights).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    pub version: u32,
    /// ms since the epoch.
    pub created_at: i64,
    pub is_active: bool,
    pub deactivated_at: Option<i64>,
    pub training_metrics: TrainingMetrics,
    pub drift_detector_state: DriftState,
    /// Size of the stored binary bundle.
    pub size_bytes: u64,
}
