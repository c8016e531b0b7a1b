//! Autoencoder training and scoring speed.
//!
//! Answers: how long does the autoencoder's share of a full training take on the issue's
//! reference size (50,000 x 59; the budget for Isolation Forest + autoencoder together is 20 s on
//! a 2-core machine), and what does one per-request reconstruction error cost?
//!
//! Training runs all 50 epochs (`patience: None`), so the figure is the worst case: with the
//! default early stopping real trainings usually stop earlier. Data: 59 features from 5 latent
//! factors plus noise, robust-scaled like the real pipeline, fixed seed.
//!
//! Run: `cargo bench --bench autoencoder` (about two minutes on 2 cores).

use std::hint::black_box;
use std::time::Duration;

use anomaly_core::autoencoder::{Autoencoder, AutoencoderParams, EpochProgress};
use anomaly_core::rng::seeded;
use anomaly_core::scaler::RobustScaler;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use ndarray::{s, Array2};
use rand::Rng;

const FEATURES: usize = 59;
const LATENT: usize = 5;

/// `rows` robust-scaled rows of low-rank data plus noise.
fn scaled_low_rank(rows: usize, seed: u64) -> Array2<f64> {
    let mut rng = seeded(seed);
    let loadings = Array2::from_shape_fn((LATENT, FEATURES), |_| rng.random_range(-1.0..1.0));
    let latent = Array2::from_shape_fn((rows, LATENT), |_| rng.random_range(-1.0..1.0));
    let noise = Array2::from_shape_fn((rows, FEATURES), |_| 0.05 * rng.random_range(-1.0..1.0));
    let raw = latent.dot(&loadings) + noise;
    let scaler = RobustScaler::fit(raw.view()).expect("finite synthetic data");
    scaler.transform(raw.view())
}

fn training(c: &mut Criterion) {
    let params = AutoencoderParams {
        patience: None,
        ..AutoencoderParams::default()
    };
    let mut group = c.benchmark_group("autoencoder_train_50_epochs");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(5));
    for rows in [10_000, 50_000] {
        let data = scaled_low_rank(rows, 7);
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{rows}x{FEATURES}")),
            &data,
            |b, data| {
                b.iter(|| {
                    let mut epochs = 0;
                    let model =
                        Autoencoder::fit(data.view(), &params, 1, &mut |_: &EpochProgress| {
                            epochs += 1
                        })
                        .expect("training succeeds");
                    assert_eq!(epochs, 50);
                    black_box(model)
                })
            },
        );
    }
    group.finish();
}

fn scoring(c: &mut Criterion) {
    let data = scaled_low_rank(5_000, 11);
    let params = AutoencoderParams {
        epochs: 5,
        ..AutoencoderParams::default()
    };
    let model = Autoencoder::fit(data.view(), &params, 1, &mut |_| {}).expect("training succeeds");
    let row = data.row(17).to_vec();
    let mut scratch = model.scratch();

    let mut group = c.benchmark_group("autoencoder_scoring");
    group.measurement_time(Duration::from_secs(2));
    group.bench_function("reconstruction_error_1_row", |b| {
        b.iter(|| model.reconstruction_error(black_box(&row), &mut scratch))
    });
    let mut squared = vec![0.0; FEATURES];
    let mut residual = vec![0.0; FEATURES];
    group.bench_function("feature_errors_1_row", |b| {
        b.iter(|| model.feature_errors(black_box(&row), &mut scratch, &mut squared, &mut residual))
    });
    group.bench_function("reconstruction_error_batch_5000_rows", |b| {
        b.iter(|| model.reconstruction_error_batch(black_box(data.view())))
    });
    let batch = data.slice(s![..32, ..]);
    group.bench_function("loss_and_gradients_batch_32", |b| {
        b.iter(|| model.loss_and_gradients(black_box(batch)))
    });
    group.finish();
}

criterion_group!(benches, training, scoring);
criterion_main!(benches);
