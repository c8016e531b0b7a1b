//! The one error type of `anomaly-engine`.
//!
//! Bindings translate each variant into a host-language error by matching on the enum (the
//! Node addon, `crates/node/src/errors.rs`, gives each variant its `ML_ANOMALY_*` code and makes
//! `InvalidInput` and `InvalidConfig` a `TypeError`); [`EngineError::kind`] is a stable name
//! of the variant for logs. Messages are written for an operator: they name the offending
//! value, file or record.

use anomaly_core::CoreError;
use thiserror::Error;

/// Errors of the engine.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum EngineError {
    /// An argument from the caller is unusable (empty session id, bad timestamp, limit 0...).
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// The configuration is invalid; the message names the field.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),

    /// The requested record or model does not exist.
    #[error("not found: {0}")]
    NotFound(String),

    /// The requester may not read or change the record.
    #[error("forbidden: {0}")]
    Forbidden(String),

    /// The store could not be opened, read or written.
    #[error("store error: {0}")]
    Store(String),

    /// An error from the models (training, scoring, decoding a bundle).
    #[error(transparent)]
    Core(#[from] CoreError),

    /// The engine was closed; no further calls are served.
    #[error("the engine is closed")]
    Closed,

    /// A bug: a worker thread panicked or vanished. The message says where.
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    /// A stable name for the kind of error, for bindings and logs: `"InvalidInput"`,
    /// `"InvalidConfig"`, `"NotFound"`, `"Forbidden"`, `"Store"`, `"Core"`, `"Closed"` or
    /// `"Internal"`.
    pub fn kind(&self) -> &'static str {
        match self {
            EngineError::InvalidInput(_) => "InvalidInput",
            EngineError::InvalidConfig(_) => "InvalidConfig",
            EngineError::NotFound(_) => "NotFound",
            EngineError::Forbidden(_) => "Forbidden",
            EngineError::Store(_) => "Store",
            EngineError::Core(_) => "Core",
            EngineError::Closed => "Closed",
            EngineError::Internal(_) => "Internal",
        }
    }

    /// True for errors caused by the caller's arguments (a `TypeError` in JavaScript).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            EngineError::InvalidInput(_) | EngineError::InvalidConfig(_)
        )
    }
}

impl From<rusqlite::Error> for EngineError {
    fn from(e: rusqlite::Error) -> Self {
        EngineError::Store(e.to_string())
    }
}

/// Result alias of the engine.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_distinct_and_input_errors_are_flagged() {
        let all = [
            EngineError::InvalidInput("x".into()),
            EngineError::InvalidConfig("x".into()),
            EngineError::NotFound("x".into()),
            EngineError::Forbidden("x".into()),
            EngineError::Store("x".into()),
            EngineError::Core(CoreError::InvalidEvent("x".into())),
            EngineError::Closed,
            EngineError::Internal("x".into()),
        ];
        let mut kinds: Vec<_> = all.iter().map(|e| e.kind()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), all.len());
        assert_eq!(all.iter().filter(|e| e.is_input_error()).count(), 2);
        assert_eq!(
            EngineError::Core(CoreError::InvalidBundle("bad".into())).to_string(),
            "invalid model bundle: bad",
            "core errors keep their own message"
        );
    }
}
