'use strict';
// All /api/ml-anomaly routes over real HTTP with the native service: authentication (401),
// authorization (403 for non-admins and for someone else's prediction), unknown ids (404),
// parameter and body validation (400), and what each route answers: the original's top-level keys
// and shapes (ExpenseFlow's dashboards read them), with our additions beside them.

const test = require('node:test');
const assert = require('node:assert/strict');

const { createAnomalyService } = require('ml-anomaly');
const { listen, request } = require('./helpers/http');
const { trainedService, expenseflowApp, replay } = require('./helpers/native-app');
const { hijackAttack, HOUR } = require('./helpers/traffic');

let ctx;
const ADMIN = { user: 'admin-1', admin: true };

test.before(async () => {
  const trained = await trainedService({ seed: 21 });
  const { app, calls } = expenseflowApp(trained.service);
  const server = await listen(app);
  ctx = { ...trained, calls, server, base: `${server.url}/api/ml-anomaly` };
  // Some traffic over HTTP: an attacked session of user-2 gives anomalies with ids.
  const attack = hijackAttack({ seed: 5, user: trained.users[2], at: trained.lastTimestamp + 10 * HOUR, requests: 5 });
  for (const e of attack) await replay(server.url, e);
  await trained.service.flush();
  ctx.attack = attack;
  ctx.anomalyIds = ctx.calls.securityEvents.map((e) => e.predictionId);
  assert.ok(ctx.anomalyIds.length >= 1, 'the attack produced anomalies');
});

test.after(async () => {
  if (!ctx) return;
  await ctx.server.close();
  await ctx.service.close();
});

const ADMIN_ROUTES = [
  ['GET', '/status'],
  ['POST', '/retrain'],
  ['POST', '/initialize'],
  ['POST', '/batch-analyze'],
  ['GET', '/models/history'],
  ['GET', '/models/active'],
  ['GET', '/drift/status'],
  ['GET', '/performance'],
  ['GET', '/false-positives'],
  ['GET', '/metrics'],
  ['GET', '/models/1/bundle'],
  ['POST', '/models/1/activate'],
];
const USER_ROUTES = [
  ['GET', '/predictions/recent'],
  ['GET', '/predictions/1'],
  ['POST', '/predictions/1/feedback'],
  ['GET', '/statistics'],
];

test('every route requires authentication (401)', async () => {
  for (const [method, path] of [...ADMIN_ROUTES, ...USER_ROUTES]) {
    const r = await request(`${ctx.base}${path}`, { method, json: method === 'POST' ? {} : undefined });
    assert.equal(r.status, 401, `${method} ${path}`);
    assert.equal(r.body.success, false, `${method} ${path}`);
  }
});

test('admin routes answer 403 to a non-admin', async () => {
  for (const [method, path] of ADMIN_ROUTES) {
    const r = await request(`${ctx.base}${path}`, { method, user: 'user-1', json: method === 'POST' ? {} : undefined });
    assert.equal(r.status, 403, `${method} ${path}`);
    assert.deepEqual(r.body, { success: false, error: 'Admin access required' }, `${method} ${path}`);
  }
});

test('GET /status: model, window, training state', async () => {
  const r = await request(`${ctx.base}/status`, ADMIN);
  assert.equal(r.status, 200);
  assert.equal(r.body.success, true);
  // the original's getMLModelStatus body
  assert.equal(r.body.isRetraining, false);
  assert.equal(typeof r.body.lastRetrainingTime, 'string');
  assert.equal(typeof r.body.performance.totalPredictions, 'number');
  assert.equal(typeof r.body.performance.driftMetrics.driftScore, 'number');
  const s = r.body.status;
  assert.equal(s.activeModelVersion, 1);
  assert.equal(s.activeModel.version, 1);
  assert.equal(s.isRetraining, false);
  assert.ok(s.trainingWindowSize > 500);
  assert.equal(typeof s.lastRetrainingTime, 'string', 'a date');
  assert.equal(s.metrics.activeModelVersion, 1);
  assert.ok(s.metrics.totalPredictions > 0);
});

test('GET /models/history and /models/active', async () => {
  const h = await request(`${ctx.base}/models/history?limit=10`, ADMIN);
  assert.equal(h.status, 200);
  assert.equal(h.body.models.length, 1);
  const m = h.body.models[0];
  assert.equal(m.version, 1);
  assert.equal(m.isActive, true);
  assert.ok(m.trainingSize > 500, "the original's getModelInfo(): version, isActive, trainingDate, trainingSize, validationMetrics");
  assert.ok(!Number.isNaN(Date.parse(m.trainingDate)));
  assert.equal(typeof m.validationMetrics, 'object');
  assert.ok(m.trainingMetrics.trainingSize > 500);
  for (const bad of ['0', '-3', 'ten', '1001', '2.5']) {
    const r = await request(`${ctx.base}/models/history?limit=${bad}`, ADMIN);
    assert.equal(r.status, 400, bad);
    assert.equal(r.body.success, false);
    assert.match(r.body.error, /limit must be an integer between 1 and 1000/);
  }
  const a = await request(`${ctx.base}/models/active`, ADMIN);
  assert.equal(a.status, 200);
  assert.equal(a.body.model.version, 1);
  assert.equal(a.body.model.isActive, true);
});

test('GET /models/active is 404 without a model', async (t) => {
  const empty = createAnomalyService({ store: ':memory:', schedules: false });
  const { app } = expenseflowApp(empty);
  const server = await listen(app);
  t.after(async () => {
    await server.close();
    await empty.close();
  });
  const r = await request(`${server.url}/api/ml-anomaly/models/active`, ADMIN);
  assert.equal(r.status, 404);
  assert.deepEqual(r.body, { success: false, error: 'No active model found' });
});

test('GET /models/:version/bundle serves the model JSON; unknown 404, malformed 400', async () => {
  const r = await request(`${ctx.base}/models/1/bundle`, ADMIN);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /application\/json/);
  assert.equal(typeof r.body, 'object');
  assert.ok(JSON.stringify(r.body).includes('request_rate_short'), 'the bundle names its features');
  const missing = await request(`${ctx.base}/models/99/bundle`, ADMIN);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.success, false);
  const bad = await request(`${ctx.base}/models/one/bundle`, ADMIN);
  assert.equal(bad.status, 400);
});

test('GET /drift/status and /performance', async () => {
  const d = await request(`${ctx.base}/drift/status`, ADMIN);
  assert.equal(d.status, 200);
  // the original's calculateDrift() and getStatistics()
  assert.equal(typeof d.body.drift.isDrifting, 'boolean');
  assert.equal(typeof d.body.drift.driftScore, 'number');
  assert.ok(['LOW', 'MEDIUM', 'HIGH'].includes(d.body.drift.confidence));
  for (const key of ['referenceWindowSize', 'currentWindowSize', 'driftHistoryLength', 'latestDrift', 'trends']) {
    assert.ok(key in d.body.statistics, key);
  }
  assert.equal(d.body.status.threshold, 0.15);
  assert.equal(d.body.status.modelVersion, 1);
  assert.equal(typeof d.body.status.windowSize, 'number');
  const p = await request(`${ctx.base}/performance?hours=8760`, ADMIN);
  assert.equal(p.status, 200);
  for (const key of ['totalPredictions', 'anomalyCount', 'avgCompositeScore', 'avgConfidence', 'avgProcessingTime', 'falsePositiveCount']) {
    assert.equal(typeof p.body.databaseMetrics[key], 'number', `databaseMetrics.${key}`);
  }
  assert.ok(p.body.databaseMetrics.avgProcessingTime > 0);
  const perf = p.body.performance;
  for (const key of ['totalPredictions', 'anomalyCount', 'averageAnomalyScore', 'averageConfidence']) {
    assert.equal(typeof perf[key], 'number', key);
  }
  assert.ok(perf.anomalyCount >= ctx.anomalyIds.length);
  assert.equal(typeof perf.modelPerformance.isolationForest.averageScore, 'number');
  assert.equal(typeof perf.modelPerformance.autoencoder.averageScore, 'number');
  assert.equal(typeof perf.driftMetrics.driftScore, 'number', 'always a number (dashboards call toFixed on it)');
  for (const bad of ['0', '8761', 'all']) {
    const r = await request(`${ctx.base}/performance?hours=${bad}`, ADMIN);
    assert.equal(r.status, 400, bad);
    assert.match(r.body.error, /hours must be an integer between 1 and 8760/);
  }
});

test('POST /batch-analyze validates and rescores sessions', async () => {
  const sid = ctx.attack[0].sessionId;
  const ok = await request(`${ctx.base}/batch-analyze`, {
    ...ADMIN,
    method: 'POST',
    json: { sessionIds: [sid, 'never-seen'], userIds: [ctx.users[2].userId, 'user-1'] },
  });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.count, 2);
  const [seen, unseen] = ok.body.predictions;
  assert.equal(seen.sessionId, sid);
  assert.equal(seen.userId, ctx.users[2].userId);
  assert.equal(seen.isAnomaly, true);
  assert.equal(seen.fallback, false);
  assert.deepEqual(seen.modelVersions, { isolationForest: 1, autoencoder: 1 });
  assert.equal(unseen.fallback, true);
  const empty = await request(`${ctx.base}/batch-analyze`, { ...ADMIN, method: 'POST', json: { sessionIds: [], userIds: [] } });
  assert.deepEqual(empty.body, { success: true, predictions: [], count: 0 });
  const invalid = /^Invalid request: sessionIds and userIds arrays required$/;
  const cases = [
    [{}, invalid],
    [{ sessionIds: ['a'] }, invalid],
    [{ sessionIds: ['a', 'b'], userIds: ['u'] }, invalid],
    [{ sessionIds: Array(1001).fill('s'), userIds: Array(1001).fill('u') }, /at most 1000/],
    [{ sessionIds: [''], userIds: ['u'] }, /sessionIds\[0\] must be a non-empty string/],
  ];
  for (const [json, message] of cases) {
    const r = await request(`${ctx.base}/batch-analyze`, { ...ADMIN, method: 'POST', json });
    assert.equal(r.status, 400, JSON.stringify(json).slice(0, 60));
    assert.match(r.body.error, message);
  }
  const malformed = await request(`${ctx.base}/batch-analyze`, { ...ADMIN, method: 'POST', raw: '{"sessionIds": [' });
  assert.equal(malformed.status, 400);
  assert.deepEqual(malformed.body, { success: false, error: 'Invalid JSON body' });
});

test('user routes: recent anomalies, one prediction, 404 and 403', async () => {
  const owner = { user: ctx.users[2].userId };
  const recent = await request(`${ctx.base}/predictions/recent?hours=8760`, owner);
  assert.equal(recent.status, 200);
  const ids = recent.body.predictions.map((a) => a.id);
  for (const id of ctx.anomalyIds) assert.ok(ids.includes(id), `anomaly ${id} listed`);
  for (const a of recent.body.predictions) {
    assert.deepEqual(Object.keys(a).sort(), ['actionTaken', 'anomalyScore', 'confidence', 'explanation', 'id', 'recommendedAction', 'timestamp']);
    assert.ok(!Number.isNaN(Date.parse(a.timestamp)));
    // the original's getExplanationSummary()
    assert.deepEqual(Object.keys(a.explanation).sort(), ['confidence', 'modelAgreement', 'summary', 'topFeatures']);
    assert.ok(a.explanation.topFeatures.length <= 3);
  }
  const others = await request(`${ctx.base}/predictions/recent?hours=8760`, { user: 'user-1' });
  assert.ok(!others.body.predictions.some((a) => ctx.anomalyIds.includes(a.id)), 'nobody sees another user\'s anomalies');
  for (const bad of ['0', '8761', 'x']) {
    assert.equal((await request(`${ctx.base}/predictions/recent?hours=${bad}`, owner)).status, 400);
  }

  const id = ctx.anomalyIds[0];
  const mine = await request(`${ctx.base}/predictions/${id}`, owner);
  assert.equal(mine.status, 200);
  assert.equal(mine.body.prediction.id, id);
  const theirs = await request(`${ctx.base}/predictions/${id}`, { user: 'user-1' });
  assert.equal(theirs.status, 403);
  assert.deepEqual(theirs.body, { success: false, error: 'Access denied' });

  // The exact explanation (TreeSHAP) with every feature's attribution, for the viewer.
  const exact = await request(`${ctx.base}/predictions/${id}/explanation`, owner);
  assert.equal(exact.status, 200);
  assert.equal(exact.body.data.id, id);
  assert.equal(exact.body.data.method, 'exact');
  assert.equal(exact.body.data.scores.composite, mine.body.prediction.compositeScore);
  assert.equal((await request(`${ctx.base}/predictions/${id}/explanation`, { user: 'user-1' })).status, 403);
  assert.equal((await request(`${ctx.base}/predictions/99999999/explanation`, owner)).status, 404);
  for (const unknown of ['99999999', 'abc', '1e3']) {
    const r = await request(`${ctx.base}/predictions/${unknown}`, owner);
    assert.equal(r.status, 404, unknown);
    assert.deepEqual(r.body, { success: false, error: 'Prediction not found' });
  }
});

test('feedback: owner only, validated, reported as a false positive', async () => {
  const owner = { user: ctx.users[2].userId };
  const id = ctx.anomalyIds[0];
  const url = `${ctx.base}/predictions/${id}/feedback`;
  const stranger = await request(url, { user: 'user-1', method: 'POST', json: { isFalsePositive: true } });
  assert.equal(stranger.status, 403);
  const unknown = await request(`${ctx.base}/predictions/99999999/feedback`, { ...owner, method: 'POST', json: { isFalsePositive: true } });
  assert.equal(unknown.status, 404);
  for (const json of [{ isFalsePositive: 'yes' }, { notes: 42 }, { isFalsePositive: true, isFalseNegative: true }, { notes: 'x'.repeat(2001) }]) {
    const r = await request(url, { ...owner, method: 'POST', json });
    assert.equal(r.status, 400, JSON.stringify(json).slice(0, 60));
    assert.equal(r.body.success, false);
  }
  // JSON only, and something to say: an empty or text/plain body (a cross-site "simple" request
  // with cookie auth) must not overwrite the report.
  const plain = await request(url, { ...owner, method: 'POST', raw: 'isFalsePositive=true', headers: { 'content-type': 'text/plain' } });
  assert.equal(plain.status, 415);
  const bare = await request(url, { ...owner, method: 'POST' });
  assert.equal(bare.status, 415, 'no body, no content type');
  const empty = await request(url, { ...owner, method: 'POST', json: {} });
  assert.equal(empty.status, 400);
  assert.match(empty.body.error, /at least one of isFalsePositive, isFalseNegative, notes/);
  const ok = await request(url, { ...owner, method: 'POST', json: { isFalsePositive: true, notes: 'I was travelling' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.message, 'Feedback submitted successfully');
  assert.equal(ok.body.feedback.isFalsePositive, true);
  assert.ok(!Number.isNaN(Date.parse(ok.body.feedback.submittedAt)), 'an ISO date, as the original serialized it');
  const fps = await request(`${ctx.base}/false-positives?limit=100`, ADMIN);
  assert.equal(fps.status, 200);
  assert.equal(fps.body.count, fps.body.falsePositives.length);
  const listed = fps.body.falsePositives.find((r) => r.id === id);
  assert.ok(listed, 'the false positive is listed');
  assert.deepEqual(Object.keys(listed).sort(), ['anomalyScore', 'explanation', 'feedback', 'id', 'timestamp', 'userId']);
  assert.equal(listed.feedback.notes, 'I was travelling');
  assert.equal(listed.userId, ctx.users[2].userId);
  assert.equal((await request(`${ctx.base}/false-positives?limit=0`, ADMIN)).status, 400);
  // A second report (a change of mind) becomes the current one; the first stays in the history.
  const again = await request(url, { ...owner, method: 'POST', json: { isFalsePositive: false, notes: 'no, that was not me' } });
  assert.equal(again.status, 200);
  const record = await request(`${ctx.base}/predictions/${id}`, owner);
  assert.equal(record.body.prediction.userFeedback.notes, 'no, that was not me');
  const history = record.body.prediction.feedbackHistory;
  assert.deepEqual(
    history.map((r) => [r.submittedBy, r.isFalsePositive, r.notes]),
    [
      [ctx.users[2].userId, true, 'I was travelling'],
      [ctx.users[2].userId, false, 'no, that was not me'],
    ],
  );
  assert.ok(Date.parse(history[0].submittedAt) <= Date.parse(history[1].submittedAt));
  assert.equal(record.body.prediction.timestamp, new Date(Date.parse(record.body.prediction.timestamp)).toISOString());
});

test('GET /statistics validates days', async () => {
  const owner = { user: ctx.users[2].userId };
  const week = await request(`${ctx.base}/statistics?days=7`, owner);
  assert.equal(week.status, 200);
  assert.ok(Array.isArray(week.body.statistics));
  const ok = await request(`${ctx.base}/statistics?days=365`, owner);
  assert.ok(ok.body.statistics.length >= 1);
  for (const d of ok.body.statistics) {
    assert.match(d._id, /^\d{4}-\d{2}-\d{2}$/);
    for (const key of ['totalPredictions', 'anomalyCount', 'avgAnomalyScore', 'maxAnomalyScore']) assert.ok(key in d, key);
  }
  const sorted = [...ok.body.statistics].sort((a, b) => a._id.localeCompare(b._id));
  assert.deepEqual(ok.body.statistics, sorted, 'days ascending');
  for (const bad of ['0', '366', 'week']) {
    const r = await request(`${ctx.base}/statistics?days=${bad}`, owner);
    assert.equal(r.status, 400, bad);
    assert.match(r.body.error, /days must be an integer between 1 and 365/);
  }
});

test('GET /metrics answers Prometheus text', async () => {
  const r = await request(`${ctx.base}/metrics`, ADMIN);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain/);
  assert.match(r.body, /^# (HELP|TYPE) ml_anomaly_/m);
  assert.match(r.body, /ml_anomaly_predictions_total\S* \d+/);
});

test('POST /retrain trains version 2; POST /models/1/activate rolls back; POST /initialize', async () => {
  const r = await request(`${ctx.base}/retrain`, { ...ADMIN, method: 'POST' });
  assert.equal(r.status, 200);
  assert.equal(r.body.success, true);
  assert.equal(r.body.message, 'Model retraining initiated', 'the original answers at once and trains in the background');
  while (ctx.service.isRetraining) await new Promise((resolve) => setTimeout(resolve, 20));
  const h = await request(`${ctx.base}/models/history`, ADMIN);
  assert.deepEqual(h.body.models.map((m) => [m.version, m.isActive]), [[2, true], [1, false]]);
  const back = await request(`${ctx.base}/models/1/activate`, { ...ADMIN, method: 'POST' });
  assert.equal(back.status, 200);
  assert.equal(back.body.data.version, 1);
  assert.equal((await request(`${ctx.base}/models/active`, ADMIN)).body.model.version, 1);
  const missing = await request(`${ctx.base}/models/7/activate`, { ...ADMIN, method: 'POST' });
  assert.equal(missing.status, 404);
  const init = await request(`${ctx.base}/initialize`, { ...ADMIN, method: 'POST' });
  assert.equal(init.status, 200);
  assert.deepEqual(init.body, { success: true, message: 'ML system initialized successfully', training: false, modelVersion: 1 });
});
