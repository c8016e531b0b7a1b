'use strict';
/**
 * The prediction object, and the per-request call into the addon that produces it.
 *
 * One builder (`makePrediction`) makes every prediction the engine answers: a scored answer
 * decoded from the addon (the engine's own fallback before any model included) and an entry of
 * `predictBatch`. They all have the same keys in the same order (one hidden class on the request
 * path), the original's keys first. The one exception is deliberate: `fallbackPrediction`, what
 * the package answers when there is no engine to ask, is exactly the original's minimal fallback.
 *
 * Why a buffer: building the answer object through napi (a property key and value per field,
 * some forty per answer) measured several times the cost of the model; writing numbers into a
 * typed array and building the object here, as a literal, costs almost nothing. The layout (which
 * number sits where, and the flag bits) is declared once, in crates/node/src/prediction.rs: the
 * `Codec` reads it from the addon (`layout()`) when the engine opens and decodes with it.
 */

/**
 * Slots of every answer for the middlewares' once-per-request memo (lib/middleware.js): the
 * identity the answer was made for. Declared in the answer's literal so that stamping them does
 * not change its hidden class on the request path.
 */
const SCORED_SESSION = Symbol.for('ml-anomaly.scoredSession');
const SCORED_USER = Symbol.for('ml-anomaly.scoredUser');

const NO_VERSIONS = Object.freeze({ isolationForest: null, autoencoder: null });

/**
 * `prediction.explanation`: the top contributions as an array (the original's shape), which also
 * answers `.topFeatures` (the same array) and `.summary` (for an anomaly), so that code written
 * against the original's stored explanation (`explanation.topFeatures.slice(0, 3)`,
 * `explanation.summary`) works on the streaming answer too. Both are non-enumerable: the array
 * still equals, serializes and spreads as the plain array of entries.
 */
function explanationOf(entries, summary, evidence) {
  Object.defineProperty(entries, 'topFeatures', { value: entries, writable: true, configurable: true });
  if (summary !== undefined) Object.defineProperty(entries, 'summary', { value: summary, writable: true, configurable: true });
  if (evidence !== undefined) Object.defineProperty(entries, 'evidence', { value: evidence, writable: true, configurable: true });
  return entries;
}

/**
 * A prediction. `f`: the fields that vary; everything else takes the fallback's value. The
 * original's keys come first: isAnomaly, anomalyScore, confidence, explanation, modelVersions,
 * action, fallback (and `error` when there is one, as the original answered).
 */
function makePrediction(f) {
  const version = f.modelVersion === undefined ? null : f.modelVersion;
  const p = {
    isAnomaly: f.isAnomaly === true,
    anomalyScore: f.anomalyScore || 0,
    confidence: f.confidence || 0,
    explanation: explanationOf(f.explanation || [], f.summary, f.evidence),
    modelVersions: version === null ? { ...NO_VERSIONS } : { isolationForest: version, autoencoder: version },
    action: f.action || 'ALLOW',
    fallback: f.fallback !== false,
    predictionId: f.predictionId === undefined ? null : f.predictionId,
    modelVersion: version,
    enforcedAction: f.enforcedAction || 'ALLOW',
    scores: f.scores,
    modelAgreement: f.modelAgreement,
    summary: f.summary,
    evidence: f.evidence,
    decision: f.decision || null,
    signals: f.signals || [],
    timestamp: f.timestamp,
    engineTimeUs: f.engineTimeUs,
    processingTime: 0,
    [SCORED_SESSION]: undefined,
    [SCORED_USER]: undefined,
  };
  if (f.error !== undefined) p.error = f.error;
  return p;
}

/**
 * The fallback prediction the package answers when the engine cannot (not built, closed, failed):
 * exactly the original's fallback (`isAnomaly: false, anomalyScore: 0, confidence: 0,
 * explanation: [], modelVersions: nulls, action: 'ALLOW', fallback: true`, plus `error` when
 * given), nothing of ours, since nothing else is known. A fresh object each time, since
 * middlewares spread it into `req.mlPrediction` and callers may mutate what they get. (The
 * engine's own fallback, before any model is trained, is a full `makePrediction` answer: it has a
 * prediction id, signals and a timestamp.)
 */
function fallbackPrediction(error) {
  const p = {
    isAnomaly: false,
    anomalyScore: 0,
    confidence: 0,
    explanation: explanationOf([], undefined),
    modelVersions: { ...NO_VERSIONS },
    action: 'ALLOW',
    fallback: true,
  };
  if (error !== undefined) p.error = error instanceof Error ? error.message : String(error);
  return p;
}

/** A `predictBatch` entry (the engine's `BatchPrediction`) as a prediction with its ids. */
function batchPrediction(b) {
  const e = b.explanation;
  const p = makePrediction({
    isAnomaly: b.isAnomaly,
    anomalyScore: b.anomalyScore,
    confidence: b.confidence,
    explanation: e
      ? e.topFeatures.map((t) => ({ feature: t.feature, contribution: t.contribution, value: t.value, normalizedValue: t.normalizedValue }))
      : [],
    summary: e ? e.summary : undefined,
    action: b.action,
    enforcedAction: b.enforcedAction,
    fallback: b.fallback,
    modelVersion: b.modelVersion,
    scores: b.scores
      ? { isolationForest: b.scores.isolationForest, autoencoder: b.scores.autoencoder, composite: b.scores.composite }
      : undefined,
    modelAgreement: b.scores ? b.scores.modelAgreement : undefined,
    timestamp: b.timestamp,
    error: b.error || undefined,
  });
  return { sessionId: b.sessionId, userId: b.userId, ...p };
}

/** Reads the addon's answers; one per engine (it owns the buffer the addon writes into). */
class Codec {
  constructor(engine) {
    const L = engine.layout();
    for (const name of ['FLAGS', 'TOP', 'TOP_STRIDE', 'TOP_COUNT', 'LEN', 'FLAG_ANOMALY', 'FLAG_FALLBACK', 'FLAG_SCORED',
      'FLAG_DECIDED', 'FLAG_LEARNING', 'FLAG_STRICT_DENIED', 'FLAG_EVIDENCE_TEXT', 'DECISION_SCORE', 'CONTRIB', 'CONTRIB_COUNT']) {
      if (!Number.isInteger(L[name])) {
        throw new Error(`ml-anomaly: the native addon's answer layout has no ${name}; rebuild it with scripts/build-addon.sh`);
      }
    }
    this.L = Object.freeze({ ...L });
    this.engine = engine;
    this.out = new Float64Array(L.LEN);
    this.features = engine.featureNames();
    this.signals = engine.signalNames();
    this.actions = engine.actionNames();
    this.entities = engine.entityNames();
  }

  /** Observes and scores one event (built by validate.toEvent); returns the prediction. */
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
      e.endpointSensitivity,
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

  /** The decision layer's side of the answer (see the engine's `DecisionOutcome`). */
  decision(flags) {
    const { out, L } = this;
    const n = out[L.CONTRIB_COUNT];
    const contributors = new Array(n);
    for (let i = 0; i < n; i++) contributors[i] = out[L.CONTRIB + i];
    const entity = out[L.DECISION_ENTITY];
    return {
      score: out[L.DECISION_SCORE],
      evidence: out[L.DECISION_EVIDENCE],
      entity: entity >= 0 ? this.entities[entity] : null,
      contributors,
      learning: (flags & L.FLAG_LEARNING) !== 0,
      strictDenied: (flags & L.FLAG_STRICT_DENIED) !== 0,
      discount: out[L.DECISION_DISCOUNT],
    };
  }

  decode(text) {
    const { out, L } = this;
    const flags = out[L.FLAGS];
    const fallback = (flags & L.FLAG_FALLBACK) !== 0;
    const scored = (flags & L.FLAG_SCORED) !== 0;
    const n = out[L.TOP_COUNT];
    const explanation = new Array(n);
    for (let i = 0; i < n; i++) {
      const b = L.TOP + i * L.TOP_STRIDE;
      explanation[i] = {
        feature: this.features[out[b]] || 'unknown',
        contribution: out[b + 1],
        value: out[b + 2],
        normalizedValue: out[b + 3],
      };
    }
    const hasText = text !== null && text !== undefined;
    let summary = hasText && !fallback ? text : undefined;
    let evidence;
    if (summary !== undefined && (flags & L.FLAG_EVIDENCE_TEXT) !== 0) {
      const cut = summary.indexOf('\n');
      evidence = summary.slice(cut + 1);
      summary = summary.slice(0, cut);
    }
    return makePrediction({
      isAnomaly: (flags & L.FLAG_ANOMALY) !== 0,
      anomalyScore: out[L.ANOMALY_SCORE],
      confidence: out[L.CONFIDENCE],
      explanation,
      summary,
      evidence,
      decision: (flags & L.FLAG_DECIDED) !== 0 ? this.decision(flags) : null,
      action: this.actions[out[L.ACTION]],
      fallback,
      predictionId: out[L.PREDICTION_ID],
      modelVersion: out[L.MODEL_VERSION] >= 0 ? out[L.MODEL_VERSION] : null,
      enforcedAction: this.actions[out[L.ENFORCED_ACTION]],
      scores: scored
        ? { isolationForest: out[L.SCORE_ISOLATION_FOREST], autoencoder: out[L.SCORE_AUTOENCODER], composite: out[L.SCORE_COMPOSITE] }
        : undefined,
      modelAgreement: scored ? out[L.MODEL_AGREEMENT] : undefined,
      signals: this.signalList(out[L.SIGNALS]),
      timestamp: out[L.TIMESTAMP],
      engineTimeUs: out[L.ENGINE_TIME_US],
      error: hasText && fallback ? text : undefined,
    });
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

module.exports = { Codec, makePrediction, fallbackPrediction, batchPrediction, SCORED_SESSION, SCORED_USER };
