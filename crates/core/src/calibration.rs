//! Calibration: each model's raw score mapped monotonically onto [0, 1] so that the composite
//! score has one meaning whatever the models and the data.
//!
//! ## Why
//! The Isolation Forest's raw score `2^(-E[h]/c(ψ))` and the autoencoder's reconstruction error
//! live on unrelated scales; averaging them raw (as the original did) lets whichever is larger
//! dominate, and a fixed threshold such as 0.65 then means a different alarm rate for every data
//! set. scikit-learn solves the single-model version with `contamination`: the decision offset is
//! the training-score quantile at `1 - contamination`. We do the same for the *ensemble*: on the
//! training data, the fraction of rows with `composite > anomaly_threshold` equals
//! `contamination` (up to ties in the data), so contamination sets the alarm rate.
//!
//! ## The mapping
//! For one model with raw score `s` (higher = more anomalous):
//!
//! 1. `p = F(s)`: the empirical CDF of the training raw scores, stored as `K` quantile knots
//!    (257 by default) and interpolated linearly between them (a run of equal knots maps to the
//!    middle of its run, like an average rank). `p = 0` below the training minimum.
//! 2. Inside the training range, `p` is mapped piecewise linearly through three anchors shared by
//!    both models: `0 → 0`, `pivot → anomaly_threshold`, `1 → ceiling` (0.85 by default).
//! 3. Beyond the training maximum `s_max` the score keeps rising smoothly towards 1:
//!    `ceiling + (1 - ceiling)·(1 - exp(-(s - s_max)/τ))`, where `τ` is the raw-score width of the
//!    model's top `contamination` tail.
//!
//! `pivot` is the one free parameter. Both models use it, so the composite
//! `w_f·g(F_f(s_f)) + w_a·g(F_a(s_a))` is non-increasing in `pivot` on every row, and bisection
//! finds the pivot whose training alarm rate is closest to `contamination`. The achieved rate is
//! stored in [`Calibration::training_alarm_rate`].
//!
//! Consequences worth knowing: a row as unusual as the most unusual training row scores at most
//! `ceiling` in each model (0.85: `REQUIRE_2FA`), so `BLOCK` (0.90) needs a request *more
//! extreme than anything in the training window* in at least one model; and retraining on a
//! window that contains an attack makes that attack's pattern look less extreme, as it should for
//! a detector of the unusual.

use serde::{Deserialize, Serialize};

use crate::ensemble::EnsembleWeights;
use crate::error::{CoreError, Result};

/// Settings of the calibration fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CalibrationConfig {
    /// Number of quantile knots kept per model (at least 3).
    pub knots: usize,
    /// Calibrated value of the training maximum, in (anomaly threshold, 1).
    pub in_sample_ceiling: f64,
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        CalibrationConfig {
            knots: 257,
            in_sample_ceiling: 0.85,
        }
    }
}

/// The empirical distribution of one model's raw training scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoreCalibration {
    /// Raw-score quantiles at probabilities `k / (K - 1)`, non-decreasing.
    knots: Vec<f64>,
    /// Raw-score unit of the extrapolation beyond the training maximum (> 0).
    tail_scale: f64,
}

impl ScoreCalibration {
    /// Quantile knots of `raw` and the width of its top `tail_fraction`.
    fn fit(raw: &[f64], knots: usize, tail_fraction: f64) -> Result<Self> {
        crate::error::ensure_finite("raw training scores", raw)?;
        let mut sorted = raw.to_vec();
        sorted.sort_by(f64::total_cmp);
        let quantile = |p: f64| -> f64 {
            let pos = p * (sorted.len() - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = (lo + 1).min(sorted.len() - 1);
            sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
        };
        let knots: Vec<f64> = (0..knots)
            .map(|k| quantile(k as f64 / (knots - 1) as f64))
            .collect();
        let max = sorted[sorted.len() - 1];
        let min = sorted[0];
        let candidates = [
            max - quantile(1.0 - tail_fraction),
            (max - min) / knots.len() as f64,
        ];
        let tail_scale = candidates
            .into_iter()
            .find(|w| *w > 0.0)
            .unwrap_or_else(|| 1e-6 * max.abs().max(1.0));
        Ok(ScoreCalibration { knots, tail_scale })
    }

    /// Largest raw training score.
    pub fn training_max(&self) -> f64 {
        self.knots[self.knots.len() - 1]
    }

    /// The stored quantile knots.
    pub fn knots(&self) -> &[f64] {
        &self.knots
    }

    /// Scale of the exponential tail beyond the largest training score.
    pub fn tail_scale(&self) -> f64 {
        self.tail_scale
    }

    /// Empirical CDF position of `raw` in [0, 1] (see the module docs).
    pub fn rank(&self, raw: f64) -> f64 {
        let k = &self.knots;
        let last = (k.len() - 1) as f64;
        let first_ge = k.partition_point(|&q| q < raw);
        let first_gt = k.partition_point(|&q| q <= raw);
        if first_ge < first_gt {
            // raw equals the run knots[first_ge..first_gt]
            ((first_ge + first_gt - 1) as f64 / 2.0) / last
        } else if first_ge == 0 {
            0.0
        } else if first_ge == k.len() {
            1.0
        } else {
            let (lo, hi) = (k[first_ge - 1], k[first_ge]);
            ((first_ge - 1) as f64 + (raw - lo) / (hi - lo)) / last
        }
    }

    fn validate(&self, what: &str) -> Result<()> {
        let bad = |reason: String| {
            Err(CoreError::InvalidBundle(format!(
                "{what} calibration: {reason}"
            )))
        };
        if self.knots.len() < 3 {
            return bad(format!("needs at least 3 knots, has {}", self.knots.len()));
        }
        if let Some(i) = self.knots.iter().position(|v| !v.is_finite()) {
            return bad(format!("knot {i} is not finite"));
        }
        if self.knots.windows(2).any(|w| w[0] > w[1]) {
            return bad("knots are not non-decreasing".into());
        }
        if !(self.tail_scale.is_finite() && self.tail_scale > 0.0) {
            return bad(format!(
                "tail scale must be positive, got {}",
                self.tail_scale
            ));
        }
        Ok(())
    }
}

/// The fitted calibration of both models.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Calibration {
    pub forest: ScoreCalibration,
    pub autoencoder: ScoreCalibration,
    /// Quantile rank mapped onto the anomaly threshold.
    pub pivot: f64,
    /// The anomaly threshold the calibration was fitted for.
    pub threshold: f64,
    /// Calibrated value of each model's training maximum.
    pub ceiling: f64,
    /// The contamination the fit aimed at.
    pub contamination: f64,
    /// Fraction of training rows with composite above the threshold, as achieved.
    pub training_alarm_rate: f64,
}

impl Calibration {
    /// Fits both maps on the raw training scores (same rows, same order) so that the training
    /// alarm rate of the weighted composite is as close as possible to `contamination`.
    pub fn fit(
        forest_raw: &[f64],
        autoencoder_raw: &[f64],
        weights: &EnsembleWeights,
        threshold: f64,
        contamination: f64,
        config: &CalibrationConfig,
    ) -> Result<Self> {
        if forest_raw.len() != autoencoder_raw.len() {
            return Err(CoreError::DimensionMismatch {
                expected: forest_raw.len(),
                actual: autoencoder_raw.len(),
            });
        }
        if forest_raw.len() < 2 {
            return Err(CoreError::NotEnoughData {
                what: "calibration",
                needed: 2,
                actual: forest_raw.len(),
            });
        }
        if !(contamination > 0.0 && contamination <= 0.5) {
            return Err(CoreError::InvalidParameter {
                name: "contamination",
                reason: format!("must be in (0, 0.5], got {contamination}"),
            });
        }
        if !(threshold > 0.0
            && threshold < config.in_sample_ceiling
            && config.in_sample_ceiling < 1.0)
        {
            return Err(CoreError::InvalidParameter {
                name: "anomalyThreshold",
                reason: format!(
                    "calibration needs 0 < threshold ({threshold}) < in-sample ceiling ({}) < 1",
                    config.in_sample_ceiling
                ),
            });
        }
        if config.knots < 3 {
            return Err(CoreError::InvalidParameter {
                name: "knots",
                reason: "at least 3".into(),
            });
        }
        let (wf, wa) = weights.normalized()?;
        let forest = ScoreCalibration::fit(forest_raw, config.knots, contamination)?;
        let autoencoder = ScoreCalibration::fit(autoencoder_raw, config.knots, contamination)?;
        let ranks: Vec<(f64, f64)> = forest_raw
            .iter()
            .zip(autoencoder_raw)
            .map(|(&f, &a)| (forest.rank(f), autoencoder.rank(a)))
            .collect();

        let mut cal = Calibration {
            forest,
            autoencoder,
            pivot: 1.0 - contamination,
            threshold,
            ceiling: config.in_sample_ceiling,
            contamination,
            training_alarm_rate: 0.0,
        };
        let alarm_rate = |cal: &Calibration| {
            let alarms = ranks
                .iter()
                .filter(|&&(pf, pa)| wf * cal.map_rank(pf) + wa * cal.map_rank(pa) > threshold)
                .count();
            alarms as f64 / ranks.len() as f64
        };
        // The alarm rate is non-increasing in the pivot: bisect, keeping the best pivot seen.
        let (mut lo, mut hi) = (1e-9, 1.0 - 1e-9);
        let mut best = (f64::INFINITY, cal.pivot);
        for _ in 0..64 {
            let mid = 0.5 * (lo + hi);
            cal.pivot = mid;
            let rate = alarm_rate(&cal);
            let gap = (rate - contamination).abs();
            if gap < best.0 || (gap == best.0 && mid > best.1) {
                best = (gap, mid);
            }
            if rate > contamination {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        cal.pivot = best.1;
        cal.training_alarm_rate = alarm_rate(&cal);
        Ok(cal)
    }

    /// Maps an in-sample quantile rank onto [0, ceiling].
    fn map_rank(&self, p: f64) -> f64 {
        if p <= self.pivot {
            self.threshold * p / self.pivot
        } else {
            self.threshold + (self.ceiling - self.threshold) * (p - self.pivot) / (1.0 - self.pivot)
        }
    }

    fn map(&self, model: &ScoreCalibration, raw: f64) -> f64 {
        let max = model.training_max();
        if raw > max {
            let excess = (raw - max) / model.tail_scale;
            self.ceiling + (1.0 - self.ceiling) * -libm::expm1(-excess)
        } else {
            self.map_rank(model.rank(raw))
        }
    }

    /// Calibrated Isolation Forest score in [0, 1].
    pub fn forest_score(&self, raw: f64) -> f64 {
        self.map(&self.forest, raw)
    }

    /// Calibrated autoencoder score in [0, 1].
    pub fn autoencoder_score(&self, raw: f64) -> f64 {
        self.map(&self.autoencoder, raw)
    }

    /// Structural check after deserialisation.
    pub fn validate(&self) -> Result<()> {
        self.forest.validate("forest")?;
        self.autoencoder.validate("autoencoder")?;
        let ok = |v: f64| v.is_finite() && v > 0.0 && v < 1.0;
        if !(ok(self.pivot)
            && ok(self.threshold)
            && ok(self.ceiling)
            && self.threshold < self.ceiling)
        {
            return Err(CoreError::InvalidBundle(format!(
                "calibration anchors out of range: pivot {}, threshold {}, ceiling {}",
                self.pivot, self.threshold, self.ceiling
            )));
        }
        if !(self.contamination > 0.0
            && self.contamination <= 0.5
            && (0.0..=1.0).contains(&self.training_alarm_rate))
        {
            return Err(CoreError::InvalidBundle(
                "calibration rates out of range".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng as _;

    fn weights() -> EnsembleWeights {
        EnsembleWeights::default()
    }

    /// Two correlated scores: a shared latent plus independent noise, heavy upper tail.
    fn correlated_scores(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = crate::rng::seeded(seed);
        let mut f = Vec::with_capacity(n);
        let mut a = Vec::with_capacity(n);
        for _ in 0..n {
            let z: f64 = rng.random::<f64>();
            let u: f64 = rng.random::<f64>();
            let v: f64 = rng.random::<f64>();
            f.push(0.35 + 0.2 * z + 0.1 * u);
            a.push((3.0 * z + v).exp());
        }
        (f, a)
    }

    #[test]
    fn contamination_sets_the_training_alarm_rate() {
        for (contamination, seed) in [(0.05, 1), (0.01, 2), (0.1, 3), (0.2, 4)] {
            let (f, a) = correlated_scores(5000, seed);
            let cal =
                Calibration::fit(&f, &a, &weights(), 0.65, contamination, &Default::default())
                    .unwrap();
            let alarms = f
                .iter()
                .zip(&a)
                .filter(|(&x, &y)| {
                    0.6 * cal.forest_score(x) + 0.4 * cal.autoencoder_score(y) > 0.65
                })
                .count() as f64
                / f.len() as f64;
            assert!(
                (alarms - contamination).abs() <= 0.01,
                "contamination {contamination}: rate {alarms}"
            );
            assert_eq!(alarms, cal.training_alarm_rate);
        }
    }

    #[test]
    fn mapping_is_monotone_and_bounded() {
        let (f, a) = correlated_scores(2000, 7);
        let cal = Calibration::fit(&f, &a, &weights(), 0.65, 0.05, &Default::default()).unwrap();
        let mut previous = f64::NEG_INFINITY;
        for i in 0..=4000 {
            let raw = -1.0 + i as f64 * 0.0005; // covers below, inside and beyond the training range
            let s = cal.forest_score(raw);
            assert!((0.0..=1.0).contains(&s), "{raw} -> {s}");
            assert!(s >= previous, "not monotone at {raw}: {s} < {previous}");
            previous = s;
        }
        assert_eq!(cal.forest_score(-10.0), 0.0);
        assert!(cal.forest_score(1e9) > 0.999);
        let max = cal.forest.training_max();
        assert!(
            (cal.forest_score(max) - 0.85).abs() < 1e-12,
            "training max maps to the ceiling"
        );
        assert!(
            cal.forest_score(max + cal.forest.tail_scale) > 0.90,
            "one tail width beyond the max blocks"
        );
    }

    #[test]
    fn ties_do_not_break_monotonicity() {
        let f: Vec<f64> = (0..1000).map(|i| (i / 100) as f64).collect(); // ten values, 100 each
        let a: Vec<f64> = (0..1000).map(|i| (i % 7) as f64).collect();
        let cal = Calibration::fit(&f, &a, &weights(), 0.65, 0.05, &Default::default()).unwrap();
        let s: Vec<f64> = (0..100).map(|i| cal.forest_score(i as f64 * 0.1)).collect();
        assert!(s.windows(2).all(|w| w[0] <= w[1]));
        cal.validate().unwrap();
    }

    #[test]
    fn constant_scores_are_handled() {
        let f = vec![0.5; 100];
        let a = vec![0.0; 100];
        let cal = Calibration::fit(&f, &a, &weights(), 0.65, 0.05, &Default::default()).unwrap();
        cal.validate().unwrap();
        assert!(
            cal.forest_score(0.5) <= 0.65,
            "the only value seen in training is not an anomaly"
        );
        assert!(cal.forest_score(0.6) > 0.85, "anything beyond it is");
    }

    #[test]
    fn bad_arguments_are_rejected() {
        let f = vec![0.1, 0.2, 0.3];
        assert!(
            Calibration::fit(&f, &f[..2], &weights(), 0.65, 0.05, &Default::default()).is_err()
        );
        assert!(Calibration::fit(&f, &f, &weights(), 0.65, 0.0, &Default::default()).is_err());
        assert!(Calibration::fit(&f, &f, &weights(), 0.9, 0.05, &Default::default()).is_err());
        assert!(Calibration::fit(
            &[0.1, f64::NAN],
            &[0.1, 0.2],
            &weights(),
            0.65,
            0.05,
            &Default::default()
        )
        .is_err());
    }
}
