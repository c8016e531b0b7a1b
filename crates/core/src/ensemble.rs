//! The ensemble: two calibrated scores combined into one composite, a confidence and an action.
//!
//! `composite = w_f·IF + w_a·AE` with the calibrated scores (weights 0.6 / 0.4 by default,
//! normalised to sum to 1 so the composite stays in [0, 1]); `confidence = min(1, 1.2·(1 − |IF − AE|))`,
//! i.e. how much the two models agree; the action comes from [`crate::policy::ActionPolicy`].

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::policy::{Action, ActionPolicy};

/// Relative weights of the two models in the composite.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnsembleWeights {
    pub isolation_forest: f64,
    pub autoencoder: f64,
}

impl Default for EnsembleWeights {
    fn default() -> Self {
        EnsembleWeights {
            isolation_forest: 0.6,
            autoencoder: 0.4,
        }
    }
}

impl EnsembleWeights {
    /// The weights scaled to sum to 1; an error unless both are finite, non-negative and not both 0.
    pub fn normalized(&self) -> Result<(f64, f64)> {
        let (f, a) = (self.isolation_forest, self.autoencoder);
        if !(f.is_finite() && a.is_finite() && f >= 0.0 && a >= 0.0 && f + a > 0.0) {
            return Err(CoreError::InvalidParameter {
                name: "ensembleWeight",
                reason: format!(
                    "weights must be finite, non-negative and not both zero, got {f} and {a}"
                ),
            });
        }
        Ok((f / (f + a), a / (f + a)))
    }
}

/// How scores are combined and acted upon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct EnsembleConfig {
    pub weights: EnsembleWeights,
    pub policy: ActionPolicy,
}

impl EnsembleConfig {
    pub fn validate(&self) -> Result<()> {
        self.weights.normalized()?;
        self.policy.validate()
    }
}

/// Everything known about one scored vector.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scores {
    /// Mean path length over the trees, `E[h(x)]`.
    pub forest_path_length: f64,
    /// Isolation Forest score `2^(-E[h]/c(ψ))` before calibration.
    pub forest_raw: f64,
    /// Autoencoder mean squared reconstruction error (scaled inputs) before calibration.
    pub autoencoder_raw: f64,
    /// Calibrated Isolation Forest score in [0, 1].
    pub isolation_forest: f64,
    /// Calibrated autoencoder score in [0, 1].
    pub autoencoder: f64,
    /// Weighted composite in [0, 1].
    pub composite: f64,
    pub is_anomaly: bool,
    /// `min(1, 1.2·(1 − |IF − AE|))`.
    pub confidence: f64,
    /// `1 − |IF − AE|`.
    pub model_agreement: f64,
    pub action: Action,
}

impl EnsembleConfig {
    /// Combines two calibrated scores (the raw ones are carried along for records).
    pub fn combine(
        &self,
        forest_path_length: f64,
        forest_raw: f64,
        autoencoder_raw: f64,
        forest: f64,
        autoencoder: f64,
    ) -> Scores {
        let (wf, wa) = self.weights.normalized().unwrap_or((0.6, 0.4));
        let composite = (wf * forest + wa * autoencoder).clamp(0.0, 1.0);
        let model_agreement = 1.0 - (forest - autoencoder).abs();
        Scores {
            forest_path_length,
            forest_raw,
            autoencoder_raw,
            isolation_forest: forest,
            autoencoder,
            composite,
            is_anomaly: self.policy.is_anomaly(composite),
            confidence: (1.2 * model_agreement).min(1.0),
            model_agreement,
            action: self.policy.action(composite),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_and_confidence_follow_the_interface_formulas() {
        let cfg = EnsembleConfig::default();
        let s = cfg.combine(5.0, 0.7, 2.0, 0.9, 0.7);
        assert!((s.composite - (0.6 * 0.9 + 0.4 * 0.7)).abs() < 1e-15);
        assert!((s.confidence - (1.2f64 * 0.8).min(1.0)).abs() < 1e-15);
        assert!(s.is_anomaly);
        assert_eq!(s.action, Action::Require2fa); // 0.82
        let agree = cfg.combine(5.0, 0.5, 1.0, 0.3, 0.3);
        assert_eq!(agree.confidence, 1.0);
        assert_eq!(agree.action, Action::Allow);
    }

    #[test]
    fn weights_are_normalised_and_validated() {
        let w = EnsembleWeights {
            isolation_forest: 3.0,
            autoencoder: 1.0,
        };
        assert_eq!(w.normalized().unwrap(), (0.75, 0.25));
        assert!(EnsembleWeights {
            isolation_forest: -1.0,
            autoencoder: 1.0
        }
        .normalized()
        .is_err());
        assert!(EnsembleWeights {
            isolation_forest: 0.0,
            autoencoder: 0.0
        }
        .normalized()
        .is_err());
        let only_forest = EnsembleConfig {
            weights: EnsembleWeights {
                isolation_forest: 1.0,
                autoencoder: 0.0,
            },
            ..Default::default()
        };
        assert_eq!(
            only_forest.combine(0.0, 0.0, 0.0, 0.66, 0.0).composite,
            0.66
        );
    }
}
