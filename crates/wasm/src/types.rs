//! TypeScript declarations of the values the bindings return: core's serde shapes, written out
//! so that `wasm/anomaly_wasm.d.ts` is typed instead of `any`. Keep in step with the serde
//! derives in anomaly-core (the native tests of this crate and the parity test compare the
//! shapes field by field).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
export type Action = "ALLOW" | "MONITOR" | "CHALLENGE" | "REQUIRE_2FA" | "BLOCK";
export type AttributionMethod = "fast" | "exact";
export type KsMethod = "auto" | "exact" | "asymp";
/** A feature vector: an array (or typed array) of finite numbers, one per feature. */
export type Vector = ArrayLike<number> | Iterable<number>;

export interface Scores {
    forestPathLength: number;
    forestRaw: number;
    autoencoderRaw: number;
    /** Calibrated Isolation Forest score in [0, 1]. */
    isolationForest: number;
    /** Calibrated autoencoder score in [0, 1]. */
    autoencoder: number;
    composite: number;
    isAnomaly: boolean;
    confidence: number;
    modelAgreement: number;
    action: Action;
}

export interface FeatureContribution {
    feature: string;
    label: string;
    /** In composite-score units; positive raises the score. */
    contribution: number;
    value: number;
    normalizedValue: number;
    baseline: number;
    direction: "above" | "below" | "typical";
    isolationForest: number;
    autoencoder: number;
}

export interface ConfidenceFactor { factor: string; description: string; impact: number; }

export interface Explanation {
    topFeatures: FeatureContribution[];
    explanation: string;
    modelAgreement: number;
    confidenceFactors: ConfidenceFactor[];
    summary: string;
    method: AttributionMethod;
    baseValue: number;
    composite: number;
}

export interface Prediction { scores: Scores; explanation: Explanation; }

export interface Attribution {
    method: AttributionMethod;
    baseValue: number;
    /** `baseValue + Σ contributions`. */
    composite: number;
    contributions: number[];
    isolationForest: number[];
    autoencoder: number[];
}

export interface Thresholds { anomalyThreshold: number; challenge: number; require2fa: number; block: number; }
export interface Weights { isolationForest: number; autoencoder: number; }

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
