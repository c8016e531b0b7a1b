'use strict';
/**
 * The `/api/ml-anomaly` routes: the original's thirteen, plus `GET /metrics` (Prometheus text),
 * `GET /models/:version/bundle` (the model for the browser viewer), `GET
 * /predictions/:id/explanation` (every feature's exact attribution, for the viewer), `POST
 * /models/:version/activate` (rollback) and, with the `viewer` option, the explanation viewer
 * (npm/viewer, package `ml-anomaly-viewer`) under `/viewer`, admin only.
 *
 * Bodies have the original's top-level keys and shapes (ExpenseFlow's dashboards read them);
 * keys of our own may be added beside them, never instead of them:
 *
 * | route                              | who   | body                                                                 |
 * |------------------------------------|-------|----------------------------------------------------------------------|
 * | GET  /status                       | admin | `{ performance, isRetraining, lastRetrainingTime }` + `status`        |
 * | POST /retrain                      | admin | `{ message: 'Model retraining initiated' }` (not awaited) + `alreadyTraining` |
 * | POST /initialize                   | admin | `{ message, training: true }`, or `{ message, training: false, modelVersion }` |
 * | POST /batch-analyze                | admin | `{ predictions, count }`                                             |
 * | GET  /models/history?limit=10      | admin | `{ models: [{ version, isActive, trainingDate, trainingSize, validationMetrics }] }` |
 * | GET  /models/active                | admin | `{ model: {...} }`; 404 'No active model found'                      |
 * | GET  /drift/status                 | admin | `{ drift: calculateDrift(), statistics: getStatistics() }` + `status` |
 * | GET  /performance?hours=24         | admin | `{ performance, databaseMetrics }`                                   |
 * | GET  /false-positives?limit=100    | admin | `{ falsePositives: [{ id, timestamp, userId, anomalyScore, explanation, feedback }], count }` |
 * | GET  /predictions/recent?hours=24  | user  | `{ predictions: [{ timestamp, anomalyScore, confidence, explanation, actionTaken }] }` |
 * | GET  /predictions/:id              | user  | `{ prediction }` (owner or admin; 404 'Prediction not found', 403 'Access denied') |
 * | POST /predictions/:id/feedback     | user  | `{ message: 'Feedback submitted successfully' }` + `feedback`         |
 * | GET  /statistics?days=7            | user  | `{ statistics: [{ _id: 'YYYY-MM-DD', totalPredictions, anomalyCount, avgAnomalyScore, maxAnomalyScore }] }` |
 * | GET  /predictions/:id/explanation  | user  | `{ data }`: exact recomputed explanation (owner or admin)            |
 * | GET  /models/:version/bundle       | admin | the bundle's JSON                                                    |
 * | POST /models/:version/activate     | admin | `{ data }`: the activated model                                      |
 * | GET  /metrics                      | admin | Prometheus text                                                      |
 *
 * Every JSON answer has `success: true|false`; errors are `{ success: false, error }`. An
 * explanation summary is the original's `{ summary, topFeatures (3), confidence, modelAgreement }`
 * ('No explanation available' without one); dates are ISO strings as the original's documents
 * serialized them. Parameters are validated: `hours` 1..8760, `days` 1..365, `limit` 1..1000,
 * batches of at most 1000 pairs; anything else is a 400 with the reason.
 *
 * Why `auth` and `requireAdmin` are options: the original imported the host's own middlewares;
 * taking them as arguments keeps the routes the host's while the code is ours.
 */

const { createRequire } = require('node:module');
const path = require('node:path');

const { boundedInt } = require('./validate');
const { httpStatusOf } = require('./errors');
const { CONSOLE } = require('./config');
const { userIdOf, defaultIsAdmin } = require('./identity');
const { createHandlers } = require('./handlers');

const NO_EXPLANATION = 'No explanation available';

/** The original's explanation summary of a stored explanation. */
function explanationSummary(explanation, confidence) {
  if (!explanation) return NO_EXPLANATION;
  return {
    summary: explanation.summary,
    topFeatures: (explanation.topFeatures || []).slice(0, 3),
    confidence,
    modelAgreement: explanation.modelAgreement,
  };
}

/** The original's `getModelInfo()` of a registered model, with our fields beside it. */
function modelInfo(m, iso) {
  const t = m.trainingMetrics || {};
  return {
    version: m.version,
    isActive: m.isActive,
    trainingDate: iso(t.trainedAt ?? m.createdAt),
    trainingSize: t.trainingSize,
    validationMetrics: {
      autoencoderValidationLoss: t.autoencoderBestValidationLoss,
      autoencoderEpochs: t.autoencoderEpochsRun,
      trainingAlarmRate: t.trainingAlarmRate,
      meanComposite: t.meanComposite,
    },
    createdAt: iso(m.createdAt),
    deactivatedAt: iso(m.deactivatedAt),
    sizeBytes: m.sizeBytes,
    trainingMetrics: t,
  };
}

function loadExpress() {
  // The host's express (peer dependency), resolved from the host app when possible.
  const candidates = [path.join(process.cwd(), 'package.json'), __filename];
  for (const from of candidates) {
    try {
      return createRequire(from)('express');
    } catch {
      // try the next
    }
  }
  throw new Error("ml-anomaly: createRouter needs 'express' (npm install express)");
}

const VIEWER_PACKAGE = 'ml-anomaly-viewer';

/**
 * `require('ml-anomaly-viewer')`, resolved from the host app first (which installs the viewer
 * next to ml-anomaly), then from this package (the repository's npm workspace). Loaded only when
 * the `viewer` option asks for it. Throws one clear error when it is not installed: a router
 * asked to serve the viewer must not start without it.
 */
function loadViewerPackage() {
  const candidates = [path.join(process.cwd(), 'package.json'), __filename];
  for (const from of candidates) {
    try {
      return createRequire(from)(VIEWER_PACKAGE);
    } catch (err) {
      // Only "not installed here" moves on; a broken install is reported as it is.
      if (!err || err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes(`'${VIEWER_PACKAGE}'`)) throw err;
    }
  }
  throw new Error(
    `ml-anomaly: createRouter({ viewer }) needs the explanation viewer package '${VIEWER_PACKAGE}' ` +
      '(npm/viewer in the ml-anomaly repository): install it next to ml-anomaly, or pass its handler ' +
      "yourself: viewer: require('ml-anomaly-viewer').createViewerHandler()",
  );
}

/**
 * The request handler for `/viewer`, or null for no viewer. `viewer` is
 * - `true`: the installed viewer package's handler;
 * - `{ root }` (or `{ staticDir }`, the older spelling): that handler over the viewer built in
 *   `root` (same allow-list and Content-Security-Policy);
 * - a function `(req, res) => void`: mounted as it is (e.g. `createViewerHandler(options)`).
 *
 * Why not `express.static(dir)`: it would also serve the package's package.json, serve.js and
 * handler.cjs, and it sends no Content-Security-Policy; the viewer's handler serves exactly the
 * page, its sources and the wasm package, under the policy the page is written for.
 */
function viewerHandler(viewer) {
  if (viewer === undefined || viewer === null || viewer === false) return null;
  if (typeof viewer === 'function') return viewer;
  if (viewer === true) return loadViewerPackage().createViewerHandler();
  if (typeof viewer !== 'object') {
    throw new TypeError('createRouter: viewer must be true, { root }, or a request handler');
  }
  const root = viewer.root !== undefined ? viewer.root : viewer.staticDir;
  if (root !== undefined && (typeof root !== 'string' || root.length === 0)) {
    throw new TypeError('createRouter: viewer.root must be the directory of the built viewer');
  }
  const { createViewerHandler } = loadViewerPackage();
  return createViewerHandler(root === undefined ? {} : { root: path.resolve(root) });
}

/**
 * @param {object} options
 * @param {Function} options.auth        the host's authentication middleware (required)
 * @param {Function} [options.requireAdmin] the host's admin check (default: `isAdmin(req)` or 403)
 * @param {object}   [options.service]   the service (default: the singleton)
 * @param {Function} [options.getUserId] caller's user id (default: lib/identity.js: req.userId,
 *                                       req.user._id, req.user.id)
 * @param {Function} [options.isAdmin]   whether the caller is an admin (default: lib/identity.js:
 *                                       req.user.isAdmin === true or req.user.role === 'admin')
 * @param {true|{root?: string, staticDir?: string}|Function} [options.viewer] serve the explanation
 *                                       viewer at /viewer (admin only; see viewerHandler)
 * @param {object}   [options.logger]
 */
function createRouter(options = {}) {
  if (!options || typeof options !== 'object') throw new TypeError('createRouter(options): options must be an object');
  const { auth } = options;
  if (typeof auth !== 'function') {
    throw new TypeError('createRouter(options): options.auth must be the host app\'s authentication middleware');
  }
  const service = options.service || require('./singleton').service;
  const getUserId = options.getUserId || userIdOf;
  const isAdmin = options.isAdmin || defaultIsAdmin;
  const logger = () => options.logger || (service && service.logger) || CONSOLE;
  const requireAdmin =
    options.requireAdmin ||
    function requireAdmin(req, res, next) {
      if (isAdmin(req)) return next();
      return res.status(403).json({ success: false, error: 'Admin access required' });
    };
  if (typeof requireAdmin !== 'function') throw new TypeError('createRouter(options): options.requireAdmin must be a function');

  const express = options.express || loadExpress();
  const router = express.Router();
  router.use(express.json({ limit: '1mb' }));

  const fail = (res, status, error) => res.status(status).json({ success: false, error });

  /**
   * Wraps a handler: thrown errors become JSON answers with the right status. `messages`: the
   * original's error text by status, where it had one (404 'Prediction not found'...).
   */
  const handle = (fn, messages = {}) => async (req, res, next) => {
    try {
      await fn(req, res, next);
    } catch (err) {
      const status = httpStatusOf(err);
      if (status >= 500) logger().error(`ml-anomaly: ${req.method} ${req.originalUrl} failed: ${err && err.stack}`);
      if (res.headersSent) return;
      fail(res, status, messages[status] || (status === 500 ? 'Internal error' : err.message));
    }
  };
  const PREDICTION_ERRORS = { 404: 'Prediction not found', 403: 'Access denied' };

  /** The caller's user id, or a 401 answer. */
  const callerOr401 = (req, res) => {
    const id = getUserId(req);
    if (id === undefined || id === '') {
      fail(res, 401, 'Authentication required');
      return undefined;
    }
    return id;
  };

  const admin = [auth, requireAdmin];
  const user = [auth];

  const handlers = createHandlers(service, { isAdmin, logger });

  /** ms since the epoch → ISO text, as the original's Mongo documents serialized dates. */
  const iso = (ms) => (typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : ms ?? null);
  // A feedback report and a stored record with their dates as the original's documents had them.
  const feedbackOut = (f) => (f ? { ...f, submittedAt: iso(f.submittedAt) } : f);
  const recordOut = (r) => ({
    ...r,
    timestamp: iso(r.timestamp),
    userFeedback: feedbackOut(r.userFeedback),
    ...(r.feedbackHistory ? { feedbackHistory: r.feedbackHistory.map(feedbackOut) } : {}),
  });

  // ----- admin: the original's handlers -----------------------------------------------------------
  router.get('/status', ...admin, handlers.getMLModelStatus);
  router.post('/retrain', ...admin, handlers.forceMLRetrain);
  router.post('/batch-analyze', ...admin, handlers.batchMLAnalysis);

  router.post('/initialize', ...admin, handle(async (req, res) => {
    const ok = await service.initialize();
    if (!ok) {
      const err = service.initializationError;
      return res.status(500).json({ success: false, error: 'Failed to initialize ML system', reason: err ? err.message : 'unknown error' });
    }
    const active = service.activeModel();
    if (!active) {
      service.trainModels().catch((err) => logger().error(`ml-anomaly: initial training failed: ${err && err.message}`));
      return res.json({ success: true, message: 'ML system initialized. Background training started.', training: true });
    }
    return res.json({ success: true, message: 'ML system initialized successfully', training: false, modelVersion: active.version });
  }));

  router.get('/models/history', ...admin, handle(async (req, res) => {
    const limit = boundedInt(req.query.limit, 'limit', { min: 1, max: 1000, def: 10 });
    const models = await service.modelHistory(limit);
    res.json({ success: true, models: models.map((m) => modelInfo(m, iso)) });
  }));

  router.get('/models/active', ...admin, handle((req, res) => {
    const model = service.activeModel();
    if (!model) return fail(res, 404, 'No active model found');
    return res.json({ success: true, model: modelInfo(model, iso) });
  }));

  router.get('/models/:version/bundle', ...admin, handle(async (req, res) => {
    const version = boundedInt(req.params.version, 'version', { min: 1, max: 2 ** 31 - 1, def: undefined });
    const text = await service.modelBundle(version);
    res.type('application/json').send(text);
  }));

  router.post('/models/:version/activate', ...admin, handle(async (req, res) => {
    const version = boundedInt(req.params.version, 'version', { min: 1, max: 2 ** 31 - 1, def: undefined });
    res.json({ success: true, data: await service.activateModel(version) });
  }));

  router.get('/drift/status', ...admin, handle((req, res) => {
    const detector = service.driftDetector;
    res.json({ success: true, drift: detector.calculateDrift(), statistics: detector.getStatistics(), status: service.driftStatus() });
  }));

  router.get('/performance', ...admin, handle(async (req, res) => {
    const hours = boundedInt(req.query.hours, 'hours', { min: 1, max: 8760, def: 24 });
    const performance = await service.getModelPerformance(hours);
    res.json({
      success: true,
      performance,
      databaseMetrics: {
        totalPredictions: performance.totalPredictions,
        anomalyCount: performance.anomalyCount,
        avgCompositeScore: performance.averageAnomalyScore,
        avgConfidence: performance.averageConfidence,
        avgProcessingTime: performance.averageProcessingTime,
        falsePositiveCount: performance.falsePositiveReports,
      },
    });
  }));

  router.get('/false-positives', ...admin, handle(async (req, res) => {
    const limit = boundedInt(req.query.limit, 'limit', { min: 1, max: 1000, def: 100 });
    const records = await service.falsePositives(limit);
    const falsePositives = records.map((r) => ({
      id: r.id,
      timestamp: iso(r.timestamp),
      userId: r.userId,
      anomalyScore: r.compositeScore,
      explanation: explanationSummary(r.explanation, r.confidence),
      feedback: feedbackOut(r.userFeedback),
    }));
    res.json({ success: true, falsePositives, count: falsePositives.length });
  }));

  router.get('/metrics', ...admin, handle((req, res) => {
    res.type('text/plain; version=0.0.4; charset=utf-8').send(service.prometheus());
  }));

  // ----- user ------------------------------------------------------------------------------------
  router.get('/predictions/recent', ...user, handle(async (req, res) => {
    const userId = callerOr401(req, res);
    if (userId === undefined) return;
    const hours = boundedInt(req.query.hours, 'hours', { min: 1, max: 8760, def: 24 });
    const limit = boundedInt(req.query.limit, 'limit', { min: 1, max: 1000, def: 100 });
    const anomalies = await service.recentAnomalies(userId, { hours, limit });
    res.json({
      success: true,
      predictions: anomalies.map((a) => ({
        timestamp: iso(a.timestamp),
        anomalyScore: a.anomalyScore,
        confidence: a.confidence,
        explanation: a.modelAgreement === null || a.modelAgreement === undefined
          ? NO_EXPLANATION
          : { summary: a.summary, topFeatures: a.topFeatures, confidence: a.confidence, modelAgreement: a.modelAgreement },
        actionTaken: a.actionTaken,
        id: a.id,
        recommendedAction: a.recommendedAction,
      })),
    });
  }));

  router.get('/predictions/:id', ...user, handle(async (req, res) => {
    const userId = callerOr401(req, res);
    if (userId === undefined) return;
    const record = await service.getPrediction(req.params.id, { userId, isAdmin: isAdmin(req) });
    res.json({ success: true, prediction: recordOut(record) });
  }, PREDICTION_ERRORS));

  router.get('/predictions/:id/explanation', ...user, handle(async (req, res) => {
    const userId = callerOr401(req, res);
    if (userId === undefined) return;
    const exact = req.query.method !== 'fast';
    res.json({ success: true, data: await service.explainPrediction(req.params.id, { exact, userId, isAdmin: isAdmin(req) }) });
  }, PREDICTION_ERRORS));

  router.post('/predictions/:id/feedback', ...user, handle(async (req, res) => {
    const userId = callerOr401(req, res);
    if (userId === undefined) return;
    // JSON only: a text/plain or form body is a CORS "simple" request that another site can make
    // a signed-in browser send, and an empty body must not overwrite a report.
    if (!req.is('application/json')) {
      return fail(res, 415, 'feedback must be sent as application/json { isFalsePositive, isFalseNegative, notes }');
    }
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return fail(res, 400, 'body must be a JSON object { isFalsePositive, isFalseNegative, notes }');
    }
    if (!['isFalsePositive', 'isFalseNegative', 'notes'].some((k) => body[k] !== undefined && body[k] !== null)) {
      return fail(res, 400, 'feedback needs at least one of isFalsePositive, isFalseNegative, notes');
    }
    const feedback = await service.submitFeedback(req.params.id, userId, {
      isFalsePositive: body.isFalsePositive,
      isFalseNegative: body.isFalseNegative,
      notes: body.notes,
    });
    return res.json({ success: true, message: 'Feedback submitted successfully', feedback: feedbackOut(feedback) });
  }, PREDICTION_ERRORS));

  router.get('/statistics', ...user, handle(async (req, res) => {
    const userId = callerOr401(req, res);
    if (userId === undefined) return;
    const days = boundedInt(req.query.days, 'days', { min: 1, max: 365, def: 7 });
    const days_ = await service.statistics(userId, days);
    res.json({
      success: true,
      statistics: days_.map((d) => ({
        _id: d.date,
        totalPredictions: d.totalPredictions,
        anomalyCount: d.anomalyCount,
        avgAnomalyScore: d.avgAnomalyScore,
        maxAnomalyScore: d.maxAnomalyScore,
        dayStart: iso(d.dayStart),
      })),
    });
  }));

  // ----- viewer (npm/viewer's own handler: its files only, with its CSP) ---------------------------
  const viewer = viewerHandler(options.viewer);
  if (viewer) router.use('/viewer', ...admin, viewer);

  // Malformed JSON bodies and anything else thrown by middleware in this router.
  // eslint-disable-next-line no-unused-vars
  router.use((err, req, res, next) => {
    const status = err && err.type === 'entity.parse.failed' ? 400 : err && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) logger().error(`ml-anomaly: ${req.method} ${req.originalUrl} failed: ${err && err.stack}`);
    if (res.headersSent) return;
    fail(res, status, status === 400 && err.type === 'entity.parse.failed' ? 'Invalid JSON body' : status === 500 ? 'Internal error' : err.message);
  });

  return router;
}

module.exports = { createRouter, explanationSummary };
