'use strict';
/**
 * Loads the native addon (crates/node, built by scripts/build-addon.sh).
 *
 * Why lazily: requiring the package must never fail, even where the addon is not built yet (an
 * app can still mount the middlewares, which then fail open with the fallback prediction, and a
 * test can drive them with its own service). The addon is loaded the first time a service needs
 * its engine, and a missing addon becomes one clear error with the command that builds it.
 *
 * Where from: `ML_ANOMALY_NATIVE_PATH` when set, else `native/ml_anomaly.node` inside the package.
 *
 * The addon exports two classes. `NativeModel` (crates/node/src/model.rs): one model bundle,
 * scored offline; lib/model.js wraps it (`NativeModel.fromJson(text)`, then `score`, `predict`,
 * `attribution`, `featureNames`, `baselines`, `thresholds`; synchronous). And `NativeEngine`
 * (crates/node/src/engine.rs); lib/service.js and lib/prediction.js are its only callers. Times
 * are milliseconds since the epoch, supplied by the caller. Calls marked Promise run on libuv's
 * thread pool; the others are synchronous.
 *
 *   new NativeEngine(config)              engine config (camelCase EngineConfig); TypeError if invalid
 *   predictInto(out, timestamp, sessionId, userId, endpoint, method, ipAddress, userAgent,
 *               contentLength, sensitivityCode, sessionStartedAt, sessionAgeMs, lat, lon,
 *               deviceFingerprint, statusCode, isWeekend, isBusinessHours, signals)
 *                                         observe + score one request; the answer as numbers in
 *                                         `out` (lib/prediction.js), returns summary/error text
 *   featureNames(), signalNames(), actionNames(), layout()   what decodes `out`
 *   predictBatch(sessionIds, userIds)     Promise: rescore sessions' latest requests
 *   train(force, nowMs)                   Promise: { status: 'trained' | 'skipped', ... }
 *   checkDriftAndRetrain(nowMs)           Promise: { driftDetected, driftScore, retrained, ... }
 *   maintenance(nowMs)                    Promise: the periodic jobs that are due
 *   performance(hours, nowMs)             Promise: aggregates of stored predictions
 *   status(), metrics(), prometheus(), driftStatus(), activeModel(), isTraining(),
 *   trainingSnapshot()                    in-memory state
 *   modelHistory(limit), modelBundle(version), activateModel(version, nowMs)       Promise
 *   prediction(id, requesterUserId, isAdmin), explainPrediction(id, exact),
 *   recentAnomalies(userId, hours, nowMs, limit), submitFeedback(id, userId, feedback, nowMs),
 *   falsePositives(limit), statistics(userId, days, nowMs)                         Promise
 *   setSchedulesEnabled(driftCheck, forcedRetrain)
 *   flush(), close()                      Promise
 *
 * Errors: TypeError for invalid input or configuration; otherwise Error with a `code`
 * (ML_ANOMALY_NOT_FOUND, ML_ANOMALY_FORBIDDEN, ML_ANOMALY_STORAGE, ML_ANOMALY_MODEL,
 * ML_ANOMALY_CLOSED, ML_ANOMALY_INTERNAL, ML_ANOMALY_PANIC).
 */

const path = require('node:path');
const { AnomalyError, CODES } = require('./errors');

const DEFAULT_PATH = path.join(__dirname, '..', 'native', 'ml_anomaly.node');

let cached = null;

/** Path the addon is loaded from. */
function nativePath() {
  return process.env.ML_ANOMALY_NATIVE_PATH || DEFAULT_PATH;
}

/**
 * The addon's exports (`{ NativeEngine, ... }`). Throws an AnomalyError with code
 * `ML_ANOMALY_NATIVE_MISSING` when it cannot be loaded.
 */
function loadNative() {
  if (cached) return cached;
  const file = nativePath();
  try {
    cached = require(file);
  } catch (cause) {
    const missing = cause && cause.code === 'MODULE_NOT_FOUND';
    throw new AnomalyError(
      CODES.NATIVE_MISSING,
      missing
        ? `ml-anomaly: native addon not found at ${file}; build it with scripts/build-addon.sh`
        : `ml-anomaly: native addon at ${file} failed to load: ${cause && cause.message}`,
      { cause },
    );
  }
  return cached;
}

module.exports = { loadNative, nativePath };
