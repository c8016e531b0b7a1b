'use strict';
// The two middlewares over a service whose predictions the test controls: every action band,
// the confidence gate, revocation and security events, failing open (standard) and closed
// (strict), and the request context built from the HTTP request. Real Express, real HTTP.
// middleware-sync.test.js runs this whole file again over a service with `predictSync`, the
// synchronous path the middlewares take over the real service.

const test = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');

const { createMiddleware } = require('ml-anomaly');
const { listen, request } = require('./helpers/http');
const { identify } = require('./helpers/fake-auth');
const { ControlledService, ControlledSyncService, prediction } = require('./helpers/controlled-service');

const Service = process.env.ML_ANOMALY_TEST_SYNC_SERVICE === '1' ? ControlledSyncService : ControlledService;

function echo(req, res) {
  res.json({
    reached: true,
    mlPrediction: req.mlPrediction,
    requires2FA: req.requires2FA,
    reason: req.reason,
    requiresChallenge: req.requiresChallenge,
    challengeReason: req.challengeReason,
    enhancedMonitoring: req.enhancedMonitoring,
  });
}

async function setup(serviceOptions = {}, middlewareOptions = {}) {
  const service = new Service(serviceOptions);
  const revoked = [];
  const events = [];
  const { mlAnomalyCheck, strictMLCheck } = createMiddleware(service, {
    revokeSession: async (sessionId, userId) => {
      revoked.push({ sessionId, userId });
    },
    onSecurityEvent: (event) => events.push(event),
    ...middlewareOptions,
  });
  const app = express();
  app.set('trust proxy', false);
  app.use(identify);
  app.use('/api/admin', strictMLCheck);
  app.use('/api', mlAnomalyCheck);
  app.get('/api/admin/boom', () => {
    throw new Error('downstream failure');
  });
  app.get('/api/boom', () => {
    throw new Error('downstream failure');
  });
  app.all('/api/*', echo);
  let errorHandlerCalls = 0;
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    errorHandlerCalls += 1;
    res.status(500).json({ success: false, error: err.message });
  });
  const server = await listen(app);
  return { service, revoked, events, server, errorHandlerCalls: () => errorHandlerCalls };
}

const ids = { user: 'u1', session: 's1' };

test('mlAnomalyCheck skips requests without a session or a user', async (t) => {
  const s = await setup();
  t.after(s.server.close);
  for (const who of [{}, { user: 'u1' }, { session: 's1' }]) {
    const r = await request(`${s.server.url}/api/expenses`, who);
    assert.equal(r.status, 200);
    assert.equal(r.body.mlPrediction, undefined);
  }
  assert.equal(s.service.calls.length, 0);
});

test('ALLOW: request passes with req.mlPrediction and no flags', async (t) => {
  const s = await setup();
  t.after(s.server.close);
  s.service.next(prediction('ALLOW'));
  const r = await request(`${s.server.url}/api/expenses`, ids);
  assert.equal(r.status, 200);
  assert.equal(r.body.mlPrediction.action, 'ALLOW');
  assert.equal(typeof r.body.mlPrediction.processingTime, 'number');
  assert.ok(r.body.mlPrediction.processingTime >= 0);
  for (const flag of ['requires2FA', 'requiresChallenge', 'enhancedMonitoring']) assert.equal(r.body[flag], undefined);
  assert.equal(s.events.length, 0, 'no security event without an anomaly');
  assert.deepEqual(s.service.calls[0].sessionId, 's1');
  assert.deepEqual(s.service.calls[0].userId, 'u1');
});

test('MONITOR with confidence > 0.8 sets enhancedMonitoring and reports a security event', async (t) => {
  const s = await setup();
  t.after(s.server.close);
  s.service.next(prediction('MONITOR', { confidence: 0.9 }));
  const r = await request(`${s.server.url}/api/expenses`, ids);
  assert.equal(r.status, 200);
  assert.equal(r.body.enhancedMonitoring, true);
  assert.equal(r.body.requiresChallenge, undefined);
  assert.equal(s.events.length, 1);
  assert.equal(s.events[0].type, 'ML_ANOMALY_DETECTED');
  assert.equal(s.events[0].action, 'MONITOR');
  assert.equal(s.events[0].sessionId, 's1');
});

test('CHALLENGE with confidence > 0.8 sets requiresChallenge and challengeReason', async (t) => {
  const s = await setup();
  t.after(s.server.close);
  s.service.next(prediction('CHALLENGE', { confidence: 0.85 }));
  const r = await request(`${s.server.url}/api/expenses`, ids);
  assert.equal(r.status, 200);
  assert.equal(r.body.requiresChallenge, true);
  assert.equal(r.body.challengeReason, 'ML_ANOMALY');
  assert.equal(r.body.requires2FA, undefined);
  assert.equal(r.body.enhancedMonitoring, undefined);
});

test('REQUIRE_2FA with confidence > 0.8 flags 2FA with the reason', async (t) => {
  const s = await setup();
  t.after(s.server.close);
  s.service.next(prediction('REQUIRE_2FA', { confidence: 0.95 }));
  const r = await request(`${s.server.url}/api/expenses`, ids);
  assert.equal(r.status, 200);
  assert.equal(r.body.requires2FA, true);
  assert.equal(r.body.reason, 'ML_ANOMALY_DETECTED');
  assert.equal(s.revoked.length, 0);
});

test('BLOCK with confidence > 0.8 revokes the session and answers 403 with the original body', async (t) => {
  const s = await setup();
  t.after(s.server.close);
  s.service.next(prediction('BLOCK', { confidence: 0.81 }));
  const r = await request(`${s.server.url}/api/expenses`, ids);
  assert.equal(r.status, 403);
  assert.deepEqual(r.body, {
    success: false,
    error: 'Session terminated due to suspicious activity',
    requiresReauthentication: true,
  });
  assert.deepEqual(s.revoked, [{ sessionId: 's1', userId: 'u1' }]);
  assert.equal(s.events.length, 1);
  assert.equal(s.events[0].severity, 'CRITICAL');
});

test('confidence <= 0.8 only monitors, whatever the action', async (t) => {
  const s = await setup();
  t.after(s.server.close);
  for (const action of ['BLOCK', 'REQUIRE_2FA', 'CHALLENGE']) {
    s.service.next(prediction(action, { confidence: 0.8 }));
    const r = await request(`${s.server.url}/api/expenses`, ids);
    assert.equal(r.status, 200, action);
    assert.equal(r.body.enhancedMonitoring, true, action);
    assert.equal(r.body.requires2FA, undefined, action);
    assert.equal(r.body.requiresChallenge, undefined, action);
  }
  assert.equal(s.revoked.length, 0);
  assert.equal(s.events.length, 3, 'anomalies are reported even when not enforced');
});

test('the middleware enforces what the service decided (enforcedAction), not its own rule', async (t) => {
  const s = await setup();
  t.after(s.server.close);
  s.service.next(prediction('BLOCK', { confidence: 0.99, enforced: 'CHALLENGE' }));
  const r = await request(`${s.server.url}/api/expenses`, ids);
  assert.equal(r.status, 200, 'BLOCK recommended, CHALLENGE enforced');
  assert.equal(r.body.requiresChallenge, true);
  s.service.next(prediction('CHALLENGE', { confidence: 0.5, enforced: 'REQUIRE_2FA' }));
  const low = await request(`${s.server.url}/api/expenses`, ids);
  assert.equal(low.body.requires2FA, true, 'a low confidence does not override the decision');
  assert.equal(s.revoked.length, 0);
});

test('a failing service never blocks: fallback in req.mlPrediction and next()', async (t) => {
  const s = await setup();
  t.after(s.server.close);
  s.service.next(new Error('engine exploded'));
  const r = await request(`${s.server.url}/api/expenses`, ids);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.mlPrediction, { error: 'engine exploded', fallback: true });
});

test('failing host callbacks do not break the request', async (t) => {
  const s = await setup({}, {
    revokeSession: async () => {
      throw new Error('session store down');
    },
    onSecurityEvent: () => {
      throw new Error('audit log down');
    },
  });
  t.after(s.server.close);
  s.service.next(prediction('BLOCK', { confidence: 0.99 }));
  const blocked = await request(`${s.server.url}/api/expenses`, ids);
  assert.equal(blocked.status, 403, 'a BLOCK still blocks when revocation fails');
  s.service.next(prediction('CHALLENGE', { confidence: 0.99 }));
  const challenged = await request(`${s.server.url}/api/expenses`, ids);
  assert.equal(challenged.status, 200);
  assert.equal(challenged.body.requiresChallenge, true);
});

test('an error thrown downstream reaches the app error handler once', async (t) => {
  const s = await setup();
  t.after(s.server.close);
  const r = await request(`${s.server.url}/api/boom`, ids);
  assert.equal(r.status, 500);
  assert.equal(r.body.error, 'downstream failure');
  const strict = await request(`${s.server.url}/api/admin/boom`, ids);
  assert.equal(strict.status, 500);
  assert.equal(s.errorHandlerCalls(), 2);
});

test('the request context comes from the request', async (t) => {
  const seen = [];
  const s = await setup({}, {
    resolveEndpointSensitivity: (req) => {
      seen.push(req.method);
      return req.path.includes('reports') ? 'HIGH' : undefined;
    },
  });
  t.after(s.server.close);
  await request(`${s.server.url}/api/reports/export?format=csv`, {
    ...ids,
    method: 'POST',
    json: { from: '2024-01-01' },
    headers: { 'user-agent': 'TestAgent/1.0', 'x-geo-location': '48.85,2.35', 'x-device-fingerprint': 'dev-1' },
  });
  await request(`${s.server.url}/api/expenses`, { ...ids, headers: { 'x-geo-location': 'nowhere' } });
  const [first, second] = s.service.calls.map((c) => c.requestContext);
  assert.equal(first.endpoint, '/api/reports/export');
  assert.equal(first.method, 'POST');
  assert.equal(first.ipAddress, '127.0.0.1');
  assert.equal(first.userAgent, 'TestAgent/1.0');
  assert.equal(first.contentLength, JSON.stringify({ from: '2024-01-01' }).length);
  assert.equal(first.endpointSensitivity, 'HIGH');
  assert.deepEqual(first.location, { lat: 48.85, lon: 2.35 });
  assert.equal(first.deviceFingerprint, 'dev-1');
  assert.equal(first.timestamp, undefined, 'the clock is the service\'s unless a timestamp header is enabled');
  assert.equal(second.endpointSensitivity, 'LOW', 'default classification when the callback has no opinion');
  assert.equal(second.location, undefined, 'a malformed location header is ignored');
  assert.deepEqual(seen, ['POST', 'GET']);
});

test('strictMLCheck: 401 without session or user', async (t) => {
  const s = await setup();
  t.after(s.server.close);
  const r = await request(`${s.server.url}/api/admin/users`, { user: 'u1' });
  assert.equal(r.status, 401);
  assert.deepEqual(r.body, { success: false, error: 'Authentication required' });
  assert.equal(s.service.calls.length, 0);
});

test('strictMLCheck: an anomaly scored above 0.7 answers 403, at 0.7 passes; sensitivity is CRITICAL', async (t) => {
  const s = await setup();
  t.after(s.server.close);
  s.service.next(prediction('CHALLENGE', { score: 0.75, confidence: 0.5 }));
  const denied = await request(`${s.server.url}/api/admin/users`, ids);
  assert.equal(denied.status, 403);
  assert.deepEqual(denied.body, {
    success: false,
    error: 'Access denied due to anomalous behavior',
    reason: 'ML_ANOMALY_STRICT_MODE',
  });
  assert.equal(s.service.calls[0].requestContext.endpointSensitivity, 'CRITICAL');
  // The standard check after it did not run: the strict answer ended the request.
  assert.equal(s.service.calls.length, 1);

  s.service.next(prediction('MONITOR', { score: 0.7 }));
  const passed = await request(`${s.server.url}/api/admin/users`, ids);
  assert.equal(passed.status, 200);
  assert.equal(passed.body.reached, true);
  // Through both middlewares, the request is scored (observed) once: the standard check reuses
  // the strict check's prediction and applies its own response (MONITOR, confidence 0.95).
  assert.equal(s.service.calls.length, 2);
  assert.equal(passed.body.enhancedMonitoring, true);
  assert.equal(passed.body.mlPrediction.anomalyScore, 0.7);
});

test('mlAnomalyCheck then strictMLCheck: scored once, the strict denial reports a CRITICAL context', async (t) => {
  // The order of an app that mounts the standard check on /api and the strict one on a router
  // below it: the strict check reuses the answer and builds its context only for the event.
  const service = new Service();
  const events = [];
  let contextsBuilt = 0;
  const { mlAnomalyCheck, strictMLCheck } = createMiddleware(service, {
    onSecurityEvent: (e) => events.push(e),
    extendContext: () => {
      contextsBuilt += 1;
    },
  });
  const app = express();
  app.use(identify);
  app.use('/api', mlAnomalyCheck);
  app.use('/api/vault', strictMLCheck);
  app.all('/api/*', echo);
  const server = await listen(app);
  t.after(server.close);

  service.next(prediction('CHALLENGE', { score: 0.75, confidence: 0.5 }));
  const denied = await request(`${server.url}/api/vault/statements`, ids);
  assert.equal(denied.status, 403);
  assert.equal(service.calls.length, 1);
  assert.equal(service.calls[0].requestContext.endpointSensitivity, 'LOW');
  assert.deepEqual(
    events.map((e) => [e.type, e.requestContext.endpointSensitivity]),
    [
      ['ML_ANOMALY_DETECTED', 'LOW'],
      ['ML_ANOMALY_STRICT_DENIED', 'CRITICAL'],
    ],
  );
  assert.equal(contextsBuilt, 2, 'the strict context is built for its event');

  service.next(prediction('ALLOW'));
  const passed = await request(`${server.url}/api/vault/statements`, ids);
  assert.equal(passed.status, 200);
  assert.equal(service.calls.length, 2);
  assert.equal(events.length, 2, 'no event for a request that passes');
  assert.equal(contextsBuilt, 3, 'a request that passes both checks has its context built once');
});

test('strictMLCheck fails closed: 503 on a thrown error or an erroring fallback', async (t) => {
  const s = await setup();
  t.after(s.server.close);
  const unavailable = { success: false, error: 'Security check temporarily unavailable' };
  s.service.next(new Error('engine exploded'));
  const thrown = await request(`${s.server.url}/api/admin/users`, ids);
  assert.equal(thrown.status, 503);
  assert.deepEqual(thrown.body, unavailable);
  s.service.next(prediction('ALLOW', { score: 0, confidence: 0, fallback: true, error: 'store unavailable' }));
  const fallback = await request(`${s.server.url}/api/admin/users`, ids);
  assert.equal(fallback.status, 503);
  assert.deepEqual(fallback.body, unavailable);
});

test('strictMLCheck lets requests through while no model exists (fallback without error)', async (t) => {
  const s = await setup();
  t.after(s.server.close);
  s.service.next(prediction('ALLOW', { score: 0, confidence: 0, fallback: true }));
  const r = await request(`${s.server.url}/api/admin/users`, ids);
  assert.equal(r.status, 200);
});

test('createMiddleware rejects a service without predictStreaming and non-function hooks', () => {
  assert.throws(() => createMiddleware({}), TypeError);
  assert.throws(() => createMiddleware(new ControlledService(), { revokeSession: 'yes' }), TypeError);
});
