//! # anomaly-engine
//!
//! (Where this crate sits among the others, and a code map: docs/ARCHITECTURE.md.)
//!
//! The stateful anomaly-detection service over [`anomaly_core`]: behavioral state of sessions
//! and users, the training window, the model registry and retrain policy, metrics, and an
//! embedded SQLite store. The Node addon is a thin translation of [`Engine`]; everything with
//! state, threads or I/O lives here, everything numeric in the core.
//!
//! ## One request ([`Engine::predict`])
//! 1. **Observe** — under the state mutex, `BehaviorState::observe` updates the session's and
//!    user's bounded windows and writes the 59 features into a stack array (no allocation once
//!    the session is warm). Bad ids or timestamps are an [`EngineError::InvalidInput`] and leave
//!    the state untouched.
//! 2. **Score** — the active model is read as an `Arc` snapshot (a read lock held for one
//!    pointer clone); `ModelBundle::predict_with` scores both detectors, combines the calibrated
//!    scores, decides the action and builds the top-5 explanation with the fast attribution,
//!    using a pooled `Workspace` (no buffer allocation). Without a model the outcome is the
//!    original's fallback (`isAnomaly false, score 0, confidence 0, ALLOW, fallback true`); a
//!    scoring error also falls back, with `error` set.
//! 3. **Windows** — the vector is offered to the training window (a time-aware reservoir,
//!    [`window`]) — always, also before any model exists and for fallbacks — and, when a model
//!    scored it, pushed into the drift ring ([`drift_window`]) with its composite and version.
//! 4. **Account** — metrics (counters, sums, a fixed-bucket latency histogram) are updated and
//!    the record is *offered* to the store writer's bounded queue: never waiting; when the queue
//!    is full the record is dropped and counted (`droppedRecords`). Fallback predictions are
//!    recorded and counted too (as `fallback`), as the training data they are.
//! 5. **Maybe train** — with `autoTrain`, no model and a window of `minSamplesForTraining`
//!    vectors, a background thread starts the first training; the request returns at once.
//!
//! The outcome ([`outcome::PredictionOutcome`], behind an `Arc` shared with the queued
//! record) carries the id, scores, action, explanation, model version, processing time,
//! fallback flag, the features and the derived signals. What it costs end to end is measured by
//! the engine's `predict` benches (docs/benchmarks.md, "Engine").
//!
//! ## Training and the atomic swap
//! [`Engine::train`] (blocking; the addon runs it on the libuv pool), the drift-triggered and
//! the scheduled retrains and the automatic first training all take one `AtomicBool` by
//! compare-and-swap (never two trainings at once; released by a guard, also on panic). The
//! window's vectors of the last `modelWindowDays` are copied out in chunks, a bundle is trained
//! with a seed derived from the configured seed and the version (reproducible), stored as the
//! new active version in one transaction, and then swapped in with one pointer store under a
//! write lock. Every request is scored entirely by one model; requests during a training are
//! served by the previous one (or get the fallback).
//!
//! ## Periodic work ([`Engine::maintenance`])
//! The host calls it from a timer with the current time; [`schedule`] decides from explicit
//! times what is due: the drift check (hourly; retrain above `hourlyRetrainThreshold`), the
//! forced retrain (daily, anchored at the latest training), pruning beyond the retention and
//! training windows and of surplus model versions, idle-state expiry, and the behavioral
//! state snapshot. Both retrain schedules can be switched off in the configuration or at run
//! time ([`Engine::set_schedules_enabled`]).
//!
//! ## Invariants and what is persisted
//! docs/ARCHITECTURE.md ("Invariants", "What is persisted") is their one statement: bounded
//! memory, the atomic model swap, a request path that never waits for the disk or a training,
//! no clock in the logic, and which table holds what (see [`store`] for the tables themselves).
//!
//! Committed transactions survive a crash of the process (WAL, `synchronous=NORMAL`); a file
//! that is not an ml-anomaly store, or is damaged, is a clear [`EngineError::Store`]. On
//! restart everything above comes back ([`Engine::open`]); the drift ring is refilled from the
//! records the active model scored.
//!
//! **Durability window.** Prediction records are committed in groups: the writer collects for
//! `writerFlushIntervalMs` (10 ms) after the first record and commits them in one transaction,
//! so that requests neither wake it nor wait for it (see [`store`]). A crash of the process
//! therefore loses the records of at most the last interval, besides any still queued (which
//! were never durable). [`Engine::flush`], every query and [`Engine::close`] commit at once:
//! what they return reflects every prediction made before them, and once `flush()` returns
//! every earlier record is committed. `writerFlushIntervalMs: 0` commits whatever is queued
//! as soon as the writer sees it.
//!
//! ## Threads
//! The caller's threads (JS thread: predictions and queries; libuv pool: training and
//! maintenance), one store writer thread, and at most one background training thread.
//! [`Engine`] is `Send + Sync`.

pub mod config;
pub mod drift_window;
mod engine;
pub mod error;
pub mod metrics;
pub mod outcome;
pub mod records;
pub mod schedule;
pub mod store;
#[doc(hidden)]
pub mod testkit;
pub mod time;
pub mod window;

pub use config::EngineConfig;
pub use engine::{resolve_config, Engine, TrainingListener, MAX_LIMIT, MAX_PERIOD_DAYS};
pub use error::{EngineError, Result};
pub use outcome::{DecisionOutcome, PredictionOutcome, TrainOutcome, TrainingEvent};

/// Locks a mutex, recovering the data if another thread panicked while holding it: every
/// structure the engine guards stays memory-safe and bounded after a panic, and refusing all
/// further requests would turn one bug into an outage.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
