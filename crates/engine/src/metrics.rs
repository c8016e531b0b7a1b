//! Service metrics: counters, score averages, a latency histogram, and their Prometheus text form.
//!
//! Everything is bounded: counters and sums are scalars, latencies go into a log-linear
//! histogram of 976 fixed buckets (16 per power of two, so any percentile is reported within
//! ±3.1 % of the true value, from 1 ns to centuries). Recording a prediction is one uncontended
//! mutex lock and a few additions; nothing allocates.
//!
//! Counters and averages cover the life of the process (a restart resets them, as Prometheus
//! expects of counters); feedback figures cover the stored records (they are seeded from the
//! store at open and kept current as predictions and feedback arrive).

use std::fmt::Write as _;
use std::sync::Mutex;

use anomaly_core::policy::Action;
use serde::{Deserialize, Serialize};

use crate::lock;

/// Sub-buckets per power of two.
const SUB_BITS: u32 = 4;
const SUB: u64 = 1 << SUB_BITS;
/// Buckets of the histogram: values below 16 exactly, then 16 per octave up to 2^64.
pub const HISTOGRAM_BUCKETS: usize = ((64 - SUB_BITS as usize) + 1) * SUB as usize;

/// A log-linear histogram of `u64` values (here: nanoseconds).
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Box<[u64; HISTOGRAM_BUCKETS]>,
    count: u64,
    sum: u128,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: Box::new([0; HISTOGRAM_BUCKETS]),
            count: 0,
            sum: 0,
            max: 0,
        }
    }
}

fn bucket_of(v: u64) -> usize {
    if v < SUB {
        v as usize
    } else {
        let e = 63 - v.leading_zeros(); // >= SUB_BITS
        let sub = (v >> (e - SUB_BITS)) & (SUB - 1);
        (e - SUB_BITS + 1) as usize * SUB as usize + sub as usize
    }
}

/// Smallest and largest value of bucket `i`.
fn bucket_bounds(i: usize) -> (u64, u64) {
    if i < SUB as usize {
        return (i as u64, i as u64);
    }
    let e = (i / SUB as usize) as u32 + SUB_BITS - 1;
    let sub = (i % SUB as usize) as u64;
    let width = 1u64 << (e - SUB_BITS);
    let lo = (SUB + sub) << (e - SUB_BITS);
    (lo, lo.saturating_add(width - 1))
}

impl Histogram {
    pub fn record(&mut self, v: u64) {
        if let Some(c) = self.counts.get_mut(bucket_of(v)) {
            *c += 1;
        }
        self.count += 1;
        self.sum += v as u128;
        self.max = self.max.max(v);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    /// The `q`-quantile (`0 <= q <= 1`): the midpoint of the bucket holding the value of rank
    /// `ceil(q·count)`, never above the maximum recorded; the maximum itself for the top rank.
    /// 0 when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        if rank >= self.count {
            return self.max as f64;
        }
        let mut cumulative = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            cumulative += c;
            if cumulative >= rank {
                let (lo, hi) = bucket_bounds(i);
                let mid = lo as f64 + (hi - lo) as f64 / 2.0;
                return mid.min(self.max as f64);
            }
        }
        self.max as f64
    }
}

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

    fn pairs(&self) -> [(Action, u64); 5] {
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

/// What a host's middleware did without a prediction: requests it could not score and request
/// fields it had to drop. Reported by the middleware (`Engine::record_middleware`), so that an
/// integration that silently scores nothing shows in `/status` and `/metrics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MiddlewareCounts {
    /// Requests skipped because no user could be identified.
    pub skipped_without_user: u64,
    /// Requests skipped because a user but no session could be identified.
    pub skipped_without_session: u64,
    /// Locations dropped from a request's context (not a valid latitude/longitude).
    pub ignored_locations: u64,
}

/// One thing a middleware reports (see [`MiddlewareCounts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MiddlewareEvent {
    SkippedWithoutUser,
    SkippedWithoutSession,
    IgnoredLocation,
}

impl MiddlewareEvent {
    /// The event named `name` (`skippedWithoutUser`, `skippedWithoutSession`, `ignoredLocation`).
    pub fn parse(name: &str) -> Option<MiddlewareEvent> {
        match name {
            "skippedWithoutUser" => Some(MiddlewareEvent::SkippedWithoutUser),
            "skippedWithoutSession" => Some(MiddlewareEvent::SkippedWithoutSession),
            "ignoredLocation" => Some(MiddlewareEvent::IgnoredLocation),
            _ => None,
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
        let m = &mut lock(&self.state).middleware;
        match event {
            MiddlewareEvent::SkippedWithoutUser => m.skipped_without_user += 1,
            MiddlewareEvent::SkippedWithoutSession => m.skipped_without_session += 1,
            MiddlewareEvent::IgnoredLocation => m.ignored_locations += 1,
        }
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
        }
    }
}

/// Writes one metric family: HELP, TYPE and its samples.
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(&str, f64)]) {
    let _ = writeln!(out, "# HELP ml_anomaly_{name} {help}");
    let _ = writeln!(out, "# TYPE ml_anomaly_{name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "ml_anomaly_{name}{labels} {}", prom_number(*value));
    }
}

/// Prometheus number formatting (`+Inf`, `-Inf`, `NaN` spelled its way).
fn prom_number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

impl MetricsSnapshot {
    /// The Prometheus text exposition format (version 0.0.4): every family with HELP and TYPE,
    /// names prefixed `ml_anomaly_`, latency as a summary in seconds.
    pub fn to_prometheus(&self) -> String {
        let mut o = String::with_capacity(4096);
        let n = |v: u64| v as f64;
        family(
            &mut o,
            "predictions_total",
            "counter",
            "Predictions served, by whether a model scored them.",
            &[
                ("{result=\"scored\"}", n(self.scored_predictions)),
                ("{result=\"fallback\"}", n(self.fallback_predictions)),
            ],
        );
        family(
            &mut o,
            "prediction_errors_total",
            "counter",
            "Prediction calls rejected for bad input.",
            &[("", n(self.prediction_errors))],
        );
        let m = &self.middleware;
        family(
            &mut o,
            "skipped_requests_total",
            "counter",
            "Requests a middleware could not score, by what identity was missing.",
            &[
                ("{missing=\"user\"}", n(m.skipped_without_user)),
                ("{missing=\"session\"}", n(m.skipped_without_session)),
            ],
        );
        family(
            &mut o,
            "ignored_context_total",
            "counter",
            "Request context fields a middleware dropped as invalid.",
            &[("{field=\"location\"}", n(m.ignored_locations))],
        );
        family(
            &mut o,
            "anomalies_total",
            "counter",
            "Predictions flagged as anomalies.",
            &[("", n(self.anomalies))],
        );
        let labels: Vec<String> = self
            .actions
            .pairs()
            .iter()
            .map(|(a, _)| format!("{{action=\"{a}\"}}"))
            .collect();
        let actions: Vec<(&str, f64)> = self
            .actions
            .pairs()
            .iter()
            .zip(&labels)
            .map(|((_, c), l)| (l.as_str(), n(*c)))
            .collect();
        family(
            &mut o,
            "actions_total",
            "counter",
            "Predictions by recommended action.",
            &actions,
        );
        family(
            &mut o,
            "anomaly_rate",
            "gauge",
            "Anomalies per scored prediction since start.",
            &[("", self.anomaly_rate)],
        );
        family(
            &mut o,
            "average_score",
            "gauge",
            "Mean composite anomaly score since start.",
            &[("", self.average_score)],
        );
        family(
            &mut o,
            "average_confidence",
            "gauge",
            "Mean prediction confidence since start.",
            &[("", self.average_confidence)],
        );
        family(
            &mut o,
            "model_agreement",
            "gauge",
            "Mean agreement 1-|IF-AE| of the two models since start.",
            &[("", self.model_agreement)],
        );
        let l = &self.latency_us;
        family(
            &mut o,
            "prediction_latency_seconds",
            "summary",
            "Time to serve one prediction, feature extraction included.",
            &[
                ("{quantile=\"0.5\"}", l.p50 / 1e6),
                ("{quantile=\"0.9\"}", l.p90 / 1e6),
                ("{quantile=\"0.99\"}", l.p99 / 1e6),
                ("_sum", l.mean * l.count as f64 / 1e6),
                ("_count", n(l.count)),
            ],
        );
        family(
            &mut o,
            "trainings_total",
            "counter",
            "Model trainings, by outcome.",
            &[
                ("{result=\"ok\"}", n(self.trainings)),
                ("{result=\"failed\"}", n(self.training_failures)),
            ],
        );
        if let Some(ms) = self.last_training_duration_ms {
            family(
                &mut o,
                "last_training_duration_seconds",
                "gauge",
                "Wall time of the latest successful training.",
                &[("", ms / 1e3)],
            );
        }
        family(
            &mut o,
            "training",
            "gauge",
            "1 while a training runs.",
            &[("", if self.is_training { 1.0 } else { 0.0 })],
        );
        family(
            &mut o,
            "drift_checks_total",
            "counter",
            "Drift checks run.",
            &[("", n(self.drift_checks))],
        );
        if let Some(d) = self.drift_score {
            family(
                &mut o,
                "drift_score",
                "gauge",
                "Composite drift score of the latest check.",
                &[("", d)],
            );
        }
        family(
            &mut o,
            "false_positive_rate",
            "gauge",
            "False-positive reports per flagged anomaly among stored predictions.",
            &[("", self.false_positive_rate)],
        );
        family(
            &mut o,
            "feedback_reports",
            "gauge",
            "Stored predictions with feedback, by kind.",
            &[
                ("{kind=\"any\"}", n(self.feedback.with_feedback)),
                (
                    "{kind=\"false_positive\"}",
                    n(self.feedback.false_positives),
                ),
                (
                    "{kind=\"false_negative\"}",
                    n(self.feedback.false_negatives),
                ),
            ],
        );
        family(
            &mut o,
            "dropped_records_total",
            "counter",
            "Prediction records dropped because the writer queue was full.",
            &[("", n(self.dropped_records))],
        );
        family(
            &mut o,
            "writer_queue_depth",
            "gauge",
            "Records waiting for the store writer.",
            &[("", n(self.writer_queue_depth))],
        );
        if let Some(v) = self.active_model_version {
            family(
                &mut o,
                "active_model_version",
                "gauge",
                "Version of the model serving predictions.",
                &[("", v as f64)],
            );
        }
        family(
            &mut o,
            "training_window_size",
            "gauge",
            "Feature vectors in the training window.",
            &[("", self.training_window_size as f64)],
        );
        family(
            &mut o,
            "drift_window_size",
            "gauge",
            "Scored vectors in the drift window.",
            &[("", self.drift_window_size as f64)],
        );
        family(
            &mut o,
            "tracked_sessions",
            "gauge",
            "Sessions with behavioral state in memory.",
            &[("", self.tracked_sessions as f64)],
        );
        family(
            &mut o,
            "tracked_users",
            "gauge",
            "Users with behavioral state in memory.",
            &[("", self.tracked_users as f64)],
        );
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_tight() {
        // every bucket's bounds contain exactly the values mapped to it
        for v in (0..5000u64).chain([u64::MAX, u64::MAX - 1, 1 << 40, (1 << 40) - 1]) {
            let (lo, hi) = bucket_bounds(bucket_of(v));
            assert!(lo <= v && v <= hi, "{v} not in [{lo}, {hi}]");
            assert!(
                (hi - lo) as f64 <= (lo as f64 / 16.0).max(0.0),
                "bucket of {v} too wide"
            );
        }
        assert!(bucket_of(u64::MAX) < HISTOGRAM_BUCKETS);
        for i in 1..HISTOGRAM_BUCKETS {
            assert_eq!(
                bucket_bounds(i - 1).1 + 1,
                bucket_bounds(i).0,
                "gap before bucket {i}"
            );
        }
    }

    #[test]
    fn quantiles_are_within_the_bucket_resolution() {
        let mut h = Histogram::default();
        for us in 1..=1000u64 {
            h.record(us * 1000);
        }
        for (q, exact) in [(0.5, 500_000.0), (0.9, 900_000.0), (0.99, 990_000.0)] {
            let got = h.quantile(q);
            assert!(
                (got - exact).abs() / exact < 0.035,
                "q{q}: {got} vs {exact}"
            );
        }
        assert_eq!(h.quantile(1.0), 1_000_000.0, "capped at the maximum");
        assert_eq!(h.count(), 1000);
        assert!((h.mean() - 500_500.0).abs() < 1e-6);
        assert_eq!(Histogram::default().quantile(0.5), 0.0);
    }

    fn sample(composite: f64, action: Action) -> ScoredSample {
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

    #[test]
    fn prometheus_text_is_well_formed() {
        let m = Metrics::default();
        m.record_prediction(Some(&sample(0.95, Action::Block)), 12_000);
        m.record_drift(0.2);
        m.record_middleware(MiddlewareEvent::SkippedWithoutSession);
        m.record_middleware(MiddlewareEvent::SkippedWithoutSession);
        m.record_middleware(MiddlewareEvent::IgnoredLocation);
        let text = m
            .snapshot(Gauges {
                active_model_version: Some(2),
                ..Gauges::default()
            })
            .to_prometheus();
        let mut families = 0;
        let mut current: Option<String> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap().to_string();
                assert!(name.starts_with("ml_anomaly_"), "{line}");
                current = Some(name);
                families += 1;
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let mut parts = rest.split(' ');
                assert_eq!(
                    Some(parts.next().unwrap()),
                    current.as_deref(),
                    "TYPE follows its HELP"
                );
                assert!(
                    matches!(parts.next(), Some("counter" | "gauge" | "summary")),
                    "{line}"
                );
            } else {
                let (name_labels, value) = line.rsplit_once(' ').expect("sample line");
                let name = current.as_deref().unwrap();
                assert!(
                    name_labels.starts_with(name),
                    "{line} outside its family {name}"
                );
                assert!(value.parse::<f64>().is_ok(), "{line}");
            }
        }
        assert!(families >= 20, "{families}");
        assert!(text.contains("ml_anomaly_predictions_total{result=\"scored\"} 1\n"));
        assert!(text.contains("ml_anomaly_actions_total{action=\"BLOCK\"} 1\n"));
        assert!(text.contains("ml_anomaly_drift_score 0.2\n"));
        assert!(text.contains("ml_anomaly_active_model_version 2\n"));
        assert!(text.contains("ml_anomaly_prediction_latency_seconds_count 1\n"));
        assert!(text.contains("ml_anomaly_skipped_requests_total{missing=\"session\"} 2\n"));
        assert!(text.contains("ml_anomaly_skipped_requests_total{missing=\"user\"} 0\n"));
        assert!(text.contains("ml_anomaly_ignored_context_total{field=\"location\"} 1\n"));
    }
}
