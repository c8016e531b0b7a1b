//! Engine errors and panics as JavaScript errors.
//!
//! Every error that reaches JavaScript carries a `code` property, so that the package (and
//! host code) can branch on it instead of on message text:
//!
//! | engine error   | JS class    | `code`                       |
//! |----------------|-------------|------------------------------|
//! | InvalidInput   | `TypeError` | `ML_ANOMALY_INVALID_INPUT`   |
//! | InvalidConfig  | `TypeError` | `ML_ANOMALY_INVALID_CONFIG`  |
//! | NotFound       | `Error`     | `ML_ANOMALY_NOT_FOUND`       |
//! | Forbidden      | `Error`     | `ML_ANOMALY_FORBIDDEN`       |
//! | Store          | `Error`     | `ML_ANOMALY_STORAGE`         |
//! | Core           | `Error`     | `ML_ANOMALY_MODEL`           |
//! | Closed         | `Error`     | `ML_ANOMALY_CLOSED`          |
//! | Internal       | `Error`     | `ML_ANOMALY_INTERNAL`        |
//! | a panic        | `Error`     | `ML_ANOMALY_PANIC`           |
//!
//! A [`Failure`] is the thread-safe description (it is produced on libuv's pool); the JS object
//! is made on the JS thread by [`Failure::into_napi`].

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use anomaly_engine::EngineError;
use napi::bindgen_prelude::{JsError, JsTypeError};
use napi::Env;

/// An error on its way to JavaScript.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: &'static str,
    pub type_error: bool,
    pub message: String,
}

impl Failure {
    /// Invalid input found while translating arguments (before the engine is called).
    pub fn input(message: impl Into<String>) -> Self {
        Failure {
            code: "ML_ANOMALY_INVALID_INPUT",
            type_error: true,
            message: message.into(),
        }
    }

    pub fn from_engine(e: &EngineError) -> Self {
        let (code, type_error) = match e {
            EngineError::InvalidInput(_) => ("ML_ANOMALY_INVALID_INPUT", true),
            EngineError::InvalidConfig(_) => ("ML_ANOMALY_INVALID_CONFIG", true),
            EngineError::NotFound(_) => ("ML_ANOMALY_NOT_FOUND", false),
            EngineError::Forbidden(_) => ("ML_ANOMALY_FORBIDDEN", false),
            EngineError::Store(_) => ("ML_ANOMALY_STORAGE", false),
            EngineError::Core(_) => ("ML_ANOMALY_MODEL", false),
            EngineError::Closed => ("ML_ANOMALY_CLOSED", false),
            EngineError::Internal(_) => ("ML_ANOMALY_INTERNAL", false),
        };
        Failure {
            code,
            type_error,
            message: format!("ml-anomaly: {e}"),
        }
    }

    fn from_panic(payload: Box<dyn Any + Send>) -> Self {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        Failure {
            code: "ML_ANOMALY_PANIC",
            type_error: false,
            message: format!("ml-anomaly: internal error (a bug; please report it): {what}"),
        }
    }

    /// The JS error object, wrapped so that napi throws (or rejects with) exactly it.
    pub fn into_napi(self, env: &Env) -> napi::Error {
        let err: napi::Error<String> = napi::Error::new(self.code.to_string(), self.message);
        let value = if self.type_error {
            JsTypeError::from(err).into_unknown(*env)
        } else {
            JsError::from(err).into_unknown(*env)
        };
        napi::Error::from(value)
    }
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Self {
        Failure::from_engine(&e)
    }
}

/// Runs `f`, turning a panic into a [`Failure`] so that it never unwinds into Node.
pub fn guard<T>(f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(Failure::from_panic(payload)),
    }
}

/// [`guard`] for the JS thread: the failure becomes the thrown JS error.
pub fn guard_js<T>(env: &Env, f: impl FnOnce() -> Result<T, Failure>) -> napi::Result<T> {
    guard(f).map_err(|failure| failure.into_napi(env))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_map_to_codes_and_classes() {
        let cases = [
            (
                EngineError::InvalidInput("x".into()),
                "ML_ANOMALY_INVALID_INPUT",
                true,
            ),
            (
                EngineError::InvalidConfig("x".into()),
                "ML_ANOMALY_INVALID_CONFIG",
                true,
            ),
            (
                EngineError::NotFound("x".into()),
                "ML_ANOMALY_NOT_FOUND",
                false,
            ),
            (
                EngineError::Forbidden("x".into()),
                "ML_ANOMALY_FORBIDDEN",
                false,
            ),
            (EngineError::Store("x".into()), "ML_ANOMALY_STORAGE", false),
            (EngineError::Closed, "ML_ANOMALY_CLOSED", false),
            (
                EngineError::Internal("x".into()),
                "ML_ANOMALY_INTERNAL",
                false,
            ),
        ];
        for (e, code, type_error) in cases {
            let f = Failure::from_engine(&e);
            assert_eq!((f.code, f.type_error), (code, type_error), "{e}");
            assert!(f.message.contains(&e.to_string()));
        }
    }

    #[test]
    fn panics_become_failures() {
        let r: Result<(), Failure> = guard(|| panic!("boom {}", 42));
        let f = r.unwrap_err();
        assert_eq!(f.code, "ML_ANOMALY_PANIC");
        assert!(f.message.contains("boom 42"), "{}", f.message);
        let r: Result<(), Failure> = guard(|| panic!("static"));
        assert!(r.unwrap_err().message.contains("static"));
        assert_eq!(guard(|| Ok::<_, Failure>(7)), Ok(7));
    }
}
