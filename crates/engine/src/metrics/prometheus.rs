//! The Prometheus text exposition format (version 0.0.4) of a [`MetricsSnapshot`].

use std::fmt::Write as _;

use super::MetricsSnapshot;

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
        family(
            &mut o,
            "startup_warnings",
            "gauge",
            "Persisted parts unusable when the engine opened (see status().warnings).",
            &[("", self.startup_warnings as f64)],
        );
        o
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::super::{Gauges, Metrics, MiddlewareEvent};
    use anomaly_core::policy::Action;

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
