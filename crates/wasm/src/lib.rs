//! # anomaly-wasm
//!
//! (Where this crate sits among the others, and a code map: docs/ARCHITECTURE.md.)
//!
//! WebAssembly bindings over `anomaly-core` for the in-browser explanation viewer.
//!
//! ## Why
//! Analysts read anomaly explanations on a dashboard. Running the very same core in the browser
//! lets the page recompute a prediction, its exact explanation and "what if" variations from the
//! model bundle the server used, without a round trip and without trusting a server-side
//! summary. So this crate adds no logic of its own: it translates JS values to core types and
//! back, and core errors to JS exceptions (the lightningcss / tokenizers style of thin bindings).
//!
//! ## Surface (names as JS sees them)
//! - [`Model`]: `Model.fromJson(text)`, `score(vector)`, `predict(vector, exact?, topK?)`,
//!   `attribution(vector, exact?)`, `featureNames()`, `baselines()`, `thresholds()`,
//!   `weights()`, `driftReference()`, `assessDrift(rows)`, `nFeatures`, `baseValue`.
//! - Free functions: `psi(reference, current, bins?)`, `ks2samp(a, b, method?)`,
//!   `binProportions(edges, values)`.
//!
//! Results are core's serde shapes (camelCase), built with serde-wasm-bindgen's JSON-compatible
//! serializer: plain objects and arrays, every `f64` passed through unchanged, so a number the
//! viewer shows is bit-identical to what the native build computes for the same input (see
//! docs/viewer.md for the parity findings).
//!
//! ## Errors
//! Every fallible call returns `Result<_, JsError>`: a JS `Error` whose message is the core
//! error's (`expected 59 features, got 3`, `non-finite value NaN in feature vector at index 4`,
//! `invalid model bundle: ...`). Nothing panics on caller input; should a bug panic anyway, the
//! hook installed at start-up writes the message to `console.error` before the module traps
//! (the trap itself surfaces in JS as a `RuntimeError`).

mod convert;
mod model;
mod stats;
mod types;

pub use model::Model;
pub use stats::{bin_proportions, ks2samp, parse_ks_method, psi};

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
}

/// Runs once when the module is instantiated: makes a panic (a bug, never caller input) visible
/// with its message instead of a bare `unreachable` trap.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error(&format!("anomaly-wasm panicked: {info}"))
    }));
}

/// The version of this package (the workspace version).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
