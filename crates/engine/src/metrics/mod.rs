//! Service metrics: counters, score averages and a latency histogram ([`histogram`]), read as
//! one [`MetricsSnapshot`] and written in the Prometheus text form
//! ([`MetricsSnapshot::to_prometheus`]).
//!
//! Everything is bounded: counters and sums are scalars, latencies go into a fixed-bucket
//! histogram. Recording a prediction is one uncontended mutex lock and a few additions; nothing
//! allocates.
//!
//! Counters and averages cover the life of the process (a restart resets them, as Prometheus
//! expects of counters); feedback figures cover the stored records (they are seeded from the
//! store at open and kept current as predictions and feedback arrive).

pub mod histogram;
mod middleware;
mod prometheus;

use std::sync::Mutex;

use anomaly_core::policy::Action;
use serde::{Deserialize, Serialize};

use crate::lock;
pub use histogram::{Histogram, HISTOGRAM_BUCKETS};
pub use middleware::{MiddlewareCounts, MiddlewareEvent};

/// Percentiles of the prediction latency, in microseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LatencySummary {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// Predictions per recommended action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ActionCounts {
    #[serde(rename = "ALLOW")]
    pub allow: u64,
    #[serde(rename = "MONITOR")]
    pub monitor: u64,
    #[serde(rename = "CHALLENGE")]
    pub challenge: u64,
    #[serde(rename = "REQUIRE_2FA")]
    pub require_2fa: u64,
    #[serde(rename = "BLOCK")]
    pub block: u64,
}

impl ActionCounts {
    fn add(&mut self, a: Action) {
        match a {
            Action::Allow => self.allow += 1,
            Action::Monitor => self.monitor += 1,
            Action::Challenge => self.challenge += 1,
            Action::Require2fa => self.require_2fa += 1,
            Action::Block => self.block += 1,
        }
    }

    pub(crate) fn pairs(&self) -> [(Action, u64); 5] {
        [
            (Action::Allow, self.allow),
            (Action::Monitor, self.monitor),
            (Action::Challenge, self.challenge),
            (Action::Require2fa, self.require_2fa),
            (Action::Block, self.block),
        ]
    }
}

/// Feedback totals over the stored prediction records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackTotals {
    /// Stored predictions flagged as anomalies.
    pub anomalies: u64,
    /// Predictions with any feedback.
    pub with_feedback: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
}

impl FeedbackTotals {
    /// False-positive reports per flagged anomaly (0 without anomalies).
    pub fn false_positive_rate(&self) -> f64 {
        if self.anomalies == 0 {
            0.0
        } else {
            self.false_positives as f64 / self.anomalies as f64
        }
    }
}

#[derive(Debug, Default)]
struct State {
    predictions: u64,
    fallbacks: u64,
    errors: u64,
    anomalies: u64,
    actions: ActionCounts,
    sum_composite: f64,
    sum_confidence: f64,
    sum_agreement: f64,
    sum_forest: f64,
    sum_autoencoder: f64,
    latency_ns: Histogram,
    trainings: u64,
    training_failures: u64,
    last_training_duration_ms: Option<f64>,
    drift_checks: u64,
    drift_score: Option<f64>,
    feedback: FeedbackTotals,
    middleware: MiddlewareCounts,
}

/// The engine's live metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    state: Mutex<State>,
}

/// The scores of one model prediction, as the metrics need them.
#[derive(Clone, Copy, Debug)]
pub struct ScoredSample {
    pub composite: f64,
    pub confidence: f64,
    pub agreement: f64,
    pub isolation_forest: f64,
    pub autoencoder: f64,
    pub is_anomaly: bool,
    pub action: Action,
}

/// Everything [`Metrics`] knows, plus the gauges the engine adds (queue, window, model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsSnapshot {
    /// Predictions served (scored and fallback).
    pub total_predictions: u64,
    /// Predictions scored by a model.
    pub scored_predictions: u64,
    /// Fallback predictions (no model, or a scoring error).
    pub fallback_predictions: u64,
    /// Calls rejected for bad input.
    pub prediction_errors: u64,
    pub anomalies: u64,
    /// Anomalies per scored prediction.
    pub anomaly_rate: f64,
    pub actions: ActionCounts,
    /// Mean composite score of scored predictions.
    pub average_score: f64,
    pub average_confidence: f64,
    /// Mean `1 − |IF − AE|`.
    pub model_agreement: f64,
    pub average_isolation_forest_score: f64,
    pub average_autoencoder_score: f64,
    pub latency_us: LatencySummary,
    pub trainings: u64,
    pub training_failures: u64,
    pub last_training_duration_ms: Option<f64>,
    pub drift_checks: u64,
    /// Composite of the latest drift check.
    pub drift_score: Option<f64>,
    pub feedback: FeedbackTotals,
    /// What the middlewares could not score or had to drop.
    pub middleware: MiddlewareCounts,
    /// False-positive reports per flagged anomaly among stored records.
    pub false_positive_rate: f64,
    /// Records the writer dropped because its queue was full.
    pub dropped_records: u64,
    /// Records waiting for the writer.
    pub writer_queue_depth: u64,
    pub active_model_version: Option<u32>,
    pub training_window_size: usize,
    pub drift_window_size: usize,
    pub tracked_sessions: usize,
    pub tracked_users: usize,
    pub is_training: bool,
    /// Persisted parts the engine could not use when it opened (an unreadable or foreign state
    /// snapshot...), each also in `status().warnings`.
    pub startup_warnings: usize,
}

/// Gauges the engine adds to a snapshot.
#[derive(Clone, Debug, Default)]
pub struct Gauges {
    pub dropped_records: u64,
    pub writer_queue_depth: u64,
    pub active_model_version: Option<u32>,
    pub training_window_size: usize,
    pub drift_window_size: usize,
    pub tracked_sessions: usize,
    pub tracked_users: usize,
    pub is_training: bool,
    pub startup_warnings: usize,
}

fn mean(sum: f64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

impl Metrics {
    /// Records a served prediction: `scored` is `None` for a fallback.
    pub fn record_prediction(&self, scored: Option<&ScoredSample>, latency_ns: u64) {
        let mut s = lock(&self.state);
        s.predictions += 1;
        s.latency_ns.record(latency_ns);
        match scored {
            None => s.fallbacks += 1,
            Some(p) => {
                s.sum_composite += p.composite;
                s.sum_confidence += p.confidence;
                s.sum_agreement += p.agreement;
                s.sum_forest += p.isolation_forest;
                s.sum_autoencoder += p.autoencoder;
                s.actions.add(p.action);
                if p.is_anomaly {
                    s.anomalies += 1;
                    s.feedback.anomalies += 1;
                }
            }
        }
    }

    pub fn record_error(&self) {
        lock(&self.state).errors += 1;
    }

    /// Counts one thing a middleware reported.
    pub fn record_middleware(&self, event: MiddlewareEvent) {
        lock(&self.state).middleware.add(event);
    }

    pub fn record_training(&self, ok: bool, duration_ms: f64) {
        let mut s = lock(&self.state);
        if ok {
            s.trainings += 1;
            s.last_training_duration_ms = Some(duration_ms);
        } else {
            s.training_failures += 1;
        }
    }

    pub fn record_drift(&self, composite: f64) {
        let mut s = lock(&self.state);
        s.drift_checks += 1;
        s.drift_score = Some(composite);
    }

    /// Forgets the latest drift score (a new model has a new reference).
    pub fn reset_drift_score(&self) {
        lock(&self.state).drift_score = None;
    }

    /// Replaces the feedback totals (after opening the store or pruning it).
    pub fn set_feedback(&self, totals: FeedbackTotals) {
        lock(&self.state).feedback = totals;
    }

    /// Applies one feedback change: `before` and `after` are `(has feedback, false positive,
    /// false negative)` of the record.
    pub fn update_feedback(&self, before: (bool, bool, bool), after: (bool, bool, bool)) {
        let mut s = lock(&self.state);
        let f = &mut s.feedback;
        let apply = |v: &mut u64, was: bool, is: bool| match (was, is) {
            (false, true) => *v += 1,
            (true, false) => *v = v.saturating_sub(1),
            _ => {}
        };
        apply(&mut f.with_feedback, before.0, after.0);
        apply(&mut f.false_positives, before.1, after.1);
        apply(&mut f.false_negatives, before.2, after.2);
    }

    /// A consistent copy of every metric plus the given gauges.
    pub fn snapshot(&self, g: Gauges) -> MetricsSnapshot {
        let s = lock(&self.state);
        let scored = s.predictions - s.fallbacks;
        let h = &s.latency_ns;
        MetricsSnapshot {
            total_predictions: s.predictions,
            scored_predictions: scored,
            fallback_predictions: s.fallbacks,
            prediction_errors: s.errors,
            anomalies: s.anomalies,
            anomaly_rate: mean(s.anomalies as f64, scored),
            actions: s.actions.clone(),
            average_score: mean(s.sum_composite, scored),
            average_confidence: mean(s.sum_confidence, scored),
            model_agreement: mean(s.sum_agreement, scored),
            average_isolation_forest_score: mean(s.sum_forest, scored),
            average_autoencoder_score: mean(s.sum_autoencoder, scored),
            latency_us: LatencySummary {
                count: h.count(),
                mean: h.mean() / 1e3,
                p50: h.quantile(0.50) / 1e3,
                p90: h.quantile(0.90) / 1e3,
                p99: h.quantile(0.99) / 1e3,
                max: h.max() as f64 / 1e3,
            },
            trainings: s.trainings,
            training_failures: s.training_failures,
            last_training_duration_ms: s.last_training_duration_ms,
            drift_checks: s.drift_checks,
            drift_score: s.drift_score,
            feedback: s.feedback,
            middleware: s.middleware,
            false_positive_rate: s.feedback.false_positive_rate(),
            dropped_records: g.dropped_records,
            writer_queue_depth: g.writer_queue_depth,
            active_model_version: g.active_model_version,
            training_window_size: g.training_window_size,
            drift_window_size: g.drift_window_size,
            tracked_sessions: g.tracked_sessions,
            tracked_users: g.tracked_users,
            is_training: g.is_training,
            startup_warnings: g.startup_warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn sample(composite: f64, action: Action) -> ScoredSample {
        ScoredSample {
            composite,
            confidence: 0.9,
            agreement: 0.75,
            isolation_forest: composite,
            autoencoder: composite / 2.0,
            is_anomaly: composite > 0.65,
            action,
        }
    }

    #[test]
    fn snapshot_counts_and_averages() {
        let m = Metrics::default();
        m.record_prediction(None, 5_000);
        m.record_prediction(Some(&sample(0.2, Action::Allow)), 10_000);
        m.record_prediction(Some(&sample(0.95, Action::Block)), 20_000);
        m.record_error();
        m.update_feedback((false, false, false), (true, true, false));
        let s = m.snapshot(Gauges {
            dropped_records: 3,
            ..Gauges::default()
        });
        assert_eq!(s.total_predictions, 3);
        assert_eq!(s.scored_predictions, 2);
        assert_eq!(s.fallback_predictions, 1);
        assert_eq!(s.prediction_errors, 1);
        assert_eq!(s.anomalies, 1);
        assert_eq!(s.anomaly_rate, 0.5);
        assert!((s.average_score - 0.575).abs() < 1e-12);
        assert_eq!(s.actions.block, 1);
        assert_eq!(s.actions.allow, 1);
        assert_eq!(s.feedback.false_positives, 1);
        assert_eq!(s.false_positive_rate, 1.0, "one report for one anomaly");
        assert_eq!(s.dropped_records, 3);
        assert_eq!(s.latency_us.count, 3);
        assert!(
            (s.latency_us.p50 - 10.0).abs() < 0.35,
            "{}",
            s.latency_us.p50
        );
        // feedback withdrawn
        m.update_feedback((true, true, false), (true, false, false));
        assert_eq!(m.snapshot(Gauges::default()).false_positive_rate, 0.0);
    }
}
