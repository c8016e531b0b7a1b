//! The stored records as the API returns them, and the binary form of feature vectors.
//!
//! Field names (camelCase in JSON) follow the original's `MLPrediction` and `MLAnomalyModel`
//! documents so that the routes answer with the shapes ExpenseFlow's dashboards read.

use anomaly_core::bundle::TrainingMetrics;
use anomaly_core::drift::{DriftHistory, DriftReport};
use anomaly_core::explain::{Explanation, FeatureContribution};
use anomaly_core::policy::Action;
use anomaly_core::N_FEATURES;
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

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
    pub user_feedback: Option<UserFeedback>,
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

/// Encodes a feature vector as little-endian `f64`s.
pub fn encode_features(x: &[f64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(x.len() * 8);
    for v in x {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Decodes a stored feature vector; anything but 59 `f64`s is corruption.
pub fn decode_features(bytes: &[u8]) -> Result<Vec<f64>> {
    if bytes.len() != N_FEATURES * 8 {
        return Err(EngineError::Store(format!(
            "corrupt feature vector: {} bytes, expected {}",
            bytes.len(),
            N_FEATURES * 8
        )));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect())
}

/// `YYYY-MM-DD` of a UTC day number (days since 1970-01-01), by Howard Hinnant's
/// `civil_from_days`.
pub fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_round_trip_bit_exactly() {
        let x: Vec<f64> = (0..N_FEATURES)
            .map(|i| (i as f64).sin() * 1e-300 + i as f64)
            .collect();
        assert_eq!(decode_features(&encode_features(&x)).unwrap(), x);
        assert!(decode_features(&[0u8; 10]).is_err());
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(-1), "1969-12-31");
        // 2024-02-29 is day 19782 (python: (date(2024,2,29)-date(1970,1,1)).days)
        assert_eq!(civil_date(19_782), "2024-02-29");
        assert_eq!(civil_date(19_783), "2024-03-01");
        assert_eq!(civil_date(2_932_896), "9999-12-31");
    }
}
