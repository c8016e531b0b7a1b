//! Crossing the JS boundary: JS values in, core types out, and back.
//!
//! Inputs arrive as `JsValue` rather than `&[f64]` on purpose: wasm-bindgen's slice glue copies
//! any array-like into a `Float64Array`, silently turning `"12"` into 12 and `null` into 0. Going
//! through serde-wasm-bindgen instead accepts exactly arrays (or typed arrays, any iterable) of
//! numbers and names the offending value otherwise; NaN and infinities pass through so that core
//! rejects them with its own message and index.

use anomaly_core::CoreError;
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// JSON-compatible output: plain objects (not `Map`s), `null` for `None`, numbers as `f64`.
const SERIALIZER: serde_wasm_bindgen::Serializer =
    serde_wasm_bindgen::Serializer::json_compatible();

/// A core error as a JS `Error` carrying the core message.
pub fn core_error(e: CoreError) -> JsError {
    JsError::new(&e.to_string())
}

/// Serialises a result for JS.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&SERIALIZER)
        .map_err(|e| JsError::new(&format!("could not convert the result for JS: {e}")))
}

/// A numeric vector from a JS array / typed array; `what` names it in the error.
pub fn vector_from_js(value: JsValue, what: &str) -> Result<Vec<f64>, JsError> {
    check_object(&value, what, "an array of numbers")?;
    serde_wasm_bindgen::from_value::<Vec<f64>>(value)
        .map_err(|e| input_error(what, "an array of numbers", &e))
}

/// Rows of numbers from a JS array of arrays.
pub fn rows_from_js(value: JsValue, what: &str) -> Result<Vec<Vec<f64>>, JsError> {
    check_object(&value, what, "an array of arrays of numbers")?;
    serde_wasm_bindgen::from_value::<Vec<Vec<f64>>>(value)
        .map_err(|e| input_error(what, "an array of arrays of numbers", &e))
}

/// Rejects primitives up front: serde-wasm-bindgen would report them as a failed
/// `Reflect.get`, which says nothing useful to the caller.
fn check_object(value: &JsValue, what: &str, expected: &str) -> Result<(), JsError> {
    let found = if value.is_null() {
        "null"
    } else if value.is_undefined() {
        "undefined"
    } else if value.is_string() {
        "a string"
    } else if value.as_f64().is_some() {
        "a number"
    } else if value.as_bool().is_some() {
        "a boolean"
    } else if value.is_object() {
        return Ok(());
    } else {
        "a value of another type"
    };
    Err(JsError::new(&format!(
        "{what} must be {expected}, got {found}"
    )))
}

/// serde-wasm-bindgen's errors are JS `Error`s whose string form starts with `Error: ` (or
/// `TypeError: `...); the message reads better without it.
fn input_error(what: &str, expected: &str, e: &serde_wasm_bindgen::Error) -> JsError {
    let text = e.to_string();
    let detail = match text.split_once(": ") {
        Some((name, rest)) if name.ends_with("Error") => rest,
        _ => text.as_str(),
    };
    JsError::new(&format!("{what} must be {expected}: {detail}"))
}
