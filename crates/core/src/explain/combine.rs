//! Carrying each model's attributions into composite-score units (see the module docs of
//! [`crate::explain`]).

/// The raw attributions of both models for one vector, and where they are measured from.
pub struct ModelAttributions<'a> {
    /// Path-length attributions; sum to `path_length − expected_path_length`.
    pub forest: &'a [f64],
    pub path_length: f64,
    pub expected_path_length: f64,
    /// Squared-error attributions; sum to `mse − mean_mse`.
    pub autoencoder: &'a [f64],
    pub mse: f64,
    pub mean_mse: f64,
}

/// Slope of the secant of `g` between `base` and `at`; the derivative (central difference) when
/// the two points are too close for a secant to be meaningful.
pub fn secant_slope(g: impl Fn(f64) -> f64, at: f64, base: f64) -> f64 {
    let span = at - base;
    let scale = 1.0 + base.abs().max(at.abs());
    if span.abs() > 1e-9 * scale {
        (g(at) - g(base)) / span
    } else {
        let h = 1e-6 * scale;
        (g(base + h) - g(base - h)) / (2.0 * h)
    }
}

/// Writes the ensemble contributions into `out` (and each model's part into `forest_part` /
/// `autoencoder_part`), given the calibrated-score functions of path length and of MSE and the
/// normalised weights. Returns nothing: the contributions sum to
/// `wf·(gf(path_length) − gf(expected)) + wa·(ga(mse) − ga(mean_mse))` by construction.
#[allow(clippy::too_many_arguments)]
pub fn combine_attributions(
    raw: &ModelAttributions<'_>,
    forest_calibrated: impl Fn(f64) -> f64,
    autoencoder_calibrated: impl Fn(f64) -> f64,
    weights: (f64, f64),
    out: &mut [f64],
    forest_part: &mut [f64],
    autoencoder_part: &mut [f64],
) {
    let rf = weights.0
        * secant_slope(
            &forest_calibrated,
            raw.path_length,
            raw.expected_path_length,
        );
    let ra = weights.1 * secant_slope(&autoencoder_calibrated, raw.mse, raw.mean_mse);
    for j in 0..out.len() {
        forest_part[j] = rf * raw.forest[j];
        autoencoder_part[j] = ra * raw.autoencoder[j];
        out[j] = forest_part[j] + autoencoder_part[j];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contributions_sum_to_the_composite_difference() {
        let gf = |h: f64| 1.0 / (1.0 + (h - 6.0).exp()); // decreasing in path length
        let ga = |e: f64| 1.0 - (-e).exp();
        let forest = [-0.5, -1.25, 0.25]; // sums to -1.5 = 4.5 - 6.0
        let autoencoder = [0.4, 0.1, -0.2]; // sums to 0.3 = 0.8 - 0.5
        let raw = ModelAttributions {
            forest: &forest,
            path_length: 4.5,
            expected_path_length: 6.0,
            autoencoder: &autoencoder,
            mse: 0.8,
            mean_mse: 0.5,
        };
        let (mut out, mut f, mut a) = ([0.0; 3], [0.0; 3], [0.0; 3]);
        combine_attributions(&raw, gf, ga, (0.6, 0.4), &mut out, &mut f, &mut a);
        let expected = 0.6 * (gf(4.5) - gf(6.0)) + 0.4 * (ga(0.8) - ga(0.5));
        assert!((out.iter().sum::<f64>() - expected).abs() < 1e-12);
        assert!(
            out[1] > out[0] && out[0] > 0.0,
            "shorter paths raise the score"
        );
        assert!(a[2] < 0.0 && f[2] < 0.0);
    }

    #[test]
    fn secant_falls_back_to_the_derivative() {
        let slope = secant_slope(|x| x * x, 3.0, 3.0);
        assert!((slope - 6.0).abs() < 1e-6);
        assert_eq!(secant_slope(|x| 2.0 * x, 5.0, 1.0), 2.0);
    }
}
