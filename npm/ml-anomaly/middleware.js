'use strict';
/**
 * `require('ml-anomaly/middleware')`: `{ mlAnomalyCheck, strictMLCheck }` bound to the singleton,
 * a drop-in for ExpenseFlow's `require('./middleware/mlAnomalyDetection')`, plus `createMiddleware`.
 */
const { mlAnomalyCheck, strictMLCheck } = require('./lib/singleton');
const { createMiddleware } = require('./lib/middleware');

module.exports = { mlAnomalyCheck, strictMLCheck, createMiddleware };
