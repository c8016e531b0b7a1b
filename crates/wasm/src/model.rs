//! The `Model` class: one validated model bundle and the buffers to score with it.

use anomaly_core::bundle::{ModelBundle, Prediction, Workspace};
use anomaly_core::drift::{assess, DriftReport};
use anomaly_core::ensemble::Scores;
use anomaly_core::explain::{Attribution, AttributionMethod};
use anomaly_core::{CoreError, Result};
use ndarray::ArrayView2;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::convert::{core_error, rows_from_js, to_js, vector_from_js};

/// Features listed in an explanation when the caller does not say (the original's top 5).
pub const DEFAULT_TOP_K: usize = 5;

/// A model bundle loaded in the browser.
///
/// Holds one scoring [`Workspace`], so a warm `score` allocates nothing on the Rust side;
/// wasm-bindgen's borrow check turns a re-entrant call into a JS error rather than aliasing it.
#[wasm_bindgen]
pub struct Model {
    bundle: ModelBundle,
    workspace: Workspace,
}

/// Normalised ensemble weights, as `weights()` returns them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Weights {
    pub isolation_forest: f64,
    pub autoencoder: f64,
}

fn method(exact: bool) -> AttributionMethod {
    if exact {
        AttributionMethod::Exact
    } else {
        AttributionMethod::Fast
    }
}

/// The JS-independent operations, natively testable.
impl Model {
    /// Parses and validates a bundle's JSON form.
    pub fn parse(text: &str) -> Result<Model> {
        let bundle = ModelBundle::from_json(text)?;
        let workspace = bundle.workspace();
        Ok(Model { bundle, workspace })
    }

    /// The bundle behind this model.
    pub fn bundle(&self) -> &ModelBundle {
        &self.bundle
    }

    pub fn score_vector(&mut self, x: &[f64]) -> Result<Scores> {
        self.bundle.score_with(x, &mut self.workspace)
    }

    pub fn predict_vector(&mut self, x: &[f64], exact: bool, top_k: usize) -> Result<Prediction> {
        self.bundle
            .predict_with(x, method(exact), top_k, &mut self.workspace)
    }

    pub fn attribution_vector(&self, x: &[f64], exact: bool) -> Result<Attribution> {
        self.bundle.attribution(x, method(exact))
    }

    /// Scores every row (each checked like a single vector).
    pub fn score_rows(&mut self, rows: &[Vec<f64>]) -> Result<Vec<Scores>> {
        rows.iter()
            .map(|x| self.bundle.score_with(x, &mut self.workspace))
            .collect()
    }

    /// Drift of a window of current rows against the bundle's training reference, exactly as the
    /// server assesses it: the rows are scored with this model and compared with
    /// `drift::assess` under the bundle's drift settings.
    pub fn assess_rows(&mut self, rows: &[Vec<f64>]) -> Result<DriftReport> {
        let n = self.bundle.n_features();
        let scores = self.score_rows(rows)?;
        let composites: Vec<f64> = scores.iter().map(|s| s.composite).collect();
        let flat: Vec<f64> = rows.iter().flatten().copied().collect();
        let matrix = ArrayView2::from_shape((rows.len(), n), &flat).map_err(|e| {
            CoreError::InvalidParameter {
                name: "rows",
                reason: e.to_string(),
            }
        })?;
        assess(
            &self.bundle.drift_reference,
            matrix,
            &composites,
            &self.bundle.feature_names,
            &self.bundle.drift_config,
        )
    }

    /// The error of a batch call as JS sees it: prefixed with the (1-based) row when one row is
    /// to blame (wrong length, non-finite value), the core's message alone otherwise.
    fn batch_error(&mut self, rows: &[Vec<f64>], error: CoreError) -> JsError {
        for (i, x) in rows.iter().enumerate() {
            if let Err(row_error) = self.bundle.score_with(x, &mut self.workspace) {
                return JsError::new(&format!("row {}: {row_error}", i + 1));
            }
        }
        core_error(error)
    }

    pub fn normalized_weights(&self) -> Result<Weights> {
        let (isolation_forest, autoencoder) = self.bundle.ensemble.weights.normalized()?;
        Ok(Weights {
            isolation_forest,
            autoencoder,
        })
    }
}

/// What JS sees.
#[wasm_bindgen]
impl Model {
    /// Loads a bundle from its JSON text. Throws on malformed JSON, a foreign or future format,
    /// or a bundle that fails validation (dimensions, non-finite numbers, settings).
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(text: &str) -> std::result::Result<Model, JsError> {
        Model::parse(text).map_err(core_error)
    }

    /// Number of features a vector must have.
    #[wasm_bindgen(getter, js_name = nFeatures)]
    pub fn n_features(&self) -> usize {
        self.bundle.n_features()
    }

    /// Composite score at the baselines: what contributions are measured from.
    #[wasm_bindgen(getter, js_name = baseValue)]
    pub fn base_value(&self) -> f64 {
        self.bundle.baseline.composite
    }

    /// Scores one vector (core's `Scores`).
    #[wasm_bindgen(unchecked_return_type = "Scores")]
    pub fn score(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Vector")] vector: JsValue,
    ) -> std::result::Result<JsValue, JsError> {
        let x = vector_from_js(vector, "the feature vector")?;
        to_js(&self.score_vector(&x).map_err(core_error)?)
    }

    /// Scores and explains one vector: `{ scores, explanation }`. `exact` (default false) uses
    /// exact TreeSHAP for the forest part; `topK` (default 5) features are listed.
    #[wasm_bindgen(unchecked_return_type = "Prediction")]
    pub fn predict(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Vector")] vector: JsValue,
        exact: Option<bool>,
        #[wasm_bindgen(js_name = topK)] top_k: Option<u32>,
    ) -> std::result::Result<JsValue, JsError> {
        let x = vector_from_js(vector, "the feature vector")?;
        let top_k = top_k.map_or(DEFAULT_TOP_K, |k| k as usize);
        to_js(
            &self
                .predict_vector(&x, exact.unwrap_or(false), top_k)
                .map_err(core_error)?,
        )
    }

    /// Full per-feature attributions of one vector (core's `Attribution`).
    #[wasm_bindgen(unchecked_return_type = "Attribution")]
    pub fn attribution(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Vector")] vector: JsValue,
        exact: Option<bool>,
    ) -> std::result::Result<JsValue, JsError> {
        let x = vector_from_js(vector, "the feature vector")?;
        to_js(
            &self
                .attribution_vector(&x, exact.unwrap_or(false))
                .map_err(core_error)?,
        )
    }

    /// Scores of many rows (an array of vectors), e.g. a window of current traffic.
    #[wasm_bindgen(js_name = scoreBatch, unchecked_return_type = "Scores[]")]
    pub fn score_batch(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Vector[]")] rows: JsValue,
    ) -> std::result::Result<JsValue, JsError> {
        let rows = rows_from_js(rows, "the rows")?;
        match self.score_rows(&rows) {
            Ok(scores) => to_js(&scores),
            Err(e) => Err(self.batch_error(&rows, e)),
        }
    }

    /// Drift report of a window of current rows against the training reference (core's
    /// `DriftReport`). Throws below the bundle's `minCurrentRows`.
    #[wasm_bindgen(js_name = assessDrift, unchecked_return_type = "DriftReport")]
    pub fn assess_drift(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Vector[]")] rows: JsValue,
    ) -> std::result::Result<JsValue, JsError> {
        let rows = rows_from_js(rows, "the rows")?;
        match self.assess_rows(&rows) {
            Ok(report) => to_js(&report),
            Err(e) => Err(self.batch_error(&rows, e)),
        }
    }

    /// Names of the features, in vector order.
    #[wasm_bindgen(js_name = featureNames, unchecked_return_type = "string[]")]
    pub fn feature_names(&self) -> std::result::Result<JsValue, JsError> {
        to_js(&self.bundle.feature_names)
    }

    /// Training medians: the baseline value of each feature.
    #[wasm_bindgen(unchecked_return_type = "number[]")]
    pub fn baselines(&self) -> std::result::Result<JsValue, JsError> {
        to_js(self.bundle.feature_baselines())
    }

    /// The action thresholds on the composite score:
    /// `{ anomalyThreshold, challenge, require2fa, block }`.
    #[wasm_bindgen(unchecked_return_type = "Thresholds")]
    pub fn thresholds(&self) -> std::result::Result<JsValue, JsError> {
        to_js(&self.bundle.ensemble.policy)
    }

    /// The ensemble weights, normalised to sum to 1: `{ isolationForest, autoencoder }`.
    #[wasm_bindgen(unchecked_return_type = "Weights")]
    pub fn weights(&self) -> std::result::Result<JsValue, JsError> {
        to_js(&self.normalized_weights().map_err(core_error)?)
    }

    /// The training-time drift reference: per feature and for the composite score, the
    /// quantile bins (`edges`, `proportions`), mean and std; a sample of composite scores.
    #[wasm_bindgen(js_name = driftReference, unchecked_return_type = "DriftReference")]
    pub fn drift_reference(&self) -> std::result::Result<JsValue, JsError> {
        to_js(&self.bundle.drift_reference)
    }

    /// The bundle's drift settings (bins, threshold, `minCurrentRows`...).
    #[wasm_bindgen(js_name = driftConfig, unchecked_return_type = "DriftConfig")]
    pub fn drift_config(&self) -> std::result::Result<JsValue, JsError> {
        to_js(&self.bundle.drift_config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anomaly_core::bundle::TrainConfig;
    use anomaly_core::forest::ForestParams;
    use ndarray::Array2;

    fn small_bundle_json() -> String {
        // Three clusters of values in 4 features: enough structure for both models.
        let data = Array2::from_shape_fn((120, 4), |(i, j)| {
            ((i * 7 + j * 13) % 17) as f64 / 4.0 + (i % 3) as f64
        });
        let mut cfg = TrainConfig {
            isolation_forest: ForestParams {
                n_trees: 20,
                ..ForestParams::default()
            },
            ..TrainConfig::default()
        };
        cfg.autoencoder.epochs = 5;
        cfg.autoencoder.encoding_dim = 2;
        cfg.drift.min_current_rows = 10;
        ModelBundle::train(data.view(), &cfg, 7)
            .expect("training a small bundle")
            .to_json()
    }

    #[test]
    fn parse_rejects_malformed_and_foreign_bundles() {
        let garbage = Model::parse("{ not json")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(garbage.starts_with("invalid model bundle"), "{garbage}");
        let foreign = Model::parse(r#"{"format":"something-else","schemaVersion":1}"#).err();
        assert!(
            matches!(foreign, Some(CoreError::InvalidBundle(_))),
            "{foreign:?}"
        );
    }

    #[test]
    fn a_finite_but_overflowing_bundle_is_refused() {
        // One decoder weight at 1e308: every number finite, yet the reconstruction error of any
        // input would overflow. Core's magnitude limits refuse it here as in the other binding.
        let mut value: serde_json::Value = serde_json::from_str(&small_bundle_json()).unwrap();
        value["autoencoder"]["decoderWeights"][0] = serde_json::json!(1e308);
        let message = Model::parse(&value.to_string())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("keeps every score finite"), "{message}");
    }

    #[test]
    fn scores_predictions_and_attributions_match_the_bundle() {
        let json = small_bundle_json();
        let mut model = Model::parse(&json).expect("valid bundle");
        let bundle = ModelBundle::from_json(&json).expect("valid bundle");
        let x = [9.0, -3.0, 0.5, 40.0];
        // The workspace path must agree bit for bit with the allocating one.
        assert_eq!(model.score_vector(&x).unwrap(), bundle.score(&x).unwrap());
        let p = model.predict_vector(&x, true, 3).unwrap();
        assert_eq!(p, bundle.predict(&x, AttributionMethod::Exact, 3).unwrap());
        assert_eq!(p.explanation.top_features.len(), 3);
        let a = model.attribution_vector(&x, false).unwrap();
        assert_eq!(a, bundle.attribution(&x, AttributionMethod::Fast).unwrap());
        // A second call on the warm workspace gives the same result.
        assert_eq!(model.predict_vector(&x, true, 3).unwrap(), p);
    }

    #[test]
    fn bad_vectors_are_core_errors() {
        let mut model = Model::parse(&small_bundle_json()).unwrap();
        assert_eq!(
            model.score_vector(&[1.0, 2.0]),
            Err(CoreError::DimensionMismatch {
                expected: 4,
                actual: 2
            })
        );
        assert!(matches!(
            model.predict_vector(&[1.0, f64::NAN, 0.0, 0.0], false, 5),
            Err(CoreError::NonFinite { index: 1, .. })
        ));
        assert!(model.score_rows(&[vec![0.0; 4], vec![0.0; 3]]).is_err());
    }

    #[test]
    fn drift_of_rows_uses_the_bundle_reference() {
        let mut model = Model::parse(&small_bundle_json()).unwrap();
        let same: Vec<Vec<f64>> = (0..60)
            .map(|i| {
                (0..4)
                    .map(|j| ((i * 7 + j * 13) % 17) as f64 / 4.0 + (i % 3) as f64)
                    .collect()
            })
            .collect();
        let shifted: Vec<Vec<f64>> = same
            .iter()
            .map(|r| r.iter().map(|v| v + 25.0).collect())
            .collect();
        let calm = model.assess_rows(&same).unwrap();
        let moved = model.assess_rows(&shifted).unwrap();
        assert!(
            moved.composite > calm.composite,
            "{} vs {}",
            moved.composite,
            calm.composite
        );
        assert!(moved.is_drifting);
        assert!(matches!(
            model.assess_rows(&same[..3]),
            Err(CoreError::NotEnoughData { .. })
        ));
    }

    #[test]
    fn weights_are_normalised() {
        let model = Model::parse(&small_bundle_json()).unwrap();
        let w = model.normalized_weights().unwrap();
        assert!((w.isolation_forest + w.autoencoder - 1.0).abs() < 1e-15);
    }
}
