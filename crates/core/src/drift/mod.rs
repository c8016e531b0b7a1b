//! Drift detection: has the traffic the model scores moved away from the traffic it was trained
//! on?
//!
//! A model trained on last month's behaviour silently degrades when behaviour changes (a new
//! client release, a new endpoint, a shift in working hours). The service checks for that on a
//! schedule and retrains when the composite drift score crosses a threshold. The JavaScript
//! original computed such a score but its per-feature term referenced an undefined variable,
//! threw, and was silently 0; its KS "p-value" was never checked against anything. Here every
//! piece is defined, bounded and tested, and the KS test reproduces SciPy.
//!
//! - [`psi`](mod@psi): Population Stability Index over reference quantile bins ([`QuantileBins`]).
//! - [`ks`]: two-sample Kolmogorov–Smirnov test, a port of `scipy.stats.ks_2samp` (exact and
//!   asymptotic p-values), with [`kolmogorov`] holding the finite-n Kolmogorov distribution.
//! - [`reference`](mod@reference): the compact training-time summary ([`DriftReference`]) stored in the model
//!   bundle.
//! - [`detector`]: [`assess`] — the composite score, per-feature drift and the report.
//! - [`trend`]: bounded history of composites and its direction.
//! - [`config`]: [`DriftConfig`] and the composite's weights.
//!
//! Everything is pure: no clock (timestamps come from the caller), no I/O, no randomness.

pub mod config;
pub mod detector;
pub mod kolmogorov;
pub mod ks;
pub mod psi;
pub mod reference;
pub mod trend;

pub use config::{DriftConfig, DriftWeights, CALENDAR_FEATURES};
pub use detector::{assess, DriftReport, FeatureDrift, Histogram};
pub use kolmogorov::kstwo_sf;
pub use ks::{ks_2samp, ks_2samp_sorted, ks_statistic_sorted, KsMethod, KsResult};
pub use psi::{psi, QuantileBins};
pub use reference::{DriftReference, FeatureReference, ScoreReference};
pub use trend::{DriftHistory, DriftPoint, Trend};
