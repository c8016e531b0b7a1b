//! TypeScript declarations of the values the bindings return, so that `wasm/anomaly_wasm.d.ts` is
//! typed instead of `any`. The model's answers (scores, explanations, attributions, thresholds)
//! are declared once, in npm/ml-anomaly/model-types.d.ts, which the native package's types
//! re-export too, and embedded here; the rest (vectors, drift) are the browser's own. Keep both
//! in step with the serde derives in anomaly-core (the native tests of this crate and the parity
//! test compare the shapes field by field).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const MODEL_TYPES: &'static str = include_str!("../../../npm/ml-anomaly/model-types.d.ts");

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** The names the bindings' signatures use. */
export type Scores = ModelScores;
export type FeatureContribution = ModelFeatureContribution;
export type Explanation = ModelExplanation;
export type Prediction = ModelPrediction;
export type KsMethod = "auto" | "exact" | "asymp";
/** A feature vector: an array (or typed array) of finite numbers, one per feature. */
export type Vector = ArrayLike<number> | Iterable<number>;

/** Right-closed bins: `(-inf, e0], (e0, e1], ..., (e_last, inf)`. */
export interface QuantileBins { edges: number[]; proportions: number[]; }
export interface FeatureReference { bins: QuantileBins; mean: number; std: number; }
export interface ScoreReference { bins: QuantileBins; mean: number; std: number; sample: number[]; }
export interface DriftReference { features: FeatureReference[]; score: ScoreReference; referenceRows: number; }

export interface DriftConfig {
    bins: number;
    weights: { psi: number; ks: number; distribution: number; score: number };
    threshold: number;
    topFeatures: number;
    distributionTopK: number;
    featureDriftSaturation: number;
    ksMethod: KsMethod;
    minCurrentRows: number;
    referenceSampleSize: number;
}

export interface KsResult { statistic: number; pValue: number; method: "exact" | "asymp"; }
/** Reference and current proportions over the reference's quantile bins (for charts). */
export interface Histogram { edges: number[]; referenceProportions: number[]; currentProportions: number[]; }
export interface FeatureDrift {
    index: number;
    name: string;
    psi: number;
    meanShift: number;
    stdRatio: number;
    drift: number;
    histogram: Histogram;
}
export interface DriftReport {
    psi: number;
    ks: KsResult;
    distribution: number;
    scoreDrift: number;
    composite: number;
    isDrifting: boolean;
    threshold: number;
    features: FeatureDrift[];
    topDrifted: FeatureDrift[];
    currentRows: number;
    scoreHistogram: Histogram;
}
"#;
