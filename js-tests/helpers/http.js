'use strict';
/**
 * A real HTTP server on loopback for tests: `listen(app)` starts an Express app on port 0 and
 * returns `{ url, close }`; `request(url, options)` is fetch with JSON in and out.
 */

const http = require('node:http');

async function listen(app) {
  const server = http.createServer(app);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/**
 * fetch with a JSON body (`json`) and the ExpenseFlow-like fake-auth headers (`user`, `session`,
 * `admin`). Resolves to `{ status, headers, body }` where body is parsed JSON when the answer is
 * JSON and text otherwise.
 */
async function request(url, { method = 'GET', json, user, session, admin, headers = {}, raw } = {}) {
  const h = { ...headers };
  if (user !== undefined) h['x-user-id'] = user;
  if (session !== undefined) h['x-session-id'] = session;
  if (admin) h['x-admin'] = 'true';
  let body;
  if (json !== undefined) {
    h['content-type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (raw !== undefined) {
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['content-type'] = 'application/json';
    body = raw;
  }
  const res = await fetch(url, { method, headers: h, body });
  const type = res.headers.get('content-type') || '';
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: type.includes('json') && text ? JSON.parse(text) : text };
}

module.exports = { listen, request };
