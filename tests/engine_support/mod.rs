//! Shared helpers of the engine's integration tests: the testkit's configuration, and `feed`
//! with a request context on every request (the records carry one, as through the package).
#![allow(dead_code)]

use std::sync::Arc;

use anomaly_engine::outcome::PredictionOutcome;
use anomaly_engine::testkit::{self, Traffic};
use anomaly_engine::Engine;

// Each test uses some of them.
#[allow(unused_imports)]
pub use anomaly_engine::testkit::{small_config, H, T0};

/// The request context `feed` attaches.
pub const CONTEXT: &str = "{\"source\":\"test\"}";

/// The testkit's `feed`, each request with [`CONTEXT`].
pub fn feed(engine: &Engine, traffic: &mut Traffic, n: usize) -> Vec<Arc<PredictionOutcome>> {
    testkit::feed(engine, traffic, n, Some(CONTEXT))
}

pub fn temp_store(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).to_string_lossy().into_owned()
}
