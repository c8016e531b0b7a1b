'use strict';
// The explanation viewer mounted by the router (`createRouter({ viewer })`) over real HTTP: admin
// only, served by the viewer package's own handler (its page, sources and wasm package with the
// page's Content-Security-Policy) and nothing else of the package directory. Needs neither the
// addon nor the wasm build: the router's other routes are not called and index.html and src/ are
// committed.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const express = require('express');

const { createRouter } = require('ml-anomaly');
const { CONTENT_SECURITY_POLICY, VIEWER_ROOT } = require('ml-anomaly-viewer');
const { listen, request } = require('./helpers/http');
const { auth, requireAdmin } = require('./helpers/fake-auth');

const ADMIN = { user: 'admin-1', admin: true };
const USER = { user: 'user-1' };

/** An app with the routes at /api/ml-anomaly and the given viewer option; a stub service. */
async function serve(viewer) {
  const app = express();
  app.use('/api/ml-anomaly', createRouter({ auth, requireAdmin, service: {}, viewer }));
  const server = await listen(app);
  return { server, base: `${server.url}/api/ml-anomaly` };
}

/** The guarantees of the mount, for one way of asking for the viewer. */
async function checkMount(t, viewer) {
  const { server, base } = await serve(viewer);
  t.after(() => server.close());

  const anonymous = await request(`${base}/viewer/`);
  assert.equal(anonymous.status, 401);
  const user = await request(`${base}/viewer/`, USER);
  assert.equal(user.status, 403);
  assert.deepEqual(user.body, { success: false, error: 'Admin access required' });
  assert.notEqual(user.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY, 'nothing of the viewer before the admin check');
  assert.equal((await request(`${base}/viewer/src/main.js`, USER)).status, 403);

  const page = await request(`${base}/viewer/`, ADMIN);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.equal(page.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
  assert.match(page.headers.get('content-security-policy'), /default-src 'self'/);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.match(page.body, /<html/i);
  assert.match(page.body, /src="src\/main\.js"|src="\.\/src\/main\.js"/, 'the page loads its sources by relative URL');

  const source = await request(`${base}/viewer/src/main.js`, ADMIN);
  assert.equal(source.status, 200);
  assert.match(source.headers.get('content-type'), /^text\/javascript/);
  assert.equal(source.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);

  // The page must be addressed as a directory: /viewer redirects to /viewer/, query kept.
  const redirect = await fetch(`${base}/viewer?prediction=7`, { headers: { 'x-user-id': 'admin-1', 'x-admin': 'true' }, redirect: 'manual' });
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.get('location'), '/api/ml-anomaly/viewer/?prediction=7');

  // Nothing else of the package directory, however the path is spelled.
  for (const file of ['package.json', 'serve.js', 'handler.cjs', 'src/%2e%2e/package.json', '..%2fpackage.json', 'wasm/../package.json', 'index.html/']) {
    const r = await request(`${base}/viewer/${file}`, ADMIN);
    assert.equal(r.status, 404, file);
    assert.doesNotMatch(String(r.body), /"name"\s*:\s*"ml-anomaly-viewer"/, file);
  }
  const post = await request(`${base}/viewer/`, { ...ADMIN, method: 'POST', json: {} });
  assert.equal(post.status, 405);
}

test('viewer: true mounts the installed viewer package, admin only, with its CSP', async (t) => {
  await checkMount(t, true);
});

test('viewer: { root } (and the older { staticDir }) serve a viewer directory through the same handler', async (t) => {
  await checkMount(t, { root: VIEWER_ROOT });
  await checkMount(t, { staticDir: path.relative(process.cwd(), VIEWER_ROOT) || '.' });
});

test('viewer: a handler is mounted as given, behind auth and the admin check', async (t) => {
  const { createViewerHandler } = require('ml-anomaly-viewer');
  await checkMount(t, createViewerHandler());
  const seen = [];
  const { server, base } = await serve((req, res) => {
    seen.push(req.url);
    res.end('mine');
  });
  t.after(() => server.close());
  assert.equal((await request(`${base}/viewer/x`, USER)).status, 403);
  const r = await request(`${base}/viewer/x`, ADMIN);
  assert.equal(r.body, 'mine');
  assert.deepEqual(seen, ['/x']);
});

test('without the viewer option there is no /viewer; a wrong option fails at createRouter', async (t) => {
  const { server, base } = await serve(undefined);
  t.after(() => server.close());
  const r = await request(`${base}/viewer/`, ADMIN);
  assert.equal(r.status, 404);
  assert.notEqual(r.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
  for (const viewer of ['npm/viewer', 42, { root: '' }, { root: 7 }]) {
    assert.throws(() => createRouter({ auth, requireAdmin, service: {}, viewer, express }), TypeError, JSON.stringify(viewer));
  }
});
