'use strict';
/**
 * Replays simulated traffic (`ml-anomaly simulate` JSON Lines) against the demo app over HTTP and
 * reports what was detected, per scenario.
 *
 *   node replay.js --url http://127.0.0.1:3000 --file traffic.jsonl --warmup-end <ms>
 *
 * 1. the warm-up (normal traffic only, before --warmup-end) in timestamp order;
 * 2. POST /api/ml-anomaly/retrain (admin): the first model, trained on that traffic;
 * 3. the rest (normal users and the attacks, interleaved as they happened);
 * 4. a report: per scenario the attacked sessions, how many were detected and blocked, the
 *    actions taken on the attacker's requests, how early the first alarm came, and the top
 *    reasons; for normal traffic the false-alarm and false-block rates.
 *
 * Each event becomes a request with the headers a real deployment sees (X-Forwarded-For,
 * User-Agent, a geolocation header) plus the demo's replay headers (original time, session age,
 * response status: see server.js).
 */

const fs = require('node:fs');
const http = require('node:http');
const readline = require('node:readline');

// One kept-alive connection: the replay is sequential (the order of events is the behavior), and
// node:http is markedly cheaper per request than fetch.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function httpRequest(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try {
          json = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode, body: json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

function args() {
  const out = { url: 'http://127.0.0.1:3000', file: null, warmupEnd: null, quiet: false };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--url') out.url = a[++i];
    else if (a[i] === '--file') out.file = a[++i];
    else if (a[i] === '--warmup-end') out.warmupEnd = Number(a[++i]);
    else if (a[i] === '--quiet') out.quiet = true;
    else throw new Error(`unknown argument ${a[i]}`);
  }
  if (!out.file || !Number.isFinite(out.warmupEnd)) throw new Error('usage: replay.js --url URL --file FILE --warmup-end MS');
  return out;
}

async function readEvents(file) {
  const events = [];
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.trim()) events.push(JSON.parse(line));
  }
  return events;
}

function headersOf(e) {
  const h = {
    'x-user-id': e.userId,
    'x-session-id': e.sessionId,
    'x-demo-timestamp': String(e.timestamp),
  };
  if (e.ipAddress) h['x-forwarded-for'] = e.ipAddress;
  if (e.userAgent) h['user-agent'] = e.userAgent;
  if (e.location) h['x-geo-location'] = `${e.location.lat},${e.location.lon}`;
  if (e.deviceFingerprint) h['x-device-fingerprint'] = e.deviceFingerprint;
  if (e.sessionAgeMs != null) h['x-demo-session-age'] = String(e.sessionAgeMs);
  if (e.statusCode != null) h['x-demo-status'] = String(e.statusCode);
  // Uploads in the simulation reach megabytes; the replay sends a token body and the size.
  if (e.contentLength != null) h['x-demo-content-length'] = String(e.contentLength);
  return h;
}

async function send(url, e) {
  const method = e.method || 'GET';
  const withBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
  const headers = headersOf(e);
  let body;
  if (withBody) {
    body = JSON.stringify({ demo: true });
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(body);
  }
  return httpRequest(`${url}${e.endpoint || '/api/dashboard'}`, { method, headers, body });
}

/** What happened to one request, from the app's answer. */
function outcomeOf(r) {
  if (r.status === 403 && r.body && r.body.requiresReauthentication) return { kind: 'BLOCKED', ml: null };
  if (r.status === 403 && r.body && r.body.reason === 'ML_ANOMALY_STRICT_MODE') return { kind: 'DENIED (strict)', ml: null };
  if (r.status === 401 && r.body && /revoked/.test(r.body.error || '')) return { kind: 'REJECTED (revoked session)', ml: null };
  const ml = r.body && r.body.mlAnomaly;
  if (!ml) return { kind: `HTTP ${r.status}`, ml: null };
  return { kind: ml.fallback ? 'ALLOW (no model)' : ml.enforcedAction, ml };
}

/** Outcomes in which the app did something to the user (more than logging). */
const ACTED = new Set(['CHALLENGE', 'REQUIRE_2FA', 'BLOCKED', 'DENIED (strict)']);

const pct = (n, d) => (d ? `${((100 * n) / d).toFixed(1)}%` : '-');

function pad(s, n) {
  s = String(s);
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

async function main() {
  const opt = args();
  const all = await readEvents(opt.file);
  const warmup = all.filter((x) => x.event.timestamp < opt.warmupEnd);
  const live = all.filter((x) => x.event.timestamp >= opt.warmupEnd);
  const admin = { 'x-user-id': 'demo-admin', 'x-session-id': 'demo-admin-session', 'x-admin': 'true' };

  console.log(`\n== 1. normal traffic: ${warmup.length} requests of ${new Set(warmup.map((x) => x.event.userId)).size} users over HTTP`);
  let t0 = Date.now();
  for (const x of warmup) await send(opt.url, x.event);
  console.log(`   replayed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  console.log('\n== 2. training the first model (POST /api/ml-anomaly/retrain)');
  t0 = Date.now();
  // The original's POST /retrain answers at once and trains in the background: watch /status.
  const started = (await httpRequest(`${opt.url}/api/ml-anomaly/retrain`, { method: 'POST', headers: admin })).body;
  let status;
  for (;;) {
    status = (await httpRequest(`${opt.url}/api/ml-anomaly/status`, { headers: admin })).body;
    if (!status || !status.success || !status.isRetraining) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const active = (await httpRequest(`${opt.url}/api/ml-anomaly/models/active`, { headers: admin })).body;
  if (!started || !started.success || !active || !active.success) {
    console.log(`   training failed or skipped: ${JSON.stringify(started)} ${JSON.stringify(status && status.status && status.status.lastTraining)}`);
    process.exitCode = 1;
    return;
  }
  const training = status.status.lastTraining || {};
  console.log(
    `   model v${active.model.version}: ${active.model.trainingSize} vectors, ` +
      `${Math.round(training.durationMs || active.model.trainingMetrics.trainingDurationMs || 0)} ms of training (${Date.now() - t0} ms round trip)`,
  );

  const attackers = live.filter((x) => x.label.attack);
  console.log(`\n== 3. live traffic: ${live.length} requests, ${attackers.length} of them by attackers`);
  const perScenario = new Map();
  const normal = { requests: 0, flagged: 0, enforced: 0, sessions: new Set(), frictionSessions: new Set(), blockedSessions: new Set(), deniedSessions: new Set() };
  // accounts an attacker used: evidence on a user follows the account across its session ids,
  // so their owners' own later sessions are reported apart
  const attackedUsers = new Set(live.filter((x) => x.label.attack).map((x) => x.event.userId));
  const ofAttacked = { sessions: new Set(), blocked: new Set() };
  t0 = Date.now();
  for (const x of live) {
    const r = await send(opt.url, x.event);
    const out = outcomeOf(r);
    const { scenario, attack } = x.label;
    if (scenario === 'normal' && attackedUsers.has(x.event.userId)) {
      ofAttacked.sessions.add(x.event.sessionId);
      if (out.kind === 'BLOCKED' || out.kind.startsWith('DENIED')) ofAttacked.blocked.add(x.event.sessionId);
      continue;
    }
    if (scenario === 'normal') {
      normal.requests += 1;
      normal.sessions.add(x.event.sessionId);
      if (out.ml && out.ml.isAnomaly) normal.flagged += 1;
      if (ACTED.has(out.kind)) {
        normal.enforced += 1;
        normal.frictionSessions.add(x.event.sessionId);
      }
      if (out.kind === 'BLOCKED') normal.blockedSessions.add(x.event.sessionId);
      if (out.kind.startsWith('DENIED')) normal.deniedSessions.add(x.event.sessionId);
      continue;
    }
    if (!attack) continue; // a hijack victim's own requests
    let s = perScenario.get(scenario);
    if (!s) {
      s = { sessions: new Map(), actions: {}, reasons: {}, signals: {} };
      perScenario.set(scenario, s);
    }
    let sess = s.sessions.get(x.event.sessionId);
    if (!sess) {
      sess = { requests: 0, firstFlag: null, blocked: false };
      s.sessions.set(x.event.sessionId, sess);
    }
    sess.requests += 1;
    s.actions[out.kind] = (s.actions[out.kind] || 0) + 1;
    const flagged = (out.ml && out.ml.isAnomaly) || out.kind === 'BLOCKED' || out.kind.startsWith('DENIED');
    if (flagged && sess.firstFlag === null) sess.firstFlag = sess.requests;
    if (out.kind === 'BLOCKED' || out.kind.startsWith('DENIED')) sess.blocked = true;
    if (out.ml && out.ml.isAnomaly) {
      for (const f of out.ml.topFeatures || []) s.reasons[f] = (s.reasons[f] || 0) + 1;
      for (const g of out.ml.signals || []) s.signals[g] = (s.signals[g] || 0) + 1;
    }
  }
  console.log(`   replayed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  console.log('\n== 4. what was detected');
  const top = (counts, n) =>
    Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k]) => k)
      .join(', ') || '-';
  for (const [scenario, s] of perScenario) {
    const sessions = [...s.sessions.values()];
    const detected = sessions.filter((x) => x.firstFlag !== null);
    const blocked = sessions.filter((x) => x.blocked);
    const firsts = detected.map((x) => x.firstFlag).sort((a, b) => a - b);
    console.log(`\n-- ${scenario}`);
    console.log(`   attacker sessions: ${sessions.length}   detected: ${detected.length}   blocked/denied: ${blocked.length}` +
      (firsts.length ? `   first alarm at request #${firsts[Math.floor((firsts.length - 1) / 2)]} (median)` : ''));
    console.log(`   actions on the attacker's ${sessions.reduce((a, x) => a + x.requests, 0)} requests: ` +
      Object.entries(s.actions).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', '));
    console.log(`   top reasons: ${top(s.reasons, 4)}`);
    console.log(`   behavioral signals: ${top(s.signals, 4)}`);
  }
  console.log('\n-- normal users');
  console.log(`   ${normal.requests} requests in ${normal.sessions.size} sessions: flagged ${pct(normal.flagged, normal.requests)}, ` +
    `challenged or stopped (challenge/2FA/block/strict denial) ${pct(normal.enforced, normal.requests)}, ` +
    `sessions that met friction ${normal.frictionSessions.size} (${pct(normal.frictionSessions.size, normal.sessions.size)}), ` +
    `sessions blocked ${normal.blockedSessions.size} (${pct(normal.blockedSessions.size, normal.sessions.size)}), ` +
    `sessions with an admin request denied by the strict check ${normal.deniedSessions.size} (${pct(normal.deniedSessions.size, normal.sessions.size)})`);
  if (ofAttacked.sessions.size) {
    console.log(`   the attacked accounts' own other sessions: ${ofAttacked.sessions.size}, blocked or denied ${ofAttacked.blocked.size} ` +
      '(evidence on an account follows it across session ids)');
  }

  const perf = (await httpRequest(`${opt.url}/api/ml-anomaly/performance?hours=8760`, { headers: admin })).body;
  const m = (await httpRequest(`${opt.url}/api/ml-anomaly/status`, { headers: admin })).body;
  agent.destroy();
  if (perf && perf.success && m && m.success) {
    const lat = m.status.metrics.latencyUs;
    console.log(`\n-- service: ${perf.performance.totalPredictions} predictions stored, ${perf.performance.anomalyCount} anomalies; ` +
      `engine latency p50 ${lat.p50.toFixed(1)} µs, p99 ${lat.p99.toFixed(1)} µs`);
  }
}

main().catch((err) => {
  console.error(`[replay] ${err && err.stack}`);
  process.exit(1);
});
