//! The one error type of `anomaly-core`.
//!
//! Every fallible entry point returns [`CoreError`]. Variants say *what* was wrong with the
//! caller's input in words a host application can show to an operator; none of them carries a
//! backtrace or a panic payload. Bindings (Node, wasm) translate them one-to-one.

use thiserror::Error;

/// Errors raised by training, scoring, explaining, drift and (de)serialisation.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// A vector or matrix had the wrong number of features.
    #[error("expected {expected} features, got {actual}")]
    DimensionMismatch { expected: usize, actual: usize },

    /// A number that must be finite was NaN or infinite.
    #[error("non-finite value {value} in {what} at index {index}")]
    NonFinite {
        what: &'static str,
        index: usize,
        value: f64,
    },

    /// Not enough rows to do what was asked (train, split, compare distributions).
    #[error("not enough data: {what} needs at least {needed} rows, got {actual}")]
    NotEnoughData {
        what: &'static str,
        needed: usize,
        actual: usize,
    },

    /// A parameter is outside its valid range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter { name: &'static str, reason: String },

    /// A serialized model could not be read or failed validation.
    #[error("invalid model bundle: {0}")]
    InvalidBundle(String),

    /// A serialized model was written with an incompatible schema version.
    #[error("unsupported model schema version {found} (this build reads version {supported})")]
    UnsupportedSchema { found: u32, supported: u32 },

    /// An event handed to the feature pipeline was unusable.
    #[error("invalid event: {0}")]
    InvalidEvent(String),

    /// The behavioral state could not be serialized.
    #[error("state snapshot: {0}")]
    Snapshot(String),
}

/// Result alias used throughout the crate.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Returns an error naming the first non-finite value of `values`.
pub fn ensure_finite(what: &'static str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(CoreError::NonFinite {
            what,
            index,
            value: values[index],
        }),
    }
}

/// Returns an error unless `values` has exactly `expected` entries.
pub fn ensure_len(expected: usize, values: &[f64]) -> Result<()> {
    if values.len() == expected {
        Ok(())
    } else {
        Err(CoreError::DimensionMismatch {
            expected,
            actual: values.len(),
        })
    }
}
