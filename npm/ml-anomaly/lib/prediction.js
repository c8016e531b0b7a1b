'use strict';
/**
 * The per-request call into the addon and the answer it writes into a `Float64Array`.
 *
 * Why a buffer: building the answer object through napi (a property key and value per field,
 * some forty per answer) measured several times the cost of the model; writing numbers into a
 * typed array and building the object here, as a literal, costs almost nothing. The layout is
 * defined in crates/node/src/prediction.rs; `Codec` checks at open that the addon uses the same
 * one, so a stale build fails loudly instead of answering nonsense.
 */

const LAYOUT = Object.freeze({
  FLAGS: 0,
  ANOMALY_SCORE: 1,
  CONFIDENCE: 2,
  ACTION: 3,
  ENFORCED_ACTION: 4,
  PREDICTION_ID: 5,
  MODEL_VERSION: 6,
  TIMESTAMP: 7,
  SCORE_ISOLATION_FOREST: 8,
  SCORE_AUTOENCODER: 9,
  SCORE_COMPOSITE: 10,
  MODEL_AGREEMENT: 11,
  ENGINE_TIME_US: 12,
  SIGNALS: 13,
  TOP_COUNT: 14,
  TOP: 15,
  TOP_STRIDE: 4,
  LEN: 15 + 4 * 59,
});

const FLAG_ANOMALY = 1;
const FLAG_FALLBACK = 2;
const FLAG_SCORED = 4;

/**
 * Slots of every answer for the middlewares' once-per-request memo (lib/middleware.js): the
 * identity the answer was made for. Declared in the answer's literal so that stamping them does
 * not change its hidden class on the request path.
 */
const SCORED_SESSION = Symbol.for('ml-anomaly.scoredSession');
const SCORED_USER = Symbol.for('ml-anomaly.scoredUser');

const SENSITIVITY_CODE = Object.freeze({ LOW: 0, MODERATE: 1, HIGH: 2, CRITICAL: 3 });

/** Reads the addon's answers; one per engine (it owns the buffer the addon writes into). */
class Codec {
  constructor(engine) {
    const layout = engine.layout();
    for (const [name, index] of Object.entries(LAYOUT)) {
      if (layout[name] !== index) {
        throw new Error(
          `ml-anomaly: the native addon's answer layout differs from the package's (${name}: ${layout[name]} vs ${index}); rebuild it with scripts/build-addon.sh`,
        );
      }
    }
    this.engine = engine;
    this.out = new Float64Array(LAYOUT.LEN);
    this.features = engine.featureNames();
    this.signals = engine.signalNames();
    this.actions = engine.actionNames();
  }

  /** Observes and scores one event (built by validate.toEvent); returns the answer object. */
  predict(e) {
    const loc = e.location;
    const text = this.engine.predictInto(
      this.out,
      e.timestamp,
      e.sessionId,
      e.userId,
      e.endpoint,
      e.method,
      e.ipAddress,
      e.userAgent,
      e.contentLength,
      e.endpointSensitivity === undefined ? undefined : SENSITIVITY_CODE[e.endpointSensitivity],
      e.sessionStartedAt,
      e.sessionAgeMs,
      loc === undefined ? undefined : loc.lat,
      loc === undefined ? undefined : loc.lon,
      e.deviceFingerprint,
      e.statusCode,
      e.isWeekend,
      e.isBusinessHours,
      e.signals,
    );
    return this.decode(text);
  }

  decode(text) {
    const out = this.out;
    const flags = out[LAYOUT.FLAGS];
    const fallback = (flags & FLAG_FALLBACK) !== 0;
    const version = out[LAYOUT.MODEL_VERSION] >= 0 ? out[LAYOUT.MODEL_VERSION] : null;
    const n = out[LAYOUT.TOP_COUNT];
    const explanation = new Array(n);
    for (let i = 0; i < n; i++) {
      const b = LAYOUT.TOP + i * LAYOUT.TOP_STRIDE;
      explanation[i] = {
        feature: this.features[out[b]] || 'unknown',
        contribution: out[b + 1],
        value: out[b + 2],
        normalizedValue: out[b + 3],
      };
    }
    const p = {
      isAnomaly: (flags & FLAG_ANOMALY) !== 0,
      anomalyScore: out[LAYOUT.ANOMALY_SCORE],
      confidence: out[LAYOUT.CONFIDENCE],
      explanation,
      modelVersions: { isolationForest: version, autoencoder: version },
      action: this.actions[out[LAYOUT.ACTION]],
      fallback,
      predictionId: out[LAYOUT.PREDICTION_ID],
      modelVersion: version,
      enforcedAction: this.actions[out[LAYOUT.ENFORCED_ACTION]],
      scores: undefined,
      modelAgreement: undefined,
      summary: undefined,
      signals: this.signalList(out[LAYOUT.SIGNALS]),
      timestamp: out[LAYOUT.TIMESTAMP],
      engineTimeUs: out[LAYOUT.ENGINE_TIME_US],
      processingTime: 0,
      [SCORED_SESSION]: undefined,
      [SCORED_USER]: undefined,
    };
    if ((flags & FLAG_SCORED) !== 0) {
      p.scores = {
        isolationForest: out[LAYOUT.SCORE_ISOLATION_FOREST],
        autoencoder: out[LAYOUT.SCORE_AUTOENCODER],
        composite: out[LAYOUT.SCORE_COMPOSITE],
      };
      p.modelAgreement = out[LAYOUT.MODEL_AGREEMENT];
    }
    if (text !== null && text !== undefined) {
      if (fallback) p.error = text;
      else p.summary = text;
    }
    return p;
  }

  signalList(mask) {
    if (mask === 0) return [];
    const list = [];
    for (let i = 0; i < this.signals.length; i++) {
      if (Math.floor(mask / 2 ** i) % 2 === 1) list.push(this.signals[i]);
    }
    return list;
  }
}

module.exports = { Codec, LAYOUT, SCORED_SESSION, SCORED_USER };
