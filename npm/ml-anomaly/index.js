'use strict';
/**
 * ml-anomaly: behavioral anomaly detection for Express apps, a native drop-in replacement for
 * ExpenseFlow's mlAnomalyDetectionService, its two middlewares and its `/api/ml-anomaly` routes.
 *
 *   const { service, mlAnomalyCheck, strictMLCheck, createRouter } = require('ml-anomaly');
 *   const { NativeModel } = require('ml-anomaly');   // offline scoring of stored vectors
 *
 * See README.md and index.d.ts. Nothing here loads the native addon: that happens when a service
 * first needs its engine (`initialize()` or the first prediction), or at `NativeModel.fromJson`.
 */

const { service, mlAnomalyCheck, strictMLCheck, batchMLAnalysis, getMLModelStatus, forceMLRetrain } = require('./lib/singleton');
const { AnomalyService } = require('./lib/service');
const { createMiddleware } = require('./lib/middleware');
const { createRouter } = require('./lib/router');
const { buildRequestContext, defaultEndpointSensitivity } = require('./lib/context');
const { fallbackPrediction } = require('./lib/prediction');
const { AnomalyError, CODES } = require('./lib/errors');
const { SPEC, PACKAGE_DEFAULTS, flatValue } = require('./lib/config');
const { loadNative, nativePath } = require('./lib/native');
const { NativeModel } = require('./lib/model');

/** A new, independent service (its own engine and store). Reads no environment variables. */
function createAnomalyService(options = {}) {
  return new AnomalyService(options);
}

/** Configures the singleton (before `initialize()` or its first prediction). Returns it. */
function configure(options) {
  return service.configure(options);
}

/**
 * The default value of every flat option (lib/config.js), read from the engine, which owns them
 * (loads the addon on first access; throws the addon's "not found" error without it).
 */
function defaults() {
  const config = loadNative().resolveEngineConfig({});
  const out = {};
  for (const spec of SPEC) out[spec[0]] = spec[3] === null ? PACKAGE_DEFAULTS[spec[0]] : flatValue(spec, config);
  return Object.freeze(out);
}

module.exports = {
  service,
  mlAnomalyCheck,
  strictMLCheck,
  batchMLAnalysis,
  getMLModelStatus,
  forceMLRetrain,
  createAnomalyService,
  configure,
  createMiddleware,
  createRouter,
  buildRequestContext,
  defaultEndpointSensitivity,
  fallbackPrediction,
  AnomalyService,
  NativeModel,
  AnomalyError,
  ERROR_CODES: CODES,
  loadNative,
  nativePath,
};
Object.defineProperty(module.exports, 'DEFAULTS', { enumerable: true, get: defaults });
