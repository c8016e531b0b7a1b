'use strict';
/**
 * `require('ml-anomaly/service')`: the singleton service, a drop-in for ExpenseFlow's
 * `require('./services/mlAnomalyDetectionService')`.
 */
module.exports = require('./lib/singleton').service;
