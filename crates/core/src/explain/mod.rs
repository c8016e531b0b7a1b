//! Explanations: which features made a score high, exactly and cheaply.
//!
//! ## Three attributions, one currency
//! - **Isolation Forest**, in path-length units: exact path-dependent TreeSHAP
//!   ([`crate::forest::IsolationForest::tree_shap`], the algorithm shap's TreeExplainer runs on
//!   scikit-learn's IsolationForest) or the cheap path attribution
//!   ([`crate::forest::IsolationForest::path_attribution`]) on the per-request hot path. Both sum
//!   to `E[h(x)] − E[h]`.
//! - **Autoencoder**, in squared-error units: feature `j`'s share of the reconstruction error
//!   minus its mean share on the training data, `e_j(x) − ē_j`; these sum to `MSE(x) − mean MSE`.
//!   Its sign says whether the feature is reconstructed worse than usual; the residual's sign
//!   (value above or below its reconstruction) is the `direction` shown to users.
//! - **Ensemble**, in composite-score units: each model's attributions are scaled by the secant
//!   slope of its calibrated score between the baseline and `x`, then by its ensemble weight. The
//!   result sums exactly to `composite(x) − base_value`, where `base_value` is the composite of
//!   the two baselines (`E[h]`, mean training MSE): the same local-accuracy property SHAP values
//!   have, carried through the non-linear calibration.
//!
//! The fast and exact explanations differ only in the forest part; see
//! [`crate::forest`] for how the cheap attribution relates to TreeSHAP and what each costs.

mod combine;
pub mod labels;
pub mod text;

use serde::{Deserialize, Serialize};

pub use combine::{combine_attributions, secant_slope, ModelAttributions};
pub use text::build_explanation;

/// Which forest attribution an explanation used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributionMethod {
    /// Path attribution: about the cost of scoring, used on every request.
    Fast,
    /// Exact path-dependent TreeSHAP: on demand.
    Exact,
}

/// Per-feature attributions of one scored vector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attribution {
    pub method: AttributionMethod,
    /// Composite score at the baselines: what the contributions are measured from.
    pub base_value: f64,
    /// Composite score of the vector; `base_value + Σ contributions`.
    pub composite: f64,
    /// Ensemble contributions in composite-score units, one per feature.
    pub contributions: Vec<f64>,
    /// Forest attributions in path-length units (negative: isolates faster, more anomalous).
    pub isolation_forest: Vec<f64>,
    /// Autoencoder attributions in squared-error units.
    pub autoencoder: Vec<f64>,
}

/// Where a feature's value lies relative to its training baseline (the median).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Above,
    Below,
    Typical,
}

/// One line of `topFeatures`, as the original stored it plus direction, baseline and the split
/// between the two models.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureContribution {
    pub feature: String,
    /// Human-readable name.
    pub label: String,
    /// Ensemble contribution in composite-score units (positive raises the score).
    pub contribution: f64,
    pub value: f64,
    /// Robust z-score `(value − median) / spread`, clipped as the autoencoder sees it.
    pub normalized_value: f64,
    /// Training median of the feature.
    pub baseline: f64,
    pub direction: Direction,
    /// The Isolation Forest's part of `contribution`.
    pub isolation_forest: f64,
    /// The autoencoder's part of `contribution`.
    pub autoencoder: f64,
}

/// One of the reasons the confidence is what it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfidenceFactor {
    pub factor: String,
    pub description: String,
    /// In [0, 1]: how strongly this factor supports the decision.
    pub impact: f64,
}

/// The stored explanation of a prediction, compatible with the original's record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub top_features: Vec<FeatureContribution>,
    /// Readable text with humanised feature names.
    pub explanation: String,
    /// `1 − |IF − AE|` of the calibrated scores.
    pub model_agreement: f64,
    pub confidence_factors: Vec<ConfidenceFactor>,
    /// One line: action, scores, the main features.
    pub summary: String,
    pub method: AttributionMethod,
    pub base_value: f64,
    pub composite: f64,
    /// How the evidence of earlier requests decided this one's action, in words: set by the
    /// engine's decision layer (a model alone does not know the history), kept with the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}
