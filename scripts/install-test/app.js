'use strict';
// The app of scripts/install-test.sh: an Express app written by someone who ran
// `npm install ml-anomaly ml-anomaly-viewer express` and nothing else (no Rust, no repository).
// It trains on generated traffic, serves requests through the middleware and the router with the
// viewer, checks what it gets, prints one JSON line and exits 0, or 1 with the reason.

const http = require('node:http');
const express = require('express');
const { createAnomalyService, createMiddleware, createRouter, nativePath } = require('ml-anomaly');

function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'] || '', body }));
      })
      .on('error', reject);
  });
}

async function main() {
  const service = createAnomalyService({ store: ':memory:', schedules: false, autoTrain: false, seed: 5 });
  // Ten days of sixty users' requests (a session per user and day), straight into the service,
  // then one training.
  const t0 = Date.UTC(2026, 10, 2, 9);
  for (let i = 0; i < 6000; i++) {
    const user = i % 60;
    const day = Math.floor(i / 600);
    await service.predictStreaming(`s${user}-${day}`, `u${user}`, {
      timestamp: t0 + day * 86_400_000 + (i % 600) * 30_000,
      endpoint: ['/api/expenses', '/api/reports', '/api/budgets'][i % 3],
      method: i % 5 === 0 ? 'POST' : 'GET',
      ipAddress: `10.0.${user}.1`,
      userAgent: `agent-${user % 4}`,
    });
  }
  const trained = await service.trainModels(true);
  if (!trained) throw new Error('training failed');

  const identify = (req, res, next) => {
    req.user = { _id: req.get('x-user') || undefined, isAdmin: req.get('x-admin') === 'true' };
    req.sessionId = req.get('x-session') || undefined;
    next();
  };
  const auth = (req, res, next) => (req.user && req.user._id ? next() : res.status(401).end());
  const requireAdmin = (req, res, next) => (req.user.isAdmin ? next() : res.status(403).end());
  const { mlAnomalyCheck } = createMiddleware(service);
  const app = express();
  app.use(identify);
  app.use('/api/ml-anomaly', createRouter({ service, auth, requireAdmin, viewer: true }));
  app.use('/api', mlAnomalyCheck);
  app.get('/api/expenses', (req, res) => res.json({ prediction: req.mlPrediction }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    const scored = await get(`${base}/api/expenses`, { 'x-user': 'u3', 'x-session': 'fresh' });
    const p = JSON.parse(scored.body).prediction;
    if (!p || p.fallback || typeof p.anomalyScore !== 'number') throw new Error(`not scored: ${scored.body}`);
    const viewer = await get(`${base}/api/ml-anomaly/viewer/`, { 'x-user': 'admin', 'x-admin': 'true' });
    if (viewer.status !== 200 || !/text\/html/.test(viewer.type)) throw new Error(`viewer: ${viewer.status} ${viewer.type}`);
    const wasmPath = (viewer.body.match(/[\w./-]*anomaly_wasm[\w.-]*\.js/) || [])[0];
    const status = await get(`${base}/api/ml-anomaly/status`, { 'x-user': 'admin', 'x-admin': 'true' });
    if (status.status !== 200) throw new Error(`status: ${status.status}`);
    console.log(
      JSON.stringify({
        ok: true,
        node: process.version,
        addon: nativePath(),
        anomalyScore: p.anomalyScore,
        action: p.action,
        viewerBytes: viewer.body.length,
        viewerScript: wasmPath || null,
      }),
    );
  } finally {
    server.close();
    await service.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`install test app failed: ${err && err.stack}`);
    process.exit(1);
  },
);
