'use strict';
// Who made a request, the way hosts really set it (lib/identity.js): every fallback of the
// default identity, ids stringified, `getIdentity` overriding, and what is no id at all. Real
// Express, real HTTP; the service is the controlled double, which records what it was asked.

const test = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');

const { createMiddleware } = require('ml-anomaly');
const { listen, request } = require('./helpers/http');
const { ControlledService } = require('./helpers/controlled-service');

/** A MongoDB ObjectId as ExpenseFlow's auth hands it over: an object whose toString is the hex id. */
class ObjectIdLike {
  constructor(hex) {
    this.hex = hex;
  }

  toString() {
    return this.hex;
  }
}

// Each case: what the host's auth put on `req`, and the (sessionId, userId) the service must see.
const CASES = [
  ['req.userId and req.sessionId (the original)', { userId: 'u1', sessionId: 's1' }, ['s1', 'u1']],
  ['req.user._id as an ObjectId, req.sessionId as an ObjectId (ExpenseFlow)', { user: { _id: new ObjectIdLike('65a1f0c2e4b0a1b2c3d4e5f6') }, sessionId: new ObjectIdLike('65a1f0c2e4b0a1b2c3d4e5f7') }, ['65a1f0c2e4b0a1b2c3d4e5f7', '65a1f0c2e4b0a1b2c3d4e5f6']],
  ['req.user.id as a number, req.sessionID (express-session)', { user: { id: 42 }, sessionID: 'sess-abc' }, ['sess-abc', '42']],
  ['req.session.id', { user: { _id: 'u2' }, session: { id: 'from-session' } }, ['from-session', 'u2']],
  ['req.jwtId', { user: { _id: 'u3' }, jwtId: 'jti-9' }, ['jti-9', 'u3']],
  ['req.userId wins over req.user._id; req.sessionId over req.sessionID', { userId: 'first', user: { _id: 'second' }, sessionId: 'a', sessionID: 'b', jwtId: 'c' }, ['a', 'first']],
];

async function appWith(host, middlewareOptions = {}) {
  const service = new ControlledService();
  const { mlAnomalyCheck } = createMiddleware(service, { logger: { info() {}, warn() {}, error() {} }, ...middlewareOptions });
  const app = express();
  app.use((req, res, next) => {
    Object.assign(req, host[req.get('x-case')] || {});
    next();
  });
  app.use('/api', mlAnomalyCheck);
  app.all('/api/*', (req, res) => res.json({ scored: Boolean(req.mlPrediction) }));
  const server = await listen(app);
  return { service, server };
}

test('the default identity reads every place hosts put it, in order, ids stringified', async (t) => {
  const host = Object.fromEntries(CASES.map(([name, fields], i) => [String(i), fields]));
  const { service, server } = await appWith(host);
  t.after(server.close);
  for (const [i, [name, , expected]] of CASES.entries()) {
    const before = service.calls.length;
    const r = await request(`${server.url}/api/expenses`, { headers: { 'x-case': String(i) } });
    assert.equal(r.body.scored, true, name);
    assert.equal(service.calls.length, before + 1, name);
    const { sessionId, userId } = service.calls.at(-1);
    assert.deepEqual([sessionId, userId], expected, name);
  }
});

test('what is no id is skipped, not scored as "[object Object]"', async (t) => {
  const host = {
    plain: { user: { _id: { nested: true } }, sessionId: 's' },
    empty: { userId: '', sessionId: 's' },
    nouser: { sessionId: 's' },
    nosession: { userId: 'u' },
  };
  const { service, server } = await appWith(host);
  t.after(server.close);
  for (const name of Object.keys(host)) {
    const r = await request(`${server.url}/api/expenses`, { headers: { 'x-case': name } });
    assert.equal(r.status, 200, name);
    assert.equal(r.body.scored, false, name);
  }
  assert.equal(service.calls.length, 0);
});

test('getIdentity overrides the default', async (t) => {
  const { service, server } = await appWith(
    { x: { userId: 'ignored', sessionId: 'ignored' } },
    { getIdentity: (req) => ({ userId: req.get('x-account'), sessionId: req.get('x-device') }) },
  );
  t.after(server.close);
  await request(`${server.url}/api/expenses`, { headers: { 'x-case': 'x', 'x-account': 'acct-1', 'x-device': 'dev-1' } });
  assert.deepEqual([service.calls[0].sessionId, service.calls[0].userId], ['dev-1', 'acct-1']);
});

test('BLOCK without revokeSession is warned once, with the fix', async (t) => {
  const warned = [];
  const service = new ControlledService();
  const { prediction } = require('./helpers/controlled-service');
  const { mlAnomalyCheck } = createMiddleware(service, { logger: { info() {}, error() {}, warn: (m) => warned.push(String(m)) } });
  const app = express();
  app.use((req, res, next) => {
    req.userId = 'u';
    req.sessionId = 's';
    next();
  });
  app.use('/api', mlAnomalyCheck);
  app.all('/api/*', (req, res) => res.json({ ok: true }));
  const server = await listen(app);
  t.after(server.close);
  for (let i = 0; i < 3; i++) {
    service.next(prediction('BLOCK', { confidence: 0.99 }));
    const r = await request(`${server.url}/api/expenses`);
    assert.equal(r.status, 403, 'blocked all the same');
  }
  const about = warned.filter((w) => /no revokeSession\(sessionId, userId\) callback is configured/.test(w));
  assert.equal(about.length, 1, warned.join('\n'));
  assert.match(about[0], /Pass revokeSession in the options/);
});
