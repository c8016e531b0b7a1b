'use strict';
// Bad input at the package boundary: TypeErrors that name the argument, option and environment
// validation, and a service without its addon that fails open (standard middleware) and closed
// (strict middleware) instead of crashing. None of this needs the native addon.

const test = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');

const { AnomalyService, createAnomalyService, createMiddleware, createRouter } = require('ml-anomaly');
const { listen, request } = require('./helpers/http');
const { identify, auth, requireAdmin } = require('./helpers/fake-auth');

/** A service whose addon cannot be loaded. */
function serviceWithoutAddon(options = {}) {
  return new AnomalyService({ store: ':memory:', ...options }, {
    NativeEngine: function Missing() {
      const err = new Error('ml-anomaly: native addon not found (test)');
      err.code = 'ML_ANOMALY_NATIVE_MISSING';
      throw err;
    },
  });
}

test('predictStreaming rejects missing or mistyped ids with a TypeError naming them', async () => {
  const service = serviceWithoutAddon();
  const cases = [
    [[undefined, 'u'], /sessionId must be a non-empty string/],
    [['', 'u'], /sessionId must be a non-empty string/],
    [['s', null], /userId must be a non-empty string \(got null\)/],
    [['s', {}], /userId must be a non-empty string \(got an object\)/],
    [['s', ['u']], /userId must be a non-empty string \(got an array\)/],
    [['s', NaN], /userId/],
    [['s', 'u', 'context'], /requestContext must be an object/],
    [['s', 'u', { timestamp: 'yesterday' }], /requestContext.timestamp must be milliseconds/],
    [['s', 'u', { timestamp: -5 }], /requestContext.timestamp/],
    [['s', 'u', { endpoint: 42 }], /requestContext.endpoint must be a string/],
    [['s', 'u', { contentLength: -1 }], /requestContext.contentLength must be a non-negative number/],
    [['s', 'u', { endpointSensitivity: 7 }], /requestContext.endpointSensitivity must be a string/],
    [['s', 'u', { location: 'Paris' }], /requestContext.location must be an object/],
    [['s', 'u', { location: { lat: 'north', lon: 2 } }], /finite numbers lat and lon/],
    [['s', 'u', { isWeekend: 'yes' }], /requestContext.isWeekend must be a boolean/],
    [['s', 'u', { signals: {} }], /requestContext.signals must be an array/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(service.predictStreaming(...args), (err) => {
      assert.ok(err instanceof TypeError, `${JSON.stringify(args)}: ${err}`);
      assert.match(err.message, message);
      return true;
    });
  }
});

test('ids may be numbers or ObjectId-like objects', async () => {
  const service = serviceWithoutAddon();
  const objectId = { toString: () => '64f1c0de64f1c0de64f1c0de' };
  // The addon is missing, so these get the fallback: the point is that they are not TypeErrors.
  const p = await service.predictStreaming(42, objectId, { endpointSensitivity: 'medium' });
  assert.equal(p.fallback, true);
  assert.match(p.error, /native addon not found/);
});

test('predictBatch checks its arrays', async () => {
  const service = serviceWithoutAddon();
  await assert.rejects(service.predictBatch('s', ['u']), TypeError);
  await assert.rejects(service.predictBatch(['a', 'b'], ['u']), /same length \(got 2 and 1\)/);
  await assert.rejects(service.predictBatch(['a'], [null]), /userIds\[0\] must be a non-empty string/);
});

test('getModelPerformance bounds hours', async () => {
  const service = serviceWithoutAddon();
  for (const bad of [0, -1, 1.5, 'ten', 8761]) {
    await assert.rejects(service.getModelPerformance(bad), /hours must be an integer between 1 and 8760/);
  }
});

test('without the addon: the fallback, trainModels false and a clear initialize error', async () => {
  const service = serviceWithoutAddon();
  const p = await service.predictStreaming('s1', 'u1', {});
  assert.deepEqual(Object.keys(p).sort(), [
    'action', 'anomalyScore', 'confidence', 'error', 'explanation', 'fallback', 'isAnomaly', 'modelVersions', 'processingTime',
  ]);
  assert.equal(p.isAnomaly, false);
  assert.equal(p.action, 'ALLOW');
  assert.deepEqual(p.modelVersions, { isolationForest: null, autoencoder: null });
  const errors = [];
  service.on('training:error', (e) => errors.push(e));
  assert.equal(await service.trainModels(), false);
  assert.equal(errors.length, 1);
  // initialize() never rejects (hosts call it without a catch): false, and the reason is kept.
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on('warning', onWarning);
  assert.equal(await service.initialize(), false);
  await new Promise((resolve) => setImmediate(resolve));
  process.off('warning', onWarning);
  assert.match(service.initializationError.message, /native addon not found/);
  assert.ok(warnings.some((w) => /initialize\(\) failed: .*native addon not found/.test(w.message)), 'a process warning without a logger');
  assert.equal(service.isRetraining, false);
  assert.equal(service.lastRetrainingTime, null);
});

test('options are validated, unknown names rejected', () => {
  assert.throws(() => createAnomalyService({ anomalyTreshold: 0.7 }).options, /unknown option 'anomalyTreshold'/);
  assert.throws(() => createAnomalyService({ anomalyThreshold: 'high' }).options, /anomalyThreshold must be a finite number/);
  // Ranges are the engine's: its message names the field, and the option that set it.
  assert.throws(() => createAnomalyService({ challengeThreshold: 0.95 }).options, /thresholds must be ordered.*\(set by challengeThreshold\)/);
  assert.throws(
    () => createAnomalyService({ minSamplesForTraining: 5 }).options,
    /minSamplesForTraining: must be at least 20, got 5 \(set by minSamplesForTraining\)/,
  );
  // As in the original, an anomaly threshold above the action thresholds is accepted: actions
  // then start at it.
  assert.equal(createAnomalyService({ anomalyThreshold: 0.75 }).options.anomalyThreshold, 0.75);
  assert.throws(() => createAnomalyService({ logger: { info() {} } }).options, /logger.warn must be a function/);
  assert.throws(() => createAnomalyService({ revokeSession: true }).options, /revokeSession must be a function/);
  const o = createAnomalyService({ store: ':memory:', retraining: { hourlyRetrainThreshold: 0.3, dailyRetrainForced: false } }).options;
  assert.equal(o.driftThreshold, 0.3, "the original's retraining section is honoured");
  assert.equal(o.forcedRetrainIntervalMs, 0);
});

test('environment variables configure the singleton-style service; bad ones name the variable', () => {
  const env = {
    ML_ANOMALY_STORE: '/tmp/x.sqlite',
    ML_ANOMALY_ANOMALY_THRESHOLD: '0.6',
    ML_ANOMALY_SCHEDULES: 'off',
    ML_ANOMALY_MIN_SAMPLES: '500',
  };
  const s = new AnomalyService({}, { env });
  assert.equal(s.options.store, '/tmp/x.sqlite');
  assert.equal(s.options.anomalyThreshold, 0.6);
  assert.equal(s.options.schedules, false);
  assert.equal(s.options.minSamplesForTraining, 500);
  const overridden = new AnomalyService({ anomalyThreshold: 0.62 }, { env });
  assert.equal(overridden.options.anomalyThreshold, 0.62, 'options win over the environment');
  assert.throws(() => new AnomalyService({}, { env: { ML_ANOMALY_SCHEDULES: 'maybe' } }).options, /ML_ANOMALY_SCHEDULES must be true\/false/);
  assert.throws(() => new AnomalyService({}, { env: { ML_ANOMALY_DRIFT_THRESHOLD: 'x' } }).options, /ML_ANOMALY_DRIFT_THRESHOLD must be a number/);
  const factory = createAnomalyService({});
  assert.equal(factory.options.store, 'ml-anomaly.sqlite', 'createAnomalyService reads no environment');
});

test('configure() works until the engine is opened', async () => {
  const service = serviceWithoutAddon();
  service.configure({ anomalyThreshold: 0.6 });
  assert.equal(service.options.anomalyThreshold, 0.6);
  assert.throws(() => service.configure({ blockThreshold: 'x' }), TypeError);
  assert.equal(service.options.anomalyThreshold, 0.6, 'a rejected configure() changes nothing');
});

test('without the addon the middlewares never crash a request: open for standard, closed for strict', async (t) => {
  const service = serviceWithoutAddon();
  const { mlAnomalyCheck, strictMLCheck } = createMiddleware(service);
  const app = express();
  app.use(identify);
  app.use('/api/admin', strictMLCheck);
  app.use('/api', mlAnomalyCheck);
  app.get('/api/*', (req, res) => res.json({ mlPrediction: req.mlPrediction }));
  app.use('/api/ml-anomaly', createRouter({ auth, requireAdmin, service }));
  const server = await listen(app);
  t.after(server.close);
  const ok = await request(`${server.url}/api/expenses`, { user: 'u1', session: 's1' });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.mlPrediction.fallback, true);
  assert.match(ok.body.mlPrediction.error, /native addon not found/);
  const strict = await request(`${server.url}/api/admin/users`, { user: 'u1', session: 's1' });
  assert.equal(strict.status, 503);
  assert.deepEqual(strict.body, { success: false, error: 'Security check temporarily unavailable' });
  const bad = await request(`${server.url}/api/expenses`, {
    user: 'u1', session: 's1', headers: { 'x-geo-location': '999,999', 'user-agent': 'x'.repeat(10000) },
  });
  assert.equal(bad.status, 200);
});

test('createRouter requires the host auth middleware', () => {
  assert.throws(() => createRouter({}), /options.auth must be the host app's authentication middleware/);
  assert.throws(() => createRouter({ auth, requireAdmin: 'admin', service: serviceWithoutAddon() }), TypeError);
});
