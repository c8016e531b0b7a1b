//! The network's parameters and its batched forward/backward passes.
//!
//! Layout follows Keras' `Dense` layers: a kernel is `(inputs, units)`, so a minibatch `X`
//! (`rows x input_dim`) goes through
//!
//! ```text
//! H = relu(X · W_enc + b_enc)      (rows x encoding_dim)
//! Y = H · W_dec + b_dec            (rows x input_dim)      linear output
//! L = mean((Y - X)^2)              over rows and features
//! ```
//!
//! and the gradients are the textbook chain rule (`dY = 2 (Y - X) / (rows * input_dim)`,
//! `dW_dec = Hᵀ dY`, `dH = dY W_decᵀ`, `dZ = dH ⊙ [H > 0]`, `dW_enc = Xᵀ dZ`, biases = column sums).
//! All four products go through ndarray's `general_mat_mul` (matrixmultiply's packed SIMD
//! kernels) writing into buffers preallocated once per training run, so a training step
//! allocates nothing.

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array1, Array2, ArrayView2, Zip};
use rand::Rng as _;

use crate::error::{CoreError, Result};
use crate::rng::Rng;

/// The four parameter tensors of the autoencoder (also used for their gradients and for Adam's
/// moment estimates, which have the same shapes).
#[derive(Clone, Debug, PartialEq)]
pub struct Parameters {
    /// Encoder kernel, `(input_dim, encoding_dim)`.
    pub encoder_weights: Array2<f64>,
    /// Encoder bias, `encoding_dim`.
    pub encoder_bias: Array1<f64>,
    /// Decoder kernel, `(encoding_dim, input_dim)`.
    pub decoder_weights: Array2<f64>,
    /// Decoder bias, `input_dim`.
    pub decoder_bias: Array1<f64>,
}

/// Gradients of the loss with respect to each of the [`Parameters`].
pub type Gradients = Parameters;

impl Parameters {
    /// All-zero tensors for an `input_dim -> encoding_dim -> input_dim` network.
    pub fn zeros(input_dim: usize, encoding_dim: usize) -> Self {
        Parameters {
            encoder_weights: Array2::zeros((input_dim, encoding_dim)),
            encoder_bias: Array1::zeros(encoding_dim),
            decoder_weights: Array2::zeros((encoding_dim, input_dim)),
            decoder_bias: Array1::zeros(input_dim),
        }
    }

    /// Glorot-uniform kernels (`U(-l, l)`, `l = sqrt(6 / (fan_in + fan_out))`, Keras' default)
    /// and zero biases. Kernels are drawn encoder first, each in row-major order.
    pub(crate) fn glorot(input_dim: usize, encoding_dim: usize, rng: &mut Rng) -> Self {
        let limit = (6.0 / (input_dim + encoding_dim) as f64).sqrt();
        let mut draw = |_| rng.random_range(-limit..limit);
        let encoder_weights = Array2::from_shape_fn((input_dim, encoding_dim), &mut draw);
        let decoder_weights = Array2::from_shape_fn((encoding_dim, input_dim), &mut draw);
        Parameters {
            encoder_weights,
            encoder_bias: Array1::zeros(encoding_dim),
            decoder_weights,
            decoder_bias: Array1::zeros(input_dim),
        }
    }

    /// Number of inputs (= outputs).
    pub fn input_dim(&self) -> usize {
        self.encoder_weights.nrows()
    }

    /// Width of the bottleneck.
    pub fn encoding_dim(&self) -> usize {
        self.encoder_weights.ncols()
    }

    /// Total number of scalar parameters.
    pub fn len(&self) -> usize {
        self.encoder_weights.len()
            + self.encoder_bias.len()
            + self.decoder_weights.len()
            + self.decoder_bias.len()
    }

    /// True when the network has no parameters at all (never the case for a valid model).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every parameter, in the order encoder weights (row-major), encoder bias, decoder weights
    /// (row-major), decoder bias.
    pub fn iter(&self) -> impl Iterator<Item = &f64> {
        self.encoder_weights
            .iter()
            .chain(self.encoder_bias.iter())
            .chain(self.decoder_weights.iter())
            .chain(self.decoder_bias.iter())
    }

    /// Mutable counterpart of [`Parameters::iter`], same order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut f64> {
        self.encoder_weights
            .iter_mut()
            .chain(self.encoder_bias.iter_mut())
            .chain(self.decoder_weights.iter_mut())
            .chain(self.decoder_bias.iter_mut())
    }

    /// Copies `other`'s values into `self` without allocating (shapes must match).
    pub(crate) fn copy_from(&mut self, other: &Parameters) {
        self.encoder_weights.assign(&other.encoder_weights);
        self.encoder_bias.assign(&other.encoder_bias);
        self.decoder_weights.assign(&other.decoder_weights);
        self.decoder_bias.assign(&other.decoder_bias);
    }

    /// Shapes consistent with each other, non-zero dimensions, row-major storage (the
    /// per-request path reads kernels as flat slices), all values finite.
    pub fn validate(&self) -> Result<()> {
        let (d, k) = self.encoder_weights.dim();
        let bad = |msg: String| Err(CoreError::InvalidBundle(format!("autoencoder: {msg}")));
        if d == 0 || k == 0 {
            return bad(format!("empty encoder kernel {d}x{k}"));
        }
        if self.encoder_bias.len() != k {
            return bad(format!(
                "encoder bias has {} entries, expected {k}",
                self.encoder_bias.len()
            ));
        }
        if self.decoder_weights.dim() != (k, d) {
            let (r, c) = self.decoder_weights.dim();
            return bad(format!("decoder kernel is {r}x{c}, expected {k}x{d}"));
        }
        if self.decoder_bias.len() != d {
            return bad(format!(
                "decoder bias has {} entries, expected {d}",
                self.decoder_bias.len()
            ));
        }
        let layouts = [
            self.encoder_weights.is_standard_layout(),
            self.encoder_bias.is_standard_layout(),
            self.decoder_weights.is_standard_layout(),
            self.decoder_bias.is_standard_layout(),
        ];
        if layouts.contains(&false) {
            return bad("parameters are not stored contiguously in row-major order".into());
        }
        if let Some((index, &value)) = self.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(CoreError::NonFinite {
                what: "autoencoder parameters",
                index,
                value,
            });
        }
        Ok(())
    }
}

/// Preallocated activations and error signals for up to `capacity` rows at a time.
pub(crate) struct Workspace {
    hidden: Array2<f64>,
    output: Array2<f64>,
    d_output: Array2<f64>,
    d_hidden: Array2<f64>,
}

impl Workspace {
    pub(crate) fn new(capacity: usize, input_dim: usize, encoding_dim: usize) -> Self {
        let capacity = capacity.max(1);
        Workspace {
            hidden: Array2::zeros((capacity, encoding_dim)),
            output: Array2::zeros((capacity, input_dim)),
            d_output: Array2::zeros((capacity, input_dim)),
            d_hidden: Array2::zeros((capacity, encoding_dim)),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.hidden.nrows()
    }

    /// Forward pass of `x` (at most `capacity` rows, `input_dim` columns) into the first rows of
    /// `hidden` and `output`.
    fn forward(&mut self, p: &Parameters, x: ArrayView2<f64>) {
        let m = x.nrows();
        let mut h = self.hidden.slice_mut(s![..m, ..]);
        h.assign(&p.encoder_bias);
        general_mat_mul(1.0, &x, &p.encoder_weights, 1.0, &mut h);
        // written so that NaN propagates (f64::max would turn NaN into 0)
        h.mapv_inplace(|z| if z < 0.0 { 0.0 } else { z });
        let mut y = self.output.slice_mut(s![..m, ..]);
        y.assign(&p.decoder_bias);
        general_mat_mul(1.0, &h, &p.decoder_weights, 1.0, &mut y);
    }

    /// Mean squared reconstruction error of minibatch `x` (1..=capacity rows) and its gradient
    /// with respect to every parameter, written into `grads` (same shapes as `p`).
    pub(crate) fn loss_and_gradients(
        &mut self,
        p: &Parameters,
        x: ArrayView2<f64>,
        grads: &mut Gradients,
    ) -> f64 {
        self.forward(p, x);
        let m = x.nrows();
        let count = (m * x.ncols()) as f64;
        let h = self.hidden.slice(s![..m, ..]);
        let mut dy = self.d_output.slice_mut(s![..m, ..]);
        let mut sse = 0.0;
        let factor = 2.0 / count;
        Zip::from(&mut dy)
            .and(self.output.slice(s![..m, ..]))
            .and(&x)
            .for_each(|g, &y, &t| {
                let r = y - t;
                sse += r * r;
                *g = factor * r;
            });

        general_mat_mul(1.0, &h.t(), &dy, 0.0, &mut grads.decoder_weights);
        column_sums(&dy, &mut grads.decoder_bias);

        let mut dh = self.d_hidden.slice_mut(s![..m, ..]);
        general_mat_mul(1.0, &dy, &p.decoder_weights.t(), 0.0, &mut dh);
        // ReLU'(z) = [z > 0] = [h > 0]; the kink at exactly 0 gets derivative 0
        Zip::from(&mut dh).and(&h).for_each(|g, &a| {
            if a <= 0.0 {
                *g = 0.0;
            }
        });
        general_mat_mul(1.0, &x.t(), &dh, 0.0, &mut grads.encoder_weights);
        column_sums(&dh, &mut grads.encoder_bias);

        sse / count
    }

    /// Mean squared reconstruction error over all of `x` (any number of rows), computed in
    /// chunks of `capacity` rows.
    pub(crate) fn mean_squared_error(&mut self, p: &Parameters, x: ArrayView2<f64>) -> f64 {
        let count = x.len() as f64;
        let mut sse = 0.0;
        for chunk in x.axis_chunks_iter(ndarray::Axis(0), self.capacity()) {
            self.forward(p, chunk);
            let y = self.output.slice(s![..chunk.nrows(), ..]);
            Zip::from(&y)
                .and(&chunk)
                .for_each(|&o, &t| sse += (o - t) * (o - t));
        }
        sse / count
    }

    /// Per-row mean squared reconstruction error of `x` into `out` (one entry per row).
    pub(crate) fn row_errors(&mut self, p: &Parameters, x: ArrayView2<f64>, out: &mut [f64]) {
        let d = x.ncols() as f64;
        let cap = self.capacity();
        for (chunk, out) in x
            .axis_chunks_iter(ndarray::Axis(0), cap)
            .zip(out.chunks_mut(cap))
        {
            self.forward(p, chunk);
            let y = self.output.slice(s![..chunk.nrows(), ..]);
            for ((o, y_row), x_row) in out.iter_mut().zip(y.rows()).zip(chunk.rows()) {
                let sse: f64 = y_row
                    .iter()
                    .zip(x_row.iter())
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum();
                *o = sse / d;
            }
        }
    }
}

/// `out[j] = Σ_i a[i, j]`, without allocating.
fn column_sums(a: &ndarray::ArrayViewMut2<f64>, out: &mut Array1<f64>) {
    out.fill(0.0);
    for row in a.rows() {
        *out += &row;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::seeded;
    use rand_distr::{Distribution, StandardNormal};

    fn loss(p: &Parameters, x: ArrayView2<f64>) -> f64 {
        Workspace::new(x.nrows(), p.input_dim(), p.encoding_dim()).mean_squared_error(p, x)
    }

    /// Central finite differences against the analytic gradient for every parameter of a
    /// 7 -> 3 -> 7 network, at a point where some hidden units are active and some are not and
    /// no pre-activation is near the ReLU kink.
    #[test]
    fn gradients_match_finite_differences_for_every_parameter() {
        let (d, k, rows) = (7, 3, 8);
        let mut rng = seeded(11);
        let mut p = Parameters::glorot(d, k, &mut rng);
        // non-zero biases so their gradients are exercised at a generic point
        p.encoder_bias.assign(&ndarray::arr1(&[0.3, 0.8, -0.1]));
        p.decoder_bias
            .mapv_inplace(|_| StandardNormal.sample(&mut rng));
        let x = Array2::from_shape_fn((rows, d), |_| StandardNormal.sample(&mut rng));

        // preconditions that make the check meaningful
        let z = x.dot(&p.encoder_weights) + &p.encoder_bias;
        let min_margin = z.iter().fold(f64::INFINITY, |m, v| m.min(v.abs()));
        assert!(
            min_margin > 1e-3,
            "a pre-activation is within {min_margin} of the kink"
        );
        assert!(z.iter().any(|&v| v > 0.0) && z.iter().any(|&v| v < 0.0));
        for j in 0..k {
            // every hidden unit is active for some row: all encoder gradients are non-trivial
            assert!(
                z.column(j).iter().any(|&v| v > 0.0),
                "unit {j} is never active"
            );
        }

        let mut grads = Gradients::zeros(d, k);
        let mut ws = Workspace::new(rows, d, k);
        let analytic_loss = ws.loss_and_gradients(&p, x.view(), &mut grads);
        assert!((analytic_loss - loss(&p, x.view())).abs() < 1e-15);
        let analytic: Vec<f64> = grads.iter().copied().collect();
        assert_eq!(analytic.len(), d * k + k + k * d + d);

        let h = 1e-6;
        let mut checked_nonzero = 0;
        for (i, &a) in analytic.iter().enumerate() {
            let original = *p.iter().nth(i).unwrap();
            *p.iter_mut().nth(i).unwrap() = original + h;
            let up = loss(&p, x.view());
            *p.iter_mut().nth(i).unwrap() = original - h;
            let down = loss(&p, x.view());
            *p.iter_mut().nth(i).unwrap() = original;
            let numeric = (up - down) / (2.0 * h);
            let abs_err = (numeric - a).abs();
            let rel_err = abs_err / a.abs().max(numeric.abs()).max(f64::MIN_POSITIVE);
            assert!(
                rel_err < 1e-6 || abs_err < 1e-8,
                "parameter {i}: analytic {a:e}, numeric {numeric:e} (rel {rel_err:e})"
            );
            if a.abs() > 1e-4 {
                checked_nonzero += 1;
            }
        }
        // the check is not vacuous: nearly all gradients are clearly non-zero
        assert!(
            checked_nonzero >= p.len() - 3,
            "only {checked_nonzero} non-trivial gradients"
        );
    }

    #[test]
    fn chunked_errors_agree_with_one_pass() {
        let (d, k) = (6, 2);
        let mut rng = seeded(3);
        let p = Parameters::glorot(d, k, &mut rng);
        let x = Array2::from_shape_fn((23, d), |_| StandardNormal.sample(&mut rng));
        let whole = loss(&p, x.view());
        let chunked = Workspace::new(4, d, k).mean_squared_error(&p, x.view());
        assert!((whole - chunked).abs() < 1e-14 * whole.max(1.0));
        let mut rows = vec![0.0; 23];
        Workspace::new(5, d, k).row_errors(&p, x.view(), &mut rows);
        let mean = rows.iter().sum::<f64>() / 23.0;
        assert!((mean - whole).abs() < 1e-14 * whole.max(1.0));
        // each row error equals a one-row evaluation
        for (i, &e) in rows.iter().enumerate() {
            let single = loss(&p, x.slice(s![i..i + 1, ..]));
            assert!((single - e).abs() < 1e-14 * e.max(1.0));
        }
    }

    #[test]
    fn glorot_respects_limit_and_seed() {
        let mut a = seeded(5);
        let p = Parameters::glorot(59, 16, &mut a);
        let limit = (6.0f64 / 75.0).sqrt();
        assert!(p
            .encoder_weights
            .iter()
            .chain(p.decoder_weights.iter())
            .all(|w| w.abs() < limit));
        // roughly uniform: the mean |w| of U(-l, l) is l/2
        let mean_abs = p.encoder_weights.iter().map(|w| w.abs()).sum::<f64>() / (59.0 * 16.0);
        assert!(
            (mean_abs - limit / 2.0).abs() < 0.05 * limit,
            "mean |w| {mean_abs}"
        );
        assert!(p
            .encoder_bias
            .iter()
            .chain(p.decoder_bias.iter())
            .all(|&b| b == 0.0));
        assert_eq!(p, Parameters::glorot(59, 16, &mut seeded(5)));
        assert_ne!(p, Parameters::glorot(59, 16, &mut seeded(6)));
        assert!(p.validate().is_ok());
    }
}
