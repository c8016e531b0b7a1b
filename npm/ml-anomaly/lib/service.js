'use strict';
/**
 * The anomaly service: the original `mlAnomalyDetectionService`'s interface over the native engine.
 *
 * Why this layer exists at all when the engine does the work: it owns what is Node-specific and
 * nothing else — option resolution, the promise-shaped API the host already calls, timers that
 * never keep the process alive, EventEmitter events for training progress, the original's
 * response shapes and fallback, and turning bad arguments into TypeErrors before they cross into
 * native code. Scoring, training, storage, schedules' due-dates and metrics are the engine's
 * (crates/engine, through crates/node).
 *
 * Events: 'training:start' {trigger, force, version?, samples?}, 'training:progress' (the
 * engine's progress events: {phase: 'started' | 'scaling' | 'isolationForest' | 'autoencoder' |
 * 'calibration' | 'driftReference' | 'persisting' | 'finished' | 'failed', epoch, epochs,
 * trainLoss, validationLoss, ...}), 'training:done' {trained, version, trainingSize?,
 * durationMs, trigger}, 'training:skipped' {reason, trigger}, 'training:error' (Error),
 * 'drift' {driftDetected, driftScore, retrained, ...}, 'security' (the middlewares' security
 * events). It never emits 'error', so an app that listens to nothing is never crashed by it.
 *
 * Progress comes from polling the engine (`trainingSnapshot()`) on an unref'd timer: every
 * second when idle, every 100 ms while a training runs. That covers every trigger (manual, the
 * automatic first training, drift, schedule) with one mechanism and nothing that could keep the
 * process alive.
 */

const { EventEmitter } = require('node:events');
const { performance } = require('node:perf_hooks');

const { resolveOptions, isPlainObject, SILENT } = require('./config');
const { engineConfig } = require('./engine-config');
const { toEvent, toId, boundedInt } = require('./validate');
const { fallbackPrediction } = require('./fallback');
const { AnomalyError, CODES, notFound } = require('./errors');
const { loadNative } = require('./native');
const { Codec } = require('./prediction');

const HOURS_MAX = 24 * 365;
/** How often the schedules ask the engine what is due (at most; shorter periods tick faster). */
const MAINTENANCE_TICK_MS = 60000;
const WATCH_IDLE_MS = 1000;
/** After a failed open, the next attempt waits this long (requests get the fallback meanwhile). */
const OPEN_RETRY_MS = 5000;
const WATCH_TRAINING_MS = 100;

/** The engine's TrainOutcome (`{ status: 'trained' | 'skipped', ... }`) as `{ trained, ... }`. */
function trainOutcome(out) {
  if (out && out.status === 'trained') {
    const { status: _status, ...rest } = out;
    return { trained: true, ...rest };
  }
  const { status: _status, reason, ...rest } = out || {};
  let text = reason || 'skipped';
  if (reason === 'alreadyTraining') text = 'already training';
  else if (reason === 'notEnoughData') text = `not enough data (${rest.available} of ${rest.required} samples)`;
  return { trained: false, reason: text, ...rest };
}

/** The original's prediction shape from an engine batch entry. */
function batchEntry(b) {
  const e = b.explanation;
  return {
    sessionId: b.sessionId,
    userId: b.userId,
    isAnomaly: b.isAnomaly,
    anomalyScore: b.anomalyScore,
    confidence: b.confidence,
    explanation: e
      ? e.topFeatures.map((f) => ({ feature: f.feature, contribution: f.contribution, value: f.value, normalizedValue: f.normalizedValue }))
      : [],
    modelVersions: { isolationForest: b.modelVersion ?? null, autoencoder: b.modelVersion ?? null },
    action: b.action,
    fallback: b.fallback,
    ...(b.error ? { error: b.error } : {}),
    modelVersion: b.modelVersion ?? null,
    scores: b.scores
      ? { isolationForest: b.scores.isolationForest, autoencoder: b.scores.autoencoder, composite: b.scores.composite }
      : undefined,
    summary: e ? e.summary : undefined,
    timestamp: b.timestamp,
  };
}

function progressKey(p) {
  return `${p.phase}|${p.version ?? ''}|${p.epoch ?? ''}|${p.startedAt ?? ''}`;
}

/** A prediction id from a route parameter or a caller: a positive integer, or null (unknown). */
function predictionIdOf(id) {
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return id;
  if (typeof id === 'string' && /^\d{1,15}$/.test(id)) return Number(id);
  return null;
}

class AnomalyService extends EventEmitter {
  /**
   * @param {object} [options] see lib/config.js (and index.d.ts `AnomalyServiceOptions`)
   * @param {object} [internals] `{ env, NativeEngine }`: the environment to read (the singleton
   *   passes process.env) and, for tests, a stand-in for the addon's class.
   */
  constructor(options = {}, internals = {}) {
    super();
    if (options !== undefined && !isPlainObject(options)) throw new TypeError('ml-anomaly options must be an object');
    this._env = internals.env || null;
    this._NativeEngine = internals.NativeEngine || null;
    this._rawOptions = { ...(options || {}) };
    this._resolved = null; // resolved lazily so that the environment is read at first use
    this._engine = null;
    this._codec = null;
    this._openFailure = null;
    this._timers = [];
    this._watch = null;
    this._initializing = null;
    this._initialized = false;
    this._closed = false;
    this._training = null; // the Promise of the training this service started, if any
    this._progress = null;
    this._progressKey = null;
    this._lastTrainingKey = undefined;
    this._sawTraining = false;
    this._trigger = null;
    this._lastTraining = null;
    this._lastDrift = null;
    this._lastDoneVersion = null; // 'training:done' is emitted once per version
    this.lastRetrainingTime = null;
    /** Why the last `initialize()` resolved to false, or null. */
    this.initializationError = null;
  }

  /** Resolved options (defaults < environment < options). */
  get options() {
    if (!this._resolved) this._resolved = resolveOptions(this._rawOptions, this._env);
    return this._resolved;
  }

  get logger() {
    return this.options.logger;
  }

  /**
   * Changes options; allowed until the engine is opened (by `initialize()` or the first call that
   * needs it). Merges with the options given before.
   */
  configure(options = {}) {
    if (!isPlainObject(options)) throw new TypeError('configure(options): options must be an object');
    if (this._engine || this._closed) {
      throw new AnomalyError(CODES.CONFLICT, 'configure() must be called before initialize() or the first prediction');
    }
    const next = { ...this._rawOptions, ...options };
    const resolved = resolveOptions(next, this._env); // validate before committing
    this._rawOptions = next;
    this._resolved = resolved;
    this._openFailure = null; // new options may open where the old ones failed
    return this;
  }

  /** True while a training runs (started here, by a schedule or by the engine itself). */
  get isRetraining() {
    if (this._training) return true;
    if (!this._engine) return false;
    try {
      return this._engine.isTraining();
    } catch {
      return false;
    }
  }

  /** The engine, opened on first use. Throws when closed or when the addon cannot be loaded. */
  _open() {
    if (this._engine) return this._engine;
    if (this._closed) throw new AnomalyError(CODES.CLOSED, 'ml-anomaly service is closed');
    // After a failure (addon missing, store unreadable), retry at most every few seconds rather
    // than on every request: each attempt logs and costs an open.
    const failed = this._openFailure;
    if (failed && Date.now() - failed.at < OPEN_RETRY_MS) throw failed.error;
    const opts = this.options;
    let engine;
    let codec;
    try {
      const NativeEngine = this._NativeEngine || loadNative().NativeEngine;
      engine = new NativeEngine(engineConfig(opts));
      codec = new Codec(engine);
    } catch (err) {
      this._openFailure = { at: Date.now(), error: err };
      opts.logger.error(`ml-anomaly: cannot open the engine: ${err && err.message}`);
      throw err;
    }
    this._openFailure = null;
    this._engine = engine;
    this._codec = codec;
    this._pollTraining(); // records the restored state without emitting
    this._startWatch();
    opts.logger.info(`ml-anomaly: engine opened (store ${opts.store})`);
    return engine;
  }

  _now() {
    const now = this.options.now;
    return now ? now() : Date.now();
  }

  _emit(event, payload) {
    try {
      this.emit(event, payload);
    } catch (err) {
      this.logger.error(`ml-anomaly: a '${event}' listener threw: ${err && err.message}`);
    }
  }

  /**
   * Opens the engine (loading the active model, the registry and the training window from the
   * store), starts the schedules and, when there is no model yet but enough samples, starts the
   * first training in the background. Resolves to true; to false when the engine cannot be opened
   * (addon not built, store unreadable, invalid configuration): it never rejects, because hosts
   * call it without a catch at startup and an unhandled rejection would stop the process. The
   * reason is logged, emitted as a process warning when no logger is configured, and kept in
   * `initializationError`; until it is fixed, predictions get the fallback (the standard
   * middleware lets requests through, the strict one answers 503).
   */
  async initialize() {
    if (this._initialized) return true;
    if (!this._initializing) {
      this._initializing = (async () => {
        try {
          this._open();
        } catch (err) {
          this.initializationError = err;
          if (this.logger === SILENT) {
            process.emitWarning(`ml-anomaly: initialize() failed: ${err && err.message}`, { code: err && err.code });
          }
          return false;
        }
        this.initializationError = null;
        if (this.options.schedules) this._startSchedules();
        this._initialized = true;
        const m = this._engine.metrics();
        const active = m.activeModelVersion ?? null;
        this.logger.info(`ml-anomaly: initialized (active model ${active ?? 'none'}, ${m.trainingWindowSize} training samples)`);
        if (this.options.autoTrain && active === null && !m.isTraining && m.trainingWindowSize >= this.options.minSamplesForTraining) {
          this._background('initial training', () => this.train({ force: false, trigger: 'automatic' }));
        }
        return true;
      })();
      this._initializing.then((ok) => {
        if (!ok) this._initializing = null;
      }, () => {
        this._initializing = null;
      });
    }
    return this._initializing;
  }

  /**
   * Observes one request and scores it. Resolves to the original's shape plus `predictionId`,
   * `scores`, `modelVersion`, `modelAgreement`, `enforcedAction`, `summary`, `signals`,
   * `timestamp` and `processingTime` (ms); to the fallback shape when there is no model or the
   * engine fails. Rejects with a TypeError when an id is missing or an argument has the wrong
   * type.
   */
  async predictStreaming(sessionId, userId, requestContext = {}) {
    return this.predictSync(sessionId, userId, requestContext);
  }

  /**
   * `predictStreaming` without the Promise: the per-request path for callers that do not need one
   * (benchmarks, custom middlewares). Throws TypeError on bad input; never throws otherwise.
   */
  predictSync(sessionId, userId, requestContext) {
    const start = performance.now();
    const event = toEvent(sessionId, userId, requestContext, this._now());
    let prediction;
    try {
      this._open();
      prediction = this._codec.predict(event);
    } catch (err) {
      if (err instanceof TypeError) throw err;
      // An engine that failed to open was logged once, when it failed.
      if (!this._openFailure || err !== this._openFailure.error) {
        this.logger.error(`ml-anomaly: prediction failed: ${err && err.message}`);
      }
      prediction = fallbackPrediction(err);
    }
    prediction.processingTime = performance.now() - start;
    return prediction;
  }

  /**
   * One prediction per (sessionId, userId) pair, each with its `sessionId` and `userId`: each
   * session's latest request rescored with the current model, without recording anything (a
   * session never seen gets the fallback with an `error`). Rejects with a TypeError unless both
   * are arrays of the same length.
   */
  async predictBatch(sessionIds, userIds) {
    if (!Array.isArray(sessionIds) || !Array.isArray(userIds)) {
      throw new TypeError('predictBatch(sessionIds, userIds): both must be arrays');
    }
    if (sessionIds.length !== userIds.length) {
      throw new TypeError(
        `predictBatch(sessionIds, userIds): arrays must have the same length (got ${sessionIds.length} and ${userIds.length})`,
      );
    }
    const sids = sessionIds.map((s, i) => toId(s, `sessionIds[${i}]`));
    const uids = userIds.map((u, i) => toId(u, `userIds[${i}]`));
    try {
      const out = await this._open().predictBatch(sids, uids);
      return out.map(batchEntry);
    } catch (err) {
      if (err instanceof TypeError) throw err;
      this.logger.error(`ml-anomaly: batch prediction failed: ${err && err.message}`);
      return sids.map((sessionId, i) => ({ sessionId, userId: uids[i], ...fallbackPrediction(err) }));
    }
  }

  /**
   * Trains the next model from the training window and activates it. Resolves to true when a model
   * was trained, false when skipped (already training, too few samples) or failed (the failure is
   * logged and emitted as 'training:error', never thrown: hosts call this without a catch). The
   * event loop stays free: training runs on libuv's thread pool.
   */
  async trainModels(forceRetrain = false) {
    const result = await this.train({ force: Boolean(forceRetrain), trigger: forceRetrain ? 'forced' : 'manual' });
    return result.trained;
  }

  /** `trainModels(true)`. */
  async forceRetrain() {
    return this.trainModels(true);
  }

  /**
   * `trainModels` with the full outcome: `{ trained, version?, reason?, trainingSize?,
   * durationMs?, metrics?, error? }`.
   */
  async train({ force = false, trigger = 'manual' } = {}) {
    let engine;
    try {
      engine = this._open();
    } catch (err) {
      this._trainingFailed(err, trigger);
      return { trained: false, reason: 'unavailable', error: err.message };
    }
    if (this.isRetraining) {
      const outcome = { trained: false, reason: 'already training' };
      this._emit('training:skipped', { ...outcome, trigger });
      return outcome;
    }
    const run = engine.train(Boolean(force), this._now());
    this._training = run;
    this._emit('training:start', { force: Boolean(force), trigger });
    this.logger.info(`ml-anomaly: training started (${trigger})`);
    this._scheduleWatch(WATCH_TRAINING_MS);
    let outcome;
    try {
      outcome = trainOutcome(await run);
    } catch (err) {
      this._pollTraining();
      this._training = null;
      this._trainingFailed(err, trigger);
      return { trained: false, reason: 'error', error: err.message };
    }
    this._pollTraining(); // progress up to the end, without emitting the end twice
    this._training = null;
    if (outcome.trained) {
      this._trainingDone({ ...outcome, trigger });
    } else {
      this.logger.info(`ml-anomaly: training skipped (${outcome.reason})`);
      this._emit('training:skipped', { ...outcome, trigger });
    }
    return outcome;
  }

  /** Records a finished training once per version, whoever noticed it first. */
  _trainingDone(info) {
    if (info.version != null && info.version === this._lastDoneVersion) return;
    this._lastDoneVersion = info.version;
    this.lastRetrainingTime = new Date();
    this._lastTraining = { ...info, finishedAt: this.lastRetrainingTime.toISOString() };
    this.logger.info(
      `ml-anomaly: model v${info.version} trained` +
        (info.trainingSize ? ` on ${info.trainingSize} samples` : '') +
        (info.durationMs ? ` in ${Math.round(info.durationMs)} ms` : '') +
        ` (${info.trigger})`,
    );
    this._emit('training:done', info);
  }

  _trainingFailed(err, trigger) {
    this._lastTraining = { trained: false, trigger, error: err && err.message, finishedAt: new Date().toISOString() };
    this.logger.error(`ml-anomaly: training failed (${trigger}): ${err && err.message}`);
    this._emit('training:error', err);
  }

  /**
   * Reads the engine's training state and emits what changed. Trainings this service started
   * (`_training` set) report their own start and end; the others (the automatic first training,
   * drift, schedule) are reported from here: their start and progress from the engine's progress
   * events, their end from the 'finished'/'failed' event or, for one too quick to be seen, from
   * the change of the last retraining time.
   */
  _pollTraining() {
    const engine = this._engine;
    if (!engine) return false;
    let snap;
    try {
      snap = engine.trainingSnapshot();
    } catch {
      return false;
    }
    const owned = this._training !== null;
    const first = this._lastTrainingKey === undefined;
    const p = snap.progress;
    if (p) {
      const key = progressKey(p);
      if (key !== this._progressKey) {
        this._progressKey = key;
        this._progress = p;
        if (!first) {
          if (p.phase === 'started') this._trigger = p.reason;
          this._emit('training:progress', p);
          if (!owned && p.phase === 'finished') {
            this._trainingDone({ trained: true, version: p.version, durationMs: p.durationMs, trigger: this._trigger || 'engine' });
          } else if (!owned && p.phase === 'failed') {
            this._trainingFailed(new Error(p.error || 'training failed'), this._trigger || 'engine');
          }
        }
      }
    }
    if (snap.isTraining && !this._sawTraining) {
      this._sawTraining = true;
      if (!owned && !first) {
        const trigger = p && p.phase === 'started' ? p.reason : this._trigger || 'engine';
        this.logger.info(`ml-anomaly: training started (${trigger})`);
        this._emit('training:start', { trigger, force: trigger !== 'manual' && trigger !== 'automatic', version: p && p.version, samples: p && p.samples });
      }
    } else if (!snap.isTraining) {
      this._sawTraining = false;
    }
    const key = snap.lastRetrainingTime == null ? null : String(snap.lastRetrainingTime);
    if (first) {
      // First look after opening: a training restored from the store is history, not news.
      this._lastTrainingKey = key;
      if (key !== null && this.lastRetrainingTime === null) this.lastRetrainingTime = new Date(snap.lastRetrainingTime);
    } else if (key !== this._lastTrainingKey) {
      this._lastTrainingKey = key;
      if (key !== null && !owned) {
        this._trainingDone({ trained: true, version: snap.activeVersion, trigger: this._trigger || 'engine' });
      }
    }
    return snap.isTraining;
  }

  _startWatch() {
    this._scheduleWatch(WATCH_IDLE_MS);
  }

  _scheduleWatch(ms) {
    if (this._closed || !this._engine) return;
    if (this._watch) clearTimeout(this._watch);
    this._watch = setTimeout(() => {
      this._watch = null;
      const training = this._pollTraining();
      this._scheduleWatch(training || this._training ? WATCH_TRAINING_MS : WATCH_IDLE_MS);
    }, ms);
    this._watch.unref();
  }

  /**
   * Compares recent traffic with the active model's reference; retrains when the drift score is
   * above `driftThreshold`. Resolves to `{ driftDetected, driftScore, retrained }` plus the
   * engine's details (`report` with PSI/KS per feature, `skipped` when no assessment was
   * possible, `training`).
   */
  async checkDriftAndRetrain() {
    const engine = this._open();
    this._scheduleWatch(WATCH_TRAINING_MS);
    const out = await engine.checkDriftAndRetrain(this._now());
    this._pollTraining();
    const result = { ...out, driftDetected: Boolean(out.driftDetected), driftScore: out.driftScore, retrained: Boolean(out.retrained) };
    if (result.driftDetected) {
      this.logger.warn(`ml-anomaly: drift ${Number(result.driftScore).toFixed(3)} above threshold (retrained: ${result.retrained})`);
    }
    this._lastDrift = { driftDetected: result.driftDetected, driftScore: result.driftScore, retrained: result.retrained, checkedAt: new Date().toISOString() };
    this._emit('drift', result);
    return result;
  }

  /**
   * Periodic housekeeping, as the schedules run it: the drift check and forced retrain when due,
   * pruning of old records, expiry of idle sessions, saving the behavioral state. Resolves to what
   * was done.
   */
  async maintenance() {
    const out = await this._open().maintenance(this._now());
    this._pollTraining();
    if (out.drift && !out.drift.skipped) {
      const d = out.drift;
      this._lastDrift = { driftDetected: d.driftDetected, driftScore: d.driftScore, retrained: d.retrained, checkedAt: new Date().toISOString() };
      this._emit('drift', d);
    }
    for (const e of out.errors || []) this.logger.error(`ml-anomaly: maintenance: ${e}`);
    return out;
  }

  /**
   * `{ totalPredictions, anomalyCount, averageAnomalyScore, averageConfidence, modelPerformance:
   * { isolationForest, autoencoder }, driftMetrics }` (plus the engine's extras) over the last
   * `hours` (1 ..= 8760).
   */
  async getModelPerformance(hours = 24) {
    const h = boundedInt(hours, 'hours', { min: 1, max: HOURS_MAX, def: 24 });
    const p = await this._open().performance(h, this._now());
    return {
      ...p,
      modelPerformance: { isolationForest: p.isolationForest, autoencoder: p.autoencoder },
    };
  }

  /** Everything an operator wants to see at once (GET /status). */
  status() {
    const s = this._open().status();
    return {
      ...s,
      activeModelVersion: s.activeModel ? s.activeModel.version : null,
      initialized: this._initialized,
      isRetraining: this.isRetraining,
      lastRetrainingTime: this.lastRetrainingTime,
      lastTraining: s.lastTraining || this._lastTraining,
      lastDriftCheck: this._lastDrift,
      trainingProgress: s.trainingProgress || this._progress,
      schedules: {
        ...s.schedules,
        running: this._timers.length > 0,
        driftCheckIntervalMs: this.options.driftCheckIntervalMs,
        forcedRetrainIntervalMs: this.options.forcedRetrainIntervalMs,
      },
    };
  }

  /** The drift detector's state: threshold, latest report, history, trend, window size. */
  driftStatus() {
    return { ...this._open().driftStatus(), lastCheck: this._lastDrift };
  }

  /** Counters and latency percentiles (the engine's metrics). */
  metrics() {
    return this._open().metrics();
  }

  /** The metrics in Prometheus text exposition format. */
  prometheus() {
    return this._open().prometheus();
  }

  /** Registered model versions, newest first (1 ..= 1000). */
  async modelHistory(limit = 10) {
    return this._open().modelHistory(boundedInt(limit, 'limit', { min: 1, max: 1000, def: 10 }));
  }

  /** The model serving predictions, or null. */
  activeModel() {
    return this._open().activeModel();
  }

  /** Activates a registered model version (rollback). */
  async activateModel(version) {
    const v = boundedInt(version, 'version', { min: 1, max: 2 ** 31 - 1, def: undefined });
    return this._open().activateModel(v, this._now());
  }

  /** A registered model's bundle as JSON text (for the browser viewer). */
  async modelBundle(version) {
    return this._open().modelBundle(boundedInt(version, 'version', { min: 1, max: 2 ** 31 - 1, def: undefined }));
  }

  /**
   * A stored prediction record. `requester`: `{ userId, isAdmin }`; without it the record is
   * returned to anyone (trusted callers). Rejects with code ML_ANOMALY_NOT_FOUND (unknown id) or
   * ML_ANOMALY_FORBIDDEN (someone else's prediction).
   */
  async getPrediction(predictionId, requester = { isAdmin: true }) {
    const id = predictionIdOf(predictionId);
    if (id === null) throw notFound(`prediction ${String(predictionId).slice(0, 40)} not found`);
    const userId = requester.userId === undefined ? '' : toId(requester.userId, 'userId');
    return this._open().prediction(id, userId, Boolean(requester.isAdmin));
  }

  /**
   * A stored prediction's explanation recomputed with the model that scored it, with every
   * feature's attribution (`exact`: TreeSHAP). Access is checked as for `getPrediction`.
   */
  async explainPrediction(predictionId, { exact = true, ...requester } = {}) {
    const record = await this.getPrediction(predictionId, requester.userId === undefined ? { isAdmin: true } : requester);
    return this._open().explainPrediction(record.id, Boolean(exact));
  }

  /**
   * The user's anomalies of the last `hours` (1 ..= 8760), newest first, at most `limit`:
   * `{ id, timestamp, anomalyScore, confidence, summary, recommendedAction, actionTaken }`.
   */
  async recentAnomalies(userId, { hours = 24, limit = 100 } = {}) {
    const h = boundedInt(hours, 'hours', { min: 1, max: HOURS_MAX, def: 24 });
    const l = boundedInt(limit, 'limit', { min: 1, max: 1000, def: 100 });
    return this._open().recentAnomalies(toId(userId, 'userId'), h, this._now(), l);
  }

  /**
   * Stores a user's feedback on their own prediction: `{ isFalsePositive, isFalseNegative, notes }`.
   * Resolves to the stored feedback; rejects with code ML_ANOMALY_NOT_FOUND or
   * ML_ANOMALY_FORBIDDEN (not the owner), or a TypeError for a malformed feedback.
   */
  async submitFeedback(predictionId, userId, feedback) {
    const uid = toId(userId, 'userId');
    if (!isPlainObject(feedback)) throw new TypeError('feedback must be an object { isFalsePositive, isFalseNegative, notes }');
    const out = {};
    for (const key of ['isFalsePositive', 'isFalseNegative']) {
      const v = feedback[key];
      if (v !== undefined && v !== null && typeof v !== 'boolean') throw new TypeError(`${key} must be a boolean`);
      out[key] = v === true;
    }
    if (feedback.notes !== undefined && feedback.notes !== null) {
      if (typeof feedback.notes !== 'string') throw new TypeError('notes must be a string');
      if (feedback.notes.length > 2000) throw new TypeError('notes must be at most 2000 characters');
      out.notes = feedback.notes;
    }
    if (out.isFalsePositive && out.isFalseNegative) {
      throw new TypeError('a prediction cannot be both a false positive and a false negative');
    }
    const id = predictionIdOf(predictionId);
    if (id === null) throw notFound(`prediction ${String(predictionId).slice(0, 40)} not found`);
    return this._open().submitFeedback(id, uid, out, this._now());
  }

  /** Per-day (UTC) totals of the user's predictions over the last `days` (1 ..= 365). */
  async statistics(userId, days = 7) {
    const d = boundedInt(days, 'days', { min: 1, max: 365, def: 7 });
    return this._open().statistics(toId(userId, 'userId'), d, this._now());
  }

  /** Predictions users reported as false positives, most recent report first. */
  async falsePositives(limit = 100) {
    return this._open().falsePositives(boundedInt(limit, 'limit', { min: 1, max: 1000, def: 100 }));
  }

  /** Waits until every queued record is committed to the store. */
  async flush() {
    return this._open().flush();
  }

  /**
   * Reports a security event (from the middlewares): calls the `onSecurityEvent` option and emits
   * 'security'. A failing callback is logged, never thrown.
   */
  reportSecurityEvent(event) {
    const cb = this.options.onSecurityEvent;
    if (cb) {
      try {
        const r = cb(event);
        if (r && typeof r.catch === 'function') {
          r.catch((err) => this.logger.error(`ml-anomaly: onSecurityEvent failed: ${err && err.message}`));
        }
      } catch (err) {
        this.logger.error(`ml-anomaly: onSecurityEvent failed: ${err && err.message}`);
      }
    }
    this._emit('security', event);
  }

  _background(what, fn) {
    return Promise.resolve()
      .then(fn)
      .catch((err) => this.logger.error(`ml-anomaly: ${what} failed: ${err && err.message}`));
  }

  /**
   * One unref'd timer calls the engine's maintenance; the engine decides from explicit times what
   * is due (drift check, forced retrain, pruning, state snapshot), so a delayed or frequent tick
   * never runs a job twice or piles up a backlog.
   */
  _startSchedules() {
    if (this._timers.length > 0) return;
    const { driftCheckIntervalMs, forcedRetrainIntervalMs } = this.options;
    const periods = [driftCheckIntervalMs, forcedRetrainIntervalMs].filter((ms) => ms > 0);
    const tick = Math.max(1000, Math.min(MAINTENANCE_TICK_MS, ...periods));
    let running = false;
    const t = setInterval(() => {
      if (running) return;
      running = true;
      this._background('maintenance', () => this.maintenance()).finally(() => {
        running = false;
      });
    }, tick);
    t.unref();
    this._timers.push(t);
  }

  /** Stops the schedules (the service keeps serving). */
  stopSchedules() {
    for (const t of this._timers) clearInterval(t);
    this._timers = [];
  }

  /**
   * Stops the schedules, waits for a training this service started, flushes and closes the store.
   * Idempotent. Predictions after close get the fallback (with an error); other calls reject.
   */
  async close() {
    this.stopSchedules();
    if (this._watch) clearTimeout(this._watch);
    this._watch = null;
    if (this._closed) return;
    this._closed = true;
    if (this._training) await this._training.catch(() => {});
    const engine = this._engine;
    this._engine = null;
    this._codec = null;
    this._initialized = false;
    this._initializing = null;
    if (engine) await engine.close();
  }
}

module.exports = { AnomalyService, trainOutcome, predictionIdOf };
