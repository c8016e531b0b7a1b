'use strict';
// ExpenseFlow for real: the package wired into an app written the way ExpenseFlow's own files are
// (helpers/expenseflow: its auth middleware, which sets req.user and an ObjectId req.sessionId and
// never req.userId; its routes file, which imports three handlers from the middleware module and
// reads service.driftDetector; its ten integration examples; its server.js wiring), each swapped
// with one require() change, driven over real HTTP.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const express = require('express');

const { requireNative, tempDir } = require('./helpers/native-app');

requireNative();
const tmp = tempDir();
process.env.ML_ANOMALY_STORE = path.join(tmp.dir, 'expenseflow.sqlite');
process.env.ML_ANOMALY_MIN_SAMPLES = '500';
process.env.ML_ANOMALY_AUTO_TRAIN = 'false';

// server.js, after the swap
const mlAnomalyDetectionService = require('ml-anomaly/service');
const { mlAnomalyCheck, strictMLCheck } = require('ml-anomaly/middleware');
const auth = require('./helpers/expenseflow/auth');
const { requireAdmin } = require('./helpers/expenseflow/auth');
const ourRoutes = require('ml-anomaly/router').createRouter({ auth, requireAdmin });
const theirRoutes = require('./helpers/expenseflow/routes');
const examples = require('./helpers/expenseflow/examples');

const { listen } = require('./helpers/http');
const { normalTraffic, contextOf, recentMonday } = require('./helpers/traffic');
const { objectIdOf } = require('./helpers/expenseflow/object-id');

let server;
const seen = [];

test.before(async () => {
  await mlAnomalyDetectionService.initialize();
  const app = express();
  app.use('/api/ml-anomaly', ourRoutes);
  app.use('/api/ef-ml', theirRoutes);
  app.use('/api/examples', examples);
  app.use('/api/admin', auth, strictMLCheck);
  app.use('/api', auth, mlAnomalyCheck);
  app.all('/api/*', (req, res) => {
    seen.push({ userId: req.userId, mlPrediction: req.mlPrediction });
    res.json({ success: true, mlPrediction: req.mlPrediction, requiresChallenge: req.requiresChallenge, requires2FA: req.requires2FA });
  });
  server = await listen(app);
});

test.after(async () => {
  await server.close();
  await mlAnomalyDetectionService.close();
  tmp.cleanup();
});

/** fetch with ExpenseFlow's bearer token: `user[.jti][.admin]`. */
async function call(urlPath, { token, method = 'GET', json, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (json !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(`${server.url}${urlPath}`, { method, headers: h, body: json === undefined ? undefined : JSON.stringify(json) });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

const ALICE = 'alice.jti-a1';
const ADMIN = 'root.jti-r1.admin';

async function waitForTraining() {
  while (mlAnomalyDetectionService.isRetraining) await new Promise((resolve) => setTimeout(resolve, 20));
}

test('before any model: ExpenseFlow-authenticated requests reach the engine (no identity blind spot)', async () => {
  const r = await call('/api/expenses', { token: ALICE });
  assert.equal(r.status, 200);
  assert.equal(r.body.mlPrediction.fallback, true, 'no model yet');
  assert.equal(typeof r.body.mlPrediction.predictionId, 'number', 'the engine observed it: the request was not skipped');
  assert.equal(seen.at(-1).userId, String(objectIdOf('user:alice')), 'req.userId is set for the code downstream');
  const m = mlAnomalyDetectionService.metrics();
  assert.equal(m.middleware.skippedWithoutUser, 0);
  assert.equal(m.middleware.skippedWithoutSession, 0);
});

test('a token without jti has a user but no session: skipped, counted, and shown in /status', async () => {
  const before = mlAnomalyDetectionService.metrics().middleware.skippedWithoutSession;
  const r = await call('/api/expenses', { token: 'bob' });
  assert.equal(r.status, 200);
  assert.equal(r.body.mlPrediction, undefined);
  assert.equal(mlAnomalyDetectionService.metrics().middleware.skippedWithoutSession, before + 1);
  assert.equal(mlAnomalyDetectionService.status().middleware.skippedWithoutSession, before + 1);
  const strict = await call('/api/admin/users', { token: 'bob' });
  assert.equal(strict.status, 401, 'strict mode without a session');
});

test('POST /initialize starts the first training; every route of both routers answers the original\'s keys', async () => {
  // History: the app's users over two weeks, as its request log would replay it.
  const traffic = normalTraffic({ seed: 14, users: 20, days: 5, start: recentMonday(2) });
  for (const e of traffic.events) {
    await mlAnomalyDetectionService.predictStreaming(objectIdOf(`session:${e.sessionId}`), objectIdOf(`user:${e.userId}`), contextOf(e));
  }
  for (const base of ['/api/ml-anomaly', '/api/ef-ml']) {
    const init = await call(`${base}/initialize`, { token: ADMIN, method: 'POST' });
    assert.equal(init.status, 200, base);
    assert.equal(init.body.success, true);
    assert.equal(typeof init.body.message, 'string');
    assert.equal(typeof init.body.training, 'boolean');
    await waitForTraining();
  }
  assert.ok(mlAnomalyDetectionService.activeModel(), 'trained');

  // Some scored traffic over HTTP, and one prediction with feedback.
  for (let i = 0; i < 5; i++) assert.equal((await call('/api/expenses', { token: ALICE })).status, 200);
  const last = seen.at(-1).mlPrediction;
  assert.equal(last.fallback, false, 'scored by the model');
  const keys = {
    '/status': ['success', 'performance', 'isRetraining', 'lastRetrainingTime'],
    '/models/history?limit=10': ['success', 'models'],
    '/models/active': ['success', 'model'],
    '/drift/status': ['success', 'drift', 'statistics'],
    '/performance?hours=24': ['success', 'performance', 'databaseMetrics'],
    '/false-positives?limit=100': ['success', 'falsePositives', 'count'],
  };
  for (const base of ['/api/ml-anomaly', '/api/ef-ml']) {
    for (const [route, expected] of Object.entries(keys)) {
      const r = await call(`${base}${route}`, { token: ADMIN });
      assert.equal(r.status, 200, `${base}${route}: ${JSON.stringify(r.body).slice(0, 200)}`);
      for (const k of expected) assert.ok(k in r.body, `${base}${route} has ${k}`);
    }
    const perf = await call(`${base}/performance?hours=24`, { token: ADMIN });
    assert.equal(typeof perf.body.performance.driftMetrics.driftScore, 'number');
    for (const k of ['totalPredictions', 'anomalyCount', 'avgCompositeScore', 'avgConfidence', 'avgProcessingTime', 'falsePositiveCount']) {
      assert.ok(k in perf.body.databaseMetrics, `${base} databaseMetrics.${k}`);
    }
    const model = (await call(`${base}/models/active`, { token: ADMIN })).body.model;
    for (const k of ['version', 'isActive', 'trainingDate', 'trainingSize', 'validationMetrics']) assert.ok(k in model, `${base} model.${k}`);
    assert.equal(typeof model.validationMetrics, 'object', `${base} validationMetrics`);
    const drift = (await call(`${base}/drift/status`, { token: ADMIN })).body;
    assert.equal(typeof drift.drift.driftScore, 'number');
    for (const k of ['referenceWindowSize', 'currentWindowSize', 'driftHistoryLength', 'latestDrift', 'trends']) assert.ok(k in drift.statistics, k);

    const batch = await call(`${base}/batch-analyze`, { token: ADMIN, method: 'POST', json: { sessionIds: [String(objectIdOf('session:jti-a1'))], userIds: [String(objectIdOf('user:alice'))] } });
    assert.equal(batch.status, 200);
    assert.deepEqual(Object.keys(batch.body).sort(), ['count', 'predictions', 'success']);
    assert.equal(batch.body.predictions[0].fallback, false);
    const bad = await call(`${base}/batch-analyze`, { token: ADMIN, method: 'POST', json: { sessionIds: ['a'] } });
    assert.deepEqual(bad.body, { success: false, error: 'Invalid request: sessionIds and userIds arrays required' });

    const mine = await call(`${base}/predictions/recent?hours=24`, { token: ALICE });
    assert.equal(mine.status, 200);
    assert.ok(Array.isArray(mine.body.predictions));
    const stats = await call(`${base}/statistics?days=7`, { token: ALICE });
    assert.ok(Array.isArray(stats.body.statistics));
    assert.ok(stats.body.statistics.every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d._id)));
    const one = await call(`${base}/predictions/${last.predictionId}`, { token: ALICE });
    assert.equal(one.status, 200);
    assert.equal(one.body.prediction.userId, String(objectIdOf('user:alice')));
    const theirs = await call(`${base}/predictions/${last.predictionId}`, { token: 'mallory.jti-m' });
    assert.deepEqual(theirs.body, { success: false, error: 'Access denied' });
    const fb = await call(`${base}/predictions/${last.predictionId}/feedback`, { token: ALICE, method: 'POST', json: { isFalsePositive: true, notes: 'me' } });
    assert.equal(fb.status, 200);
    assert.equal(fb.body.message, 'Feedback submitted successfully');
    // The reported prediction is listed in the original's nested shape.
    const fps = (await call(`${base}/false-positives?limit=100`, { token: ADMIN })).body;
    const listed = fps.falsePositives.find((r) => String(r.id) === String(last.predictionId));
    assert.ok(listed, `${base}: the false positive is listed`);
    for (const k of ['id', 'timestamp', 'userId', 'anomalyScore', 'explanation', 'feedback']) assert.ok(k in listed, `${base} falsePositives[].${k}`);
    assert.deepEqual(Object.keys(listed.explanation).sort(), ['confidence', 'modelAgreement', 'summary', 'topFeatures'], `${base} explanation summary`);
    assert.ok(listed.explanation.topFeatures.length <= 3);
    assert.equal(listed.feedback.isFalsePositive, true);
  }

  // forceMLRetrain: the original's 403 and its immediate answer.
  assert.deepEqual((await call('/api/ef-ml/retrain', { token: 'carol.jti-c', method: 'POST' })).body, { success: false, error: 'Admin access required' });
  const before = mlAnomalyDetectionService.activeModel().version;
  const retrain = await call('/api/ef-ml/retrain', { token: ADMIN, method: 'POST' });
  assert.equal(retrain.body.message, 'Model retraining initiated');
  await waitForTraining();
  assert.equal(mlAnomalyDetectionService.activeModel().version, before + 1);
});

test('the integration examples work as written, over ExpenseFlow\'s auth', async (t) => {
  // The test's users are not in the model's training traffic and fire requests at machine speed:
  // a model rightly blocks them. The examples, not the enforcement, are under test here.
  const block = mlAnomalyDetectionService.modelConfig.prediction.block;
  mlAnomalyDetectionService.modelConfig.prediction.block = 2;
  t.after(() => {
    mlAnomalyDetectionService.modelConfig.prediction.block = block;
  });
  const tx = await call('/api/examples/transactions', { token: ALICE });
  assert.deepEqual(tx.body, { success: true, transactions: [], scored: true });
  assert.equal((await call('/api/examples/profile', { token: ALICE })).status, 200);
  assert.ok([200, 403].includes((await call('/api/examples/account', { token: ALICE, method: 'DELETE' })).status));
  assert.ok([200, 403].includes((await call('/api/examples/wire-transfer', { token: ALICE, method: 'POST', json: {} })).status));
  assert.equal((await call('/api/examples/sensitive-action', { token: 'root.jti-r3.admin', method: 'POST', json: {} })).status, 200);

  // Example 4 reads prediction.explanation.topFeatures.slice(0, 3): make every request an anomaly
  // (run-time tuning as the quick start does) so that its branch runs, with BLOCK out of reach so
  // that the middleware in front of it lets the request through.
  const config = mlAnomalyDetectionService.modelConfig;
  const threshold = config.prediction.anomalyThreshold;
  mlAnomalyDetectionService.modelConfig.prediction.anomalyThreshold = 0;
  try {
    const pay = await call('/api/examples/payment', { token: 'dave.jti-d1', method: 'POST', json: { amount: 9000, recipient: 'x' } });
    assert.equal(pay.status, 403, JSON.stringify(pay.body));
    assert.equal(pay.body.anomalyDetails.topFactors.length, 3);
    assert.equal(typeof pay.body.anomalyDetails.topFactors[0].feature, 'string');
    const crit = await call('/api/examples/critical-action', { token: 'dave.jti-d1', method: 'POST', json: {} });
    assert.ok([200, 403].includes(crit.status));
  } finally {
    mlAnomalyDetectionService.modelConfig.prediction.anomalyThreshold = threshold;
  }
  assert.equal(mlAnomalyDetectionService.modelConfig.prediction.anomalyThreshold, threshold);

  const suspicious = await call('/api/examples/admin/suspicious-sessions?hours=24', { token: 'root.jti-r2.admin' });
  assert.equal(suspicious.status, 200);
  assert.equal(suspicious.body.count, suspicious.body.suspiciousSessions.length);
  assert.ok(suspicious.body.count >= 1, 'the forced anomalies above make at least one session suspicious');
  const dash = await call('/api/examples/dashboard/ml-stats', { token: ALICE });
  assert.equal(dash.status, 200, JSON.stringify(dash.body));
  assert.match(dash.body.metrics.model.driftScore, /^\d+\.\d{3}$/);
  const alerts = await call('/api/examples/my-security-alerts', { token: ALICE });
  assert.equal(alerts.status, 200);
  assert.ok(alerts.body.alerts.length >= 1, 'the anomalies of the run above');
  assert.ok(alerts.body.alerts[0].topFactors.length <= 3);
});

test('modelConfig is live: reading shows the engine\'s settings; a bad value throws and changes nothing', () => {
  const c = mlAnomalyDetectionService.modelConfig;
  assert.equal(c.isolationForest.nTrees, 100);
  assert.equal(c.retraining.minSamplesForTraining, 500, 'from ML_ANOMALY_MIN_SAMPLES');
  assert.deepEqual({ ...c.prediction.ensembleWeight }, { isolationForest: 0.6, autoencoder: 0.4 });
  c.prediction.ensembleWeight = { isolationForest: 0.7, autoencoder: 0.3 };
  assert.equal(mlAnomalyDetectionService.modelConfig.prediction.ensembleWeight.isolationForest, 0.7);
  c.retraining.modelWindowDays = 14;
  assert.equal(mlAnomalyDetectionService.options.modelWindowDays, 14, 'options and modelConfig are one configuration');
  assert.throws(() => {
    c.prediction.challenge = 0.95;
  }, /thresholds must be ordered/);
  assert.equal(c.prediction.challenge, 0.7, 'nothing changed');
  assert.throws(() => {
    c.retraining.minSamplesForTraining = 'many';
  }, TypeError);
  assert.throws(() => {
    c.prediction.noSuchSetting = 1;
  }, /prediction.noSuchSetting: no such setting/);
  assert.throws(() => {
    delete c.prediction.anomalyThreshold;
  }, TypeError);
  assert.equal(JSON.parse(JSON.stringify(c)).prediction.anomalyThreshold, 0.65, 'serializes as the plain configuration');
  // service.options is live too
  mlAnomalyDetectionService.options.anomalyThreshold = 0.66;
  assert.equal(mlAnomalyDetectionService.modelConfig.prediction.anomalyThreshold, 0.66);
  mlAnomalyDetectionService.options.anomalyThreshold = 0.65;
});
