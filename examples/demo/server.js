'use strict';
/**
 * The demo app: a small ExpenseFlow stand-in wired to ml-anomaly exactly as ExpenseFlow wires its
 * original ML anomaly detection (see the package README): the singleton service, the
 * `mlAnomalyCheck` middleware on /api, `strictMLCheck` on /api/admin, the routes at
 * /api/ml-anomaly. Authentication is faked with headers:
 *
 *   x-user-id: <user>        x-session-id: <session>        x-admin: true
 *
 * A browser cannot set those headers, so the same identities may come from the cookies
 * `demo_user`, `demo_session` and `demo_admin`; `GET /demo/viewer` sets an admin's cookies and
 * opens the explanation viewer on the latest anomaly.
 *
 * A revoked session (the BLOCK action) is refused with 401 afterwards, as a real app would
 * require re-authentication.
 *
 * Replays (scripts/demo.sh): with DEMO_REPLAY=1 the app also reads the event's original time,
 * session age, response status and body size from `x-demo-timestamp`, `x-demo-session-age`,
 * `x-demo-status` and `x-demo-content-length` headers. Never do that in production: it lets
 * clients choose what the detector sees.
 *
 *   PORT (3000)   HOST (127.0.0.1)   ML_ANOMALY_* (the package's configuration, e.g. ML_ANOMALY_STORE)
 */

const path = require('node:path');
const fs = require('node:fs');
const express = require('express');

// The three require() lines that replace ExpenseFlow's own modules.
const mlAnomalyDetectionService = require('ml-anomaly/service');
const { createRouter } = require('ml-anomaly/router');
const { createMiddleware } = require('ml-anomaly/middleware');

const PORT = Number(process.env.PORT || 3000);
const HOST = process.env.HOST || '127.0.0.1';
const REPLAY = process.env.DEMO_REPLAY === '1';
const VIEWER_DIR = path.resolve(__dirname, '..', '..', 'npm', 'viewer');

// ----- the host's own pieces: auth, sessions, security log --------------------------------------
const revokedSessions = new Set();
const securityEvents = [];

function cookies(req) {
  const out = {};
  for (const part of (req.get('cookie') || '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

function auth(req, res, next) {
  const jar = cookies(req);
  const userId = req.get('x-user-id') || jar.demo_user;
  const sessionId = req.get('x-session-id') || jar.demo_session;
  const admin = (req.get('x-admin') || jar.demo_admin) === 'true';
  if (!userId) return res.status(401).json({ success: false, error: 'No token, authorization denied' });
  if (sessionId && revokedSessions.has(sessionId)) {
    return res.status(401).json({ success: false, error: 'Session revoked, please sign in again' });
  }
  req.userId = userId;
  req.sessionId = sessionId;
  req.user = { _id: userId, role: admin ? 'admin' : 'user' };
  return next();
}

function requireAdmin(req, res, next) {
  if (req.user && req.user.role === 'admin') return next();
  return res.status(403).json({ success: false, error: 'Admin access required' });
}

const log = {
  info: (m) => console.log(`[ml-anomaly] ${m}`),
  warn: (m) => console.warn(`[ml-anomaly] ${m}`),
  error: (m) => console.error(`[ml-anomaly] ${m}`),
};

mlAnomalyDetectionService.configure({
  logger: process.env.DEMO_QUIET === '1' ? undefined : log,
  revokeSession: (sessionId) => {
    revokedSessions.add(sessionId);
  },
  onSecurityEvent: (event) => {
    securityEvents.push({
      at: new Date().toISOString(),
      type: event.type,
      severity: event.severity,
      userId: event.userId,
      sessionId: event.sessionId,
      action: event.action,
      anomalyScore: event.anomalyScore,
      predictionId: event.predictionId,
    });
    if (securityEvents.length > 1000) securityEvents.shift();
  },
});

// The bound middlewares (`require('ml-anomaly/middleware').mlAnomalyCheck`) are what ExpenseFlow
// uses; the demo builds the same ones with its replay headers added.
const { mlAnomalyCheck, strictMLCheck } = createMiddleware(mlAnomalyDetectionService, REPLAY ? {
  timestampHeader: 'x-demo-timestamp',
  extendContext: (req) => {
    const extra = {};
    const age = Number(req.get('x-demo-session-age'));
    if (Number.isFinite(age) && age >= 0) extra.sessionAge = age;
    const status = Number(req.get('x-demo-status'));
    if (Number.isInteger(status) && status >= 100 && status <= 599) extra.statusCode = status;
    const length = Number(req.get('x-demo-content-length'));
    if (Number.isInteger(length) && length >= 0) extra.contentLength = length;
    return extra;
  },
} : {});

// ----- the app, wired as ExpenseFlow's server.js ------------------------------------------------
const app = express();
app.set('trust proxy', 'loopback'); // behind a proxy: req.ip comes from X-Forwarded-For
app.use(express.json({ limit: '1mb' }));

mlAnomalyDetectionService.initialize();
app.use('/api/ml-anomaly', createRouter({
  auth,
  requireAdmin,
  viewer: fs.existsSync(path.join(VIEWER_DIR, 'wasm', 'anomaly_wasm_bg.wasm')) ? true : undefined,
}));
app.use('/api', auth, mlAnomalyCheck);
app.use('/api/admin', auth, strictMLCheck);

// The demo's security log (the host's own audit trail, fed by onSecurityEvent).
app.get('/api/demo/security-events', requireAdmin, (req, res) => {
  res.json({ success: true, data: securityEvents.slice(-100).reverse() });
});

// Stand-ins for ExpenseFlow's API: every /api route answers, and shows what the middleware
// decided so that the demo can be explored with curl.
app.all('/api/*', (req, res) => {
  const p = req.mlPrediction || {};
  // A replayed failure (a failed login's 401...) is answered as it was; successes with 200.
  const status = REPLAY ? Number(req.get('x-demo-status')) : NaN;
  res.status(Number.isInteger(status) && status >= 400 && status <= 599 ? status : 200).json({
    success: true,
    endpoint: req.path,
    mlAnomaly: {
      isAnomaly: p.isAnomaly,
      anomalyScore: p.anomalyScore,
      confidence: p.confidence,
      action: p.action,
      enforcedAction: p.enforcedAction,
      fallback: p.fallback,
      error: p.error,
      predictionId: p.predictionId,
      modelVersion: p.modelVersion,
      topFeatures: (p.explanation || []).slice(0, 3).map((f) => f.feature),
      signals: p.signals,
      summary: p.summary,
      flags: {
        requires2FA: req.requires2FA || false,
        requiresChallenge: req.requiresChallenge || false,
        enhancedMonitoring: req.enhancedMonitoring || false,
      },
    },
  });
});

// For a browser: sign in as the demo admin (cookies) and open the viewer on the latest anomaly.
app.get('/demo/viewer', (req, res) => {
  res.cookie('demo_user', 'demo-admin', { httpOnly: true, sameSite: 'strict' });
  res.cookie('demo_admin', 'true', { httpOnly: true, sameSite: 'strict' });
  const latest = [...securityEvents].reverse().find((e) => e.predictionId != null);
  res.redirect(`/api/ml-anomaly/viewer/${latest ? `?prediction=${encodeURIComponent(latest.predictionId)}` : ''}`);
});

app.get('/', (req, res) => {
  res.type('text/plain').send('ml-anomaly demo: see /api/ml-anomaly/* (headers x-user-id, x-session-id, x-admin: true)\n');
});

const server = app.listen(PORT, HOST, () => {
  console.log(`[demo] listening on http://${HOST}:${server.address().port}`);
});

async function shutdown(signal) {
  console.log(`[demo] ${signal}: closing`);
  server.close();
  await mlAnomalyDetectionService.close();
  process.exit(0);
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
