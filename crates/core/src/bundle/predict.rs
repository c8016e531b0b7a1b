//! Scoring and explaining with a bundle: the per-request hot path.
//!
//! [`ModelBundle::score_with`] and [`ModelBundle::predict_with`] take a [`Workspace`] holding
//! every buffer a prediction needs, so a warm caller allocates nothing but the explanation's
//! strings. The convenience forms without a workspace allocate one per call.

use super::ModelBundle;
use crate::autoencoder::AeScratch;
use crate::ensemble::Scores;
use crate::error::{ensure_finite, ensure_len, Result};
use crate::explain::text::ExplanationInput;
use crate::explain::{
    build_explanation, combine_attributions, Attribution, AttributionMethod, Explanation, ModelAttributions,
};
use crate::forest::TreeShapScratch;

/// Reusable buffers for scoring and explaining with one bundle (one per thread).
#[derive(Debug, Clone)]
pub struct Workspace {
    scaled: Vec<f64>,
    autoencoder: AeScratch,
    squared: Vec<f64>,
    residual: Vec<f64>,
    forest_attribution: Vec<f64>,
    autoencoder_attribution: Vec<f64>,
    contributions: Vec<f64>,
    forest_part: Vec<f64>,
    autoencoder_part: Vec<f64>,
    tree_shap: TreeShapScratch,
}

/// A scored vector with its explanation.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Prediction {
    pub scores: Scores,
    pub explanation: Explanation,
}

impl ModelBundle {
    /// Buffers sized for this bundle.
    pub fn workspace(&self) -> Workspace {
        let n = self.n_features();
        Workspace {
            scaled: vec![0.0; n],
            autoencoder: self.autoencoder.scratch(),
            squared: vec![0.0; n],
            residual: vec![0.0; n],
            forest_attribution: vec![0.0; n],
            autoencoder_attribution: vec![0.0; n],
            contributions: vec![0.0; n],
            forest_part: vec![0.0; n],
            autoencoder_part: vec![0.0; n],
            tree_shap: TreeShapScratch::new(&self.isolation_forest),
        }
    }

    fn check_vector(&self, x: &[f64]) -> Result<()> {
        ensure_len(self.n_features(), x)?;
        ensure_finite("feature vector", x)
    }

    /// Scores one vector (allocates a workspace; see [`Self::score_with`]).
    pub fn score(&self, x: &[f64]) -> Result<Scores> {
        self.score_with(x, &mut self.workspace())
    }

    /// Scores one vector without allocating.
    pub fn score_with(&self, x: &[f64], ws: &mut Workspace) -> Result<Scores> {
        self.check_vector(x)?;
        self.scaler.transform_row(x, &mut ws.scaled);
        let path_length = self.isolation_forest.path_length(x);
        let mse = self.autoencoder.reconstruction_error(&ws.scaled, &mut ws.autoencoder);
        Ok(self.combine(path_length, mse))
    }

    /// Scores many rows; in parallel with the `parallel` feature.
    pub fn score_batch(&self, rows: ndarray::ArrayView2<f64>) -> Result<Vec<Scores>> {
        let one = |row: ndarray::ArrayView1<f64>, ws: &mut Workspace| -> Result<Scores> {
            match row.as_slice() {
                Some(x) => self.score_with(x, ws),
                None => self.score_with(&row.to_vec(), ws),
            }
        };
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            let rows: Vec<_> = rows.rows().into_iter().collect();
            rows.par_iter().map_init(|| self.workspace(), |ws, row| one(row.view(), ws)).collect()
        }
        #[cfg(not(feature = "parallel"))]
        {
            let mut ws = self.workspace();
            rows.rows().into_iter().map(|row| one(row, &mut ws)).collect()
        }
    }

    fn forest_calibrated(&self, path_length: f64) -> f64 {
        self.calibration.forest_score(self.isolation_forest.score_from_path_length(path_length))
    }

    fn combine(&self, path_length: f64, mse: f64) -> Scores {
        let forest_raw = self.isolation_forest.score_from_path_length(path_length);
        self.ensemble.combine(
            path_length,
            forest_raw,
            mse,
            self.calibration.forest_score(forest_raw),
            self.calibration.autoencoder_score(mse),
        )
    }

    /// Scores `x` and fills the workspace's attribution buffers; returns the scores.
    fn attribute_into(&self, x: &[f64], method: AttributionMethod, ws: &mut Workspace) -> Result<Scores> {
        self.check_vector(x)?;
        self.scaler.transform_row(x, &mut ws.scaled);
        let path_length = self.isolation_forest.path_length(x);
        match method {
            AttributionMethod::Fast => self.isolation_forest.path_attribution(x, &mut ws.forest_attribution),
            AttributionMethod::Exact => {
                self.isolation_forest.tree_shap_with(x, &mut ws.forest_attribution, &mut ws.tree_shap)
            }
        }
        let mse = self.autoencoder.feature_errors(&ws.scaled, &mut ws.autoencoder, &mut ws.squared, &mut ws.residual);
        for ((a, e), mean) in ws.autoencoder_attribution.iter_mut().zip(&ws.squared).zip(&self.baseline.autoencoder_feature_errors) {
            *a = e - mean;
        }
        let raw = ModelAttributions {
            forest: &ws.forest_attribution,
            path_length,
            expected_path_length: self.baseline.forest_path_length,
            autoencoder: &ws.autoencoder_attribution,
            mse,
            mean_mse: self.baseline.autoencoder_error,
        };
        let weights = self.ensemble.weights.normalized()?;
        combine_attributions(
            &raw,
            |h| self.forest_calibrated(h),
            |e| self.calibration.autoencoder_score(e),
            weights,
            &mut ws.contributions,
            &mut ws.forest_part,
            &mut ws.autoencoder_part,
        );
        Ok(self.combine(path_length, mse))
    }

    /// Full per-feature attributions of `x` (the viewer draws these).
    pub fn attribution(&self, x: &[f64], method: AttributionMethod) -> Result<Attribution> {
        let mut ws = self.workspace();
        let scores = self.attribute_into(x, method, &mut ws)?;
        Ok(Attribution {
            method,
            base_value: self.baseline.composite,
            composite: scores.composite,
            contributions: ws.contributions,
            isolation_forest: ws.forest_attribution,
            autoencoder: ws.autoencoder_attribution,
        })
    }

    /// Scores and explains `x` with the `top_k` features (allocates a workspace).
    pub fn predict(&self, x: &[f64], method: AttributionMethod, top_k: usize) -> Result<Prediction> {
        self.predict_with(x, method, top_k, &mut self.workspace())
    }

    /// Scores and explains `x`: the per-request path with [`AttributionMethod::Fast`].
    pub fn predict_with(
        &self,
        x: &[f64],
        method: AttributionMethod,
        top_k: usize,
        ws: &mut Workspace,
    ) -> Result<Prediction> {
        let scores = self.attribute_into(x, method, ws)?;
        let explanation = build_explanation(&ExplanationInput {
            names: &self.feature_names,
            values: x,
            normalized: &ws.scaled,
            baselines: self.scaler.center(),
            contributions: &ws.contributions,
            forest_part: &ws.forest_part,
            autoencoder_part: &ws.autoencoder_part,
            scores: &scores,
            method,
            base_value: self.baseline.composite,
            anomaly_threshold: self.ensemble.policy.anomaly_threshold,
            top_k,
        });
        Ok(Prediction { scores, explanation })
    }
}
