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
    build_explanation, combine_attributions, Attribution, AttributionMethod, Explanation,
    ModelAttributions,
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

impl Workspace {
    /// Ensemble contributions (composite-score units) of the last attributed vector.
    pub fn contributions(&self) -> &[f64] {
        &self.contributions
    }

    /// The Isolation Forest's part of each contribution.
    pub fn forest_part(&self) -> &[f64] {
        &self.forest_part
    }

    /// The autoencoder's part of each contribution.
    pub fn autoencoder_part(&self) -> &[f64] {
        &self.autoencoder_part
    }

    /// Robust-scaled values of the last scored vector.
    pub fn normalized(&self) -> &[f64] {
        &self.scaled
    }

    /// Indices of the `out.len()` largest |contributions|, largest first (ties by index),
    /// without allocating. Returns how many were written (fewer when there are fewer features).
    pub fn top_contributions(&self, out: &mut [usize]) -> usize {
        let c = &self.contributions;
        let k = out.len().min(c.len());
        let mut filled = 0;
        for j in 0..c.len() {
            let v = c[j].abs();
            // insertion into the sorted prefix out[..filled]
            let mut pos = filled;
            while pos > 0 && c[out[pos - 1]].abs() < v {
                pos -= 1;
            }
            if pos < k {
                let end = filled.min(k - 1);
                out.copy_within(pos..end, pos + 1);
                out[pos] = j;
                filled = (filled + 1).min(k);
            }
        }
        filled
    }
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
        let mse = self
            .autoencoder
            .reconstruction_error(&ws.scaled, &mut ws.autoencoder);
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
            rows.par_iter()
                .map_init(|| self.workspace(), |ws, row| one(row.view(), ws))
                .collect()
        }
        #[cfg(not(feature = "parallel"))]
        {
            let mut ws = self.workspace();
            rows.rows()
                .into_iter()
                .map(|row| one(row, &mut ws))
                .collect()
        }
    }

    fn forest_calibrated(&self, path_length: f64) -> f64 {
        self.calibration
            .forest_score(self.isolation_forest.score_from_path_length(path_length))
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

    /// Scores `x` and leaves its attributions in `ws` (read them with
    /// [`Workspace::contributions`] and friends) without building any text: the cheapest way to
    /// get scores plus reasons. [`Self::explanation_from`] turns them into the stored record later,
    /// e.g. off the request path.
    pub fn attribute_with(
        &self,
        x: &[f64],
        method: AttributionMethod,
        ws: &mut Workspace,
    ) -> Result<Scores> {
        self.check_vector(x)?;
        self.scaler.transform_row(x, &mut ws.scaled);
        let path_length = match method {
            AttributionMethod::Fast => self
                .isolation_forest
                .path_attribution(x, &mut ws.forest_attribution),
            AttributionMethod::Exact => {
                self.isolation_forest.tree_shap_with(
                    x,
                    &mut ws.forest_attribution,
                    &mut ws.tree_shap,
                );
                self.isolation_forest.path_length(x)
            }
        };
        let mse = self.autoencoder.feature_errors(
            &ws.scaled,
            &mut ws.autoencoder,
            &mut ws.squared,
            &mut ws.residual,
        );
        for ((a, e), mean) in ws
            .autoencoder_attribution
            .iter_mut()
            .zip(&ws.squared)
            .zip(&self.baseline.autoencoder_feature_errors)
        {
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
        let scores = self.attribute_with(x, method, &mut ws)?;
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
    pub fn predict(
        &self,
        x: &[f64],
        method: AttributionMethod,
        top_k: usize,
    ) -> Result<Prediction> {
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
        let scores = self.attribute_with(x, method, ws)?;
        let explanation = self.explanation_from(x, &scores, ws, method, top_k);
        Ok(Prediction {
            scores,
            explanation,
        })
    }

    /// The explanation record of `x` from the attributions [`Self::attribute_with`] left in `ws`
    /// for the same `x` (and `scores`).
    pub fn explanation_from(
        &self,
        x: &[f64],
        scores: &Scores,
        ws: &Workspace,
        method: AttributionMethod,
        top_k: usize,
    ) -> Explanation {
        build_explanation(&ExplanationInput {
            names: &self.feature_names,
            values: x,
            normalized: &ws.scaled,
            baselines: self.scaler.center(),
            contributions: &ws.contributions,
            forest_part: &ws.forest_part,
            autoencoder_part: &ws.autoencoder_part,
            scores,
            method,
            base_value: self.baseline.composite,
            anomaly_threshold: self.ensemble.policy.anomaly_threshold,
            top_k,
        })
    }
}
