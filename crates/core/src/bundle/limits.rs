//! Magnitude limits: every bundle that loads scores finite on every finite input.
//!
//! ## Why
//! Finite parameters are not enough. A hand-made bundle with one decoder weight at 1e308 is all
//! finite numbers, yet its reconstruction error overflows to infinity and the attribution that
//! subtracts two such errors is NaN. A model is data an attacker can hand us (an import, a
//! restored backup, a store written by someone else), so validation proves a bound instead of
//! trusting the numbers.
//!
//! ## The bound
//! The autoencoder sees the scaled vector, clipped to `±clip`. Through `relu(x·W + b)` a hidden
//! unit `j` is at most `h_j = clip·Σ_i |W_enc[i][j]| + |b_enc[j]|`, an output `i` at most
//! `y_i = Σ_j |W_dec[j][i]|·h_j + |b_dec[i]|`, so the squared error of feature `i` is at most
//! `(y_i + clip)²`. [`check`] computes these worst cases from the bundle's own numbers and refuses
//! it when one exceeds [`MAX_MAGNITUDE`]. Trained bundles sit many orders of magnitude below
//! (hidden units of order 10, errors of order 1).
//!
//! The other stored numbers the scoring path subtracts from each other or from the error (the
//! calibration knots and tail scales, the baselines an attribution starts from, the scaler's
//! centres and scales) are held to the same limit, so that a difference of two of them, or of one
//! of them and an error, cannot overflow either. Comparisons (forest thresholds) need no bound.

use crate::error::{CoreError, Result};

use super::ModelBundle;

/// Largest magnitude a stored number, or a worst-case intermediate of scoring, may reach: far
/// below `f64::MAX` (~1.8e308), so sums and differences of a few hundred such values stay finite.
pub const MAX_MAGNITUDE: f64 = 1e100;

fn within(v: f64) -> bool {
    v.is_finite() && v.abs() <= MAX_MAGNITUDE
}

fn too_large(what: &str, value: f64) -> CoreError {
    CoreError::InvalidBundle(format!(
        "{what} reaches {value:e}, beyond the limit of ±{MAX_MAGNITUDE:e} that keeps every score finite"
    ))
}

/// Refuses a bundle whose scoring could overflow on some finite input (see the module docs).
pub(super) fn check(bundle: &ModelBundle) -> Result<()> {
    let bounded = |what: &str, values: &[f64]| -> Result<()> {
        match values.iter().find(|v| !within(**v)) {
            Some(&v) => Err(too_large(what, v)),
            None => Ok(()),
        }
    };
    let scaler = &bundle.scaler;
    bounded("scaler clip", &[scaler.clip()])?;
    bounded("a scaler centre", scaler.center())?;
    bounded("a scaler scale", scaler.scale())?;
    for (name, cal) in [
        ("forest", &bundle.calibration.forest),
        ("autoencoder", &bundle.calibration.autoencoder),
    ] {
        bounded(&format!("a {name} calibration knot"), cal.knots())?;
        bounded(
            &format!("the {name} calibration tail scale"),
            &[cal.tail_scale()],
        )?;
    }
    let b = &bundle.baseline;
    bounded(
        "a baseline",
        &[b.forest_path_length, b.autoencoder_error, b.composite],
    )?;
    bounded("a baseline feature error", &b.autoencoder_feature_errors)?;

    // The autoencoder's worst case over every input the scaler can produce.
    let clip = scaler.clip();
    let p = bundle.autoencoder.parameters();
    let (d, k) = p.encoder_weights.dim();
    let mut hidden = vec![0.0f64; k];
    for (j, h) in hidden.iter_mut().enumerate() {
        let column: f64 = (0..d).map(|i| p.encoder_weights[[i, j]].abs()).sum();
        *h = clip * column + p.encoder_bias[j].abs();
        if !within(*h) {
            return Err(too_large(
                "the autoencoder's largest possible hidden unit",
                *h,
            ));
        }
    }
    for i in 0..d {
        let y: f64 = hidden
            .iter()
            .enumerate()
            .map(|(j, h)| p.decoder_weights[[j, i]].abs() * h)
            .sum::<f64>()
            + p.decoder_bias[i].abs();
        let error = (y + clip) * (y + clip);
        if !within(error) {
            return Err(too_large(
                "the autoencoder's largest possible reconstruction error",
                error,
            ));
        }
    }
    Ok(())
}
