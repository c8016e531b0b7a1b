//! Isolation Forest speed: training, one score, and the two explanations of one score.
//!
//! Answers: how long does the forest's share of a full training take on the reference size
//! (50,000 x 59), and what do a per-request score, the cheap Saabas attribution and an exact
//! TreeSHAP explanation cost with the default forest (100 trees, psi 256, depth 12)? The
//! reference for TreeSHAP is shap's C++ TreeExplainer on scikit-learn's IsolationForest
//! (0.6-0.9 ms per row on this machine class); the goal is at most 0.5 ms.
//!
//! Data: a mixture of four Gaussian clusters with per-feature scales, plus integer-valued
//! count-like columns, fixed seed. Explained points: a training row and an out-of-range row.
//!
//! Run: `cargo bench --bench forest -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::time::Duration;

use anomaly_core::forest::{ForestParams, IsolationForest, TreeShapScratch};
use anomaly_core::rng::seeded;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use ndarray::Array2;
use rand::Rng;

const FEATURES: usize = 59;

fn mixture(rows: usize, seed: u64) -> Array2<f64> {
    let mut rng = seeded(seed);
    let centres: Vec<Vec<f64>> = (0..4)
        .map(|_| (0..FEATURES).map(|_| rng.random_range(-3.0..3.0)).collect())
        .collect();
    let scales: Vec<f64> = (0..FEATURES).map(|_| rng.random_range(0.2..2.0)).collect();
    let mut data = Array2::zeros((rows, FEATURES));
    for mut row in data.rows_mut() {
        let centre = &centres[rng.random_range(0..4)];
        for (j, v) in row.iter_mut().enumerate() {
            *v = if j % 7 == 6 {
                rng.random_range(0..4) as f64
            } else {
                // Box–Muller
                let (u1, u2): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
                centre[j] + scales[j] * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
            };
        }
    }
    data
}

fn forest(c: &mut Criterion) {
    let data = mixture(50_000, 7);
    let params = ForestParams::default();

    let mut group = c.benchmark_group("forest_fit");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("50000x59_default", |b| {
        b.iter(|| IsolationForest::fit(black_box(data.view()), &params, 1).expect("fit"))
    });
    group.finish();

    let model = IsolationForest::fit(data.view(), &params, 1).expect("fit");
    let inlier = data.row(123).to_vec();
    let mut outlier = data.row(456).to_vec();
    for j in [3, 17, 40] {
        outlier[j] += 15.0;
    }
    let mut out = vec![0.0; FEATURES];
    let mut scratch = TreeShapScratch::new(&model);

    let mut group = c.benchmark_group("forest_one_row");
    group.warm_up_time(Duration::from_secs(1));
    for (name, x) in [("inlier", &inlier), ("outlier", &outlier)] {
        group.bench_function(format!("score/{name}"), |b| {
            b.iter(|| model.score(black_box(x)))
        });
        group.bench_function(format!("path_attribution/{name}"), |b| {
            b.iter(|| model.path_attribution(black_box(x), &mut out))
        });
        group.bench_function(format!("tree_shap/{name}"), |b| {
            b.iter(|| model.tree_shap_with(black_box(x), &mut out, &mut scratch))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("forest_score_batch");
    group.sample_size(10);
    group.bench_function("50000x59", |b| {
        b.iter(|| model.score_batch(black_box(data.view())))
    });
    group.finish();
}

criterion_group!(benches, forest);
criterion_main!(benches);
