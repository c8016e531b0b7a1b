//! `NativeModel`: one model bundle, scored and explained on the JS thread without an engine.
//!
//! Why a second class next to `NativeEngine`: the engine scores *requests* (it observes them,
//! derives the 59 features from session state, stores a record). Some callers already hold the
//! vector — a stored prediction's `features`, an export of traffic, a "what if" edit — and want
//! what the model says about exactly that vector: offline scoring and re-explanation, audits,
//! and checking the browser viewer's WebAssembly build against the native code. That needs no
//! state, store, clock or thread, so this class holds nothing but the validated bundle and the
//! buffers to score with it.
//!
//! It is the native twin of the wasm `Model` (crates/wasm/src/model.rs): same method names,
//! same arguments, same results — core's serde shapes in camelCase (`Scores`, `Prediction`,
//! `Attribution`), serialised by napi's serde serializer straight into JS values in field
//! order, each `f64` a JS number unchanged, so the parity test (js-tests/browser) can require
//! bit-identical answers. What the core checks (length, finiteness, the bundle) fails with the
//! core's own message, verbatim as in the browser (no `ml-anomaly:` prefix), and every error
//! has a `code` property:
//!
//! | cause                                             | JS class    | `code`                     |
//! |---------------------------------------------------|-------------|----------------------------|
//! | not an array / Float64Array, a non-number element | `TypeError` | `ML_ANOMALY_INVALID_INPUT` |
//! | wrong length, NaN or ±Infinity                    | `TypeError` | `ML_ANOMALY_INVALID_INPUT` |
//! | malformed, foreign, future or invalid bundle      | `Error`     | `ML_ANOMALY_MODEL`         |
//!
//! Every call is synchronous: each costs less than a round trip through libuv's pool would. Results
//! are JS objects built by napi, not JSON text for JS to parse: JSON was faster only for large
//! explanations and no faster for a score, not worth a second result contract (measured:
//! docs/benchmarks.md, section "`NativeModel`" under "Through Node").
//! The class holds one scoring `Workspace` and one vector buffer, so a warm `score` allocates
//! nothing on the Rust side; napi's `&mut self` borrow is safe because JS cannot re-enter a
//! synchronous call.

use anomaly_core::bundle::{ModelBundle, Prediction, Workspace};
use anomaly_core::ensemble::Scores;
use anomaly_core::explain::{Attribution, AttributionMethod};
use anomaly_core::policy::ActionPolicy;
use anomaly_core::CoreError;
use napi::bindgen_prelude::{Array, Float64ArraySlice, ToNapiValue, TypeName, Unknown};
use napi::{sys, Env, JsValue, ValueType};
use napi_derive::napi;
use serde::Serialize;

use crate::errors::{guard_js, Failure};

/// Features listed in an explanation when the caller does not say (the original's top 5, as
/// the wasm `Model`).
pub const DEFAULT_TOP_K: usize = 5;

/// What a feature vector must be, for error messages.
const VECTOR: &str = "the feature vector must be an array of numbers or a Float64Array";

/// A core value on its way to JavaScript, serialised straight into JS objects by napi's serde
/// serializer: fields in the struct's order (as serde-wasm-bindgen gives the browser; a
/// `serde_json::Value` would sort them), numbers as they are, no intermediate JSON tree.
pub struct Js<T>(T);

impl<T> TypeName for Js<T> {
    fn type_name() -> &'static str {
        "unknown"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl<T: Serialize> ToNapiValue for Js<T> {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        // napi calls this on the JS thread with the live env of the call.
        Ok(Env::from_raw(env).to_js_value(&val.0)?.raw())
    }
}

/// A core error for JavaScript: the caller's vector (or argument) is at fault → `TypeError`;
/// the bundle (or anything else) → `Error`. The message is the core's, verbatim.
fn core_failure(e: &CoreError) -> Failure {
    let (code, type_error) = match e {
        CoreError::DimensionMismatch { .. }
        | CoreError::NonFinite { .. }
        | CoreError::InvalidParameter { .. }
        | CoreError::InvalidEvent(_) => ("ML_ANOMALY_INVALID_INPUT", true),
        CoreError::InvalidBundle(_)
        | CoreError::UnsupportedSchema { .. }
        | CoreError::NotEnoughData { .. } => ("ML_ANOMALY_MODEL", false),
        CoreError::Snapshot(_) => ("ML_ANOMALY_INTERNAL", false),
    };
    Failure {
        code,
        type_error,
        message: e.to_string(),
    }
}

/// A failure of napi itself while reading an argument (not expected for live values).
fn napi_failure(e: napi::Error) -> Failure {
    Failure {
        code: "ML_ANOMALY_INTERNAL",
        type_error: false,
        message: format!("ml-anomaly: could not read an argument: {e}"),
    }
}

/// "a string", "null"... for error messages.
fn describe(t: ValueType) -> &'static str {
    match t {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "a boolean",
        ValueType::Number => "a number",
        ValueType::String => "a string",
        ValueType::Symbol => "a symbol",
        ValueType::Object => "an object",
        ValueType::Function => "a function",
        ValueType::External => "an external",
        ValueType::BigInt => "a bigint",
        _ => "a value of unknown type",
    }
}

/// Reads a JS feature vector into `out` (cleared first). The length is checked before any
/// element is read, so a huge array is rejected at once with the core's message; NaN and
/// infinities are copied so that the core rejects them with its own message and index.
fn read_vector(value: &Unknown<'_>, expected: usize, out: &mut Vec<f64>) -> Result<(), Failure> {
    out.clear();
    let kind = value.get_type().map_err(napi_failure)?;
    if kind != ValueType::Object {
        return Err(Failure::input(format!("{VECTOR}, got {}", describe(kind))));
    }
    let wrong_length =
        |actual: usize| core_failure(&CoreError::DimensionMismatch { expected, actual });
    if value.is_typedarray().map_err(napi_failure)? {
        // SAFETY: the value is a typed array (checked above); the cast checks its element type.
        let typed = unsafe { value.cast::<Float64ArraySlice>() }
            .map_err(|_| Failure::input(format!("{VECTOR}, got another typed array")))?;
        if typed.len() != expected {
            return Err(wrong_length(typed.len()));
        }
        out.extend_from_slice(&typed);
        return Ok(());
    }
    if !value.is_array().map_err(napi_failure)? {
        return Err(Failure::input(format!("{VECTOR}, got an object")));
    }
    // SAFETY: the value is an array (checked above).
    let array = unsafe { value.cast::<Array>() }.map_err(napi_failure)?;
    let len = array.len() as usize;
    if len != expected {
        return Err(wrong_length(len));
    }
    for i in 0..array.len() {
        let element = array
            .get::<Unknown>(i)
            .map_err(napi_failure)?
            .ok_or_else(|| wrong_length(i as usize))?;
        let kind = element.get_type().map_err(napi_failure)?;
        if kind != ValueType::Number {
            return Err(Failure::input(format!(
                "the feature vector must be an array of numbers: element {i} is {}",
                describe(kind)
            )));
        }
        // SAFETY: the element is a number (checked above).
        out.push(unsafe { element.cast::<f64>() }.map_err(napi_failure)?);
    }
    Ok(())
}

/// `exact`: `undefined`/`null` mean false; anything but a boolean is a `TypeError` (napi's
/// own conversion would throw a plain `Error` with a status code for a message).
fn read_method(exact: Option<&Unknown<'_>>) -> Result<AttributionMethod, Failure> {
    let Some(value) = exact else {
        return Ok(AttributionMethod::Fast);
    };
    let kind = value.get_type().map_err(napi_failure)?;
    if kind != ValueType::Boolean {
        return Err(Failure::input(format!(
            "exact must be a boolean, got {}",
            describe(kind)
        )));
    }
    // SAFETY: the value is a boolean (checked above).
    let exact = unsafe { value.cast::<bool>() }.map_err(napi_failure)?;
    Ok(method(exact))
}

/// `topK`: `undefined`/`null` mean [`DEFAULT_TOP_K`]; otherwise a non-negative integer (the
/// core lists at most every feature, so a larger count is no error).
fn read_top_k(top_k: Option<&Unknown<'_>>) -> Result<usize, Failure> {
    let Some(value) = top_k else {
        return Ok(DEFAULT_TOP_K);
    };
    let kind = value.get_type().map_err(napi_failure)?;
    let k = if kind == ValueType::Number {
        // SAFETY: the value is a number (checked above).
        Some(unsafe { value.cast::<f64>() }.map_err(napi_failure)?)
    } else {
        None
    };
    match k {
        Some(k) if k >= 0.0 && k.fract() == 0.0 && k <= u32::MAX as f64 => Ok(k as usize),
        Some(k) => Err(Failure::input(format!(
            "topK must be a non-negative integer, got {k}"
        ))),
        None => Err(Failure::input(format!(
            "topK must be a non-negative integer, got {}",
            describe(kind)
        ))),
    }
}

fn method(exact: bool) -> AttributionMethod {
    if exact {
        AttributionMethod::Exact
    } else {
        AttributionMethod::Fast
    }
}

/// One validated model bundle, for scoring and explaining feature vectors offline.
#[napi]
pub struct NativeModel {
    bundle: ModelBundle,
    workspace: Workspace,
    /// The last vector read from JS (reused: no allocation per call once warm).
    vector: Vec<f64>,
}

impl NativeModel {
    /// Parses and validates a bundle's JSON text (the JS-independent part of `fromJson`).
    pub fn parse(text: &str) -> Result<NativeModel, Failure> {
        let bundle = ModelBundle::from_json(text).map_err(|e| core_failure(&e))?;
        let workspace = bundle.workspace();
        let vector = Vec::with_capacity(bundle.n_features());
        Ok(NativeModel {
            bundle,
            workspace,
            vector,
        })
    }

    /// Reads `value` into the reusable vector buffer.
    fn read(&mut self, value: &Unknown<'_>) -> Result<(), Failure> {
        read_vector(value, self.bundle.n_features(), &mut self.vector)
    }
}

#[napi]
impl NativeModel {
    /// Loads a bundle from its JSON text (`ml-anomaly train --out`, `GET
    /// /models/:version/bundle`, `service.modelBundle(version)`). Throws an `Error` with the
    /// core's message on malformed JSON, a foreign or future format, or a bundle that fails
    /// validation; a `TypeError` when `text` is not a string.
    #[napi(factory, js_name = "fromJson", ts_args_type = "text: string")]
    pub fn from_json(env: Env, text: Unknown<'_>) -> napi::Result<NativeModel> {
        guard_js(&env, || {
            let kind = text.get_type().map_err(napi_failure)?;
            if kind != ValueType::String {
                return Err(Failure::input(format!(
                    "the model bundle must be a JSON string, got {}",
                    describe(kind)
                )));
            }
            // SAFETY: the value is a string (checked above).
            let text = unsafe { text.cast::<String>() }.map_err(napi_failure)?;
            NativeModel::parse(&text)
        })
    }

    /// Number of features a vector must have.
    #[napi(getter)]
    pub fn n_features(&self) -> u32 {
        u32::try_from(self.bundle.n_features()).unwrap_or(u32::MAX)
    }

    /// Composite score at the baselines: what contributions are measured from.
    #[napi(getter)]
    pub fn base_value(&self) -> f64 {
        self.bundle.baseline.composite
    }

    /// Scores one vector (core's `Scores`).
    #[napi(
        ts_args_type = "vector: number[] | Float64Array",
        ts_return_type = "Scores"
    )]
    pub fn score(&mut self, env: Env, vector: Unknown<'_>) -> napi::Result<Js<Scores>> {
        guard_js(&env, || {
            self.read(&vector)?;
            let scores = self
                .bundle
                .score_with(&self.vector, &mut self.workspace)
                .map_err(|e| core_failure(&e))?;
            Ok(Js(scores))
        })
    }

    /// Scores and explains one vector: `{ scores, explanation }` (core's `Prediction`).
    /// `exact` (default false) uses exact TreeSHAP for the forest part; `topK` (default 5)
    /// features are listed.
    #[napi(
        ts_args_type = "vector: number[] | Float64Array, exact?: boolean, topK?: number",
        ts_return_type = "Prediction"
    )]
    pub fn predict(
        &mut self,
        env: Env,
        vector: Unknown<'_>,
        exact: Option<Unknown<'_>>,
        top_k: Option<Unknown<'_>>,
    ) -> napi::Result<Js<Prediction>> {
        guard_js(&env, || {
            let method = read_method(exact.as_ref())?;
            let top_k = read_top_k(top_k.as_ref())?;
            self.read(&vector)?;
            let prediction = self
                .bundle
                .predict_with(&self.vector, method, top_k, &mut self.workspace)
                .map_err(|e| core_failure(&e))?;
            Ok(Js(prediction))
        })
    }

    /// Every feature's attribution of one vector (core's `Attribution`): the ensemble
    /// contributions (summing to `composite − baseValue`) and each model's own.
    #[napi(
        ts_args_type = "vector: number[] | Float64Array, exact?: boolean",
        ts_return_type = "Attribution"
    )]
    pub fn attribution(
        &mut self,
        env: Env,
        vector: Unknown<'_>,
        exact: Option<Unknown<'_>>,
    ) -> napi::Result<Js<Attribution>> {
        guard_js(&env, || {
            let method = read_method(exact.as_ref())?;
            self.read(&vector)?;
            let attribution = self
                .bundle
                .attribution(&self.vector, method)
                .map_err(|e| core_failure(&e))?;
            Ok(Js(attribution))
        })
    }

    /// Names of the features, in vector order.
    #[napi]
    pub fn feature_names(&self) -> Vec<String> {
        self.bundle.feature_names.clone()
    }

    /// Training medians: the baseline value of each feature.
    #[napi]
    pub fn baselines(&self) -> Vec<f64> {
        self.bundle.feature_baselines().to_vec()
    }

    /// The action thresholds on the composite score:
    /// `{ anomalyThreshold, challenge, require2fa, block }`.
    #[napi(ts_return_type = "Thresholds")]
    pub fn thresholds(&self) -> Js<ActionPolicy> {
        Js(self.bundle.ensemble.policy.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::to_json;
    use anomaly_core::bundle::TrainConfig;
    use anomaly_core::forest::ForestParams;

    fn small_bundle_json() -> String {
        // Three clusters of values in 4 features (as the wasm crate's tests): enough structure
        // for both models. A slice of arrays converts into core's matrix view.
        let rows: Vec<[f64; 4]> = (0..120)
            .map(|i| std::array::from_fn(|j| ((i * 7 + j * 13) % 17) as f64 / 4.0 + (i % 3) as f64))
            .collect();
        let mut cfg = TrainConfig {
            isolation_forest: ForestParams {
                n_trees: 20,
                ..ForestParams::default()
            },
            ..TrainConfig::default()
        };
        cfg.autoencoder.epochs = 5;
        cfg.autoencoder.encoding_dim = 2;
        ModelBundle::train(rows.as_slice().into(), &cfg, 7)
            .expect("training a small bundle")
            .to_json()
    }

    #[test]
    fn malformed_and_foreign_bundles_are_model_errors_with_the_core_message() {
        for text in [
            "{ not json",
            r#"{"format":"something-else","schemaVersion":1}"#,
            "",
        ] {
            let f = NativeModel::parse(text).err().expect("rejected");
            assert_eq!(
                (f.code, f.type_error),
                ("ML_ANOMALY_MODEL", false),
                "{text}"
            );
            let core = ModelBundle::from_json(text).expect_err("rejected by core");
            assert_eq!(f.message, core.to_string(), "the core's message, verbatim");
        }
    }

    #[test]
    fn a_finite_but_overflowing_bundle_is_refused() {
        // One decoder weight at 1e308: every number finite, yet the reconstruction error of any
        // input would overflow. Core's magnitude limits refuse it here as in the other binding.
        let mut value: serde_json::Value = serde_json::from_str(&small_bundle_json()).unwrap();
        value["autoencoder"]["decoderWeights"][0] = serde_json::json!(1e308);
        let message = NativeModel::parse(&value.to_string())
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(message.contains("keeps every score finite"), "{message}");
    }

    #[test]
    fn vector_errors_are_type_errors_and_bundle_errors_are_not() {
        let wrong = core_failure(&CoreError::DimensionMismatch {
            expected: 59,
            actual: 3,
        });
        assert_eq!(
            (wrong.code, wrong.type_error, wrong.message.as_str()),
            (
                "ML_ANOMALY_INVALID_INPUT",
                true,
                "expected 59 features, got 3"
            )
        );
        let nan = core_failure(&CoreError::NonFinite {
            what: "feature vector",
            index: 4,
            value: f64::NAN,
        });
        assert!(nan.type_error);
        assert_eq!(nan.code, "ML_ANOMALY_INVALID_INPUT");
        let bundle = core_failure(&CoreError::UnsupportedSchema {
            found: 9,
            supported: 1,
        });
        assert_eq!(
            (bundle.code, bundle.type_error),
            ("ML_ANOMALY_MODEL", false)
        );
    }

    #[test]
    fn results_are_the_core_shapes_of_the_bundle() {
        let json = small_bundle_json();
        let mut model = NativeModel::parse(&json).expect("valid bundle");
        let bundle = ModelBundle::from_json(&json).expect("valid bundle");
        let x = [9.0, -3.0, 0.5, 40.0];
        // What the JS methods run: the workspace path, then serde into a JSON value.
        model.vector.extend_from_slice(&x);
        let p = model
            .bundle
            .predict_with(&model.vector, method(true), 3, &mut model.workspace)
            .unwrap();
        let expected = bundle.predict(&x, AttributionMethod::Exact, 3).unwrap();
        assert_eq!(to_json(&p).unwrap(), to_json(&expected).unwrap());
        let v = to_json(&p).unwrap();
        assert!(v["scores"]["isolationForest"].is_f64(), "{v}");
        assert_eq!(
            v["explanation"]["topFeatures"].as_array().map(Vec::len),
            Some(3)
        );
        assert_eq!(v["explanation"]["method"], "exact");
        // A warm second call agrees with the first.
        let again = model
            .bundle
            .predict_with(&model.vector, method(true), 3, &mut model.workspace)
            .unwrap();
        assert_eq!(again, p);
    }
}
