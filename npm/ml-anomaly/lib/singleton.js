'use strict';
/**
 * The process-wide service: what `require('ml-anomaly/service')` returns, as ExpenseFlow's
 * `require('./services/mlAnomalyDetectionService')` did, and the original middleware module's
 * five functions bound to it. It reads the ML_ANOMALY_* environment variables (lib/config.js) and
 * can be configured with `configure(options)` at any time.
 */

const { AnomalyService } = require('./service');
const { createMiddleware } = require('./middleware');

const service = new AnomalyService({}, { env: process.env });
const bound = createMiddleware(service);

module.exports = { service, ...bound };
