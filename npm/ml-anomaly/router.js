'use strict';
/**
 * `require('ml-anomaly/router')`: `createRouter({ auth, requireAdmin, service })`, the
 * `/api/ml-anomaly` routes (the singleton's unless `service` is given).
 */
const { createRouter } = require('./lib/router');

module.exports = { createRouter };
