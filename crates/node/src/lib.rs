//! # anomaly-node
//!
//! (Where this crate sits among the others, and a code map: docs/ARCHITECTURE.md.)
//!
//! The Node.js addon (napi-rs) over [`anomaly_engine::Engine`]: the class `NativeEngine`,
//! that the npm package `ml-anomaly` (npm/ml-anomaly) wraps into the original service's
//! interface, and `NativeModel`, one model bundle scored and explained without an engine
//! (offline scoring of stored vectors; the native twin of the browser's wasm `Model`, see
//! [`model`]).
//!
//! ## Why so thin
//! Everything that decides anything lives in `anomaly-engine` and `anomaly-core`, where it is
//! tested without Node; this crate only translates. What it owns:
//! - **types**: on the hot path the event comes as positional arguments and the answer goes
//!   out as numbers in a `Float64Array` the package owns ([`prediction`] says why and how:
//!   napi object properties cost more than the model); everything else crosses as
//!   `serde_json::Value` built from the engine's serde types, so field names and shapes are the
//!   engine's own camelCase ones.
//! - **threads**: `predictInto` is a direct synchronous call (microseconds; a Promise would cost
//!   more than the work). Whatever may wait on the store's writer thread or compute for long —
//!   training, drift checks, maintenance, store queries — is an `AsyncTask` that runs on
//!   libuv's thread pool and resolves a Promise, so the event loop never blocks.
//! - **errors**: no panic may cross into Node, so every engine call runs under
//!   `catch_unwind`; engine errors become JS errors by kind (see [`errors`]): invalid input and
//!   configuration are `TypeError`s, the rest `Error`s, each with a stable `code` property
//!   (`ML_ANOMALY_NOT_FOUND`, `ML_ANOMALY_FORBIDDEN`...) that the package maps to HTTP statuses.
//!
//! Training progress is read by polling (`trainingSnapshot()`), not pushed: the engine keeps
//! the latest progress event of any training (manual, automatic, drift-triggered, scheduled),
//! and polling it from an unref'd timer needs no threadsafe function whose lifetime could keep
//! the process alive or outlive the environment.
//!
//! The crate has no public Rust API (Node loads it as a shared library), so its documentation
//! is for maintainers and links to its private modules: read it with
//! `cargo doc -p anomaly-node --document-private-items`.
#![allow(rustdoc::private_intra_doc_links)]

mod engine;
mod errors;
mod event;
mod model;
mod prediction;
mod task;

pub use engine::{resolve_engine_config, NativeEngine};
pub use model::NativeModel;
