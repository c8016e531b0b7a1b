//! The Adam optimizer (Kingma & Ba, 2015), in the form Keras implements it.
//!
//! Per parameter `θ` with gradient `g`, at step `t`:
//!
//! ```text
//! m ← m + (1 - β1) (g - m)          v ← v + (1 - β2) (g² - v)
//! α_t = lr · sqrt(1 - β2^t) / (1 - β1^t)
//! θ ← θ - α_t · m / (sqrt(v) + ε)
//! ```
//!
//! This is the paper's "efficient" ordering (bias correction folded into the step size, so `ε`
//! is added to the uncorrected `sqrt(v)`), exactly as `keras.optimizers.Adam` computes it.
//! Constants: β1 = 0.9, β2 = 0.999 (Keras' defaults) and ε = 1e-8 (the paper's value and the
//! original service's configuration; Keras' own default is 1e-7 — the difference is invisible
//! once `sqrt(v)` exceeds ~1e-6).

use ndarray::{Array, Dimension, Zip};

use super::network::{Gradients, Parameters};

pub(crate) const BETA1: f64 = 0.9;
pub(crate) const BETA2: f64 = 0.999;
pub(crate) const EPSILON: f64 = 1e-8;

/// Adam's state: first and second moment estimates and the running powers of β1, β2.
pub(crate) struct Adam {
    learning_rate: f64,
    m: Parameters,
    v: Parameters,
    beta1_power: f64,
    beta2_power: f64,
}

impl Adam {
    pub(crate) fn new(learning_rate: f64, input_dim: usize, encoding_dim: usize) -> Self {
        Adam {
            learning_rate,
            m: Parameters::zeros(input_dim, encoding_dim),
            v: Parameters::zeros(input_dim, encoding_dim),
            beta1_power: 1.0,
            beta2_power: 1.0,
        }
    }

    /// One update of `params` from `grads` (same shapes). Allocates nothing.
    pub(crate) fn step(&mut self, params: &mut Parameters, grads: &Gradients) {
        self.beta1_power *= BETA1;
        self.beta2_power *= BETA2;
        let alpha = self.learning_rate * (1.0 - self.beta2_power).sqrt() / (1.0 - self.beta1_power);
        update(
            &mut params.encoder_weights,
            &grads.encoder_weights,
            &mut self.m.encoder_weights,
            &mut self.v.encoder_weights,
            alpha,
        );
        update(
            &mut params.encoder_bias,
            &grads.encoder_bias,
            &mut self.m.encoder_bias,
            &mut self.v.encoder_bias,
            alpha,
        );
        update(
            &mut params.decoder_weights,
            &grads.decoder_weights,
            &mut self.m.decoder_weights,
            &mut self.v.decoder_weights,
            alpha,
        );
        update(
            &mut params.decoder_bias,
            &grads.decoder_bias,
            &mut self.m.decoder_bias,
            &mut self.v.decoder_bias,
            alpha,
        );
    }
}

fn update<D: Dimension>(
    theta: &mut Array<f64, D>,
    grad: &Array<f64, D>,
    m: &mut Array<f64, D>,
    v: &mut Array<f64, D>,
    alpha: f64,
) {
    Zip::from(theta)
        .and(grad)
        .and(m)
        .and(v)
        .for_each(|theta, &g, m, v| {
            *m += (1.0 - BETA1) * (g - *m);
            *v += (1.0 - BETA2) * (g * g - *v);
            *theta -= alpha * *m / (v.sqrt() + EPSILON);
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two steps on a single scalar, against the update computed by hand.
    #[test]
    fn matches_hand_computed_steps() {
        let mut p = Parameters::zeros(1, 1);
        p.encoder_weights[[0, 0]] = 1.0;
        let mut g = Parameters::zeros(1, 1);
        let mut adam = Adam::new(0.1, 1, 1);

        g.encoder_weights[[0, 0]] = 0.5;
        adam.step(&mut p, &g);
        // m = 0.05, v = 0.00025, alpha = 0.1 * sqrt(0.001) / 0.1 = sqrt(0.001)
        let (m1, v1) = (0.05, 0.00025);
        let alpha1 = 0.1 * (0.001f64).sqrt() / 0.1;
        let after1 = 1.0 - alpha1 * m1 / (f64::sqrt(v1) + EPSILON);
        assert!((p.encoder_weights[[0, 0]] - after1).abs() < 1e-15);
        // the first Adam step moves every parameter by ~lr, whatever the gradient's size
        assert!((1.0 - after1 - 0.1).abs() < 1e-6);

        g.encoder_weights[[0, 0]] = -2.0;
        adam.step(&mut p, &g);
        let m2 = 0.9 * m1 + 0.1 * -2.0;
        let v2 = 0.999 * v1 + 0.001 * 4.0;
        let alpha2 = 0.1 * (1.0 - 0.999f64 * 0.999).sqrt() / (1.0 - 0.81);
        let after2 = after1 - alpha2 * m2 / (f64::sqrt(v2) + EPSILON);
        assert!((p.encoder_weights[[0, 0]] - after2).abs() < 1e-14);
        // untouched parameters (zero gradients) stay put
        assert_eq!(p.decoder_weights[[0, 0]], 0.0);
        assert_eq!(p.encoder_bias[0], 0.0);
    }
}
