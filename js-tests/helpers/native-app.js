'use strict';
/**
 * The real thing for end-to-end tests: a service over the native addon, trained on generated
 * normal traffic, and an Express app wired as ExpenseFlow wires the original (header-based fake
 * auth, `mlAnomalyCheck` on /api, `strictMLCheck` on /api/admin, the routes at /api/ml-anomaly).
 *
 * Events are replayed over HTTP with the headers a real deployment would see behind a proxy
 * (X-Forwarded-For with `trust proxy`, User-Agent, a geolocation header, a device header) plus
 * the event time in `x-event-timestamp`, which only test and demo apps read (`timestampHeader`).
 */

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const express = require('express');

const { createAnomalyService, createMiddleware, createRouter, nativePath } = require('ml-anomaly');
const { normalTraffic, contextOf, recentMonday } = require('./traffic');
const { auth, requireAdmin } = require('./fake-auth');
const { request } = require('./http');

/** Fails with the command to run when the addon is not built. */
function requireNative() {
  const file = nativePath();
  if (!fs.existsSync(file)) {
    throw new Error(`the native addon is not built (${file} missing): run scripts/build-addon.sh`);
  }
}

/** A fresh temporary directory, removed by `cleanup()`. */
function tempDir(prefix = 'ml-anomaly-test-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A service fed with `days` weekdays of normal traffic of `users` users (directly, not over HTTP:
 * thousands of events in milliseconds) and trained. Returns the service, the users and the end
 * of the generated traffic.
 */
async function trainedService({ store = ':memory:', users = 20, days = 5, seed = 7, options = {} } = {}) {
  requireNative();
  const service = createAnomalyService({
    store,
    minSamplesForTraining: 500,
    autoTrain: false,
    schedules: false,
    ...options,
    // a few users over a few days: below the default coverage a model only learns (monitors)
    prediction: { learning: { minDays: 0, minUsers: 1 }, ...(options.prediction || {}) },
  });
  const traffic = normalTraffic({ seed, users, days, start: recentMonday(2) });
  for (const e of traffic.events) await service.predictStreaming(e.sessionId, e.userId, contextOf(e));
  const trained = await service.trainModels(true);
  if (!trained) throw new Error('training on the generated traffic was skipped');
  const lastTimestamp = traffic.events[traffic.events.length - 1].timestamp;
  return { service, users: traffic.users, events: traffic.events, lastTimestamp };
}

/**
 * The ExpenseFlow-shaped app over `service`. `hooks`: `revokeSession`, `onSecurityEvent` (both
 * recorded in `calls`). Returns the app and the recorded calls.
 */
function expenseflowApp(service, hooks = {}) {
  const calls = { revoked: [], securityEvents: [] };
  const { mlAnomalyCheck, strictMLCheck } = createMiddleware(service, {
    timestampHeader: 'x-event-timestamp',
    revokeSession: async (sessionId, userId) => {
      calls.revoked.push({ sessionId, userId });
      if (hooks.revokeSession) await hooks.revokeSession(sessionId, userId);
    },
    onSecurityEvent: (event) => {
      calls.securityEvents.push(event);
      if (hooks.onSecurityEvent) hooks.onSecurityEvent(event);
    },
  });
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use('/api/ml-anomaly', createRouter({ auth, requireAdmin, service }));
  app.use('/api/admin', auth, strictMLCheck);
  app.use('/api', auth, mlAnomalyCheck);
  app.all('/api/*', (req, res) => {
    res.json({
      success: true,
      mlPrediction: req.mlPrediction,
      requires2FA: req.requires2FA,
      requiresChallenge: req.requiresChallenge,
      enhancedMonitoring: req.enhancedMonitoring,
    });
  });
  return { app, calls };
}

/** HTTP headers that carry a generated event's context. */
function eventHeaders(e) {
  const h = {
    'x-user-id': e.userId,
    'x-session-id': e.sessionId,
    'x-event-timestamp': String(e.timestamp),
    'x-forwarded-for': e.ipAddress,
    'user-agent': e.userAgent,
  };
  if (e.location) h['x-geo-location'] = `${e.location.lat},${e.location.lon}`;
  if (e.deviceFingerprint) h['x-device-fingerprint'] = e.deviceFingerprint;
  return h;
}

/** Replays one generated event against the app at `url`. */
function replay(url, e) {
  const withBody = e.method === 'POST' || e.method === 'PUT' || e.method === 'PATCH';
  return request(`${url}${e.endpoint}`, {
    method: e.method,
    headers: eventHeaders(e),
    json: withBody ? { payload: 'x'.repeat(Math.max(0, e.contentLength - 14)) } : undefined,
  });
}

module.exports = { requireNative, tempDir, trainedService, expenseflowApp, eventHeaders, replay };
