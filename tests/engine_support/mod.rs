//! Shared helpers of the engine's integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use anomaly_engine::outcome::PredictionOutcome;
use anomaly_engine::testkit::Traffic;
use anomaly_engine::{Engine, EngineConfig};

pub const T0: i64 = 1_700_000_000_000;
pub const H: i64 = 3_600_000;

/// A small, fast configuration over the store at `path`.
pub fn small_config(path: &str) -> EngineConfig {
    let mut c = EngineConfig {
        store_path: path.to_string(),
        ..EngineConfig::default()
    };
    c.isolation_forest.n_trees = 20;
    c.isolation_forest.sample_size = 64;
    c.autoencoder.params.epochs = 5;
    c.autoencoder.params.encoding_dim = 8;
    c.retraining.min_samples_for_training = 200;
    c.retraining.auto_train = false;
    c.retraining.drift_window = 400;
    c.drift.min_current_rows = 100;
    c.seed = 7;
    c
}

pub fn feed(engine: &Engine, traffic: &mut Traffic, n: usize) -> Vec<Arc<PredictionOutcome>> {
    (0..n)
        .map(|_| {
            engine
                .predict(traffic.next_event(), Some("{\"source\":\"test\"}".into()))
                .unwrap()
        })
        .collect()
}

pub fn temp_store(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).to_string_lossy().into_owned()
}
