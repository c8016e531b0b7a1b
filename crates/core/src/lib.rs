//! # anomaly-core
//!
//! (Where this crate sits among the others, and a code map: docs/ARCHITECTURE.md.)
//!
//! Behavioral anomaly detection for a web application, as a pure library: it turns request
//! events into 59 behavioral features, trains an Isolation Forest and an autoencoder on them,
//! combines both into one calibrated score with a graduated action, explains every score
//! exactly, and watches the feature distribution for drift.
//!
//! ## Why a pure core
//! The same code runs in three places: the Node addon that serves requests, the command line
//! used for evaluation, and the browser (wasm32) where analysts recompute explanations. So this
//! crate does no I/O, spawns no threads (except batch scoring behind the optional `parallel`
//! feature) and never reads a clock or an entropy source: time comes with the events, randomness
//! from explicit seeds. State that must live across requests (sessions, model registry,
//! storage) belongs to `anomaly-engine`.
//!
//! The transcendental functions on the scoring and explanation path (`exp2`, `log`, `expm1`,
//! `cos`) come from the `libm` crate rather than the platform's C library, so a model scores and
//! explains bit-identically natively and in the browser (the wasm parity test checks this).
//!
//! ## Map
//! - [`features`]: request events, bounded per-session state, the 59 features.
//! - [`scaler`], [`forest`], [`autoencoder`]: the two detectors and their input scaling.
//! - [`calibration`], [`policy`], [`ensemble`]: calibrated composite score and action.
//! - [`decision`]: from scores to actions: evidence across requests, a friction budget
//!   calibrated on sessions, learning from feedback.
//! - [`explain`]: exact TreeSHAP, the cheap hot-path attribution, readable explanations.
//! - [`drift`]: PSI, two-sample Kolmogorov–Smirnov, the drift detector.
//! - [`bundle`]: the versioned, self-describing model value (JSON and binary).
//! - [`simulate`]: seeded, labeled ExpenseFlow-like traffic for demos, tests and benchmarks.

pub mod autoencoder;
pub mod bundle;
pub mod calibration;
pub mod decision;
pub mod drift;
pub mod ensemble;
pub mod error;
pub mod explain;
pub mod features;
pub mod forest;
pub mod metrics;
pub mod policy;
pub mod rng;
pub mod scaler;
pub mod simulate;

pub use error::{CoreError, Result};
pub use features::names::{FEATURE_NAMES, N_FEATURES};
