'use strict';
/**
 * The anomaly service: the original `mlAnomalyDetectionService`'s interface over the native engine.
 *
 * Why this layer exists at all when the engine does the work: it owns what is Node-specific and
 * nothing else — option names and the environment (lib/config.js), the promise-shaped API the
 * host already calls, the original's live `modelConfig` (lib/model-config.js) and
 * `driftDetector` (lib/drift-detector.js), timers that never keep the process alive
 * (lib/schedules.js), EventEmitter events for training progress (lib/training-watch.js), the
 * original's response shapes and fallback (lib/prediction.js), and turning bad arguments into
 * TypeErrors before they cross into native code. Scoring, training, storage, schedules'
 * due-dates, every default and every range of the configuration, and metrics are the engine's
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
 * A configuration that cannot work (a bad environment variable, an out-of-range threshold) never
 * breaks a request: `initialize()` resolves false and logs why, predictions get the fallback with
 * the reason in `error` (so the standard middleware lets requests through and the strict one
 * answers 503), and `configure()` can fix it at run time (`modelConfig` reads the configuration, so
 * it throws the same TypeError until then).
 */

const { EventEmitter } = require('node:events');
const { performance } = require('node:perf_hooks');

const { SPEC, SECTIONS, PACKAGE_DEFAULTS, resolveOptions, explainConfigError, flatValue, merge, without, isPlainObject, checkLogger, CONSOLE } = require('./config');
const { toEvent, toId, boundedInt } = require('./validate');
const { fallbackPrediction, batchPrediction, Codec } = require('./prediction');
const { AnomalyError, CODES, notFound } = require('./errors');
const { loadNative } = require('./native');
const { TrainingWatch } = require('./training-watch');
const { Schedules } = require('./schedules');
const { modelConfig } = require('./model-config');
const { driftDetector } = require('./drift-detector');
const { deliverSecurityEvent } = require('./security-events');

const HOURS_MAX = 24 * 365;
/** After a failed open, the next attempt waits this long (requests get the fallback meanwhile). */
const OPEN_RETRY_MS = 5000;

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

/** A prediction id from a route parameter or a caller: a positive integer, or null (unknown). */
function predictionIdOf(id) {
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return id;
  if (typeof id === 'string' && /^\d{1,15}$/.test(id)) return Number(id);
  return null;
}

/** An input error (the caller's to fix), as opposed to a configuration or engine failure. */
function isInputError(err) {
  return err instanceof TypeError && err.code !== CODES.INVALID_CONFIG;
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
    // Engine settings assigned at run time through `modelConfig`: above every option (the latest
    // assignment wins), until a later configure() sets the same field again.
    this._runtime = {};
    this._resolution = null; // resolved lazily so that the environment is read at first use
    this._engine = null;
    this._codec = null;
    this._openFailure = null;
    this._initializing = null;
    this._initialized = false;
    this._closed = false;
    this._training = null; // the Promise of the training this service started, if any
    this._lastDrift = null;
    this._warned = new Set();
    this._watch = new TrainingWatch({
      engine: () => this._engine,
      emit: (event, payload) => this._emit(event, payload),
      logger: () => this.logger,
      owned: () => this._training !== null,
    });
    this._schedules = new Schedules(
      () => this._background('maintenance', () => this.maintenance()),
      () => {
        const r = this._engineConfig().retraining || {};
        return [r.driftCheckEnabled === false ? 0 : r.driftCheckIntervalMs, r.dailyRetrainForced === false ? 0 : r.forcedRetrainIntervalMs];
      },
    );
    /** Why the last `initialize()` resolved to false, or null. */
    this.initializationError = null;
  }

  // ----- configuration ----------------------------------------------------------------------

  /** `{ engine, own, sources }` of the options (lib/config.js); throws for a bad option. */
  _resolve() {
    if (!this._resolution) {
      try {
        this._resolution = { ok: this._withRuntime(resolveOptions(this._rawOptions, this._env)) };
      } catch (error) {
        this._resolution = { error };
      }
    }
    if (this._resolution.error) throw this._resolution.error;
    return this._resolution.ok;
  }

  /** `resolved` with the run-time assignments applied on top. */
  _withRuntime(resolved) {
    return { ...resolved, engine: merge(resolved.engine, this._runtime) };
  }

  /**
   * The package's own settings (schedules, callbacks, logger). When the options are bad, the
   * defaults, with the host's logger if that one is good: the error must reach the host's log.
   */
  _own() {
    try {
      return this._resolve().own;
    } catch {
      let logger = CONSOLE;
      try {
        logger = checkLogger(this._rawOptions.logger);
      } catch {
        // a bad logger: the console
      }
      return { ...PACKAGE_DEFAULTS, logger };
    }
  }

  /**
   * The whole engine configuration in force: the open engine's, else what the options resolve to
   * over the engine's defaults (the addon resolves it without opening anything), else, without
   * the addon, only what the options set. Throws a TypeError for an invalid configuration.
   */
  _engineConfig() {
    if (this._engine) return this._engine.config();
    const { engine, sources } = this._resolve();
    let native;
    try {
      native = loadNative();
    } catch {
      return engine; // no addon: nothing can run; show what was set
    }
    try {
      return native.resolveEngineConfig(engine);
    } catch (err) {
      throw explainConfigError(err, sources);
    }
  }

  /**
   * The resolved options, live: every flat option (lib/config.js) with its value in force, the
   * original's sections, the callbacks and the logger. Assigning a flat option applies it as
   * `configure({ name: value })` does. Throws a TypeError when the configuration is invalid.
   */
  get options() {
    const config = this._engineConfig();
    const own = this._resolve().own;
    const snapshot = {};
    for (const spec of SPEC) snapshot[spec[0]] = spec[3] === null ? own[spec[0]] : flatValue(spec, config);
    for (const name of SECTIONS) snapshot[name] = config[name];
    Object.assign(snapshot, own);
    const flat = new Set(SPEC.map((s) => s[0]));
    return new Proxy(snapshot, {
      get: (target, key) => (flat.has(key) ? this._optionValue(key) : target[key]),
      set: (target, key, value) => {
        this.configure({ [key]: value });
        target[key] = value;
        return true;
      },
    });
  }

  _optionValue(name) {
    const spec = SPEC.find((s) => s[0] === name);
    return spec[3] === null ? this._resolve().own[name] : flatValue(spec, this._engineConfig());
  }

  /** The logger in use; never throws (a bad configuration still gets its errors logged). */
  get logger() {
    return this._own().logger;
  }

  /**
   * The host's integration settings (`onSecurityEvent`, `revokeSession`,
   * `resolveEndpointSensitivity`, `now`, `logger`): cheap to read on every request, never throws.
   */
  get integration() {
    return this._own();
  }

  /**
   * The original's configuration object, live (see lib/model-config.js): reading shows the
   * settings in force; assigning `modelConfig.prediction.anomalyThreshold`, `ensembleWeight`, the
   * action thresholds or `retraining.*` applies at once, or throws a TypeError and changes nothing.
   */
  get modelConfig() {
    return modelConfig(
      () => this._engineConfig(),
      (patch) => this._applyEngine(patch),
    );
  }

  /** The original's drift detector: `calculateDrift()` and `getStatistics()` (lib/drift-detector.js). */
  get driftDetector() {
    return driftDetector({
      engine: () => this._open(),
      config: () => this._engineConfig(),
      now: () => this._now(),
    });
  }

  /** Applies an engine configuration fragment now (open engine) or at open (validated now). */
  _applyEngine(patch) {
    if (this._engine) {
      const { sources } = this._resolve();
      try {
        this._engine.updateConfig(patch);
      } catch (err) {
        throw explainConfigError(err, sources);
      }
      this._runtime = merge(this._runtime, patch);
      this._resolution = null;
      this._schedules.refresh();
      return;
    }
    // Before open: validated now, used at open, above the options that set the same field (an
    // assignment that read back the old value would be a silent no-op).
    const previous = this._runtime;
    this._runtime = merge(this._runtime, patch);
    this._resolution = null;
    try {
      this._engineConfig();
    } catch (err) {
      this._runtime = previous;
      this._resolution = null;
      throw err;
    }
  }

  /**
   * Changes options. Before the engine opens they are validated (by the engine, when the addon
   * is there) and used at open; afterwards the engine's settings among them apply at once (the
   * store and the seed cannot change while it runs), and the callbacks, logger and schedules are
   * replaced. Merges with the options given before. Throws a TypeError, and changes nothing, when
   * a value is invalid.
   */
  configure(options = {}) {
    if (!isPlainObject(options)) throw new TypeError('configure(options): options must be an object');
    if (this._closed) throw new AnomalyError(CODES.CLOSED, 'ml-anomaly service is closed');
    const next = { ...this._rawOptions, ...options };
    const patch = resolveOptions(options, null).engine;
    // What these options set replaces earlier run-time assignments of the same fields.
    const previous = { raw: this._rawOptions, resolution: this._resolution, runtime: this._runtime };
    const restore = () => {
      this._rawOptions = previous.raw;
      this._resolution = previous.resolution;
      this._runtime = previous.runtime;
    };
    this._runtime = without(this._runtime, patch);
    let resolved;
    try {
      resolved = this._withRuntime(resolveOptions(next, this._env)); // kinds and names, before committing
      if (this._engine) {
        if (Object.keys(patch).length > 0) {
          try {
            this._engine.updateConfig(patch);
          } catch (err) {
            throw explainConfigError(err, resolved.sources);
          }
        }
      } else {
        this._rawOptions = next;
        this._resolution = { ok: resolved };
        this._engineConfig(); // the engine's validation, when the addon can be loaded
      }
    } catch (err) {
      restore();
      throw err;
    }
    if (!this._engine) {
      this._openFailure = null; // new options may open where the old ones failed
    }
    this._rawOptions = next;
    this._resolution = { ok: resolved };
    if (this._initialized) {
      if (resolved.own.schedules) {
        this._schedules.start();
        this._schedules.refresh();
      } else {
        this._schedules.stop();
      }
    }
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

  /** When the latest training finished (the original's `lastRetrainingTime`), or null. */
  get lastRetrainingTime() {
    return this._watch.lastRetrainingTime;
  }

  /** Logs `message` once per `key` for the life of the service (misconfigurations). */
  warnOnce(key, message) {
    if (this._warned.has(key)) return;
    this._warned.add(key);
    this.logger.warn(message);
  }

  /**
   * The engine, opened on first use. Throws when closed, when the configuration is invalid
   * (a TypeError with code ML_ANOMALY_INVALID_CONFIG naming the option to fix) or when the addon
   * or the store cannot be opened.
   */
  _open() {
    if (this._engine) return this._engine;
    if (this._closed) throw new AnomalyError(CODES.CLOSED, 'ml-anomaly service is closed');
    // After a failure, retry at most every few seconds rather than on every request (each
    // attempt logs and costs an open); a configuration error waits for configure().
    const failed = this._openFailure;
    if (failed && (failed.config || Date.now() - failed.at < OPEN_RETRY_MS)) throw failed.error;
    let engine;
    let codec;
    let resolved;
    try {
      resolved = this._resolve();
      const NativeEngine = this._NativeEngine || loadNative().NativeEngine;
      try {
        engine = new NativeEngine(resolved.engine);
      } catch (err) {
        throw err && err.code === CODES.INVALID_CONFIG ? explainConfigError(err, resolved.sources) : err;
      }
      codec = new Codec(engine);
    } catch (err) {
      const config = err instanceof TypeError;
      const error = config && !err.code ? Object.assign(err, { code: CODES.INVALID_CONFIG }) : err;
      this._openFailure = { at: Date.now(), error, config };
      this.logger.error(
        config
          ? `ml-anomaly: invalid configuration, predictions fall back until it is fixed: ${err.message}`
          : `ml-anomaly: cannot open the engine: ${err && err.message}`,
      );
      throw error;
    }
    this._openFailure = null;
    this._engine = engine;
    this._codec = codec;
    this._watch.start();
    this.logger.info(`ml-anomaly: engine opened (store ${engine.config().storePath})`);
    // What the engine could not restore (a damaged or foreign state snapshot...): it started
    // afresh for that part; the count is the `startupWarnings` metric.
    for (const warning of engine.status().warnings || []) this.logger.warn(`ml-anomaly: ${warning}`);
    return engine;
  }

  _now() {
    const now = this._own().now;
    return now ? now() : Date.now();
  }

  _emit(event, payload) {
    try {
      this.emit(event, payload);
    } catch (err) {
      this.logger.error(`ml-anomaly: a '${event}' listener threw: ${err && err.message}`);
    }
  }

  // ----- the original's API -----------------------------------------------------------------

  /**
   * Opens the engine (loading the active model, the registry and the training window from the
   * store), starts the schedules and, when there is no model yet but enough samples, starts the
   * first training in the background. Resolves to true; to false when the engine cannot be opened
   * (addon not built, store unreadable, invalid configuration): it never rejects, because hosts
   * call it without a catch at startup and an unhandled rejection would stop the process. The
   * reason is logged and kept in `initializationError` (and emitted as a process warning unless
   * the host gave a logger of its own); until it is fixed, predictions get the fallback (the standard middleware
   * lets requests through, the strict one answers 503).
   */
  async initialize() {
    if (this._initialized) return true;
    if (!this._initializing) {
      this._initializing = (async () => {
        try {
          this._open();
        } catch (err) {
          this.initializationError = err;
          const own = this._rawOptions.logger;
          if (own === undefined || own === null || own === false) {
            process.emitWarning(`ml-anomaly: initialize() failed: ${err && err.message}`, { code: err && err.code });
          }
          return false;
        }
        this.initializationError = null;
        if (this._own().schedules) this._schedules.start();
        this._initialized = true;
        const m = this._engine.metrics();
        const active = m.activeModelVersion ?? null;
        this.logger.info(`ml-anomaly: initialized (active model ${active ?? 'none'}, ${m.trainingWindowSize} training samples)`);
        const r = this._engine.config().retraining;
        if (r.autoTrain && active === null && !m.isTraining && m.trainingWindowSize >= r.minSamplesForTraining) {
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
   * (the middlewares, benchmarks, custom middlewares). Throws TypeError on bad input; never throws
   * otherwise.
   */
  predictSync(sessionId, userId, requestContext) {
    const start = performance.now();
    const event = toEvent(sessionId, userId, requestContext, this._now());
    let prediction;
    try {
      this._open();
      prediction = this._codec.predict(event);
    } catch (err) {
      if (isInputError(err)) throw err;
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
    if (sids.length === 0) return [];
    try {
      const out = await this._open().predictBatch(sids, uids);
      return out.map(batchPrediction);
    } catch (err) {
      if (isInputError(err)) throw err;
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
      this._watch.failed(err, trigger);
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
    this._watch.hurry();
    let outcome;
    try {
      outcome = trainOutcome(await run);
    } catch (err) {
      this._watch.poll();
      this._training = null;
      this._watch.failed(err, trigger);
      return { trained: false, reason: 'error', error: err.message };
    }
    this._watch.poll(); // progress up to the end, without emitting the end twice
    this._training = null;
    if (outcome.trained) {
      this._watch.done({ ...outcome, trigger });
    } else {
      this.logger.info(`ml-anomaly: training skipped (${outcome.reason})`);
      this._emit('training:skipped', { ...outcome, trigger });
    }
    return outcome;
  }

  /**
   * Compares recent traffic with the active model's reference; retrains when the drift score is
   * above `driftThreshold`. Resolves to `{ driftDetected, driftScore, retrained }` plus the
   * engine's details (`report` with PSI/KS per feature, `skipped` when no assessment was
   * possible, `training`).
   */
  async checkDriftAndRetrain() {
    const engine = this._open();
    this._watch.hurry();
    const out = await engine.checkDriftAndRetrain(this._now());
    this._watch.poll();
    const result = { ...out, driftDetected: Boolean(out.driftDetected), driftScore: Number(out.driftScore) || 0, retrained: Boolean(out.retrained) };
    if (result.driftDetected) {
      this.logger.warn(`ml-anomaly: drift ${result.driftScore.toFixed(3)} above threshold (retrained: ${result.retrained})`);
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
    this._watch.poll();
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
   * `hours` (1 ..= 8760). `driftMetrics` is the original's `calculateDrift()` shape, its
   * `driftScore` always a number.
   */
  async getModelPerformance(hours = 24) {
    const h = boundedInt(hours, 'hours', { min: 1, max: HOURS_MAX, def: 24 });
    const p = await this._open().performance(h, this._now());
    return {
      ...p,
      modelPerformance: { isolationForest: p.isolationForest, autoencoder: p.autoencoder },
      driftMetrics: this.driftDetector.calculateDrift(),
    };
  }

  /** Everything an operator wants to see at once (GET /status). */
  status() {
    const engine = this._open();
    const s = engine.status();
    const r = engine.config().retraining;
    return {
      ...s,
      activeModelVersion: s.activeModel ? s.activeModel.version : null,
      initialized: this._initialized,
      isRetraining: this.isRetraining,
      lastRetrainingTime: this.lastRetrainingTime,
      lastTraining: s.lastTraining || this._watch.lastTraining,
      lastDriftCheck: this._lastDrift,
      trainingProgress: s.trainingProgress || this._watch.progress,
      middleware: s.metrics ? s.metrics.middleware : undefined,
      schedules: {
        ...s.schedules,
        running: this._schedules.running,
        driftCheckIntervalMs: r.driftCheckEnabled === false ? 0 : r.driftCheckIntervalMs,
        forcedRetrainIntervalMs: r.dailyRetrainForced === false ? 0 : r.forcedRetrainIntervalMs,
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

  /**
   * Counts something a middleware did without a prediction (`skippedWithoutUser`,
   * `skippedWithoutSession`, `ignoredLocation`): shown in `metrics()`, `status()` and
   * `/metrics`. Never throws (an engine that cannot open counts nothing).
   */
  recordMiddleware(event) {
    try {
      this._open().recordMiddleware(event);
    } catch {
      // nothing to count into
    }
  }

  /**
   * Records what was done to a request when it differs from what its prediction enforced (the
   * strict middleware's 403 is a BLOCK), so that the stored `actionTaken` says what happened.
   * Never throws.
   */
  recordActionTaken(predictionId, action) {
    const id = predictionIdOf(predictionId);
    if (id === null) return;
    try {
      this._open().recordActionTaken(id, action);
    } catch (err) {
      this.logger.error(`ml-anomaly: cannot record the action taken on prediction ${id}: ${err && err.message}`);
    }
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
   * Sessions with anomalies scoring at least `minScore` (0.7) in the last `hours` (24), highest
   * maximum first, at most `limit` (50): `{ sessionId, userId, anomalyCount, maxScore, avgScore,
   * lastSeen, topFeatures }` — what ExpenseFlow's admin example aggregated from its prediction
   * collection (docs/integration.md, "Migrating direct queries").
   */
  async suspiciousSessions({ hours = 24, minScore = 0.7, limit = 50 } = {}) {
    const h = boundedInt(hours, 'hours', { min: 1, max: HOURS_MAX, def: 24 });
    const l = boundedInt(limit, 'limit', { min: 1, max: 1000, def: 50 });
    if (typeof minScore !== 'number' || !(minScore >= 0 && minScore <= 1)) throw new TypeError('minScore must be a number in [0, 1]');
    return this._open().suspiciousSessions(h, minScore, this._now(), l);
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
   * Reports a security event (from the middlewares): calls `callback` (default: the
   * `onSecurityEvent` option) and emits 'security'. A failing callback is logged, never thrown.
   */
  reportSecurityEvent(event, callback = this._own().onSecurityEvent) {
    deliverSecurityEvent(callback, event, this.logger);
    this._emit('security', event);
  }

  _background(what, fn) {
    return Promise.resolve()
      .then(fn)
      .catch((err) => this.logger.error(`ml-anomaly: ${what} failed: ${err && err.message}`));
  }

  /** Stops the schedules (the service keeps serving). */
  stopSchedules() {
    this._schedules.stop();
  }

  /**
   * Stops the schedules, waits for a training this service started, flushes and closes the store.
   * Idempotent. Predictions after close get the fallback (with an error); other calls reject.
   */
  async close() {
    this._schedules.stop();
    this._watch.stop();
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
