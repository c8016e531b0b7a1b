'use strict';
// The drop-in contract: an app written against the ORIGINAL's method names, response shapes,
// middlewares and routes (helpers/original-app.js) runs unchanged on ml-anomaly's singleton,
// configured only through environment variables — the one-line swap.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { requireNative, tempDir } = require('./helpers/native-app');

requireNative();
const tmp = tempDir();
// The host's deployment configuration: environment only.
process.env.ML_ANOMALY_STORE = path.join(tmp.dir, 'expenseflow-ml.sqlite');
process.env.ML_ANOMALY_MIN_SAMPLES = '500';
process.env.ML_ANOMALY_AUTO_TRAIN = 'false';

// The swapped require() lines.
const mlAnomalyDetectionService = require('ml-anomaly/service');
const { mlAnomalyCheck, strictMLCheck } = require('ml-anomaly/middleware');
const { auth, requireAdmin } = require('./helpers/fake-auth');
const mlAnomalyRoutes = require('ml-anomaly/router').createRouter({ auth, requireAdmin });

const { buildApp } = require('./helpers/original-app');
const { listen, request } = require('./helpers/http');
const { normalTraffic, hijackAttack, contextOf, recentMonday, HOUR } = require('./helpers/traffic');

const ACTIONS = ['ALLOW', 'MONITOR', 'CHALLENGE', 'REQUIRE_2FA', 'BLOCK'];
let server;

test.before(async () => {
  const app = buildApp({ service: mlAnomalyDetectionService, middleware: { mlAnomalyCheck, strictMLCheck }, routes: mlAnomalyRoutes }, { auth });
  server = await listen(app);
});

test.after(async () => {
  await server.close();
  await mlAnomalyDetectionService.close();
  tmp.cleanup();
});

function assertPredictionShape(p) {
  assert.equal(typeof p.isAnomaly, 'boolean');
  assert.equal(typeof p.anomalyScore, 'number');
  assert.ok(p.anomalyScore >= 0 && p.anomalyScore <= 1);
  assert.equal(typeof p.confidence, 'number');
  assert.ok(p.confidence >= 0 && p.confidence <= 1);
  assert.ok(Array.isArray(p.explanation));
  assert.ok(p.explanation.length <= 5);
  for (const f of p.explanation) {
    assert.equal(typeof f.feature, 'string');
    assert.equal(typeof f.contribution, 'number');
    assert.equal(typeof f.value, 'number');
    assert.equal(typeof f.normalizedValue, 'number');
  }
  assert.deepEqual(Object.keys(p.modelVersions).sort(), ['autoencoder', 'isolationForest']);
  assert.ok(ACTIONS.includes(p.action));
}

test('before any model: the exact fallback, trainModels() false, the middleware lets requests through', async () => {
  const p = await mlAnomalyDetectionService.predictStreaming('s-0', 'u-0', {});
  assert.deepEqual(
    {
      isAnomaly: p.isAnomaly,
      anomalyScore: p.anomalyScore,
      confidence: p.confidence,
      explanation: p.explanation,
      modelVersions: p.modelVersions,
      action: p.action,
      fallback: p.fallback,
    },
    {
      isAnomaly: false,
      anomalyScore: 0,
      confidence: 0,
      explanation: [],
      modelVersions: { isolationForest: null, autoencoder: null },
      action: 'ALLOW',
      fallback: true,
    },
  );
  assert.equal(await mlAnomalyDetectionService.trainModels(), false, 'too little data: skipped');
  assert.equal(mlAnomalyDetectionService.isRetraining, false);
  assert.equal(mlAnomalyDetectionService.lastRetrainingTime, null);
  const r = await request(`${server.url}/api/expenses`, { user: 'u-0', session: 's-0' });
  assert.equal(r.status, 200);
  assert.equal(r.body.mlPrediction.fallback, true);
  const admin = await request(`${server.url}/api/admin/settings`, { user: 'u-0', session: 's-0' });
  assert.equal(admin.status, 200, 'no model yet: strict mode does not lock everyone out');
});

test('with traffic: trainModels() true and the original shapes everywhere', async () => {
  const traffic = normalTraffic({ seed: 41, users: 20, days: 5, start: recentMonday(2) });
  for (const e of traffic.events) {
    await mlAnomalyDetectionService.predictStreaming(e.sessionId, e.userId, contextOf(e));
  }
  assert.equal(await mlAnomalyDetectionService.trainModels(false), true);
  assert.equal(mlAnomalyDetectionService.isRetraining, false);
  assert.ok(mlAnomalyDetectionService.lastRetrainingTime instanceof Date);

  const last = traffic.events.at(-1);
  const normal = await mlAnomalyDetectionService.predictStreaming(last.sessionId, last.userId, {
    ...contextOf(last),
    timestamp: last.timestamp + 30000,
  });
  assertPredictionShape(normal);
  assert.equal(typeof normal.modelVersions.isolationForest, 'number');

  const attack = hijackAttack({ seed: 2, user: traffic.users[0], at: last.timestamp + 12 * HOUR, requests: 10 });
  let flagged = false;
  for (const e of attack) {
    const p = await mlAnomalyDetectionService.predictStreaming(e.sessionId, e.userId, contextOf(e));
    assertPredictionShape(p);
    // The integration examples' pattern.
    if (p.isAnomaly && p.anomalyScore > 0.85) flagged = true;
  }
  assert.ok(flagged, 'the hijack passes the examples\' "isAnomaly && anomalyScore > 0.85" test');

  const batch = await mlAnomalyDetectionService.predictBatch([attack[0].sessionId, last.sessionId], [attack[0].userId, last.userId]);
  assert.equal(batch.length, 2);
  assert.equal(batch[0].sessionId, attack[0].sessionId);
  assert.equal(batch[0].userId, attack[0].userId);
  for (const b of batch) assertPredictionShape(b);

  const drift = await mlAnomalyDetectionService.checkDriftAndRetrain();
  assert.equal(typeof drift.driftDetected, 'boolean');
  assert.equal(typeof drift.driftScore, 'number');
  assert.equal(typeof drift.retrained, 'boolean');

  const perf = await mlAnomalyDetectionService.getModelPerformance(24 * 30);
  for (const key of ['totalPredictions', 'anomalyCount', 'averageAnomalyScore', 'averageConfidence']) {
    assert.equal(typeof perf[key], 'number', key);
  }
  assert.deepEqual(Object.keys(perf.modelPerformance).sort(), ['autoencoder', 'isolationForest']);
  assert.equal(typeof perf.driftMetrics, 'object');

  assert.equal(await mlAnomalyDetectionService.forceRetrain(), true);
});

test('the original app\'s own routes and the mounted /api/ml-anomaly routes work unchanged', async () => {
  const dash = await request(`${server.url}/api/dashboard/ml`, { user: 'admin', session: 'sa' });
  assert.equal(dash.status, 200);
  assert.equal(dash.body.isRetraining, false);
  assert.equal(typeof dash.body.lastRetrainingTime, 'string');
  assert.deepEqual(dash.body.models.sort(), ['autoencoder', 'isolationForest']);

  const status = await request(`${server.url}/api/ml-anomaly/status`, { user: 'admin', session: 'sa', admin: true });
  assert.equal(status.status, 200);
  assert.equal(status.body.success, true);
  const history = await request(`${server.url}/api/ml-anomaly/models/history?limit=10`, { user: 'admin', session: 'sa', admin: true });
  assert.equal(history.body.success, true);
  assert.equal(history.body.models[0].version, 2, 'forceRetrain made version 2');
  const denied = await request(`${server.url}/api/ml-anomaly/status`, { user: 'u-1', session: 's-1' });
  assert.equal(denied.status, 403);
  assert.equal(denied.body.success, false);
});

test('over HTTP the middleware scores with the model and sets req.mlPrediction in the original shape', async () => {
  const r = await request(`${server.url}/api/expenses`, { user: 'user-3', session: 'http-session', headers: { 'user-agent': 'Mozilla/5.0' } });
  assert.equal(r.status, 200);
  const p = r.body.mlPrediction;
  assertPredictionShape(p);
  assert.equal(p.fallback, false);
  assert.equal(p.modelVersions.isolationForest, 2);
  assert.equal(typeof p.processingTime, 'number');
  const approve = await request(`${server.url}/api/expenses/123/approve`, { method: 'POST', user: 'user-3', session: 'http-session', json: {} });
  assert.ok([200, 403].includes(approve.status));
  assert.equal(typeof approve.body.success, 'boolean');
});
