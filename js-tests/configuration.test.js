'use strict';
// Configuration never breaks requests: an invalid setting is reported by initialize(), the
// standard middleware then fails open and the strict one answers 503 (never 500), and the setting
// can be fixed at run time; run-time changes through configure() and options take effect. And
// what the host's other middlewares put on the request is used.

const test = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');

const { AnomalyService, createMiddleware, createAnomalyService } = require('ml-anomaly');
const { listen, request } = require('./helpers/http');
const { identify } = require('./helpers/fake-auth');
const { requireNative, trainedService } = require('./helpers/native-app');

requireNative();

function recordingLogger() {
  const lines = { info: [], warn: [], error: [] };
  return { lines, info: (m) => lines.info.push(m), warn: (m) => lines.warn.push(m), error: (m) => lines.error.push(m) };
}

async function appOver(service, options) {
  const { mlAnomalyCheck, strictMLCheck } = createMiddleware(service, options);
  const app = express();
  app.use(identify);
  app.use('/api/admin', strictMLCheck);
  app.use('/api', mlAnomalyCheck);
  app.all('/api/*', (req, res) => res.json({ mlPrediction: req.mlPrediction }));
  return listen(app);
}

test('a bad environment variable: initialize() says so, requests fail open / 503, configure() fixes it', async (t) => {
  const logger = recordingLogger();
  const service = new AnomalyService({ store: ':memory:', schedules: false, logger }, { env: { ML_ANOMALY_ANOMALY_THRESHOLD: 'abc' } });
  t.after(() => service.close());
  const server = await appOver(service);
  t.after(server.close);
  // a bad value of the right type, named by the engine: the same treatment
  const ranged = new AnomalyService({ store: ':memory:', schedules: false, logger: false }, { env: { ML_ANOMALY_MIN_SAMPLES: '3' } });
  assert.equal(await ranged.initialize(), false);
  assert.match(ranged.initializationError.message, /minSamplesForTraining: must be at least 20.*ML_ANOMALY_MIN_SAMPLES/);

  assert.equal(await service.initialize(), false);
  assert.match(service.initializationError.message, /ML_ANOMALY_ANOMALY_THRESHOLD must be a number \(got 'abc'\)/);
  assert.ok(logger.lines.error.some((l) => /invalid configuration/.test(l)), 'logged');
  for (let i = 0; i < 3; i++) {
    const ok = await request(`${server.url}/api/expenses`, { user: 'u1', session: 's1' });
    assert.equal(ok.status, 200, 'the standard middleware fails open');
    assert.equal(ok.body.mlPrediction.fallback, true);
    assert.match(ok.body.mlPrediction.error, /ML_ANOMALY_ANOMALY_THRESHOLD/);
    const strict = await request(`${server.url}/api/admin/users`, { user: 'u1', session: 's1' });
    assert.equal(strict.status, 503, 'the strict one fails closed');
  }
  assert.ok(logger.lines.error.filter((l) => /strictMLCheck failing closed/.test(l)).length <= 1, 'the same failure is logged once, not per request');

  service.configure({ anomalyThreshold: 0.7 }); // code wins over the environment
  assert.equal(await service.initialize(), true);
  const fixed = await request(`${server.url}/api/expenses`, { user: 'u1', session: 's1' });
  assert.equal(fixed.body.mlPrediction.error, undefined);
  assert.equal(typeof fixed.body.mlPrediction.predictionId, 'number');
  assert.equal(service.options.anomalyThreshold, 0.7);
});

test('configure() and options after initialize() take effect on the next request', async (t) => {
  const { service, events } = await trainedService({ seed: 44 });
  t.after(() => service.close());
  const last = events.at(-1);
  const ctx = { endpoint: '/api/expenses', method: 'GET', timestamp: last.timestamp + 60000 };
  const before = await service.predictStreaming(last.sessionId, last.userId, ctx);
  assert.equal(before.fallback, false);
  service.configure({ anomalyThreshold: 0 });
  const after = await service.predictStreaming(last.sessionId, last.userId, { ...ctx, timestamp: ctx.timestamp + 1000 });
  assert.equal(after.isAnomaly, true, 'every score is above 0');
  service.options.anomalyThreshold = 1.5;
  const none = await service.predictStreaming(last.sessionId, last.userId, { ...ctx, timestamp: ctx.timestamp + 2000 });
  assert.equal(none.isAnomaly, false);
  assert.throws(() => service.configure({ store: '/elsewhere.sqlite' }), /storePath: cannot change while the engine runs/);
  assert.throws(() => service.configure({ blockThreshold: 0.5 }), /thresholds must be ordered/);
  assert.equal(service.options.blockThreshold, 0.9, 'a refused change changes nothing');
});

test("the host's req.endpointSensitivity and req.geoLocation are used; an invalid position is ignored and counted", async (t) => {
  const service = createAnomalyService({ store: ':memory:', schedules: false, autoTrain: false });
  t.after(() => service.close());
  const seen = [];
  const spy = { ...service, predictStreaming: (...a) => service.predictStreaming(...a) };
  void spy;
  const { mlAnomalyCheck } = createMiddleware(service, { extendContext: (req, ctx) => void seen.push(ctx) });
  const app = express();
  app.use(identify);
  app.use((req, res, next) => {
    req.endpointSensitivity = req.get('x-sensitivity');
    if (req.get('x-lat')) req.geoLocation = { latitude: Number(req.get('x-lat')), longitude: Number(req.get('x-lon')) };
    next();
  });
  app.use('/api', mlAnomalyCheck);
  app.all('/api/*', (req, res) => res.json({ ok: true }));
  const server = await listen(app);
  t.after(server.close);
  await request(`${server.url}/api/reports`, { user: 'u', session: 's', headers: { 'x-sensitivity': 'HIGH', 'x-lat': '48.85', 'x-lon': '2.35' } });
  assert.equal(seen[0].endpointSensitivity, 'HIGH');
  assert.deepEqual(seen[0].location, { lat: 48.85, lon: 2.35 });
  await request(`${server.url}/api/reports`, { user: 'u', session: 's', headers: { 'x-lat': '91', 'x-lon': '0' } });
  assert.equal(seen[1].location, undefined, 'latitude 91 is no position');
  await request(`${server.url}/api/reports`, { user: 'u', session: 's', headers: { 'x-geo-location': '10,181' } });
  assert.equal(seen[2].location, undefined, 'the same rule for the header');
  assert.equal(service.metrics().middleware.ignoredLocations, 2);
  assert.match(service.prometheus(), /ml_anomaly_ignored_context_total\{field="location"\} 2/);
});

test('the default logger warns once about requests without identity and BLOCK without revokeSession', async (t) => {
  const warned = [];
  const original = console.warn;
  console.warn = (m) => warned.push(String(m));
  t.after(() => {
    console.warn = original;
  });
  const service = createAnomalyService({ store: ':memory:', schedules: false, autoTrain: false });
  t.after(() => service.close());
  const server = await appOver(service);
  t.after(server.close);
  for (let i = 0; i < 3; i++) await request(`${server.url}/api/expenses`, {});
  for (let i = 0; i < 3; i++) await request(`${server.url}/api/expenses`, { user: 'u1' });
  assert.equal(warned.filter((w) => /without a user id/.test(w)).length, 1);
  assert.equal(warned.filter((w) => /a user but no session id/.test(w)).length, 1);
  assert.equal(service.metrics().middleware.skippedWithoutUser, 3);
  assert.equal(service.metrics().middleware.skippedWithoutSession, 3);
  assert.equal(service.logger.info('quiet'), undefined, 'info stays silent');
});

test("with trust proxy set to the hop count (docs/integration.md), a client's own X-Forwarded-For cannot choose the scored address", async (t) => {
  const service = createAnomalyService({ store: ':memory:', schedules: false, autoTrain: false });
  t.after(() => service.close());
  const seen = [];
  const { mlAnomalyCheck } = createMiddleware(service, { extendContext: (req, ctx) => void seen.push(ctx.ipAddress) });
  const appWith = async (trust) => {
    const app = express();
    app.set('trust proxy', trust);
    app.use(identify);
    app.use('/api', mlAnomalyCheck);
    app.all('/api/*', (req, res) => res.json({ ok: true }));
    const server = await listen(app);
    t.after(server.close);
    return server;
  };
  // The test client plays the one load balancer in front: it appends the address it saw
  // (203.0.113.7) to whatever the client sent (the victim's usual address, 198.51.100.1).
  const forwarded = { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' };
  const hop = await appWith(1);
  await request(`${hop.url}/api/expenses`, { user: 'u', session: 's', headers: forwarded });
  const everything = await appWith(true);
  await request(`${everything.url}/api/expenses`, { user: 'u', session: 's', headers: forwarded });
  assert.deepEqual(seen, ['203.0.113.7', '198.51.100.1'], 'a hop count scores the address the proxy saw; `true` believes the client');
});

test('modelConfig before the engine opens: an assignment wins over the option that set the field, a later configure() over the assignment', async (t) => {
  const service = createAnomalyService({ store: ':memory:', schedules: false, autoTrain: false, anomalyThreshold: 0.7, prediction: { challenge: 0.75 } });
  t.after(() => service.close());
  service.modelConfig.prediction.anomalyThreshold = 0.72;
  service.modelConfig.prediction.challenge = 0.8;
  assert.equal(service.modelConfig.prediction.anomalyThreshold, 0.72, 'not a silent no-op under the flat option');
  assert.equal(service.modelConfig.prediction.challenge, 0.8, 'nor under the section');
  await service.initialize();
  assert.equal(service.modelConfig.prediction.anomalyThreshold, 0.72, 'and it is what the engine opened with');
  assert.equal(service.modelConfig.prediction.challenge, 0.8);
  service.configure({ anomalyThreshold: 0.71 });
  assert.equal(service.modelConfig.prediction.anomalyThreshold, 0.71, 'the latest setting wins');
  for (const bad of [NaN, Infinity, -Infinity]) {
    assert.throws(
      () => {
        service.modelConfig.prediction.anomalyThreshold = bad;
      },
      (err) => err instanceof TypeError && /prediction\.anomalyThreshold must be a finite number/.test(err.message),
    );
  }
  assert.throws(() => {
    service.modelConfig.prediction = { ensembleWeight: { isolationForest: NaN, autoencoder: 0.4 } };
  }, /prediction\.ensembleWeight\.isolationForest must be a finite number/);
  assert.equal(service.modelConfig.prediction.anomalyThreshold, 0.71, 'nothing changed');

  // Before open, a refused assignment leaves the configuration as it was.
  const fresh = createAnomalyService({ store: ':memory:', schedules: false, autoTrain: false });
  t.after(() => fresh.close());
  assert.throws(() => {
    fresh.modelConfig.prediction.challenge = 0.99;
  }, /thresholds must be ordered/);
  assert.equal(fresh.modelConfig.prediction.challenge, 0.7);
});
