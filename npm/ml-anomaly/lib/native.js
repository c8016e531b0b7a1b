'use strict';
/**
 * Loads the native addon (crates/node, built by scripts/build-addon.sh).
 *
 * Why lazily: requiring the package must never fail, even where the addon is not built yet (an
 * app can still mount the middlewares, which then fail open with the fallback prediction, and a
 * test can drive them with its own service). The addon is loaded the first time a service needs
 * its engine, and a missing addon becomes one clear error with the command that builds it.
 *
 * Where from, first found wins:
 * 1. `ML_ANOMALY_NATIVE_PATH`, when set (and then only there: an explicit path that does not load
 *    is an error, not a reason to pick another binary);
 * 2. `native/ml_anomaly.node` inside the package: a build from source (scripts/build-addon.sh);
 * 3. the platform package of the running platform, `ml-anomaly-<platform>` (an optional
 *    dependency of the published package, as napi-rs packages do; the platforms are the table
 *    in ../platforms.json).
 * Nothing found is one error naming the platform and the package to install.
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

const fs = require('node:fs');
const path = require('node:path');
const { AnomalyError, CODES } = require('./errors');
const { binaryName, platforms } = require('../platforms.json');

const PACKAGE_NAME = 'ml-anomaly';
const DEFAULT_PATH = path.join(__dirname, '..', 'native', `${binaryName}.node`);

let cached = null;

/** glibc or musl: Node reports the glibc it runs on, and nothing on musl. */
function linuxLibc() {
  try {
    const report = process.report && process.report.getReport();
    const header = report && (typeof report === 'string' ? JSON.parse(report).header : report.header);
    return header && header.glibcVersionRuntime ? 'glibc' : 'musl';
  } catch {
    return 'glibc';
  }
}

/** The running platform's entry of platforms.json, or `{ platform }` alone when none is built. */
function currentPlatform() {
  const libc = process.platform === 'linux' ? linuxLibc() : undefined;
  const entry = platforms.find((p) => p.os === process.platform && p.cpu === process.arch && (p.libc === undefined || p.libc === libc));
  if (entry) return entry;
  const suffix = process.platform === 'linux' ? `-${libc === 'musl' ? 'musl' : 'gnu'}` : process.platform === 'win32' ? '-msvc' : '';
  return { platform: `${process.platform}-${process.arch}${suffix}` };
}

/** The platform package's name for `entry` (`ml-anomaly-linux-x64-gnu`...). */
function platformPackage(entry) {
  return `${PACKAGE_NAME}-${entry.platform}`;
}

/** The addon file inside the platform package, or null when that package is not installed. */
function platformPackageFile(entry) {
  try {
    const manifest = require.resolve(`${platformPackage(entry)}/package.json`);
    return path.join(path.dirname(manifest), `${binaryName}.${entry.platform}.node`);
  } catch {
    return null;
  }
}

/** Path the addon is loaded from (for a missing addon: where a build from source would put it). */
function nativePath() {
  if (process.env.ML_ANOMALY_NATIVE_PATH) return process.env.ML_ANOMALY_NATIVE_PATH;
  if (fs.existsSync(DEFAULT_PATH)) return DEFAULT_PATH;
  const entry = currentPlatform();
  return (entry.target && platformPackageFile(entry)) || DEFAULT_PATH;
}

function missingMessage(file) {
  if (process.env.ML_ANOMALY_NATIVE_PATH) {
    return `ml-anomaly: native addon not found at ${file} (ML_ANOMALY_NATIVE_PATH); build it with scripts/build-addon.sh`;
  }
  const entry = currentPlatform();
  if (!entry.target) {
    const known = platforms.map((p) => p.platform).join(', ');
    return (
      `ml-anomaly: no prebuilt native addon for ${entry.platform} (prebuilt: ${known}); ` +
      'build it from source with scripts/build-addon.sh and point ML_ANOMALY_NATIVE_PATH at it'
    );
  }
  return (
    `ml-anomaly: native addon for ${entry.platform} not found: install ${platformPackage(entry)} ` +
    `(npm installs it with ${PACKAGE_NAME} as an optional dependency unless optional dependencies were ` +
    'omitted, or the lockfile was made on another platform), or build it from source with scripts/build-addon.sh'
  );
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
      missing ? missingMessage(file) : `ml-anomaly: native addon at ${file} failed to load: ${cause && cause.message}`,
      { cause },
    );
  }
  return cached;
}

module.exports = { loadNative, nativePath, currentPlatform, platformPackage };
