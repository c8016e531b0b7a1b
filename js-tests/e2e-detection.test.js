'use strict';
// End to end through the native addon: a model trained on generated normal traffic, an
// ExpenseFlow-shaped Express app, and requests replayed over real HTTP. A normal user keeps
// working undisturbed; a hijacked session is detected, its session revoked and the request
// answered 403; the strict middleware denies the attacker on admin routes; the victim finds the
// anomalies through the routes and gives feedback.

const test = require('node:test');
const assert = require('node:assert/strict');

const express = require('express');
const { createMiddleware } = require('ml-anomaly');
const { listen, request } = require('./helpers/http');
const { auth } = require('./helpers/fake-auth');
const { trainedService, expenseflowApp, replay } = require('./helpers/native-app');
const { normalTraffic, hijackAttack, recentMonday, HOUR } = require('./helpers/traffic');

let ctx;

test.before(async () => {
  const trained = await trainedService();
  const { app, calls } = expenseflowApp(trained.service);
  const server = await listen(app);
  ctx = { ...trained, calls, server };
});

test.after(async () => {
  if (!ctx) return;
  await ctx.server.close();
  await ctx.service.close();
});

test('a normal user keeps working: never blocked, mostly allowed', async () => {
  // The next week of the same users' habits (same generator seed, so the same people).
  const nextWeek = normalTraffic({ seed: 7, users: 20, days: 5, start: recentMonday(1) });
  const events = nextWeek.events.filter((e) => e.userId === 'user-5').slice(0, 60);
  assert.ok(events.length >= 40, 'enough requests of one user');
  const actions = {};
  for (const e of events) {
    const r = await replay(ctx.server.url, e);
    assert.equal(r.status, 200, `normal request answered ${r.status}: ${JSON.stringify(r.body)}`);
    const p = r.body.mlPrediction;
    assert.equal(p.fallback, false);
    actions[p.enforcedAction] = (actions[p.enforcedAction] || 0) + 1;
  }
  assert.ok((actions.ALLOW || 0) >= events.length * 0.75, `mostly ALLOW: ${JSON.stringify(actions)}`);
  assert.equal(actions.BLOCK || 0, 0);
  assert.ok(!ctx.calls.revoked.some((c) => c.userId === 'user-5'));
});

test('a hijacked session is detected, revoked and answered 403', async () => {
  const victim = ctx.users[3];
  const attack = hijackAttack({ seed: 11, user: victim, at: ctx.lastTimestamp + 14 * HOUR, requests: 40 });
  let blocked = null;
  let anomalies = 0;
  for (const e of attack) {
    const r = await replay(ctx.server.url, e);
    if (r.status === 403) {
      blocked = r;
      break;
    }
    assert.equal(r.status, 200);
    if (r.body.mlPrediction.isAnomaly) anomalies += 1;
  }
  assert.ok(blocked, `the attack was never blocked (${anomalies} anomalies flagged)`);
  assert.deepEqual(blocked.body, {
    success: false,
    error: 'Session terminated due to suspicious activity',
    requiresReauthentication: true,
  });
  assert.deepEqual(ctx.calls.revoked.at(-1), { sessionId: attack[0].sessionId, userId: victim.userId });
  const events = ctx.calls.securityEvents.filter((e) => e.sessionId === attack[0].sessionId);
  assert.ok(events.length >= 1);
  const blockEvent = events.at(-1);
  assert.equal(blockEvent.action, 'BLOCK');
  assert.equal(blockEvent.type, 'ML_ANOMALY_DETECTED');
  assert.ok(blockEvent.anomalyScore >= 0.9);
  assert.ok(blockEvent.confidence > 0.8);
  assert.equal(blockEvent.explanation.length, 5);
  assert.equal(typeof blockEvent.predictionId, 'number');
  ctx.blockedPredictionId = blockEvent.predictionId;
  ctx.victim = victim;
});

test('the strict middleware denies the attacker on admin routes', async () => {
  const victim = ctx.users[4];
  const attack = hijackAttack({ seed: 12, user: victim, at: ctx.lastTimestamp + 15 * HOUR, requests: 30 });
  let denied = null;
  for (const e of attack) {
    const r = await replay(ctx.server.url, { ...e, endpoint: '/api/admin/users', method: 'GET' });
    if (r.status === 403) {
      denied = r;
      break;
    }
    assert.equal(r.status, 200);
  }
  assert.ok(denied, 'never denied');
  assert.deepEqual(denied.body, {
    success: false,
    error: 'Access denied due to anomalous behavior',
    reason: 'ML_ANOMALY_STRICT_MODE',
  });
});

test('a request through two checks is observed once, and carries its own answer', async (t) => {
  // ExpenseFlow's /api/admin runs strictMLCheck and then mlAnomalyCheck; an app may also mount
  // mlAnomalyCheck at two levels. The later check reuses the answer stamped on req.mlPrediction
  // instead of observing the request a second time.
  const { mlAnomalyCheck } = createMiddleware(ctx.service, { timestampHeader: 'x-event-timestamp' });
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use('/api', auth, mlAnomalyCheck, mlAnomalyCheck);
  app.all('/api/*', (req, res) => res.json({ mlPrediction: req.mlPrediction }));
  const twice = await listen(app);
  t.after(twice.close);

  const nextWeek = normalTraffic({ seed: 7, users: 20, days: 5, start: recentMonday(1) });
  const events = nextWeek.events.filter((e) => e.userId === 'user-2').slice(0, 6);
  let before = ctx.service.metrics().totalPredictions;
  const ids = new Set();
  for (const e of events.slice(0, 3)) {
    const r = await replay(twice.url, e);
    assert.equal(r.status, 200);
    assert.equal(typeof r.body.mlPrediction.predictionId, 'number');
    ids.add(r.body.mlPrediction.predictionId);
  }
  assert.equal(ctx.service.metrics().totalPredictions - before, 3, 'standard check twice: one prediction per request');
  assert.equal(ids.size, 3, 'each request carries its own prediction');

  before = ctx.service.metrics().totalPredictions;
  for (const e of events.slice(3)) {
    const r = await replay(ctx.server.url, { ...e, endpoint: '/api/admin/reports', method: 'GET' });
    assert.ok(r.status === 200 || r.status === 403, `answered ${r.status}`);
  }
  assert.equal(ctx.service.metrics().totalPredictions - before, 3, 'strict then standard: one prediction per request');
});

test('the victim sees the anomalies, reads the blocked prediction and gives feedback', async () => {
  assert.ok(ctx.blockedPredictionId, 'depends on the hijack test');
  const base = `${ctx.server.url}/api/ml-anomaly`;
  const me = { user: ctx.victim.userId, session: 'victim-session' };
  // The prediction records are written by the store's writer thread: wait for them.
  await ctx.service.flush();

  const recent = await request(`${base}/predictions/recent?hours=8760`, me);
  assert.equal(recent.status, 200);
  assert.equal(recent.body.success, true);
  const mine = recent.body.predictions.find((a) => a.id === ctx.blockedPredictionId);
  assert.ok(mine, 'the blocked prediction is among the recent anomalies');
  assert.equal(mine.actionTaken, 'BLOCK');
  assert.match(mine.explanation.summary, /BLOCK/);
  assert.equal(mine.explanation.topFeatures.length, 3, "the original's explanation summary");

  const record = await request(`${base}/predictions/${ctx.blockedPredictionId}`, me);
  assert.equal(record.status, 200);
  const r = record.body.prediction;
  assert.equal(r.userId, ctx.victim.userId);
  assert.equal(r.features.length, 59);
  assert.equal(r.isAnomaly, true);
  assert.equal(r.recommendedAction, 'BLOCK');
  assert.equal(r.explanation.topFeatures.length, 5);
  assert.equal(typeof r.explanation.summary, 'string');
  assert.equal(r.requestContext.ipAddress.startsWith('203.0.113.'), true, 'the proxy-forwarded IP is what was scored');

  const stranger = await request(`${base}/predictions/${ctx.blockedPredictionId}`, { user: 'user-9' });
  assert.equal(stranger.status, 403);
  assert.equal(stranger.body.success, false);
  const admin = await request(`${base}/predictions/${ctx.blockedPredictionId}`, { user: 'admin-1', admin: true });
  assert.equal(admin.status, 200);

  const feedback = await request(`${base}/predictions/${ctx.blockedPredictionId}/feedback`, {
    ...me,
    method: 'POST',
    json: { isFalsePositive: false, isFalseNegative: false, notes: 'that was not me' },
  });
  assert.equal(feedback.status, 200);
  assert.equal(feedback.body.success, true);
  assert.equal(feedback.body.message, 'Feedback submitted successfully');
  assert.equal(feedback.body.feedback.notes, 'that was not me');
  const again = await request(`${base}/predictions/${ctx.blockedPredictionId}`, me);
  assert.equal(again.body.prediction.userFeedback.notes, 'that was not me');
});

test('the statistics show the day of the attack', async () => {
  const stats = await request(`${ctx.server.url}/api/ml-anomaly/statistics?days=365`, { user: ctx.victim.userId });
  assert.equal(stats.status, 200);
  const days = stats.body.statistics;
  assert.ok(days.length >= 1);
  const withAnomalies = days.filter((d) => d.anomalyCount > 0);
  assert.ok(withAnomalies.length >= 1);
  for (const d of days) {
    assert.match(d._id, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(d.totalPredictions >= d.anomalyCount);
  }
  assert.ok(withAnomalies.some((d) => d.maxAnomalyScore >= 0.9));
});
