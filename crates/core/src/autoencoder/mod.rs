//! A small, fast, correct autoencoder: the second detector of the ensemble.
//!
//! ## Why an autoencoder next to the Isolation Forest
//! The forest isolates points that are extreme along *single* features. Much suspicious
//! behaviour is instead an unusual *combination* of ordinary values (a normal request rate, but
//! from a new device, at night, on a sensitive endpoint). An autoencoder trained to squeeze normal
//! traffic through a narrow bottleneck learns the correlations between features; a request that
//! breaks them reconstructs badly, whatever its individual values.
//!
//! ## The network
//! `input_dim -> encoding_dim -> input_dim` (default 59 -> 16 -> 59), ReLU encoder, **linear**
//! decoder, loss = mean squared reconstruction error. Inputs are robust-scaled and clipped to
//! `[-10, 10]` by [`crate::scaler::RobustScaler`], so targets are signed and reach ±10: a bounded
//! sigmoid output (what the original JavaScript used) could not represent them and would
//! saturate exactly on the large deviations that matter. One hidden layer is enough for a
//! 59-feature tabular problem and keeps a 32-row training step at tens of microseconds (50
//! epochs over 50,000 rows: about 2 s on one core; see `benches/autoencoder.rs`). The batched
//! maths is in `network.rs`, the optimizer in `adam.rs`.
//!
//! ## Training
//! Real backpropagation (checked against finite differences in the tests) with Adam
//! (lr 0.001, β1 0.9, β2 0.999, ε 1e-8), minibatches of 32, up to 50 epochs, a *seeded random*
//! 20% validation split (the rows arrive in time order, so Keras' "last 20%" would validate on the
//! newest traffic only), early stopping on validation loss with patience and `min_delta`, and the
//! best epoch's weights restored. Glorot-uniform initialisation and the per-epoch shuffles come
//! from the caller's seed, so training is deterministic. The loss history is kept in the model.
//!
//! ## Scoring
//! Per request, [`Autoencoder::reconstruction_error`] runs the two small dense layers over flat
//! row-major kernels into a caller-owned [`AeScratch`] (one per thread): no allocation, a couple
//! of thousand multiply-adds. [`Autoencoder::feature_errors`] splits the error per feature for
//! explanations. Batches go through matrix products ([`Autoencoder::reconstruction_error_batch`]).
//!
//! ## Misuse without panics
//! The per-row functions return `f64` rather than `Result` because they are the hot path; an
//! input of the wrong length never panics but yields NaN (never a plausible-looking number).
//! Check lengths once at the boundary with [`Autoencoder::check_input`].

mod adam;
mod network;
mod train;

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

pub use network::{Gradients, Parameters};

/// Hyper-parameters of [`Autoencoder::fit`]. The defaults are the original service's
/// configuration plus Keras' early-stopping conventions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AutoencoderParams {
    /// Width of the bottleneck (default 16), at most [`AutoencoderParams::MAX_ENCODING_DIM`].
    pub encoding_dim: usize,
    /// Adam step size (default 0.001).
    pub learning_rate: f64,
    /// Maximum number of passes over the training rows (default 50).
    pub epochs: usize,
    /// Rows per gradient step (default 32; the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Fraction of rows held out, at random, to monitor for early stopping, in `[0, 1)` (default
    /// 0.2). With 0 the training rows' end-of-epoch loss is monitored instead.
    pub validation_split: f64,
    /// Stop after this many consecutive epochs without improvement; `None` always runs `epochs`
    /// epochs (default `Some(5)`). Either way the best epoch's weights are returned.
    pub patience: Option<usize>,
    /// An epoch improves only if its monitored loss is below the best so far minus this (default
    /// 0).
    pub min_delta: f64,
}

impl Default for AutoencoderParams {
    fn default() -> Self {
        AutoencoderParams {
            encoding_dim: 16,
            learning_rate: 0.001,
            epochs: 50,
            batch_size: 32,
            validation_split: 0.2,
            patience: Some(5),
            min_delta: 0.0,
        }
    }
}

impl AutoencoderParams {
    /// Upper bound on `encoding_dim`: far above anything useful for tens of features (a
    /// bottleneck wider than the input just learns the identity), low enough that a typo cannot
    /// make training try to allocate terabytes and abort the host process.
    pub const MAX_ENCODING_DIM: usize = 4096;

    /// Errors naming the first parameter outside its valid range.
    pub fn validate(&self) -> Result<()> {
        let invalid =
            |name: &'static str, reason: String| Err(CoreError::InvalidParameter { name, reason });
        if !(1..=Self::MAX_ENCODING_DIM).contains(&self.encoding_dim) {
            return invalid(
                "encoding_dim",
                format!(
                    "must be in 1..={}, got {}",
                    Self::MAX_ENCODING_DIM,
                    self.encoding_dim
                ),
            );
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return invalid(
                "learning_rate",
                format!("must be finite and positive, got {}", self.learning_rate),
            );
        }
        if self.epochs == 0 {
            return invalid("epochs", "must be at least 1".into());
        }
        if self.batch_size == 0 {
            return invalid("batch_size", "must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.validation_split) {
            return invalid(
                "validation_split",
                format!("must be in [0, 1), got {}", self.validation_split),
            );
        }
        if !(self.min_delta.is_finite() && self.min_delta >= 0.0) {
            return invalid(
                "min_delta",
                format!("must be finite and non-negative, got {}", self.min_delta),
            );
        }
        Ok(())
    }
}

/// Per-epoch losses of a training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrainingHistory {
    /// Per epoch: the sample-weighted mean of the minibatch losses during the epoch (Keras'
    /// `loss`).
    pub train_loss: Vec<f64>,
    /// Per epoch: the mean squared error on the validation rows after the epoch (Keras'
    /// `val_loss`; the training rows' loss when `validation_split` is 0).
    pub val_loss: Vec<f64>,
    /// Index into the vectors above of the epoch whose weights the model holds.
    pub best_epoch: usize,
    /// True when early stopping ended training before `epochs` epochs.
    pub stopped_early: bool,
}

/// What the training progress callback receives after every epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochProgress {
    /// Epochs completed so far, counting from 1.
    pub epoch: usize,
    /// The maximum number of epochs (training may stop earlier).
    pub epochs: usize,
    /// See [`TrainingHistory::train_loss`].
    pub train_loss: f64,
    /// See [`TrainingHistory::val_loss`].
    pub val_loss: f64,
}

/// A trained autoencoder: its parameters and how training went.
///
/// Serializes as flat row-major vectors with their dimensions; deserialization re-runs
/// [`Autoencoder::validate`], so a value that exists is always usable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "AutoencoderRepr", try_from = "AutoencoderRepr")]
pub struct Autoencoder {
    params: Parameters,
    history: TrainingHistory,
}

/// Per-thread buffers for per-row inference.
#[derive(Clone, Debug, Default)]
pub struct AeScratch {
    hidden: Vec<f64>,
    output: Vec<f64>,
}

impl AeScratch {
    /// The reconstruction written by the last [`Autoencoder::reconstruct_into`] (or any other
    /// per-row call).
    pub fn output(&self) -> &[f64] {
        &self.output
    }

    /// The bottleneck activations of the last per-row call.
    pub fn hidden(&self) -> &[f64] {
        &self.hidden
    }

    /// Sizes the buffers for a model; allocates only when the dimensions change.
    fn fit_to(&mut self, input_dim: usize, encoding_dim: usize) {
        if self.hidden.len() != encoding_dim {
            self.hidden.resize(encoding_dim, 0.0);
        }
        if self.output.len() != input_dim {
            self.output.resize(input_dim, 0.0);
        }
    }
}

impl Autoencoder {
    /// Trains on robust-scaled rows (samples x features). See the [module docs](self).
    ///
    /// `on_epoch` is called after every epoch (for progress reporting).
    ///
    /// Errors: invalid `params`; no feature columns; fewer rows than 2 for training plus 1 for
    /// validation (given the split); a non-finite value; training diverging to non-finite loss.
    pub fn fit(
        scaled: ArrayView2<f64>,
        params: &AutoencoderParams,
        seed: u64,
        on_epoch: &mut dyn FnMut(&EpochProgress),
    ) -> Result<Self> {
        train::fit(scaled, params, seed, on_epoch)
    }

    /// Number of input (= output) features.
    pub fn input_dim(&self) -> usize {
        self.params.input_dim()
    }

    /// Width of the bottleneck.
    pub fn encoding_dim(&self) -> usize {
        self.params.encoding_dim()
    }

    /// The losses recorded while training.
    pub fn history(&self) -> &TrainingHistory {
        &self.history
    }

    /// The trained weights and biases (Keras layout: kernels are `(inputs, units)`).
    pub fn parameters(&self) -> &Parameters {
        &self.params
    }

    /// Buffers sized for this model, for the per-row functions.
    pub fn scratch(&self) -> AeScratch {
        let mut scratch = AeScratch::default();
        scratch.fit_to(self.input_dim(), self.encoding_dim());
        scratch
    }

    /// Errors unless `x` has [`Autoencoder::input_dim`] entries.
    pub fn check_input(&self, x: &[f64]) -> Result<()> {
        crate::error::ensure_len(self.input_dim(), x)
    }

    /// Reconstructs one scaled row into `scratch` (read it with [`AeScratch::output`]).
    /// No allocation (unless `scratch` was made for a model of other dimensions).
    ///
    /// A row of the wrong length gives an all-NaN output.
    pub fn reconstruct_into(&self, x: &[f64], scratch: &mut AeScratch) {
        let (d, k) = (self.input_dim(), self.encoding_dim());
        scratch.fit_to(d, k);
        let p = &self.params;
        let (Some(w_enc), Some(b_enc), Some(w_dec), Some(b_dec)) = (
            p.encoder_weights.as_slice(),
            p.encoder_bias.as_slice(),
            p.decoder_weights.as_slice(),
            p.decoder_bias.as_slice(),
        ) else {
            // unreachable: validate() (run by every constructor) requires row-major storage
            scratch.hidden.fill(f64::NAN);
            scratch.output.fill(f64::NAN);
            return;
        };
        if x.len() != d {
            scratch.hidden.fill(f64::NAN);
            scratch.output.fill(f64::NAN);
            return;
        }
        // hidden = relu(b_enc + Σ_i x_i · W_enc[i, :]): contiguous axpy rows, vectorisable
        let hidden = &mut scratch.hidden;
        for (h, &b) in hidden.iter_mut().zip(b_enc) {
            *h = b;
        }
        for (&xi, row) in x.iter().zip(w_enc.chunks_exact(k)) {
            for (h, &w) in hidden.iter_mut().zip(row) {
                *h += xi * w;
            }
        }
        for h in hidden.iter_mut() {
            if *h < 0.0 {
                *h = 0.0;
            }
        }
        // output = b_dec + Σ_j hidden_j · W_dec[j, :]
        let output = &mut scratch.output;
        for (o, &b) in output.iter_mut().zip(b_dec) {
            *o = b;
        }
        for (&hj, row) in hidden.iter().zip(w_dec.chunks_exact(d)) {
            if hj != 0.0 {
                for (o, &w) in output.iter_mut().zip(row) {
                    *o += hj * w;
                }
            }
        }
    }

    /// Mean squared reconstruction error of one scaled row. No allocation.
    ///
    /// NaN if `x` has the wrong length.
    pub fn reconstruction_error(&self, x: &[f64], scratch: &mut AeScratch) -> f64 {
        self.reconstruct_into(x, scratch);
        if x.len() != self.input_dim() {
            return f64::NAN;
        }
        let sse: f64 = x
            .iter()
            .zip(&scratch.output)
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        sse / self.input_dim() as f64
    }

    /// Splits the reconstruction error of one scaled row by feature: `squared_out[j] =
    /// (x_j - x̂_j)² / input_dim` (these sum to the MSE) and `residual_out[j] = x_j - x̂_j`
    /// (positive: the value is higher than the model expects). Returns the MSE, bit-identical
    /// to [`Autoencoder::reconstruction_error`]. No allocation.
    ///
    /// If any slice has the wrong length, both outputs are filled with NaN and NaN is returned.
    pub fn feature_errors(
        &self,
        x: &[f64],
        scratch: &mut AeScratch,
        squared_out: &mut [f64],
        residual_out: &mut [f64],
    ) -> f64 {
        let d = self.input_dim();
        self.reconstruct_into(x, scratch);
        if x.len() != d || squared_out.len() != d || residual_out.len() != d {
            squared_out.fill(f64::NAN);
            residual_out.fill(f64::NAN);
            return f64::NAN;
        }
        let d_f = d as f64;
        let mut sse = 0.0;
        let outs = squared_out.iter_mut().zip(residual_out.iter_mut());
        for ((&a, &b), (sq, res)) in x.iter().zip(&scratch.output).zip(outs) {
            let r = a - b;
            sse += r * r;
            *res = r;
            *sq = r * r / d_f;
        }
        sse / d_f
    }

    /// Per-row mean squared reconstruction errors of scaled rows, computed with matrix products
    /// 256 rows at a time. Equal to [`Autoencoder::reconstruction_error`] up to rounding.
    ///
    /// A matrix of the wrong width gives one NaN per row.
    pub fn reconstruction_error_batch(&self, scaled: ArrayView2<f64>) -> Vec<f64> {
        let mut out = vec![f64::NAN; scaled.nrows()];
        if scaled.ncols() == self.input_dim() && scaled.nrows() > 0 {
            let rows = scaled.nrows().min(256);
            let mut ws = network::Workspace::new(rows, self.input_dim(), self.encoding_dim());
            ws.row_errors(&self.params, scaled, &mut out);
        }
        out
    }

    /// The mean squared error of `batch` and its gradient with respect to every parameter: the
    /// exact computation a training step makes (public for tests and benchmarks).
    ///
    /// An empty batch or one of the wrong width gives `(NaN, zero gradients)`.
    pub fn loss_and_gradients(&self, batch: ArrayView2<f64>) -> (f64, Gradients) {
        let (d, k) = (self.input_dim(), self.encoding_dim());
        let mut grads = Gradients::zeros(d, k);
        if batch.ncols() != d || batch.nrows() == 0 {
            return (f64::NAN, grads);
        }
        let mut ws = network::Workspace::new(batch.nrows(), d, k);
        let loss = ws.loss_and_gradients(&self.params, batch, &mut grads);
        (loss, grads)
    }

    /// Checks shapes (consistent, non-empty, row-major), finiteness of every parameter and the
    /// consistency of the history.
    pub fn validate(&self) -> Result<()> {
        self.params.validate()?;
        let h = &self.history;
        if h.train_loss.len() != h.val_loss.len() {
            return Err(CoreError::InvalidBundle(format!(
                "autoencoder history has {} training and {} validation losses",
                h.train_loss.len(),
                h.val_loss.len()
            )));
        }
        if !h.val_loss.is_empty() && h.best_epoch >= h.val_loss.len() {
            return Err(CoreError::InvalidBundle(format!(
                "autoencoder best epoch {} is outside its {}-epoch history",
                h.best_epoch,
                h.val_loss.len()
            )));
        }
        crate::error::ensure_finite("autoencoder training loss", &h.train_loss)?;
        crate::error::ensure_finite("autoencoder validation loss", &h.val_loss)?;
        Ok(())
    }
}

/// Serialized form: dimensions, flat row-major kernels, biases, history.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AutoencoderRepr {
    input_dim: usize,
    encoding_dim: usize,
    encoder_weights: Vec<f64>,
    encoder_bias: Vec<f64>,
    decoder_weights: Vec<f64>,
    decoder_bias: Vec<f64>,
    history: TrainingHistory,
}

impl From<Autoencoder> for AutoencoderRepr {
    fn from(ae: Autoencoder) -> Self {
        let p = ae.params;
        AutoencoderRepr {
            input_dim: p.input_dim(),
            encoding_dim: p.encoding_dim(),
            // logical (row-major) order whatever the memory layout
            encoder_weights: p.encoder_weights.iter().copied().collect(),
            encoder_bias: p.encoder_bias.to_vec(),
            decoder_weights: p.decoder_weights.iter().copied().collect(),
            decoder_bias: p.decoder_bias.to_vec(),
            history: ae.history,
        }
    }
}

impl TryFrom<AutoencoderRepr> for Autoencoder {
    type Error = CoreError;

    fn try_from(r: AutoencoderRepr) -> Result<Self> {
        let (d, k) = (r.input_dim, r.encoding_dim);
        let shape_err = |what: &str, len: usize, expected: usize| {
            CoreError::InvalidBundle(format!(
                "autoencoder {what} has {len} values, expected {expected} for {d} -> {k} -> {d}"
            ))
        };
        let matrix = |what: &str, v: Vec<f64>, shape: (usize, usize)| {
            let len = v.len();
            let expected = shape.0.saturating_mul(shape.1);
            Array2::from_shape_vec(shape, v).map_err(|_| shape_err(what, len, expected))
        };
        let encoder_weights = matrix("encoder weights", r.encoder_weights, (d, k))?;
        let decoder_weights = matrix("decoder weights", r.decoder_weights, (k, d))?;
        if r.encoder_bias.len() != k {
            return Err(shape_err("encoder bias", r.encoder_bias.len(), k));
        }
        if r.decoder_bias.len() != d {
            return Err(shape_err("decoder bias", r.decoder_bias.len(), d));
        }
        let ae = Autoencoder {
            params: Parameters {
                encoder_weights,
                encoder_bias: Array1::from(r.encoder_bias),
                decoder_weights,
                decoder_bias: Array1::from(r.decoder_bias),
            },
            history: r.history,
        };
        ae.validate()?;
        Ok(ae)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::seeded;
    use ndarray::{s, ShapeBuilder};
    use rand_distr::{Distribution, StandardNormal};

    fn data(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        let mut rng = seeded(seed);
        Array2::from_shape_fn((rows, cols), |_| StandardNormal.sample(&mut rng))
    }

    fn small_model() -> (Autoencoder, Array2<f64>) {
        let x = data(120, 9, 1);
        let params = AutoencoderParams {
            encoding_dim: 4,
            epochs: 5,
            ..Default::default()
        };
        (
            Autoencoder::fit(x.view(), &params, 7, &mut |_| {}).unwrap(),
            x,
        )
    }

    #[test]
    fn defaults_are_the_original_configuration() {
        let p = AutoencoderParams::default();
        assert_eq!(
            (
                p.encoding_dim,
                p.learning_rate,
                p.epochs,
                p.batch_size,
                p.validation_split
            ),
            (16, 0.001, 50, 32, 0.2)
        );
        assert_eq!((p.patience, p.min_delta), (Some(5), 0.0));
        assert!(p.validate().is_ok());
    }

    #[test]
    fn feature_errors_sum_to_the_error_and_match_the_reconstruction() {
        let (model, x) = small_model();
        assert_eq!((model.input_dim(), model.encoding_dim()), (9, 4));
        let mut scratch = model.scratch();
        let mut sq = vec![0.0; 9];
        let mut res = vec![0.0; 9];
        let mut probes = vec![];
        for i in 0..5 {
            probes.push(x.row(i).to_vec());
        }
        probes.push(vec![8.0, -8.0, 0.0, 3.0, 10.0, -10.0, 1.0, 0.5, -2.0]); // off-distribution
        for row in &probes {
            let mse = model.reconstruction_error(row, &mut scratch);
            let mse2 = model.feature_errors(row, &mut scratch, &mut sq, &mut res);
            assert_eq!(mse.to_bits(), mse2.to_bits());
            let total: f64 = sq.iter().sum();
            assert!((total - mse).abs() <= 1e-12 * mse, "{total} vs {mse}");
            model.reconstruct_into(row, &mut scratch);
            let out = scratch.output().to_vec();
            for j in 0..9 {
                assert_eq!(res[j], row[j] - out[j]);
                assert_eq!(sq[j], res[j] * res[j] / 9.0);
            }
            // the per-row path agrees with the matrix path used in training
            let batch = Array2::from_shape_vec((1, 9), row.clone()).unwrap();
            let (loss, _) = model.loss_and_gradients(batch.view());
            assert!((loss - mse).abs() <= 1e-12 * mse);
        }
        // reconstruction is deterministic and not the identity (there is a bottleneck)
        assert!(res.iter().any(|r| r.abs() > 1e-3));
    }

    #[test]
    fn batch_errors_match_per_row_errors() {
        let (model, x) = small_model();
        // a strided view (every other row) as well as the full matrix, > 256 rows for chunking
        let big = ndarray::concatenate![ndarray::Axis(0), x, x, x, x, x];
        let strided = big.slice(s![..;2, ..]);
        let batch = model.reconstruction_error_batch(strided);
        assert_eq!(batch.len(), 300);
        let mut scratch = model.scratch();
        for (row, &e) in strided.rows().into_iter().zip(&batch) {
            let single = model.reconstruction_error(&row.to_vec(), &mut scratch);
            assert!(
                (single - e).abs() <= 1e-12 * single.max(1e-300),
                "{single} vs {e}"
            );
        }
        assert!(model
            .reconstruction_error_batch(x.slice(s![..0, ..]))
            .is_empty());
    }

    #[test]
    fn wrong_lengths_give_nan_not_panics() {
        let (model, x) = small_model();
        let mut scratch = model.scratch();
        assert!(model.reconstruction_error(&[1.0; 8], &mut scratch).is_nan());
        assert!(scratch.output().iter().all(|v| v.is_nan()));
        let mut sq = vec![0.0; 9];
        let mut res = vec![0.0; 8];
        let row = x.row(0).to_vec();
        assert!(model
            .feature_errors(&row, &mut scratch, &mut sq, &mut res)
            .is_nan());
        assert!(sq.iter().chain(&res).all(|v| v.is_nan()));
        let errs = model.reconstruction_error_batch(x.slice(s![..3, ..8]));
        assert_eq!(errs.len(), 3);
        assert!(errs.iter().all(|v| v.is_nan()));
        let (loss, grads) = model.loss_and_gradients(x.slice(s![..3, ..8]));
        assert!(loss.is_nan() && grads.iter().all(|&g| g == 0.0));
        assert!(model.check_input(&row).is_ok());
        assert_eq!(
            model.check_input(&[0.0; 3]),
            Err(CoreError::DimensionMismatch {
                expected: 9,
                actual: 3
            })
        );
        // a scratch made for another model is resized, not trusted
        let mut other = AeScratch::default();
        let e = model.reconstruction_error(&row, &mut other);
        assert_eq!(e, model.reconstruction_error(&row, &mut scratch));
        // NaN in the input propagates
        let mut nan_row = row.clone();
        nan_row[2] = f64::NAN;
        assert!(model.reconstruction_error(&nan_row, &mut scratch).is_nan());
    }

    #[test]
    fn serde_round_trips() {
        let (model, x) = small_model();
        // binary: bit-exact
        let bin = postcard::to_allocvec(&model).unwrap();
        let back_bin: Autoencoder = postcard::from_bytes(&bin).unwrap();
        assert_eq!(back_bin, model);
        let (mut s1, mut s2) = (model.scratch(), back_bin.scratch());
        let row = x.row(3).to_vec();
        assert_eq!(
            model.reconstruction_error(&row, &mut s1).to_bits(),
            back_bin.reconstruction_error(&row, &mut s2).to_bits()
        );
        // JSON: serde_json writes the shortest round-trip representation, but without its
        // `float_roundtrip` feature it parses with a fast algorithm that may be 1 ulp off
        let json = serde_json::to_string(&model).unwrap();
        let back: Autoencoder = serde_json::from_str(&json).unwrap();
        assert_eq!(back.history().best_epoch, model.history().best_epoch);
        assert_eq!(back.history().stopped_early, model.history().stopped_early);
        let ulps = |a: f64, b: f64| (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs();
        let originals = model.parameters().iter().chain(&model.history().val_loss);
        let restored = back.parameters().iter().chain(&back.history().val_loss);
        assert_eq!(back.parameters().len(), model.parameters().len());
        for (a, b) in originals.zip(restored) {
            assert!(ulps(*a, *b) <= 1, "{a} came back as {b}");
        }
        // flat row-major layout on the wire
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["inputDim"], 9);
        assert_eq!(v["encodingDim"], 4);
        assert_eq!(v["encoderWeights"].as_array().unwrap().len(), 36);
        assert_eq!(
            v["encoderWeights"][5].as_f64().unwrap(),
            model.parameters().encoder_weights[[1, 1]]
        );
        assert_eq!(
            v["history"]["valLoss"].as_array().unwrap().len(),
            model.history().val_loss.len()
        );
    }

    #[test]
    fn validate_rejects_broken_models() {
        let (model, _) = small_model();
        assert!(model.validate().is_ok());

        let mut nan = model.clone();
        nan.params.decoder_weights[[2, 3]] = f64::NAN;
        assert!(matches!(nan.validate(), Err(CoreError::NonFinite { .. })));
        let mut inf = model.clone();
        inf.params.encoder_bias[1] = f64::INFINITY;
        assert!(matches!(inf.validate(), Err(CoreError::NonFinite { .. })));

        let mut shape = model.clone();
        shape.params.encoder_bias = Array1::zeros(5);
        assert!(matches!(shape.validate(), Err(CoreError::InvalidBundle(_))));
        let mut shape = model.clone();
        shape.params.decoder_weights = Array2::zeros((4, 8));
        assert!(matches!(shape.validate(), Err(CoreError::InvalidBundle(_))));
        let mut shape = model.clone();
        shape.params.decoder_bias = Array1::zeros(10);
        assert!(shape.validate().is_err());
        let mut column_major = model.clone();
        column_major.params.decoder_weights = Array2::from_shape_vec(
            (4, 9).f(),
            model.params.decoder_weights.t().iter().copied().collect(),
        )
        .unwrap();
        assert_eq!(
            column_major.params.decoder_weights,
            model.params.decoder_weights
        );
        assert!(
            column_major.validate().is_err(),
            "column-major kernels are rejected"
        );

        let mut history = model.clone();
        history.history.best_epoch = 99;
        assert!(history.validate().is_err());
        let mut history = model.clone();
        history.history.train_loss.pop();
        assert!(history.validate().is_err());
        let mut empty = model.clone();
        empty.params = Parameters::zeros(0, 4);
        assert!(empty.validate().is_err());
    }

    #[test]
    fn deserialization_rejects_wrong_shapes() {
        let (model, _) = small_model();
        let mut v: serde_json::Value = serde_json::to_value(&model).unwrap();
        assert!(serde_json::from_value::<Autoencoder>(v.clone()).is_ok());
        v["encoderWeights"].as_array_mut().unwrap().pop();
        let err = serde_json::from_value::<Autoencoder>(v.clone())
            .unwrap_err()
            .to_string();
        assert!(err.contains("encoder weights has 35 values"), "{err}");
        let mut v: serde_json::Value = serde_json::to_value(&model).unwrap();
        v["inputDim"] = 10.into();
        assert!(serde_json::from_value::<Autoencoder>(v).is_err());
        let mut v: serde_json::Value = serde_json::to_value(&model).unwrap();
        v["encodingDim"] = usize::MAX.into();
        assert!(serde_json::from_value::<Autoencoder>(v).is_err());
    }
}
