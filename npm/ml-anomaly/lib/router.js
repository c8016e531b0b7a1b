'use strict';
/**
 * The `/api/ml-anomaly` routes: the original's thirteen, plus `GET /metrics` (Prometheus text),
 * `GET /models/:version/bundle` (the model for the browser viewer), `GET
 * /predictions/:id/explanation` (every feature's exact attribution, for the viewer), `POST
 * /models/:version/activate` (rollback) and, with the `viewer` option, the explanation viewer
 * (npm/viewer, package `ml-anomaly-viewer`) under `/viewer`, admin only.
 *
 * | route                              | who   | answer                                        |
 * |------------------------------------|-------|-----------------------------------------------|
 * | GET  /status                       | admin | service status, training progress             |
 * | POST /retrain                      | admin | forced retrain outcome (409 while training)   |
 * | POST /initialize                   | admin | initializes the service                       |
 * | POST /batch-analyze                | admin | predictions for { sessionIds, userIds }       |
 * | GET  /models/history?limit=10      | admin | model versions, newest first                  |
 * | GET  /models/active                | admin | the active model (404 when none)              |
 * | GET  /drift/status                 | admin | drift metrics and the last check              |
 * | GET  /performance?hours=24         | admin | getModelPerformance(hours)                    |
 * | GET  /false-positives?limit=100    | admin | predictions reported as false positives       |
 * | GET  /predictions/recent?hours=24  | user  | the caller's anomalies                        |
 * | GET  /predictions/:id              | user  | a prediction (owner or admin; 404 unknown)    |
 * | GET  /predictions/:id/explanation  | user  | exact recomputed explanation (owner or admin) |
 * | POST /predictions/:id/feedback     | user  | the owner's feedback                          |
 * | GET  /statistics?days=7            | user  | the caller's per-day statistics               |
 *
 * Every answer is JSON `{ success: true, data }` or `{ success: false, error }` (the metrics and
 * bundle routes answer text and the bundle JSON as they are). Parameters are validated: `hours`
 * 1..8760, `days` 1..365, `limit` 1..1000 (history 1..1000), batches of at most 1000 pairs; anything
 * else is a 400 with the reason.
 *
 * Why `auth` and `requireAdmin` are options: the original imported the host's own middlewares;
 * taking them as arguments keeps the routes the host's while the code is ours.
 */

const { createRequire } = require('node:module');
const path = require('node:path');

const { boundedInt } = require('./validate');
const { httpStatusOf } = require('./errors');
const { SILENT } = require('./config');

const MAX_BATCH = 1000;

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

function defaultUserId(req) {
  if (req.userId !== undefined && req.userId !== null) return String(req.userId);
  const u = req.user;
  if (u && typeof u === 'object') {
    const id = u._id !== undefined ? u._id : u.id;
    if (id !== undefined && id !== null) return String(id);
  }
  return undefined;
}

function defaultIsAdmin(req) {
  const u = req.user;
  return Boolean(req.isAdmin === true || (u && (u.role === 'admin' || u.isAdmin === true)));
}

/**
 * @param {object} options
 * @param {Function} options.auth        the host's authentication middleware (required)
 * @param {Function} [options.requireAdmin] the host's admin check (default: `isAdmin(req)` or 403)
 * @param {object}   [options.service]   the service (default: the singleton)
 * @param {Function} [options.getUserId] caller's user id (default: req.userId, req.user._id, req.user.id)
 * @param {Function} [options.isAdmin]   whether the caller is an admin (default: req.isAdmin,
 *                                       req.user.role === 'admin', req.user.isAdmin)
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
  const getUserId = options.getUserId || defaultUserId;
  const isAdmin = options.isAdmin || defaultIsAdmin;
  const logger = () => options.logger || (service && service.logger) || SILENT;
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

  /** Wraps a handler: thrown errors become JSON answers with the right status. */
  const handle = (fn) => async (req, res, next) => {
    try {
      await fn(req, res, next);
    } catch (err) {
      const status = httpStatusOf(err);
      if (status >= 500) logger().error(`ml-anomaly: ${req.method} ${req.originalUrl} failed: ${err && err.stack}`);
      if (res.headersSent) return;
      fail(res, status, status === 500 ? 'Internal error' : err.message);
    }
  };

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

  // ----- admin -----------------------------------------------------------------------------------
  router.get('/status', ...admin, handle((req, res) => {
    res.json({ success: true, data: service.status() });
  }));

  router.post('/retrain', ...admin, handle(async (req, res) => {
    if (service.isRetraining) return fail(res, 409, 'Training already in progress');
    const outcome = await service.train({ force: true, trigger: 'api' });
    if (!outcome.trained && outcome.reason === 'already training') return fail(res, 409, 'Training already in progress');
    if (outcome.error) return fail(res, 500, `Training failed: ${outcome.error}`);
    return res.json({
      success: true,
      message: outcome.trained ? `Model v${outcome.version} trained and activated` : `Training skipped: ${outcome.reason}`,
      data: { retrained: outcome.trained, ...outcome },
    });
  }));

  router.post('/initialize', ...admin, handle(async (req, res) => {
    const ok = await service.initialize();
    if (!ok) {
      const err = service.initializationError;
      return fail(res, 503, `Initialization failed: ${err ? err.message : 'unknown error'}`);
    }
    return res.json({ success: true, message: 'ML anomaly detection initialized', data: service.status() });
  }));

  router.post('/batch-analyze', ...admin, handle(async (req, res) => {
    const body = req.body || {};
    const { sessionIds, userIds } = body;
    if (!Array.isArray(sessionIds) || !Array.isArray(userIds)) {
      return fail(res, 400, 'sessionIds and userIds must be arrays');
    }
    if (sessionIds.length !== userIds.length) {
      return fail(res, 400, `sessionIds and userIds must have the same length (got ${sessionIds.length} and ${userIds.length})`);
    }
    if (sessionIds.length === 0 || sessionIds.length > MAX_BATCH) {
      return fail(res, 400, `a batch must have between 1 and ${MAX_BATCH} pairs (got ${sessionIds.length})`);
    }
    const predictions = await service.predictBatch(sessionIds, userIds);
    const actions = {};
    let anomalies = 0;
    for (const p of predictions) {
      if (p.isAnomaly) anomalies += 1;
      actions[p.action] = (actions[p.action] || 0) + 1;
    }
    return res.json({ success: true, data: { predictions, summary: { total: predictions.length, anomalies, actions } } });
  }));

  router.get('/models/history', ...admin, handle(async (req, res) => {
    const limit = boundedInt(req.query.limit, 'limit', { min: 1, max: 1000, def: 10 });
    res.json({ success: true, data: await service.modelHistory(limit) });
  }));

  router.get('/models/active', ...admin, handle((req, res) => {
    const model = service.activeModel();
    if (!model) return fail(res, 404, 'No active model');
    return res.json({ success: true, data: model });
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
    res.json({ success: true, data: service.driftStatus() });
  }));

  router.get('/performance', ...admin, handle(async (req, res) => {
    const hours = boundedInt(req.query.hours, 'hours', { min: 1, max: 8760, def: 24 });
    res.json({ success: true, data: await service.getModelPerformance(hours) });
  }));

  router.get('/false-positives', ...admin, handle(async (req, res) => {
    const limit = boundedInt(req.query.limit, 'limit', { min: 1, max: 1000, def: 100 });
    res.json({ success: true, data: await service.falsePositives(limit) });
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
      data: anomalies.map((a) => ({
        id: a.id,
        timestamp: a.timestamp,
        anomalyScore: a.anomalyScore,
        confidence: a.confidence,
        explanation: a.summary,
        recommendedAction: a.recommendedAction,
        actionTaken: a.actionTaken,
      })),
    });
  }));

  router.get('/predictions/:id', ...user, handle(async (req, res) => {
    const userId = callerOr401(req, res);
    if (userId === undefined) return;
    const record = await service.getPrediction(req.params.id, { userId, isAdmin: isAdmin(req) });
    res.json({ success: true, data: record });
  }));

  router.get('/predictions/:id/explanation', ...user, handle(async (req, res) => {
    const userId = callerOr401(req, res);
    if (userId === undefined) return;
    const exact = req.query.method !== 'fast';
    res.json({ success: true, data: await service.explainPrediction(req.params.id, { exact, userId, isAdmin: isAdmin(req) }) });
  }));

  router.post('/predictions/:id/feedback', ...user, handle(async (req, res) => {
    const userId = callerOr401(req, res);
    if (userId === undefined) return;
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return fail(res, 400, 'body must be a JSON object { isFalsePositive, isFalseNegative, notes }');
    }
    const feedback = await service.submitFeedback(req.params.id, userId, {
      isFalsePositive: body.isFalsePositive,
      isFalseNegative: body.isFalseNegative,
      notes: body.notes,
    });
    return res.json({ success: true, message: 'Feedback submitted', data: feedback });
  }));

  router.get('/statistics', ...user, handle(async (req, res) => {
    const userId = callerOr401(req, res);
    if (userId === undefined) return;
    const days = boundedInt(req.query.days, 'days', { min: 1, max: 365, def: 7 });
    res.json({ success: true, data: await service.statistics(userId, days) });
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

module.exports = { createRouter, defaultUserId, defaultIsAdmin };
