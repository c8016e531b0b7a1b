//! Turning attributions into the explanation record analysts read.

use super::{
    labels, AttributionMethod, ConfidenceFactor, Direction, Explanation, FeatureContribution,
};
use crate::ensemble::Scores;

/// Everything an explanation is built from.
pub struct ExplanationInput<'a> {
    pub names: &'a [String],
    pub values: &'a [f64],
    /// Robust-scaled values (what the autoencoder sees).
    pub normalized: &'a [f64],
    /// Training medians.
    pub baselines: &'a [f64],
    pub contributions: &'a [f64],
    pub forest_part: &'a [f64],
    pub autoencoder_part: &'a [f64],
    pub scores: &'a Scores,
    pub method: AttributionMethod,
    pub base_value: f64,
    pub anomaly_threshold: f64,
    pub top_k: usize,
}

/// |normalized value| below which a value counts as typical.
const TYPICAL_Z: f64 = 0.5;

/// Builds the explanation record: the `top_k` features by |contribution|, readable text,
/// confidence factors and a one-line summary.
pub fn build_explanation(input: &ExplanationInput<'_>) -> Explanation {
    let n = input.contributions.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        input.contributions[b]
            .abs()
            .total_cmp(&input.contributions[a].abs())
            .then(a.cmp(&b))
    });
    let top_features: Vec<FeatureContribution> = order
        .iter()
        .take(input.top_k.min(n))
        .map(|&j| {
            let z = input.normalized[j];
            FeatureContribution {
                feature: input.names[j].clone(),
                label: labels::label(&input.names[j]),
                contribution: input.contributions[j],
                value: input.values[j],
                normalized_value: z,
                baseline: input.baselines[j],
                direction: if z > TYPICAL_Z {
                    Direction::Above
                } else if z < -TYPICAL_Z {
                    Direction::Below
                } else {
                    Direction::Typical
                },
                isolation_forest: input.forest_part[j],
                autoencoder: input.autoencoder_part[j],
            }
        })
        .collect();

    let s = input.scores;
    let raising: Vec<&FeatureContribution> = top_features
        .iter()
        .filter(|f| f.contribution > 0.0)
        .take(3)
        .collect();
    let reasons = raising
        .iter()
        .map(|f| describe(f))
        .collect::<Vec<_>>()
        .join("; ");
    let explanation = match (s.is_anomaly, reasons.is_empty()) {
        (true, false) => format!(
            "Anomalous behaviour (score {:.2} > {:.2}, action {}). Main factors: {reasons}.",
            s.composite, input.anomaly_threshold, s.action
        ),
        (true, true) => format!(
            "Anomalous behaviour (score {:.2} > {:.2}, action {}), from the combination of features rather than any single one.",
            s.composite, input.anomaly_threshold, s.action
        ),
        (false, false) => format!(
            "Behaviour within the normal range (score {:.2} <= {:.2}). Largest influences: {reasons}.",
            s.composite, input.anomaly_threshold
        ),
        (false, true) => format!(
            "Behaviour within the normal range (score {:.2} <= {:.2}); no feature raised the score above its baseline.",
            s.composite, input.anomaly_threshold
        ),
    };

    let total: f64 = input.contributions.iter().map(|c| c.abs()).sum();
    let top3: f64 = top_features
        .iter()
        .take(3)
        .map(|f| f.contribution.abs())
        .sum();
    let concentration = if total > 0.0 { top3 / total } else { 0.0 };
    let margin = s.composite - input.anomaly_threshold;
    let margin_room = if margin > 0.0 {
        1.0 - input.anomaly_threshold
    } else {
        input.anomaly_threshold
    };
    let confidence_factors = vec![
        ConfidenceFactor {
            factor: "model_agreement".into(),
            description: format!(
                "Isolation Forest ({:.2}) and autoencoder ({:.2}) {}",
                s.isolation_forest,
                s.autoencoder,
                if s.model_agreement >= 0.8 {
                    "agree"
                } else {
                    "disagree"
                }
            ),
            impact: s.model_agreement.clamp(0.0, 1.0),
        },
        ConfidenceFactor {
            factor: "threshold_margin".into(),
            description: format!(
                "Score is {:.2} {} the anomaly threshold {:.2}",
                margin.abs(),
                if margin > 0.0 { "above" } else { "at or below" },
                input.anomaly_threshold
            ),
            impact: if margin_room > 0.0 {
                (margin.abs() / margin_room).clamp(0.0, 1.0)
            } else {
                0.0
            },
        },
        ConfidenceFactor {
            factor: "feature_concentration".into(),
            description: format!(
                "The top 3 features carry {:.0}% of the attribution",
                100.0 * concentration
            ),
            impact: concentration.clamp(0.0, 1.0),
        },
    ];

    let drivers: Vec<&str> = raising.iter().map(|f| f.feature.as_str()).collect();
    let summary = format!(
        "{}: score {:.2} (isolation forest {:.2}, autoencoder {:.2}), confidence {:.2}{}",
        s.action,
        s.composite,
        s.isolation_forest,
        s.autoencoder,
        s.confidence,
        if drivers.is_empty() {
            String::new()
        } else {
            format!("; driven by {}", drivers.join(", "))
        }
    );

    Explanation {
        top_features,
        explanation,
        model_agreement: s.model_agreement,
        confidence_factors,
        summary,
        method: input.method,
        base_value: input.base_value,
        composite: s.composite,
        evidence: None,
    }
}

fn describe(f: &FeatureContribution) -> String {
    let z = f.normalized_value.abs();
    let how = match f.direction {
        Direction::Typical => {
            return format!(
                "{} unusual in combination with the others ({})",
                f.label,
                format_number(f.value)
            )
        }
        Direction::Above if z >= 5.0 => "far above usual",
        Direction::Above if z >= 2.0 => "well above usual",
        Direction::Above => "above usual",
        Direction::Below if z >= 5.0 => "far below usual",
        Direction::Below if z >= 2.0 => "well below usual",
        Direction::Below => "below usual",
    };
    format!(
        "{} {how} ({} vs {})",
        f.label,
        format_number(f.value),
        format_number(f.baseline)
    )
}

/// Short, readable rendering of a feature value.
pub fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    let s = if a >= 100.0 || (v.fract() == 0.0 && a < 1e15) {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ensemble::EnsembleConfig;

    fn input_for<'a>(
        names: &'a [String],
        values: &'a [f64],
        normalized: &'a [f64],
        baselines: &'a [f64],
        contributions: &'a [f64],
        scores: &'a Scores,
    ) -> ExplanationInput<'a> {
        ExplanationInput {
            names,
            values,
            normalized,
            baselines,
            contributions,
            forest_part: contributions,
            autoencoder_part: contributions,
            scores,
            method: AttributionMethod::Fast,
            base_value: 0.3,
            anomaly_threshold: 0.65,
            top_k: 2,
        }
    }

    #[test]
    fn top_features_are_ranked_by_magnitude_with_text() {
        let names: Vec<String> = ["request_rate_short", "hour_sin", "signal_geo"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let values = [42.0, 0.5, 1.0];
        let normalized = [8.0, 0.1, -3.0];
        let baselines = [3.0, 0.4, 2.0];
        let contributions = [0.3, -0.01, 0.12];
        let scores = EnsembleConfig::default().combine(4.0, 0.7, 1.0, 0.9, 0.8);
        let e = build_explanation(&input_for(
            &names,
            &values,
            &normalized,
            &baselines,
            &contributions,
            &scores,
        ));
        let feats: Vec<&str> = e.top_features.iter().map(|f| f.feature.as_str()).collect();
        assert_eq!(feats, ["request_rate_short", "signal_geo"]);
        assert_eq!(e.top_features[0].direction, Direction::Above);
        assert_eq!(e.top_features[1].direction, Direction::Below);
        assert!(
            e.explanation
                .contains("request rate (last 5 min) far above usual (42 vs 3)"),
            "{}",
            e.explanation
        );
        assert!(
            e.explanation
                .starts_with("Anomalous behaviour (score 0.86 > 0.65, action REQUIRE_2FA)"),
            "{}",
            e.explanation
        );
        assert!(
            e.summary.starts_with("REQUIRE_2FA: score 0.86"),
            "{}",
            e.summary
        );
        assert_eq!(e.confidence_factors.len(), 3);
        let json = serde_json::to_value(&e).unwrap();
        assert!(json["topFeatures"][0]["normalizedValue"].is_number());
        assert_eq!(json["topFeatures"][0]["direction"], "above");
    }

    #[test]
    fn normal_rows_say_so() {
        let names = vec!["hour_sin".to_string()];
        let scores = EnsembleConfig::default().combine(8.0, 0.4, 0.1, 0.2, 0.2);
        let e = build_explanation(&input_for(
            &names,
            &[0.1],
            &[0.0],
            &[0.1],
            &[-0.02],
            &scores,
        ));
        assert!(
            e.explanation.contains("no feature raised the score"),
            "{}",
            e.explanation
        );
        assert!(e.summary.starts_with("ALLOW"));
    }

    #[test]
    fn numbers_render_compactly() {
        assert_eq!(format_number(42.0), "42");
        assert_eq!(format_number(4.56789), "4.57");
        assert_eq!(format_number(0.012345), "0.012");
        assert_eq!(format_number(1234.56), "1235");
        assert_eq!(format_number(0.5), "0.5");
    }
}
