'use strict';
/**
 * `require('ml-anomaly/middleware')`: a drop-in for ExpenseFlow's
 * `require('./middleware/mlAnomalyDetection')` — its five exports bound to the singleton service
 * (`mlAnomalyCheck`, `strictMLCheck`, and the route handlers `batchMLAnalysis`,
 * `getMLModelStatus`, `forceMLRetrain` that ExpenseFlow's routes file imports) — plus
 * `createMiddleware` for another service.
 */
const { mlAnomalyCheck, strictMLCheck, batchMLAnalysis, getMLModelStatus, forceMLRetrain } = require('./lib/singleton');
const { createMiddleware } = require('./lib/middleware');

module.exports = { mlAnomalyCheck, strictMLCheck, batchMLAnalysis, getMLModelStatus, forceMLRetrain, createMiddleware };
