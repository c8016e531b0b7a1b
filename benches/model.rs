//! Whole-model benchmarks (issue: core models §9): one prediction, with the cheap and the exact
//! explanation, and training Isolation Forest + autoencoder on 10,000 and 50,000 × 59.
//!
//! Run: `cargo bench --bench model` (add `-- score` or `-- train` to select).
//! The serialized model size is printed once at start-up (it is a size, not a timing).

use anomaly_core::bundle::{ModelBundle, TrainConfig};
use anomaly_core::explain::AttributionMethod;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Rows on a 6-factor manifold in 59 dimensions with heavy-tailed noise and a few
/// count-like (mostly zero) columns, like the behavioral features.
fn traffic(rows: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let loadings: Vec<f64> = (0..6 * 59).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut values = Vec::with_capacity(rows * 59);
    for _ in 0..rows {
        let factors: Vec<f64> = (0..6).map(|_| rng.random_range(-1.0..1.0)).collect();
        for j in 0..59 {
            let v = if j % 7 == 3 {
                if rng.random::<f64>() < 0.05 {
                    rng.random_range(1.0..5.0_f64).floor()
                } else {
                    0.0
                }
            } else {
                (0..6)
                    .map(|k| factors[k] * loadings[k * 59 + j])
                    .sum::<f64>()
                    + 0.1 * rng.random_range(-1.0..1.0)
            };
            values.push(v);
        }
    }
    Array2::from_shape_vec((rows, 59), values).expect("shape")
}

fn full_epochs() -> TrainConfig {
    let mut config = TrainConfig::default();
    config.autoencoder.patience = None; // always the full 50 epochs: the worst case
    config
}

fn scoring(c: &mut Criterion) {
    let data = traffic(10_000, 1);
    let bundle = ModelBundle::train(data.view(), &TrainConfig::default(), 7).expect("train");
    eprintln!(
        "serialized model: {} bytes binary, {} bytes JSON",
        bundle.to_bytes().len(),
        bundle.to_json().len()
    );
    let mut ws = bundle.workspace();
    let rows: Vec<Vec<f64>> = (0..256)
        .map(|i| data.row(i * 37 % 10_000).to_vec())
        .collect();
    let mut i = 0;
    let mut next = || {
        i = (i + 1) % rows.len();
        &rows[i]
    };
    c.bench_function("score/one_vector", |b| {
        b.iter(|| black_box(bundle.score_with(next(), &mut ws).expect("score")))
    });
    c.bench_function("score/one_vector_with_fast_explanation", |b| {
        b.iter(|| {
            black_box(
                bundle
                    .predict_with(next(), AttributionMethod::Fast, 10, &mut ws)
                    .expect("predict"),
            )
        })
    });
    c.bench_function("score/one_vector_with_fast_attribution_top10", |b| {
        let mut top = [0usize; 10];
        b.iter(|| {
            let scores = bundle
                .attribute_with(next(), AttributionMethod::Fast, &mut ws)
                .expect("attribute");
            black_box((scores, ws.top_contributions(&mut top)))
        })
    });
    c.bench_function("explain/exact_tree_shap", |b| {
        b.iter(|| {
            black_box(
                bundle
                    .predict_with(next(), AttributionMethod::Exact, 10, &mut ws)
                    .expect("predict"),
            )
        })
    });
}

fn training(c: &mut Criterion) {
    let mut group = c.benchmark_group("train");
    group.sample_size(10);
    for rows in [10_000, 50_000] {
        let data = traffic(rows, 2);
        group.bench_function(format!("if_ae_50_epochs/{rows}x59"), |b| {
            b.iter_batched(
                full_epochs,
                |config| black_box(ModelBundle::train(data.view(), &config, 3).expect("train")),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, scoring, training);
criterion_main!(benches);
