//! Drift detector settings.

use serde::{Deserialize, Serialize};

use super::ks::KsMethod;
use crate::error::{CoreError, Result};

/// Weights of the four terms of the composite drift score (see [`super::detector`]).
///
/// The composite is `Σ wᵢ·termᵢ / Σ wᵢ`, so only the ratios matter; the defaults are the
/// original service's (0.35, 0.25, 0.25, 0.15), which already sum to 1.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DriftWeights {
    /// PSI of the composite score against its reference bins (capped at 1).
    pub psi: f64,
    /// KS statistic of the composite score against the reference sample.
    pub ks: f64,
    /// Aggregated per-feature mean/std drift.
    pub distribution: f64,
    /// Standardised shift of the mean composite score.
    pub score: f64,
}

impl Default for DriftWeights {
    fn default() -> Self {
        DriftWeights {
            psi: 0.35,
            ks: 0.25,
            distribution: 0.25,
            score: 0.15,
        }
    }
}

impl DriftWeights {
    fn as_array(&self) -> [f64; 4] {
        [self.psi, self.ks, self.distribution, self.score]
    }

    /// `Σ wᵢ·termᵢ / Σ wᵢ` for terms in the order psi, ks, distribution, score.
    pub(crate) fn combine(&self, terms: [f64; 4]) -> f64 {
        let w = self.as_array();
        let total: f64 = w.iter().sum();
        w.iter().zip(terms).map(|(w, t)| w * t).sum::<f64>() / total
    }
}

/// Settings of drift capture and assessment. `Default` gives the documented defaults; every
/// field may be omitted in JSON (`camelCase` names).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DriftConfig {
    /// Quantile bins per feature and for the composite score (default 10; at least 2).
    pub bins: usize,
    /// Weights of the composite's terms.
    pub weights: DriftWeights,
    /// `is_drifting` when the composite exceeds this (default 0.15, the original's
    /// `hourlyRetrainThreshold`).
    pub threshold: f64,
    /// How many of the most drifted features the report lists (default 5).
    pub top_features: usize,
    /// How many of the most drifted features are averaged into the distribution term
    /// (default 5; see [`super::detector`] for why not all of them).
    pub distribution_top_k: usize,
    /// A feature's drift saturates at 1 when `|Δmean|/σ + |ln(σ'/σ)|` reaches this (default 2:
    /// a mean moved by two reference standard deviations, or a spread changed by e², is as
    /// drifted as a feature gets).
    pub feature_drift_saturation: f64,
    /// p-value method of the KS test on composite scores (default `Auto`).
    pub ks_method: KsMethod,
    /// Fewer current rows than this is [`CoreError::NotEnoughData`] (default 200: below it,
    /// sampling noise alone can push the composite of an unchanged distribution over the
    /// default threshold; measurements in [`super::detector`]).
    pub min_current_rows: usize,
    /// Size of the sorted reference sample of composite scores kept for KS (default 1000).
    pub reference_sample_size: usize,
    /// Per-feature PSI at which a feature's mean/std drift counts in full (default 0.25, the
    /// usual "significant shift" reading); below it the drift is scaled down in proportion
    /// (see [`super::detector`]: the gate that keeps rare-event features quiet).
    pub feature_psi_gate: f64,
    /// Features reported but left out of the distribution term and the top list, by name
    /// (default: the calendar features `hour_sin`, `hour_cos`, `day_sin`, `day_cos`,
    /// `is_weekend`, `is_business_hours`, which say *when* a window was taken, not how
    /// behaviour changed: any window shorter than a week differs from a week-long reference).
    pub excluded_features: Vec<String>,
}

/// The calendar features of the behavioral feature set.
pub const CALENDAR_FEATURES: [&str; 6] = [
    "hour_sin",
    "hour_cos",
    "day_sin",
    "day_cos",
    "is_weekend",
    "is_business_hours",
];

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            bins: 10,
            weights: DriftWeights::default(),
            threshold: 0.15,
            top_features: 5,
            distribution_top_k: 5,
            feature_drift_saturation: 2.0,
            ks_method: KsMethod::Auto,
            min_current_rows: 200,
            reference_sample_size: 1000,
            feature_psi_gate: 0.25,
            excluded_features: CALENDAR_FEATURES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl DriftConfig {
    /// Checks every field; called by capture and assess.
    pub fn validate(&self) -> Result<()> {
        let invalid =
            |name: &'static str, reason: String| Err(CoreError::InvalidParameter { name, reason });
        if self.bins < 2 {
            return invalid("bins", format!("need at least 2 bins, got {}", self.bins));
        }
        let w = self.weights.as_array();
        if w.iter().any(|v| !(v.is_finite() && *v >= 0.0)) || w.iter().sum::<f64>() <= 0.0 {
            return invalid(
                "weights",
                format!("must be finite, non-negative and not all zero, got {w:?}"),
            );
        }
        if !(self.threshold.is_finite() && self.threshold >= 0.0) {
            return invalid(
                "threshold",
                format!("must be finite and non-negative, got {}", self.threshold),
            );
        }
        if !(self.feature_psi_gate.is_finite() && self.feature_psi_gate > 0.0) {
            return invalid(
                "featurePsiGate",
                format!("must be finite and positive, got {}", self.feature_psi_gate),
            );
        }
        if self.distribution_top_k == 0 {
            return invalid("distributionTopK", "must be at least 1".into());
        }
        if !(self.feature_drift_saturation.is_finite() && self.feature_drift_saturation > 0.0) {
            return invalid(
                "featureDriftSaturation",
                format!(
                    "must be finite and positive, got {}",
                    self.feature_drift_saturation
                ),
            );
        }
        if self.min_current_rows == 0 {
            return invalid("minCurrentRows", "must be at least 1".into());
        }
        if self.reference_sample_size < 2 {
            return invalid(
                "referenceSampleSize",
                format!("must be at least 2, got {}", self.reference_sample_size),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_partial_json_fills_in() {
        DriftConfig::default().validate().unwrap();
        let cfg: DriftConfig =
            serde_json::from_str(r#"{"threshold":0.2,"weights":{"psi":1.0}}"#).unwrap();
        assert_eq!(cfg.threshold, 0.2);
        assert_eq!(cfg.weights.psi, 1.0);
        assert_eq!(cfg.weights.ks, 0.25);
        assert_eq!(cfg.bins, 10);
    }

    #[test]
    fn invalid_settings_are_rejected() {
        let bad = [
            DriftConfig {
                bins: 1,
                ..Default::default()
            },
            DriftConfig {
                threshold: f64::NAN,
                ..Default::default()
            },
            DriftConfig {
                weights: DriftWeights {
                    psi: -1.0,
                    ..Default::default()
                },
                ..Default::default()
            },
            DriftConfig {
                weights: DriftWeights {
                    psi: 0.0,
                    ks: 0.0,
                    distribution: 0.0,
                    score: 0.0,
                },
                ..Default::default()
            },
            DriftConfig {
                min_current_rows: 0,
                ..Default::default()
            },
            DriftConfig {
                reference_sample_size: 1,
                ..Default::default()
            },
            DriftConfig {
                distribution_top_k: 0,
                ..Default::default()
            },
            DriftConfig {
                feature_drift_saturation: 0.0,
                ..Default::default()
            },
        ];
        for cfg in bad {
            assert!(cfg.validate().is_err(), "{cfg:?}");
        }
    }

    #[test]
    fn combine_normalises_by_the_weight_sum() {
        let w = DriftWeights {
            psi: 2.0,
            ks: 0.0,
            distribution: 0.0,
            score: 2.0,
        };
        assert!((w.combine([0.5, 9.0, 9.0, 0.1]) - 0.3).abs() < 1e-15);
    }
}
