//! Request events → bounded per-session and per-user state → the 59 behavioral features.
//!
//! ## Why it looks like this
//! ExpenseFlow's original queried MongoDB several times per request to rebuild a session's
//! history, read that history newest-first as if it were oldest-first (negative inter-arrival
//! times), let NaN through and trained on 53 features while predicting on 59. Here:
//!
//! - **One code path.** [`BehaviorState::observe`] is the only way to get a vector, for serving
//!   and for training alike: a training vector is the vector the event had when it was scored.
//! - **No database on the request path.** The history lives in memory, bounded: the last
//!   [`WINDOW`] events and signals per session with running aggregates, small capped indexes
//!   per user, least-recently-used eviction and idle expiry over both (a flood of new session
//!   ids never grows memory past the caps). An event costs O(1) amortised plus a couple of
//!   byte scans over the window, and no allocation once its session is warm.
//! - **No I/O, no clock.** Timestamps come with the events; windows are anchored on them and
//!   never go back (late events count as simultaneous), so a replay reproduces live vectors.
//! - **Always finite.** Empty windows have defined defaults, counts and sums are integers,
//!   durations are capped; docs/features.md defines every feature (formula, unit, window,
//!   default) and the tests check each definition on hand-built sequences.
//! - **Signals derived natively.** IP/agent/device changes, new devices, geographic drift and
//!   impossible travel, cadence spikes, sensitive-endpoint access and failed-auth bursts are
//!   computed in the same pass ([`DerivedKind`]) and counted with the host's own signals.
//!
//! ## Map
//! - [`event`] — [`RequestEvent`] and its parts (serde, camelCase).
//! - [`config`] — [`StateConfig`].
//! - [`state`] — [`BehaviorState`], [`Observation`].
//! - [`snapshot`] — [`SnapshotWriter`]: the state serialized in steps, for callers that lock it.
//! - [`signals`] — [`DerivedKind`], [`DerivedSignals`], [`SignalCategory`].
//! - [`names`] — the 59 names, their groups and index constants.
//! - internals: `normalize` (string caps, stable hashes, endpoint normalisation), `time`,
//!   `geo`, `tables` (id interner, n-gram counter), `window` (the sliding windows), `session`,
//!   `user`, `lru`, `extract` (the feature formulas).

pub mod config;
pub mod event;
mod extract;
pub mod geo;
mod lru;
pub mod names;
pub mod normalize;
mod session;
pub mod signals;
pub mod snapshot;
pub mod state;
mod tables;
pub mod time;
mod user;
mod window;

#[cfg(test)]
mod tests;

pub use config::StateConfig;
pub use event::{GeoPoint, RequestEvent, Sensitivity, Severity, Signal, MAX_TIMESTAMP_MS};
pub use extract::MAX_DURATION_S;
pub use names::{feature_index, FEATURE_GROUPS, FEATURE_NAMES, N_FEATURES};
pub use signals::{DerivedKind, DerivedSignals, SignalCategory};
pub use snapshot::SnapshotWriter;
pub use state::{BehaviorState, Observation};
pub use time::WEEK_MS;
pub use window::{BURST_EVENTS, BURST_SPAN_MS, RATE_MINUTES, WINDOW};
