//! What the drift detector remembers about the training data.
//!
//! The reference is captured when a model is trained and travels inside the model bundle, so
//! it is deliberately *summaries only*: per feature the quantile bins (at most `bins` edges and
//! proportions), mean and standard deviation; for the composite score the same plus a sorted
//! sample of at most `reference_sample_size` (default 1000) scores for the KS test. With 59
//! features and the defaults that is about 59·21 + 1000 numbers (~18 KB in the binary form),
//! whatever the size of the training window — no copy of the training rows.
//!
//! The KS sample is the set of evenly spaced order statistics of all reference scores
//! (`x_(round(i·(n-1)/(k-1)))`, i = 0..k-1, min and max included), which preserves the
//! reference ECDF to within `1/(k-1)` everywhere; the KS statistic against it differs from the
//! statistic against the full reference by at most that much. Its p-value treats the reference
//! as a sample of `k` values and is therefore conservative (less significant) when the
//! training window was larger.
//!
//! Standard deviations are population ones (`ddof = 0`), the same estimator the detector
//! applies to the current window.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::config::DriftConfig;
use super::psi::QuantileBins;
use crate::error::{ensure_finite, CoreError, Result};

/// Reference summary of one feature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureReference {
    /// Quantile bins of the training values.
    pub bins: QuantileBins,
    /// Mean of the training values.
    pub mean: f64,
    /// Population standard deviation of the training values (0 for a constant feature).
    pub std: f64,
}

/// Reference summary of the composite anomaly score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoreReference {
    /// Quantile bins of the training scores.
    pub bins: QuantileBins,
    /// Mean training score.
    pub mean: f64,
    /// Population standard deviation of the training scores.
    pub std: f64,
    /// Ascending sample (evenly spaced order statistics) of the training scores, for KS.
    pub sample: Vec<f64>,
}

/// Everything drift assessment needs from training time. Deserialization re-runs
/// [`DriftReference::validate`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DriftReferenceRepr", rename_all = "camelCase")]
pub struct DriftReference {
    /// One entry per feature column, in column order.
    pub features: Vec<FeatureReference>,
    /// The composite score's summary.
    pub score: ScoreReference,
    /// Number of training rows summarised.
    pub reference_rows: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DriftReferenceRepr {
    features: Vec<FeatureReference>,
    score: ScoreReference,
    reference_rows: usize,
}

impl TryFrom<DriftReferenceRepr> for DriftReference {
    type Error = CoreError;

    fn try_from(repr: DriftReferenceRepr) -> Result<Self> {
        let reference = DriftReference {
            features: repr.features,
            score: repr.score,
            reference_rows: repr.reference_rows,
        };
        reference.validate()?;
        Ok(reference)
    }
}

/// Mean and population standard deviation of a non-empty slice (two passes).
pub(crate) fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.max(0.0).sqrt())
}

/// `k` evenly spaced order statistics of an ascending slice (all of it when `len <= k`).
fn evenly_spaced(sorted: &[f64], k: usize) -> Vec<f64> {
    let n = sorted.len();
    if n <= k {
        return sorted.to_vec();
    }
    let step = (n - 1) as f64 / (k - 1) as f64;
    (0..k)
        .filter_map(|i| {
            sorted
                .get(((i as f64 * step).round() as usize).min(n - 1))
                .copied()
        })
        .collect()
}

impl DriftReference {
    /// Summarises the training matrix (rows = samples, columns = features) and the training
    /// rows' composite scores.
    ///
    /// Errors: an invalid `cfg`; fewer than 2 rows or no columns; a score count different from
    /// the row count; any non-finite value.
    pub fn capture(
        features: ArrayView2<f64>,
        composite_scores: &[f64],
        cfg: &DriftConfig,
    ) -> Result<Self> {
        cfg.validate()?;
        let (n_rows, n_cols) = features.dim();
        if n_rows < 2 {
            return Err(CoreError::NotEnoughData {
                what: "drift reference",
                needed: 2,
                actual: n_rows,
            });
        }
        if n_cols == 0 {
            return Err(CoreError::InvalidParameter {
                name: "features",
                reason: "the reference matrix has no feature columns".into(),
            });
        }
        if composite_scores.len() != n_rows {
            return Err(CoreError::DimensionMismatch {
                expected: n_rows,
                actual: composite_scores.len(),
            });
        }
        if let Some((index, &value)) = features.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(CoreError::NonFinite {
                what: "drift reference features",
                index,
                value,
            });
        }
        ensure_finite("drift reference scores", composite_scores)?;

        let mut column = Vec::with_capacity(n_rows);
        let mut feature_refs = Vec::with_capacity(n_cols);
        for col in features.columns() {
            column.clear();
            column.extend(col.iter().copied());
            let (mean, std) = mean_std(&column);
            column.sort_unstable_by(f64::total_cmp);
            feature_refs.push(FeatureReference {
                bins: QuantileBins::fit_sorted(&column, cfg.bins),
                mean,
                std,
            });
        }

        column.clear();
        column.extend_from_slice(composite_scores);
        let (mean, std) = mean_std(&column);
        column.sort_unstable_by(f64::total_cmp);
        let score = ScoreReference {
            bins: QuantileBins::fit_sorted(&column, cfg.bins),
            mean,
            std,
            sample: evenly_spaced(&column, cfg.reference_sample_size),
        };
        Ok(DriftReference {
            features: feature_refs,
            score,
            reference_rows: n_rows,
        })
    }

    /// Number of feature columns the reference describes.
    pub fn n_features(&self) -> usize {
        self.features.len()
    }

    /// Checks every invariant: at least one feature; valid bins; finite means; finite,
    /// non-negative standard deviations; a non-empty, finite, ascending score sample.
    pub fn validate(&self) -> Result<()> {
        if self.features.is_empty() {
            return Err(CoreError::InvalidParameter {
                name: "drift reference",
                reason: "no features".into(),
            });
        }
        for f in &self.features {
            f.bins.validate()?;
            check_moments("drift reference feature", f.mean, f.std)?;
        }
        self.score.bins.validate()?;
        check_moments("drift reference score", self.score.mean, self.score.std)?;
        if self.score.sample.is_empty() {
            return Err(CoreError::InvalidParameter {
                name: "drift reference",
                reason: "empty score sample".into(),
            });
        }
        ensure_finite("drift reference score sample", &self.score.sample)?;
        if self.score.sample.windows(2).any(|w| w[0] > w[1]) {
            return Err(CoreError::InvalidParameter {
                name: "drift reference",
                reason: "score sample must be ascending".into(),
            });
        }
        Ok(())
    }
}

fn check_moments(what: &'static str, mean: f64, std: f64) -> Result<()> {
    ensure_finite(what, &[mean, std])?;
    if std < 0.0 {
        return Err(CoreError::InvalidParameter {
            name: "drift reference",
            reason: format!("negative standard deviation {std} in {what}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn small_reference() -> DriftReference {
        let data = Array2::from_shape_fn((500, 3), |(i, j)| match j {
            0 => i as f64,
            1 => 7.0,
            _ => (i % 4) as f64,
        });
        let scores: Vec<f64> = (0..500).map(|i| (i as f64 / 499.0).powi(2)).collect();
        DriftReference::capture(data.view(), &scores, &DriftConfig::default()).unwrap()
    }

    #[test]
    fn capture_summarises_each_column() {
        let r = small_reference();
        assert_eq!(r.n_features(), 3);
        assert_eq!(r.reference_rows, 500);
        assert!((r.features[0].mean - 249.5).abs() < 1e-12);
        assert_eq!(r.features[1].std, 0.0);
        assert_eq!(r.features[1].bins.edges, vec![7.0]);
        assert_eq!(r.features[2].bins.edges, vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(r.features[0].bins.n_bins(), 10);
        assert_eq!(r.score.sample.len(), 500); // fewer rows than the sample size: all kept
        r.validate().unwrap();
    }

    #[test]
    fn score_sample_is_evenly_spaced_order_statistics() {
        let sorted: Vec<f64> = (0..10_001).map(f64::from).collect();
        let s = evenly_spaced(&sorted, 1000);
        assert_eq!(s.len(), 1000);
        assert_eq!((s[0], s[999]), (0.0, 10_000.0));
        assert!(s.windows(2).all(|w| w[1] > w[0]));
        assert!((s[500] - 5005.005).abs() <= 0.5);
    }

    /// All numbers of a reference, in a fixed order.
    fn numbers(r: &DriftReference) -> Vec<f64> {
        let mut v = Vec::new();
        for f in &r.features {
            v.extend(&f.bins.edges);
            v.extend(&f.bins.proportions);
            v.extend([f.mean, f.std]);
        }
        v.extend(&r.score.bins.edges);
        v.extend(&r.score.bins.proportions);
        v.extend([r.score.mean, r.score.std]);
        v.extend(&r.score.sample);
        v
    }

    #[test]
    fn serde_round_trip_json_and_postcard() {
        let r = small_reference();
        // The binary form is exact and small.
        let bytes = postcard::to_allocvec(&r).unwrap();
        assert_eq!(postcard::from_bytes::<DriftReference>(&bytes).unwrap(), r);
        assert!(
            bytes.len() < 8 * (numbers(&r).len() + 64),
            "{} bytes",
            bytes.len()
        );
        // JSON: serde_json without its `float_roundtrip` feature may parse the last bit
        // differently, so compare numbers to 1 ulp-ish.
        let json = serde_json::to_string(&r).unwrap();
        let back = serde_json::from_str::<DriftReference>(&json).unwrap();
        assert_eq!(back.reference_rows, r.reference_rows);
        let (a, b) = (numbers(&back), numbers(&r));
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 2.0 * f64::EPSILON * y.abs(), "{x} vs {y}");
        }
    }

    #[test]
    fn reference_stays_compact_whatever_the_training_size() {
        use rand::Rng;
        let mut rng = crate::rng::seeded(3);
        let rows = 20_000;
        let data = Array2::from_shape_fn((rows, 59), |_| rng.random::<f64>());
        let scores: Vec<f64> = (0..rows).map(|_| rng.random::<f64>()).collect();
        let r = DriftReference::capture(data.view(), &scores, &DriftConfig::default()).unwrap();
        assert_eq!(r.score.sample.len(), 1000);
        let bytes = postcard::to_allocvec(&r).unwrap().len();
        // 59 × (9 edges + 10 proportions + 2 moments) + 21 + 1000 numbers of 8 bytes ≈ 18 KB.
        assert!(bytes < 20_000, "{bytes} bytes");
    }

    #[test]
    fn validate_rejects_non_finite_and_broken_values() {
        let mut r = small_reference();
        r.features[0].mean = f64::NAN;
        assert!(matches!(r.validate(), Err(CoreError::NonFinite { .. })));

        let mut r = small_reference();
        r.score.sample[3] = f64::INFINITY;
        assert!(matches!(r.validate(), Err(CoreError::NonFinite { .. })));

        let mut r = small_reference();
        r.features[2].std = -1.0;
        assert!(r.validate().is_err());

        let mut r = small_reference();
        r.score.sample.swap(0, 10);
        assert!(r.validate().is_err());

        // Deserialization validates too.
        let mut r = small_reference();
        r.features[1].bins.edges = vec![f64::MAX, 1.0];
        let json = serde_json::to_string(&r).unwrap();
        assert!(serde_json::from_str::<DriftReference>(&json).is_err());
    }

    #[test]
    fn capture_rejects_bad_input() {
        let cfg = DriftConfig::default();
        let data = Array2::from_elem((10, 2), 1.0);
        let scores = vec![0.5; 10];
        assert!(matches!(
            DriftReference::capture(data.view(), &scores[..9], &cfg),
            Err(CoreError::DimensionMismatch {
                expected: 10,
                actual: 9
            })
        ));
        let mut bad = data.clone();
        bad[[3, 1]] = f64::NAN;
        assert!(matches!(
            DriftReference::capture(bad.view(), &scores, &cfg),
            Err(CoreError::NonFinite { index: 7, .. })
        ));
        let one = Array2::from_elem((1, 2), 1.0);
        assert!(matches!(
            DriftReference::capture(one.view(), &[0.1], &cfg),
            Err(CoreError::NotEnoughData { .. })
        ));
    }
}
