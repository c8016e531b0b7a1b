'use strict';
/**
 * The original middleware module's three route handlers, with its status codes and bodies.
 * ExpenseFlow's routes file imports them from the middleware module
 * (`const { batchMLAnalysis, getMLModelStatus, forceMLRetrain } = require('../middleware/mlAnomalyDetection')`)
 * and mounts them at POST /batch-analyze, GET /status and POST /retrain; the router here mounts the
 * same functions, so both answer alike.
 *
 * | handler            | answer                                                                         |
 * |--------------------|--------------------------------------------------------------------------------|
 * | `batchMLAnalysis`  | `{ success, predictions, count }`; 400 `Invalid request: sessionIds and userIds arrays required` when either is missing or the lengths differ |
 * | `getMLModelStatus` | `{ success, performance: getModelPerformance(24), isRetraining, lastRetrainingTime }` plus `status` (the service's full status) |
 * | `forceMLRetrain`   | 403 `Admin access required` unless the caller is an admin; otherwise starts `forceRetrain()` without waiting: `{ success, message: 'Model retraining initiated' }` plus `alreadyTraining` |
 *
 * Failures answer 500 with the original's messages. A batch is bounded (at most 1000 pairs, a
 * 400 beyond) so that one request cannot hold the engine for long.
 */

const { defaultIsAdmin } = require('./identity');
const { CONSOLE } = require('./config');

const MAX_BATCH = 1000;
const INVALID_BATCH = 'Invalid request: sessionIds and userIds arrays required';

/**
 * `{ batchMLAnalysis, getMLModelStatus, forceMLRetrain }` over `service`. options: `isAdmin(req)`
 * (default lib/identity.js), `logger()` (a function returning the logger).
 */
function createHandlers(service, { isAdmin = defaultIsAdmin, logger = () => CONSOLE } = {}) {
  const fail = (res, status, error) => res.status(status).json({ success: false, error });

  async function batchMLAnalysis(req, res) {
    try {
      const { sessionIds, userIds } = req.body || {};
      if (!Array.isArray(sessionIds) || !Array.isArray(userIds) || sessionIds.length !== userIds.length) {
        return fail(res, 400, INVALID_BATCH);
      }
      if (sessionIds.length > MAX_BATCH) {
        return fail(res, 400, `Invalid request: at most ${MAX_BATCH} sessions per batch (got ${sessionIds.length})`);
      }
      let predictions;
      try {
        predictions = await service.predictBatch(sessionIds, userIds);
      } catch (err) {
        if (err instanceof TypeError) return fail(res, 400, `Invalid request: ${err.message}`);
        throw err;
      }
      return res.json({ success: true, predictions, count: predictions.length });
    } catch (err) {
      logger().error(`ml-anomaly: batch analysis failed: ${err && err.stack}`);
      return fail(res, 500, 'Batch analysis failed');
    }
  }

  async function getMLModelStatus(req, res) {
    try {
      const performance = await service.getModelPerformance(24);
      const body = {
        success: true,
        performance,
        isRetraining: service.isRetraining,
        lastRetrainingTime: service.lastRetrainingTime,
      };
      if (typeof service.status === 'function') body.status = service.status();
      return res.json(body);
    } catch (err) {
      logger().error(`ml-anomaly: model status failed: ${err && err.stack}`);
      return fail(res, 500, 'Failed to get model status');
    }
  }

  function forceMLRetrain(req, res) {
    try {
      if (!isAdmin(req)) return fail(res, 403, 'Admin access required');
      const alreadyTraining = Boolean(service.isRetraining);
      Promise.resolve()
        .then(() => service.forceRetrain())
        .catch((err) => logger().error(`ml-anomaly: forced retrain failed: ${err && err.message}`));
      return res.json({ success: true, message: 'Model retraining initiated', alreadyTraining });
    } catch (err) {
      logger().error(`ml-anomaly: forced retrain failed: ${err && err.stack}`);
      return fail(res, 500, 'Failed to initiate retraining');
    }
  }

  return { batchMLAnalysis, getMLModelStatus, forceMLRetrain };
}

module.exports = { createHandlers, MAX_BATCH };
