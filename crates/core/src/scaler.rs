//! Robust per-feature scaling for the autoencoder.
//!
//! The 59 behavioral features live on wildly different scales (counts, rates per minute, byte
//! sizes, ratios in [0, 1], kilometres) and are heavy-tailed: a single burst or a long upload
//! produces values hundreds of interquartile ranges away from the bulk. The autoencoder's loss is
//! a *sum of squares over features*, so without scaling it would only ever learn to reconstruct
//! the few features with the largest raw spread, and one unbounded value would dominate every
//! error it reports. Hence, per feature `j`:
//!
//! ```text
//! z_j = clamp((x_j - median_j) / scale_j, -clip, clip)
//! ```
//!
//! - **Centre = median**, **scale = IQR** (`q75 - q25`, linear interpolation between order
//!   statistics exactly like numpy's default `percentile`): both ignore the tails the model is
//!   supposed to *detect*, unlike mean/standard deviation which the very anomalies in the
//!   training window would inflate. The medians double as the "training baseline" shown in
//!   explanations ([`RobustScaler::center`]).
//! - **Zero spread guard**: many behavioral features are zero for more than half of all requests
//!   (e.g. failed logins), so their IQR is 0. Those fall back to the population standard
//!   deviation (`ddof = 0`) around the mean, which is positive as soon as *any* value differs;
//!   a constant feature (standard deviation 0 too) gets scale `1.0`, so it maps to a
//!   constant `0` in training and to its plain deviation afterwards.
//! - **Clipping** to `[-clip, clip]` (default [`RobustScaler::DEFAULT_CLIP`] = 10): a request
//!   10 robust units away from the median is already as anomalous as the autoencoder can usefully
//!   express for that feature; beyond that, one unbounded feature would swamp the squared error
//!   and make the other 58 irrelevant. The clip value is stored with the scaler so scoring always
//!   uses the value the model was trained with.
//!
//! The Isolation Forest does **not** use scaled inputs: its splits are thresholds on single
//! features, so any monotone per-feature transform leaves its trees (and its scores) unchanged,
//! and clipping would only throw away resolution in the tails it isolates best.
//!
//! ## Misuse without panics
//! [`RobustScaler::transform_row`] and [`RobustScaler::transform`] are on the scoring path and do
//! not return `Result`; a row of the wrong width never panics but yields NaN (never a
//! plausible-looking number). Check widths once at the boundary with
//! [`RobustScaler::check_width`].

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::{ensure_finite, CoreError, Result};

/// Per-feature median/IQR scaling with clipping, fitted on training data and stored with the
/// model. See the [module docs](self) for the rationale.
///
/// Deserialization re-runs [`RobustScaler::validate`], so a value that exists is always usable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RobustScalerRepr")]
pub struct RobustScaler {
    /// Per-feature medians of the training data.
    center: Vec<f64>,
    /// Per-feature positive scales (IQR, or the documented fallbacks).
    scale: Vec<f64>,
    /// Symmetric clip bound applied after centring and scaling.
    clip: f64,
}

/// The serialized shape of [`RobustScaler`], validated on the way in.
#[derive(Deserialize)]
struct RobustScalerRepr {
    center: Vec<f64>,
    scale: Vec<f64>,
    clip: f64,
}

impl TryFrom<RobustScalerRepr> for RobustScaler {
    type Error = CoreError;

    fn try_from(repr: RobustScalerRepr) -> Result<Self> {
        let scaler = RobustScaler {
            center: repr.center,
            scale: repr.scale,
            clip: repr.clip,
        };
        scaler.validate()?;
        Ok(scaler)
    }
}

impl RobustScaler {
    /// The default clip bound, in robust units (IQRs) away from the median.
    pub const DEFAULT_CLIP: f64 = 10.0;

    /// Fits medians and scales on `data` (rows = samples, columns = features) with the default
    /// clip bound.
    ///
    /// Errors: no rows, no columns, or any non-finite value.
    pub fn fit(data: ArrayView2<f64>) -> Result<Self> {
        Self::fit_with_clip(data, Self::DEFAULT_CLIP)
    }

    /// Like [`RobustScaler::fit`] with an explicit clip bound (finite and positive).
    pub fn fit_with_clip(data: ArrayView2<f64>, clip: f64) -> Result<Self> {
        if !(clip.is_finite() && clip > 0.0) {
            return Err(CoreError::InvalidParameter {
                name: "clip",
                reason: format!("must be finite and positive, got {clip}"),
            });
        }
        let (n_rows, n_cols) = data.dim();
        if n_rows == 0 {
            return Err(CoreError::NotEnoughData {
                what: "scaler fit",
                needed: 1,
                actual: 0,
            });
        }
        if n_cols == 0 {
            return Err(CoreError::InvalidParameter {
                name: "data",
                reason: "the training matrix has no feature columns".into(),
            });
        }
        if let Some((index, &value)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(CoreError::NonFinite {
                what: "scaler training data",
                index,
                value,
            });
        }

        let mut center = Vec::with_capacity(n_cols);
        let mut scale = Vec::with_capacity(n_cols);
        let mut column = Vec::with_capacity(n_rows);
        for col in data.columns() {
            column.clear();
            column.extend(col.iter().copied());
            column.sort_unstable_by(f64::total_cmp);
            let median = percentile_sorted(&column, 0.5);
            let iqr = percentile_sorted(&column, 0.75) - percentile_sorted(&column, 0.25);
            center.push(median);
            scale.push(if iqr > 0.0 {
                iqr
            } else {
                fallback_scale(&column)
            });
        }
        let scaler = RobustScaler {
            center,
            scale,
            clip,
        };
        scaler.validate()?;
        Ok(scaler)
    }

    /// Number of features the scaler was fitted on.
    pub fn n_features(&self) -> usize {
        self.center.len()
    }

    /// Per-feature training medians: also the "training baseline" shown in explanations.
    pub fn center(&self) -> &[f64] {
        &self.center
    }

    /// Per-feature scales (all finite and positive).
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// The clip bound (finite and positive).
    pub fn clip(&self) -> f64 {
        self.clip
    }

    /// Errors unless `width` equals [`RobustScaler::n_features`].
    pub fn check_width(&self, width: usize) -> Result<()> {
        if width == self.n_features() {
            Ok(())
        } else {
            Err(CoreError::DimensionMismatch {
                expected: self.n_features(),
                actual: width,
            })
        }
    }

    /// Scales one row into `out` without allocating.
    ///
    /// `x` and `out` must both have [`RobustScaler::n_features`] entries; otherwise `out` is
    /// filled with NaN (no panic). A NaN in `x` stays NaN in `out`.
    pub fn transform_row(&self, x: &[f64], out: &mut [f64]) {
        if x.len() != self.n_features() || out.len() != self.n_features() {
            out.fill(f64::NAN);
            return;
        }
        for ((o, &v), (&c, &s)) in out
            .iter_mut()
            .zip(x)
            .zip(self.center.iter().zip(&self.scale))
        {
            *o = scale_one(v, c, s, self.clip);
        }
    }

    /// Scales every row of `data` into a new matrix (same values as
    /// [`RobustScaler::transform_row`], bit for bit).
    ///
    /// A matrix of the wrong width gives an all-NaN matrix of the same shape (no panic).
    pub fn transform(&self, data: ArrayView2<f64>) -> Array2<f64> {
        let mut out = Array2::zeros(data.dim());
        if data.ncols() != self.n_features() {
            out.fill(f64::NAN);
            return out;
        }
        for (mut out_row, in_row) in out.rows_mut().into_iter().zip(data.rows()) {
            let params = self.center.iter().zip(&self.scale);
            for ((o, &v), (&c, &s)) in out_row.iter_mut().zip(in_row.iter()).zip(params) {
                *o = scale_one(v, c, s, self.clip);
            }
        }
        out
    }

    /// Checks the invariants every constructor guarantees: equal, non-zero lengths, finite
    /// centres, finite positive scales, finite positive clip.
    pub fn validate(&self) -> Result<()> {
        if self.center.is_empty() {
            return Err(CoreError::InvalidBundle("scaler has no features".into()));
        }
        if self.scale.len() != self.center.len() {
            return Err(CoreError::InvalidBundle(format!(
                "scaler has {} centres but {} scales",
                self.center.len(),
                self.scale.len()
            )));
        }
        ensure_finite("scaler centre", &self.center)?;
        ensure_finite("scaler scale", &self.scale)?;
        if let Some(j) = self.scale.iter().position(|&s| s <= 0.0) {
            return Err(CoreError::InvalidBundle(format!(
                "scaler scale of feature {j} is {} (must be positive)",
                self.scale[j]
            )));
        }
        if !(self.clip.is_finite() && self.clip > 0.0) {
            return Err(CoreError::InvalidBundle(format!(
                "scaler clip is {} (must be finite and positive)",
                self.clip
            )));
        }
        Ok(())
    }
}

/// `clamp((v - c) / s, -clip, clip)`, written out so that NaN propagates instead of panicking.
#[inline]
fn scale_one(v: f64, c: f64, s: f64, clip: f64) -> f64 {
    let z = (v - c) / s;
    if z > clip {
        clip
    } else if z < -clip {
        -clip
    } else {
        z
    }
}

/// The `q`-quantile (`q` in [0, 1]) of ascending, non-empty `sorted`, interpolating linearly
/// between the two nearest order statistics (numpy's default `method="linear"`).
fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    let Some(&last) = sorted.last() else {
        return f64::NAN;
    };
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let frac = pos - lo as f64;
    match (sorted.get(lo), sorted.get(lo + 1)) {
        (Some(&a), Some(&b)) if frac > 0.0 => a + frac * (b - a),
        (Some(&a), _) => a,
        _ => last,
    }
}

/// Scale for a feature whose IQR is zero: the population standard deviation, or 1.0 for a
/// constant feature.
fn fallback_scale(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let std = var.sqrt();
    if std.is_finite() && std > 0.0 {
        std
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn medians_and_iqr_match_numpy_linear_percentiles() {
        // column 0: 1..=8       -> q25 = 2.75, median = 4.5, q75 = 6.25, IQR = 3.5
        // column 1: 10,0,..,70 (unsorted) -> sorted 0,10,...,70 -> q25 17.5, med 35, q75 52.5
        // column 2: 1,2,3,4,100,5,6,7 -> sorted 1..7,100 -> q25 2.75, med 4.5, q75 6.25
        let data = array![
            [1.0, 10.0, 1.0],
            [2.0, 0.0, 2.0],
            [3.0, 30.0, 3.0],
            [4.0, 20.0, 4.0],
            [5.0, 50.0, 100.0],
            [6.0, 40.0, 5.0],
            [7.0, 70.0, 6.0],
            [8.0, 60.0, 7.0],
        ];
        let s = RobustScaler::fit(data.view()).unwrap();
        assert_eq!(s.n_features(), 3);
        assert_eq!(s.center(), &[4.5, 35.0, 4.5]);
        assert_eq!(s.scale(), &[3.5, 35.0, 3.5]);
        assert_eq!(s.clip(), RobustScaler::DEFAULT_CLIP);
        // the outlier 100 does not move the centre or scale of column 2 (a mean/std would)
        let mut out = [0.0; 3];
        s.transform_row(&[8.0, 0.0, 4.5], &mut out);
        assert_eq!(out, [1.0, -1.0, 0.0]);
    }

    #[test]
    fn odd_count_percentiles_interpolate() {
        // 0, 1, 4, 9, 16: q25 at pos 1.0 -> 1, median 4, q75 at pos 3 -> 9
        let data = array![[16.0], [1.0], [9.0], [0.0], [4.0]];
        let s = RobustScaler::fit(data.view()).unwrap();
        assert_eq!(s.center(), &[4.0]);
        assert_eq!(s.scale(), &[8.0]);
        // 0,1,2,3,4,5 : pos 1.25 -> 1.25, pos 3.75 -> 3.75
        let data = array![[5.0], [4.0], [3.0], [2.0], [1.0], [0.0]];
        let s = RobustScaler::fit(data.view()).unwrap();
        assert_eq!(s.center(), &[2.5]);
        assert_eq!(s.scale(), &[2.5]);
    }

    #[test]
    fn zero_iqr_falls_back_to_standard_deviation() {
        // eight zeros and two fours: q25 = q75 = 0; mean 0.8, population var = (8*0.64 + 2*10.24)/10 = 2.56
        let mut col = vec![0.0; 8];
        col.extend([4.0, 4.0]);
        let data = Array2::from_shape_vec((10, 1), col).unwrap();
        let s = RobustScaler::fit(data.view()).unwrap();
        assert_eq!(s.center(), &[0.0]);
        assert!((s.scale()[0] - 1.6).abs() < 1e-12, "scale {}", s.scale()[0]);
    }

    #[test]
    fn constant_feature_gets_unit_scale() {
        let data = array![[3.0, 1.0], [3.0, 2.0], [3.0, 3.0]];
        let s = RobustScaler::fit(data.view()).unwrap();
        assert_eq!(s.center(), &[3.0, 2.0]);
        assert_eq!(s.scale(), &[1.0, 1.0]);
        let z = s.transform(data.view());
        assert!(z.column(0).iter().all(|&v| v == 0.0));
        let mut out = [0.0; 2];
        s.transform_row(&[5.5, 2.0], &mut out);
        assert_eq!(out, [2.5, 0.0]);
    }

    #[test]
    fn values_are_clipped_symmetrically() {
        let data = array![[0.0], [1.0], [2.0], [3.0], [4.0]]; // median 2, IQR 2
        let s = RobustScaler::fit(data.view()).unwrap();
        let mut out = [0.0];
        s.transform_row(&[1e9], &mut out);
        assert_eq!(out, [10.0]);
        s.transform_row(&[-1e9], &mut out);
        assert_eq!(out, [-10.0]);
        s.transform_row(&[21.0], &mut out); // z = 9.5, inside the bound
        assert_eq!(out, [9.5]);
        let s3 = RobustScaler::fit_with_clip(data.view(), 3.0).unwrap();
        s3.transform_row(&[100.0], &mut out);
        assert_eq!(out, [3.0]);
        assert_eq!(s3.clip(), 3.0);
    }

    #[test]
    fn transform_row_equals_transform_bitwise() {
        use rand::Rng as _;
        let mut rng = crate::rng::seeded(7);
        let data = Array2::from_shape_fn((50, 6), |(i, j)| {
            let heavy: f64 = rng.random::<f64>().powi(4) * 1e3;
            if j == 5 {
                (i % 3) as f64
            } else {
                heavy * (j as f64 + 1.0) - 10.0
            }
        });
        let s = RobustScaler::fit(data.view()).unwrap();
        // transform a non-contiguous view too (every other row, reversed columns)
        let strided = data.slice(ndarray::s![..;2, ..]);
        let batch = s.transform(strided);
        let mut out = vec![0.0; 6];
        for (row, expected) in strided.rows().into_iter().zip(batch.rows()) {
            let row: Vec<f64> = row.to_vec();
            s.transform_row(&row, &mut out);
            for (a, b) in out.iter().zip(expected.iter()) {
                assert_eq!(a.to_bits(), b.to_bits());
            }
        }
    }

    #[test]
    fn fit_rejects_bad_input() {
        let empty = Array2::<f64>::zeros((0, 3));
        assert!(matches!(
            RobustScaler::fit(empty.view()),
            Err(CoreError::NotEnoughData { .. })
        ));
        let no_cols = Array2::<f64>::zeros((4, 0));
        assert!(matches!(
            RobustScaler::fit(no_cols.view()),
            Err(CoreError::InvalidParameter { .. })
        ));
        let nan = array![[1.0, 2.0], [f64::NAN, 3.0]];
        assert!(matches!(
            RobustScaler::fit(nan.view()),
            Err(CoreError::NonFinite { index: 2, .. })
        ));
        let inf = array![[1.0], [f64::INFINITY]];
        assert!(matches!(
            RobustScaler::fit(inf.view()),
            Err(CoreError::NonFinite { index: 1, .. })
        ));
        let ok = array![[1.0], [2.0]];
        for clip in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(RobustScaler::fit_with_clip(ok.view(), clip).is_err());
        }
    }

    #[test]
    fn wrong_width_gives_nan_not_panic() {
        let s = RobustScaler::fit(array![[1.0, 2.0], [3.0, 5.0]].view()).unwrap();
        let mut out = [0.0; 2];
        s.transform_row(&[1.0, 2.0, 3.0], &mut out[..]);
        assert!(out.iter().all(|v| v.is_nan()));
        let z = s.transform(array![[1.0, 2.0, 3.0]].view());
        assert_eq!(z.dim(), (1, 3));
        assert!(z.iter().all(|v| v.is_nan()));
        assert!(s.check_width(2).is_ok());
        assert_eq!(
            s.check_width(3),
            Err(CoreError::DimensionMismatch {
                expected: 2,
                actual: 3
            })
        );
    }

    #[test]
    fn validate_and_serde_reject_broken_scalers() {
        let good = RobustScaler::fit(array![[1.0, 2.0], [3.0, 5.0]].view()).unwrap();
        assert!(good.validate().is_ok());
        let json = serde_json::to_string(&good).unwrap();
        let back: RobustScaler = serde_json::from_str(&json).unwrap();
        assert_eq!(back, good);

        let cases = [
            RobustScaler {
                center: vec![],
                scale: vec![],
                clip: 10.0,
            },
            RobustScaler {
                center: vec![0.0, 1.0],
                scale: vec![1.0],
                clip: 10.0,
            },
            RobustScaler {
                center: vec![f64::NAN],
                scale: vec![1.0],
                clip: 10.0,
            },
            RobustScaler {
                center: vec![0.0],
                scale: vec![0.0],
                clip: 10.0,
            },
            RobustScaler {
                center: vec![0.0],
                scale: vec![-2.0],
                clip: 10.0,
            },
            RobustScaler {
                center: vec![0.0],
                scale: vec![f64::INFINITY],
                clip: 10.0,
            },
            RobustScaler {
                center: vec![0.0],
                scale: vec![1.0],
                clip: 0.0,
            },
            RobustScaler {
                center: vec![0.0],
                scale: vec![1.0],
                clip: f64::NAN,
            },
        ];
        for bad in cases {
            assert!(bad.validate().is_err(), "{bad:?} should be rejected");
        }
        let bad_json = r#"{"center":[0.0,1.0],"scale":[1.0,0.0],"clip":10.0}"#;
        assert!(serde_json::from_str::<RobustScaler>(bad_json).is_err());
    }
}
