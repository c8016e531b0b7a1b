//! Work off the event loop: one `AsyncTask` type for every engine call that may block.
//!
//! The closure runs on libuv's thread pool under `catch_unwind`; its result is a
//! `serde_json::Value` built from the engine's serde types, converted to a JS value on the JS
//! thread, or a [`Failure`] that becomes the Promise's rejection (a `TypeError` or an `Error`
//! with a `code`, see [`crate::errors`]).

use napi::bindgen_prelude::{ToNapiValue, TypeName};
use napi::{sys, Env, Task, ValueType};
use serde_json::Value;

use crate::errors::{guard, Failure};

type Job = Box<dyn FnOnce() -> Result<Value, Failure> + Send>;

/// A blocking engine call, as a Promise.
pub struct EngineTask {
    job: Option<Job>,
}

impl EngineTask {
    pub fn new(job: impl FnOnce() -> Result<Value, Failure> + Send + 'static) -> Self {
        EngineTask {
            job: Some(Box::new(job)),
        }
    }

    /// A task that rejects at once (arguments that failed translation on the JS thread).
    pub fn failed(failure: Failure) -> Self {
        EngineTask::new(move || Err(failure))
    }
}

/// Serializes an engine value; a failure here is a bug (the engine's types are plain data).
///
/// Integers a JS number cannot hold exactly (beyond ±(2^53 − 1): seeds are `u64`) become
/// decimal strings: napi would otherwise make them `BigInt`s, which `JSON.stringify` — and so
/// every Express `res.json` — refuses.
pub fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, Failure> {
    let mut value = serde_json::to_value(v).map_err(|e| Failure {
        code: "ML_ANOMALY_INTERNAL",
        type_error: false,
        message: format!("ml-anomaly: could not serialize a result: {e}"),
    })?;
    js_safe_integers(&mut value);
    Ok(value)
}

const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

fn js_safe_integers(v: &mut Value) {
    // Iterative: engine values are shallow, but a loop costs nothing and cannot overflow.
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Number(n) => {
                let unsafe_int = match (n.as_u64(), n.as_i64()) {
                    (Some(u), _) => u > MAX_SAFE_INTEGER,
                    (None, Some(i)) => i.unsigned_abs() > MAX_SAFE_INTEGER,
                    (None, None) => false,
                };
                if unsafe_int {
                    *v = Value::String(n.to_string());
                }
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            Value::Object(map) => stack.extend(map.values_mut()),
            _ => {}
        }
    }
}

/// A task's result on its way to JavaScript (`serde_json::Value` lacks napi's `TypeName`).
pub struct JsonResult(Value);

impl TypeName for JsonResult {
    fn type_name() -> &'static str {
        "unknown"
    }

    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ToNapiValue for JsonResult {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        // SAFETY: forwarded as is; napi calls this on the JS thread with a live env.
        unsafe { Value::to_napi_value(env, val.0) }
    }
}

impl Task for EngineTask {
    type Output = Result<Value, Failure>;
    type JsValue = JsonResult;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let job = self.job.take();
        Ok(guard(move || match job {
            Some(job) => job(),
            None => Err(Failure {
                code: "ML_ANOMALY_INTERNAL",
                type_error: false,
                message: "ml-anomaly: task ran twice".into(),
            }),
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        output
            .map(JsonResult)
            .map_err(|failure| failure.into_napi(&env))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_beyond_js_precision_become_strings() {
        let v = to_json(&json!({
            "seed": u64::MAX,
            "nested": [{ "big": -(1i64 << 60) }, 9_007_199_254_740_991u64],
            "ts": 1_700_000_000_000i64,
            "score": 0.5,
        }))
        .unwrap();
        assert_eq!(v["seed"], json!(u64::MAX.to_string()));
        assert_eq!(v["nested"][0]["big"], json!((-(1i64 << 60)).to_string()));
        assert_eq!(
            v["nested"][1],
            json!(9_007_199_254_740_991u64),
            "2^53 - 1 is exact in JS"
        );
        assert_eq!(v["ts"], json!(1_700_000_000_000i64));
        assert_eq!(v["score"], json!(0.5));
    }
}
