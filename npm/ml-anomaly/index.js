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

const { service, mlAnomalyCheck, strictMLCheck } = require('./lib/singleton');
const { AnomalyService } = require('./lib/service');
const { createMiddleware } = require('./lib/middleware');
const { createRouter } = require('./lib/router');
const { buildRequestContext, defaultEndpointSensitivity } = require('./lib/context');
const { fallbackPrediction } = require('./lib/fallback');
const { AnomalyError, CODES } = require('./lib/errors');
const { DEFAULTS } = require('./lib/config');
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

module.exports = {
  service,
  mlAnomalyCheck,
  strictMLCheck,
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
  DEFAULTS,
  loadNative,
  nativePath,
};
