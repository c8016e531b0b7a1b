'use strict';
/**
 * The process-wide service: what `require('ml-anomaly/service')` returns, as ExpenseFlow's
 * `require('./services/mlAnomalyDetectionService')` did. It reads the ML_ANOMALY_* environment
 * variables (lib/config.js) and can be configured with `configure(options)` until it is initialized.
 */

const { AnomalyService } = require('./service');
const { createMiddleware } = require('./middleware');

const service = new AnomalyService({}, { env: process.env });
const { mlAnomalyCheck, strictMLCheck } = createMiddleware(service);

module.exports = { service, mlAnomalyCheck, strictMLCheck };
