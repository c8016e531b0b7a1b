//! Minibatch training with Adam, a seeded validation split and early stopping.
//!
//! Randomness comes from three independent streams of the caller's seed (initial weights,
//! validation split, epoch shuffles), so the same seed and data give the same model bit for bit
//! on a given machine. (Across CPUs the last bits may differ: matrixmultiply picks its SIMD
//! kernel, with or without FMA, at run time.)

use ndarray::{s, Array2, ArrayView2, Axis};
use rand::seq::SliceRandom;

use super::adam::Adam;
use super::network::{Gradients, Parameters, Workspace};
use super::{Autoencoder, AutoencoderParams, EpochProgress, TrainingHistory};
use crate::error::{CoreError, Result};
use crate::rng::derived;

/// Stream ids for [`derived`]; large and distinctive so they never coincide with small
/// per-tree stream numbers used elsewhere with the same seed.
const STREAM_INIT: u64 = 0xAE00_0000_0000_0001;
const STREAM_SPLIT: u64 = 0xAE00_0000_0000_0002;
const STREAM_SHUFFLE: u64 = 0xAE00_0000_0000_0003;

/// Rows evaluated per matrix product when computing validation loss.
const EVAL_ROWS: usize = 256;

/// `(n_train, n_val)` for `n` rows, Keras' rule: `n_train = floor(n * (1 - split))`, the rest
/// validates; any positive split keeps at least one validation row.
pub(crate) fn split_sizes(n: usize, split: f64) -> (usize, usize) {
    let mut n_train = ((n as f64) * (1.0 - split)).floor() as usize;
    n_train = n_train.min(n);
    if split > 0.0 && n_train == n {
        n_train = n.saturating_sub(1);
    }
    (n_train, n - n_train)
}

/// Row indices of the training and validation sets: a seeded permutation of `0..n`, cut at
/// `n_train`. Random rather than Keras' "last rows": the rows arrive in time order, and the
/// newest 20% of traffic is not a fair sample of the training distribution.
pub(crate) fn split_rows(n: usize, split: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let (n_train, _) = split_sizes(n, split);
    let mut perm: Vec<usize> = (0..n).collect();
    perm.shuffle(&mut derived(seed, STREAM_SPLIT));
    let val = perm.split_off(n_train);
    (perm, val)
}

/// The fewest rows that give at least 2 training rows and (for a positive split) 1 validation
/// row.
fn rows_needed(split: f64) -> usize {
    let ok = |n: usize| {
        let (t, v) = split_sizes(n, split);
        t >= 2 && (split == 0.0 || v >= 1)
    };
    let mut n = ((2.0 / (1.0 - split)).ceil() as usize).max(2);
    while n > 2 && ok(n - 1) {
        n -= 1;
    }
    while !ok(n) {
        n += 1;
    }
    n
}

pub(crate) fn fit(
    scaled: ArrayView2<f64>,
    params: &AutoencoderParams,
    seed: u64,
    on_epoch: &mut dyn FnMut(&EpochProgress),
) -> Result<Autoencoder> {
    params.validate()?;
    let (n, d) = scaled.dim();
    if d == 0 {
        return Err(CoreError::InvalidParameter {
            name: "data",
            reason: "the training matrix has no feature columns".into(),
        });
    }
    let needed = rows_needed(params.validation_split);
    if n < needed {
        return Err(CoreError::NotEnoughData {
            what: "autoencoder training",
            needed,
            actual: n,
        });
    }
    if let Some((index, &value)) = scaled.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(CoreError::NonFinite {
            what: "autoencoder training data",
            index,
            value,
        });
    }

    let k = params.encoding_dim;
    let (train_idx, val_idx) = split_rows(n, params.validation_split, seed);
    let train = scaled.select(Axis(0), &train_idx);
    let val = scaled.select(Axis(0), &val_idx);
    // without a validation split the monitored loss is the training set's end-of-epoch loss
    let monitored = if val.nrows() > 0 {
        val.view()
    } else {
        train.view()
    };
    let n_train = train.nrows();
    let batch = params.batch_size.min(n_train);

    let mut weights = Parameters::glorot(d, k, &mut derived(seed, STREAM_INIT));
    let mut best = weights.clone();
    let mut grads = Gradients::zeros(d, k);
    let mut adam = Adam::new(params.learning_rate, d, k);
    let mut ws = Workspace::new(batch.max(EVAL_ROWS.min(monitored.nrows())), d, k);
    let mut xb = Array2::<f64>::zeros((batch, d));
    let mut order: Vec<usize> = (0..n_train).collect();
    let mut shuffle_rng = derived(seed, STREAM_SHUFFLE);

    let mut history = TrainingHistory {
        train_loss: Vec::with_capacity(params.epochs),
        val_loss: Vec::with_capacity(params.epochs),
        best_epoch: 0,
        stopped_early: false,
    };
    let mut best_loss = f64::INFINITY;
    let mut wait = 0usize;

    for epoch in 0..params.epochs {
        order.shuffle(&mut shuffle_rng);
        let mut weighted_loss = 0.0;
        for chunk in order.chunks(batch) {
            let m = chunk.len();
            for (mut dst, &src) in xb.rows_mut().into_iter().zip(chunk) {
                dst.assign(&train.row(src));
            }
            let loss = ws.loss_and_gradients(&weights, xb.slice(s![..m, ..]), &mut grads);
            adam.step(&mut weights, &grads);
            weighted_loss += loss * m as f64;
        }
        // like Keras: the sample-weighted mean of the minibatch losses seen during the epoch
        let train_loss = weighted_loss / n_train as f64;
        let val_loss = ws.mean_squared_error(&weights, monitored);
        if !(train_loss.is_finite() && val_loss.is_finite()) {
            return Err(CoreError::InvalidParameter {
                name: "learning_rate",
                reason: format!(
                    "training diverged in epoch {} (non-finite loss); use a smaller learning rate",
                    epoch + 1
                ),
            });
        }
        history.train_loss.push(train_loss);
        history.val_loss.push(val_loss);
        on_epoch(&EpochProgress {
            epoch: epoch + 1,
            epochs: params.epochs,
            train_loss,
            val_loss,
        });

        // Keras EarlyStopping(monitor="val_loss", min_delta, patience, restore_best_weights=True)
        if val_loss < best_loss - params.min_delta {
            best_loss = val_loss;
            history.best_epoch = epoch;
            best.copy_from(&weights);
            wait = 0;
        } else {
            wait += 1;
            if params.patience.is_some_and(|p| wait >= p) {
                break;
            }
        }
    }
    history.stopped_early = history.val_loss.len() < params.epochs;

    let model = Autoencoder {
        params: best,
        history,
    };
    model.validate()?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::seeded;
    use crate::scaler::RobustScaler;
    use rand_distr::{Distribution, StandardNormal};

    fn normal(rng: &mut crate::rng::Rng) -> f64 {
        StandardNormal.sample(rng)
    }

    /// `n` rows of 59 features generated from 5 latent factors plus small noise.
    fn low_rank(n: usize, noise: f64, seed: u64) -> (Array2<f64>, Array2<f64>) {
        let mut rng = seeded(seed);
        let loadings = Array2::from_shape_fn((5, 59), |_| normal(&mut rng));
        let latent = Array2::from_shape_fn((n, 5), |_| normal(&mut rng));
        let noise_m = Array2::from_shape_fn((n, 59), |_| noise * normal(&mut rng));
        (latent.dot(&loadings) + noise_m, loadings)
    }

    fn quiet() -> impl FnMut(&EpochProgress) {
        |_: &EpochProgress| {}
    }

    #[test]
    fn split_sizes_follow_keras_and_keep_one_validation_row() {
        assert_eq!(split_sizes(10, 0.2), (8, 2));
        assert_eq!(split_sizes(11, 0.2), (8, 3));
        assert_eq!(split_sizes(3, 0.2), (2, 1));
        assert_eq!(split_sizes(5, 0.0), (5, 0));
        assert_eq!(split_sizes(5, 1e-18), (4, 1));
        let (train, val) = split_rows(100, 0.2, 9);
        assert_eq!((train.len(), val.len()), (80, 20));
        let mut all: Vec<usize> = train.iter().chain(&val).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        // random, not the last rows
        assert!(val.iter().any(|&i| i < 80));
        assert_eq!(rows_needed(0.2), 3);
        assert_eq!(rows_needed(0.0), 2);
        assert_eq!(rows_needed(0.5), 4);
        for split in [0.0, 0.1, 0.2, 0.5, 0.9] {
            let n = rows_needed(split);
            let (t, v) = split_sizes(n, split);
            assert!(t >= 2 && (split == 0.0 || v >= 1));
            let (t, v) = split_sizes(n - 1, split);
            assert!(
                t < 2 || (split > 0.0 && v < 1),
                "split {split}: {n} is not minimal"
            );
        }
    }

    #[test]
    fn learns_low_dimensional_structure_and_flags_off_manifold_points() {
        let (raw, loadings) = low_rank(2000, 0.05, 21);
        let scaler = RobustScaler::fit(raw.view()).unwrap();
        let scaled = scaler.transform(raw.view());
        let params = AutoencoderParams {
            epochs: 40,
            ..AutoencoderParams::default()
        };
        let mut progress = Vec::new();
        let model = Autoencoder::fit(scaled.view(), &params, 1, &mut |p: &EpochProgress| {
            progress.push(*p)
        })
        .unwrap();
        let h = model.history();
        assert_eq!(progress.len(), h.val_loss.len());
        for (i, p) in progress.iter().enumerate() {
            assert_eq!((p.epoch, p.epochs), (i + 1, 40));
            assert_eq!((p.train_loss, p.val_loss), (h.train_loss[i], h.val_loss[i]));
        }

        // the variance of the scaled data is what predicting the mean would score
        let variance = scaled.var_axis(Axis(0), 0.0).mean().unwrap();
        let first = h.val_loss[0];
        let best = h.val_loss[h.best_epoch];
        assert!(best < 0.01 * first, "val loss {first} -> {best}");
        assert!(
            best < 0.01 * variance,
            "val loss {best} vs data variance {variance}"
        );

        // fresh points on the manifold vs points of the same scale off it
        let mut rng = seeded(99);
        let on_raw = Array2::from_shape_fn((200, 5), |_| normal(&mut rng)).dot(&loadings);
        let off_raw = Array2::from_shape_fn((200, 59), |_| normal(&mut rng) * 5f64.sqrt());
        let on = model.reconstruction_error_batch(scaler.transform(on_raw.view()).view());
        let off = model.reconstruction_error_batch(scaler.transform(off_raw.view()).view());
        let median = |v: &[f64]| {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (on_med, off_med) = (median(&on), median(&off));
        assert!(
            off_med > 100.0 * on_med,
            "on-manifold {on_med}, off-manifold {off_med}"
        );
        let on_max = on.iter().cloned().fold(0.0, f64::max);
        let off_min = off.iter().cloned().fold(f64::INFINITY, f64::min);
        assert!(
            off_min > on_max,
            "worst on-manifold {on_max} vs best off-manifold {off_min}"
        );
    }

    #[test]
    fn same_seed_same_bits_other_seed_other_model() {
        let (raw, _) = low_rank(300, 0.1, 4);
        let params = AutoencoderParams {
            epochs: 5,
            encoding_dim: 4,
            ..Default::default()
        };
        let a = Autoencoder::fit(raw.view(), &params, 42, &mut quiet()).unwrap();
        let b = Autoencoder::fit(raw.view(), &params, 42, &mut quiet()).unwrap();
        let c = Autoencoder::fit(raw.view(), &params, 43, &mut quiet()).unwrap();
        let bytes = |m: &Autoencoder| postcard::to_allocvec(m).unwrap();
        assert_eq!(bytes(&a), bytes(&b));
        assert_eq!(a, b);
        assert_ne!(
            a.parameters().encoder_weights,
            c.parameters().encoder_weights
        );
        assert_ne!(a.history().val_loss, c.history().val_loss);
    }

    #[test]
    fn early_stopping_restores_the_best_weights() {
        // pure noise, few rows, large steps: validation loss soon stops improving
        let mut rng = seeded(8);
        let data = Array2::from_shape_fn((40, 8), |_| normal(&mut rng));
        let params = AutoencoderParams {
            encoding_dim: 3,
            learning_rate: 0.05,
            epochs: 300,
            batch_size: 8,
            patience: Some(3),
            ..Default::default()
        };
        let model = Autoencoder::fit(data.view(), &params, 5, &mut quiet()).unwrap();
        let h = model.history();
        assert!(h.stopped_early);
        assert!(h.val_loss.len() < 300);
        assert_eq!(h.train_loss.len(), h.val_loss.len());
        assert_eq!(
            h.val_loss.len(),
            h.best_epoch + 1 + 3,
            "stops `patience` epochs after the best"
        );
        let min = h.val_loss.iter().cloned().fold(f64::INFINITY, f64::min);
        assert_eq!(h.val_loss[h.best_epoch], min);
        // the returned weights are the best epoch's, not the last epoch's
        let (_, val_idx) = split_rows(40, params.validation_split, 5);
        let val = data.select(Axis(0), &val_idx);
        let mut ws = Workspace::new(EVAL_ROWS, 8, 3);
        let restored = ws.mean_squared_error(model.parameters(), val.view());
        assert_eq!(restored, min);
        assert_ne!(h.val_loss.last(), Some(&min));
    }

    #[test]
    fn min_delta_and_disabled_patience() {
        let (raw, _) = low_rank(200, 0.1, 6);
        // no improvement is ever large enough: stop after `patience` epochs, keep epoch 0
        let params = AutoencoderParams {
            epochs: 30,
            encoding_dim: 4,
            patience: Some(2),
            min_delta: 1e9,
            ..Default::default()
        };
        let model = Autoencoder::fit(raw.view(), &params, 3, &mut quiet()).unwrap();
        assert_eq!(model.history().val_loss.len(), 3);
        assert_eq!(model.history().best_epoch, 0);
        assert!(model.history().stopped_early);
        // patience None runs every epoch
        let params = AutoencoderParams {
            patience: None,
            min_delta: 1e9,
            ..params
        };
        let model = Autoencoder::fit(raw.view(), &params, 3, &mut quiet()).unwrap();
        assert_eq!(model.history().val_loss.len(), 30);
        assert!(!model.history().stopped_early);
    }

    #[test]
    fn zero_validation_split_monitors_training_loss() {
        let (raw, _) = low_rank(50, 0.1, 2);
        let params = AutoencoderParams {
            validation_split: 0.0,
            epochs: 3,
            encoding_dim: 4,
            ..Default::default()
        };
        let model = Autoencoder::fit(raw.view(), &params, 1, &mut quiet()).unwrap();
        let mut ws = Workspace::new(EVAL_ROWS, 59, 4);
        let (train_idx, val_idx) = split_rows(50, 0.0, 1);
        assert!(val_idx.is_empty());
        let train = raw.select(Axis(0), &train_idx);
        let h = model.history();
        assert_eq!(
            ws.mean_squared_error(model.parameters(), train.view()),
            h.val_loss[h.best_epoch]
        );
    }

    #[test]
    fn rejects_bad_input_and_parameters() {
        let ok = Array2::<f64>::zeros((10, 4));
        let p = AutoencoderParams {
            encoding_dim: 2,
            epochs: 1,
            ..Default::default()
        };
        let fit =
            |x: ArrayView2<f64>, p: &AutoencoderParams| Autoencoder::fit(x, p, 0, &mut quiet());
        assert!(fit(ok.view(), &p).is_ok());
        assert_eq!(
            fit(ok.slice(s![..2, ..]), &p).unwrap_err(),
            CoreError::NotEnoughData {
                what: "autoencoder training",
                needed: 3,
                actual: 2
            }
        );
        assert!(fit(ok.slice(s![..3, ..]), &p).is_ok());
        assert!(matches!(
            fit(ok.slice(s![.., ..0]), &p),
            Err(CoreError::InvalidParameter { .. })
        ));
        let mut nan = ok.clone();
        nan[[3, 1]] = f64::NAN;
        assert!(matches!(
            fit(nan.view(), &p),
            Err(CoreError::NonFinite { index: 13, .. })
        ));
        nan[[3, 1]] = f64::NEG_INFINITY;
        assert!(matches!(
            fit(nan.view(), &p),
            Err(CoreError::NonFinite { index: 13, .. })
        ));

        let bad = [
            AutoencoderParams {
                encoding_dim: 0,
                ..p.clone()
            },
            AutoencoderParams {
                encoding_dim: 1_000_000_000_000,
                ..p.clone()
            },
            AutoencoderParams {
                learning_rate: 0.0,
                ..p.clone()
            },
            AutoencoderParams {
                learning_rate: -1.0,
                ..p.clone()
            },
            AutoencoderParams {
                learning_rate: f64::NAN,
                ..p.clone()
            },
            AutoencoderParams {
                epochs: 0,
                ..p.clone()
            },
            AutoencoderParams {
                batch_size: 0,
                ..p.clone()
            },
            AutoencoderParams {
                validation_split: 1.0,
                ..p.clone()
            },
            AutoencoderParams {
                validation_split: -0.1,
                ..p.clone()
            },
            AutoencoderParams {
                validation_split: f64::NAN,
                ..p.clone()
            },
            AutoencoderParams {
                min_delta: -1.0,
                ..p.clone()
            },
            AutoencoderParams {
                min_delta: f64::INFINITY,
                ..p.clone()
            },
        ];
        for params in bad {
            assert!(
                matches!(
                    fit(ok.view(), &params),
                    Err(CoreError::InvalidParameter { .. })
                ),
                "{params:?} accepted"
            );
        }
    }

    #[test]
    fn divergence_is_an_error_not_a_nan_model() {
        let (raw, _) = low_rank(100, 0.1, 2);
        let big = raw.mapv(|v| v * 1e150);
        let p = AutoencoderParams {
            learning_rate: 1e150,
            epochs: 3,
            ..Default::default()
        };
        let err = Autoencoder::fit(big.view(), &p, 0, &mut quiet()).unwrap_err();
        assert!(
            matches!(
                err,
                CoreError::InvalidParameter {
                    name: "learning_rate",
                    ..
                }
            ),
            "{err}"
        );
    }
}
