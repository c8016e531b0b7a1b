'use strict';
/**
 * `NativeModel`: one model bundle, scored and explained natively, without an engine or a store.
 *
 * For vectors you already have: a stored prediction's `features`, an export of traffic, a "what
 * if" edit. The answers are exactly the browser viewer's (the wasm `Model` runs the same Rust
 * core and the parity test requires bit-identical numbers), so a server-side audit and the
 * analyst's page agree to the last bit.
 *
 * Why a JavaScript class around the addon's: requiring the package must not load the addon (see
 * lib/native.js), and an `import { NativeModel }` must not either. This class loads it on the
 * first `fromJson`, and otherwise only forwards: every result is the addon's (core's serde shapes,
 * camelCase) and every error the addon's (`TypeError` with code `ML_ANOMALY_INVALID_INPUT` for a
 * bad vector, `Error` with code `ML_ANOMALY_MODEL` for a bad bundle, the core's message).
 */

const { loadNative } = require('./native');

const CONSTRUCT = Symbol('NativeModel');

class NativeModel {
  #model;

  /** Not public: use `NativeModel.fromJson(text)`. */
  constructor(token, model) {
    if (token !== CONSTRUCT) throw new TypeError('ml-anomaly: use NativeModel.fromJson(text) to load a model');
    this.#model = model;
  }

  /**
   * Loads and validates a model bundle from its JSON text. Throws an `AnomalyError` with code
   * `ML_ANOMALY_NATIVE_MISSING` when the addon is not built.
   */
  static fromJson(text) {
    return new NativeModel(CONSTRUCT, loadNative().NativeModel.fromJson(text));
  }

  /** Number of features a vector must have. */
  get nFeatures() {
    return this.#model.nFeatures;
  }

  /** Composite score at the baselines: what contributions are measured from. */
  get baseValue() {
    return this.#model.baseValue;
  }

  /** Core's `Scores` of one vector. */
  score(vector) {
    return this.#model.score(vector);
  }

  /** `{ scores, explanation }`: exact TreeSHAP when `exact`, the `topK` (default 5) features. */
  predict(vector, exact = false, topK = 5) {
    return this.#model.predict(vector, exact, topK);
  }

  /** Every feature's contribution (and each model's attribution) to the composite score. */
  attribution(vector, exact = false) {
    return this.#model.attribution(vector, exact);
  }

  featureNames() {
    return this.#model.featureNames();
  }

  /** Training medians, in feature order. */
  baselines() {
    return this.#model.baselines();
  }

  /** `{ anomalyThreshold, challenge, require2fa, block }` on the composite score. */
  thresholds() {
    return this.#model.thresholds();
  }
}

module.exports = { NativeModel };
