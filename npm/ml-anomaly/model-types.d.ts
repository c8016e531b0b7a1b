// The shapes anomaly-core returns for one model bundle (its serde JSON, camelCase): declared once,
// here. `index.d.ts` re-exports them for `NativeModel`; crates/wasm embeds this file into the
// browser package's declarations (npm/viewer/wasm/anomaly_wasm.d.ts) for the wasm `Model`, so
// the native and the browser answers, which the parity test requires to be bit-identical, also
// have one declaration. Keep it in step with the serde derives in anomaly-core (the wasm crate's
// native tests and the parity test compare the shapes field by field).

/** What the host should do with a request (the original's graduated response). */
export type Action = 'ALLOW' | 'MONITOR' | 'CHALLENGE' | 'REQUIRE_2FA' | 'BLOCK';
export type AttributionMethod = 'fast' | 'exact';

/** The scores of one vector. */
export interface ModelScores {
  /** Mean path length of the vector over the forest's trees. */
  forestPathLength: number;
  forestRaw: number;
  autoencoderRaw: number;
  /** Calibrated Isolation Forest score in [0, 1]. */
  isolationForest: number;
  /** Calibrated autoencoder score in [0, 1]. */
  autoencoder: number;
  /** The ensemble score in [0, 1]: the prediction's `anomalyScore`. */
  composite: number;
  isAnomaly: boolean;
  confidence: number;
  modelAgreement: number;
  action: Action;
}

/** One feature's part in a score. */
export interface ModelFeatureContribution {
  feature: string;
  /** Readable name. */
  label: string;
  /** In composite-score units; positive raises the score. */
  contribution: number;
  value: number;
  normalizedValue: number;
  /** Training median. */
  baseline: number;
  direction: 'above' | 'below' | 'typical';
  /** The Isolation Forest's part of `contribution`. */
  isolationForest: number;
  /** The autoencoder's part of `contribution`. */
  autoencoder: number;
}

export interface ConfidenceFactor {
  factor: string;
  description: string;
  impact: number;
}

export interface ModelExplanation {
  topFeatures: ModelFeatureContribution[];
  /** Readable text. */
  explanation: string;
  modelAgreement: number;
  confidenceFactors: ConfidenceFactor[];
  summary: string;
  method: AttributionMethod;
  /** Composite score at the baselines. */
  baseValue: number;
  composite: number;
  /**
   * How the evidence of earlier requests decided this one's action, in words (the service's
   * decision layer sets it; absent from a model's own explanation).
   */
  evidence?: string;
}

export interface ModelPrediction {
  scores: ModelScores;
  explanation: ModelExplanation;
}

/** Every feature's attribution, in feature order. */
export interface Attribution {
  method: AttributionMethod;
  baseValue: number;
  /** `baseValue + Σ contributions`. */
  composite: number;
  /** Ensemble contributions, composite-score units. */
  contributions: number[];
  /** The Isolation Forest's own attribution. */
  isolationForest: number[];
  /** The autoencoder's own attribution. */
  autoencoder: number[];
}

/** Action thresholds on the composite score. */
export interface Thresholds {
  anomalyThreshold: number;
  challenge: number;
  require2fa: number;
  block: number;
}

/** Relative weights of the two models in the composite. */
export interface Weights {
  isolationForest: number;
  autoencoder: number;
}
