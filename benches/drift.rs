//! Drift detection costs: PSI and the two-sample KS test at 10 000 vs 10 000, the exact KS
//! p-value in its expensive (unequal sizes) and cheap (equal sizes) forms, and one full drift
//! assessment of 10 000 current rows against a 59-feature reference.
//!
//! Run: `cargo bench --bench drift` (short measurement windows: the CI machine is shared).

use std::hint::black_box;
use std::time::Duration;

use anomaly_core::drift::{assess, ks_2samp, psi, DriftConfig, DriftReference, KsMethod};
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `n` standard normals (Box–Muller) shifted by `mean`, from a fixed seed.
fn normals(seed: u64, n: usize, mean: f64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let u1: f64 = 1.0 - rng.random::<f64>();
            let u2: f64 = rng.random::<f64>();
            mean + (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        })
        .collect()
}

fn bench_tests(c: &mut Criterion) {
    let reference = normals(1, 10_000, 0.0);
    let current = normals(2, 10_000, 0.05);
    let current_9999 = &current[..9_999];

    let mut g = c.benchmark_group("drift_tests");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("psi_10k_vs_10k", |b| {
        b.iter(|| psi(black_box(&reference), black_box(&current), 10))
    });
    g.bench_function("ks_auto_10k_vs_10k", |b| {
        b.iter(|| ks_2samp(black_box(&reference), black_box(&current), KsMethod::Auto))
    });
    g.bench_function("ks_auto_10k_vs_9999", |b| {
        b.iter(|| {
            ks_2samp(
                black_box(&reference),
                black_box(current_9999),
                KsMethod::Auto,
            )
        })
    });
    g.bench_function("ks_asymp_10k_vs_10k", |b| {
        b.iter(|| {
            ks_2samp(
                black_box(&reference),
                black_box(&current),
                KsMethod::Asymptotic,
            )
        })
    });
    g.finish();

    // The exact p-value's cost grows with D for unequal sizes (the band of lattice points within
    // D of the diagonal): a strongly shifted sample is its worst case.
    let shifted = normals(3, 9_999, 0.5);
    let mut g = c.benchmark_group("drift_ks_exact_worst");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    g.bench_function("ks_exact_10k_vs_9999_shift_0.5sd", |b| {
        b.iter(|| ks_2samp(black_box(&reference), black_box(&shifted), KsMethod::Exact))
    });
    g.finish();
}

fn bench_assess(c: &mut Criterion) {
    const FEATURES: usize = 59;
    let cfg = DriftConfig::default();
    let train_rows = 20_000;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let train = Array2::from_shape_fn((train_rows, FEATURES), |(_, j)| {
        let u: f64 = rng.random();
        if j % 3 == 0 {
            (u * 10.0).floor()
        } else {
            u * (j + 1) as f64
        }
    });
    let train_scores: Vec<f64> = (0..train_rows).map(|_| rng.random::<f64>() * 0.6).collect();
    let reference = DriftReference::capture(train.view(), &train_scores, &cfg).expect("reference");
    let current_rows = 10_000;
    let current = Array2::from_shape_fn((current_rows, FEATURES), |(_, j)| {
        let u: f64 = rng.random();
        if j % 3 == 0 {
            (u * 10.0).floor()
        } else {
            u * (j + 1) as f64 * 1.05
        }
    });
    let current_scores: Vec<f64> = (0..current_rows)
        .map(|_| rng.random::<f64>() * 0.62)
        .collect();
    let names: Vec<String> = (0..FEATURES).map(|j| format!("f{j}")).collect();

    let mut g = c.benchmark_group("drift_assess");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("assess_59_features_10k_rows", |b| {
        b.iter(|| {
            assess(
                &reference,
                black_box(current.view()),
                black_box(&current_scores),
                &names,
                &cfg,
            )
        })
    });
    g.bench_function("capture_59_features_20k_rows", |b| {
        b.iter(|| DriftReference::capture(black_box(train.view()), black_box(&train_scores), &cfg))
    });
    g.finish();
}

criterion_group!(benches, bench_tests, bench_assess);
criterion_main!(benches);
