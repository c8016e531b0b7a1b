'use strict';
// The viewer's static file handler, shared by `serve.js` (standalone), the app's router (which
// mounts it admin-only under /api/ml-anomaly/viewer/) and the browser tests.
//
//   const { createViewerHandler } = require('ml-anomaly-viewer');
//   router.use('/viewer', auth, requireAdmin, createViewerHandler());
//
// Why not express.static on the directory: it would also serve package.json, serve.js and
// whatever else lands here, and it would not send the Content-Security-Policy the page is
// written for (only its own origin; WebAssembly compilation allowed; no inline script or style).
// This handler serves exactly the page, its sources and the wasm package, with that policy.
// It is a plain (req, res) function: no Express needed, and it works mounted (Express strips
// the mount path from req.url; req.originalUrl keeps it for the trailing-slash redirect).

const fs = require('node:fs');
const path = require('node:path');

const VIEWER_ROOT = __dirname;

/** The policy the viewer runs under: nothing beyond its own origin. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
};

/** What may be served: the page, its sources and the wasm package. */
const SERVED = /^\/(?:index\.html|src\/[\w/-]+\.(?:js|css|svg)|wasm\/[\w-]+\.(?:js|wasm))$/;

function headers(type, extra) {
  return {
    'Content-Type': type,
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    ...extra,
  };
}

function send(res, status, body) {
  res.writeHead(status, headers('text/plain; charset=utf-8'));
  res.end(body);
}

/**
 * A request handler serving the viewer from `root` under `prefix` (default `/`: the request
 * path as the handler sees it, i.e. after any mount path).
 * `routes`: optional map from an exact path (query ignored) to `(req, res) => void`, consulted
 * first (the browser tests serve fake API answers this way).
 */
function createViewerHandler({ root = VIEWER_ROOT, prefix = '/', routes = {} } = {}) {
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return function viewerHandler(req, res) {
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      return send(res, 400, 'bad request');
    }
    const route = Object.prototype.hasOwnProperty.call(routes, pathname) ? routes[pathname] : null;
    if (route) return route(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
    // The page loads its sources by relative URL, so it must be addressed as a directory.
    const original = new URL(req.originalUrl ?? req.url, 'http://localhost');
    if (pathname === base.slice(0, -1) || (pathname === base && !original.pathname.endsWith('/'))) {
      res.writeHead(301, { Location: `${original.pathname}/${original.search}` });
      return res.end();
    }
    if (!pathname.startsWith(base)) return send(res, 404, 'not found');
    let rel = `/${pathname.slice(base.length)}`;
    if (rel === '/') rel = '/index.html';
    if (!SERVED.test(rel)) return send(res, 404, 'not found');
    const file = path.join(root, rel);
    fs.stat(file, (err, stat) => {
      if (err || !stat.isFile()) {
        const hint = rel.startsWith('/wasm/') ? ' (build the wasm package: scripts/build-viewer.sh)' : '';
        return send(res, 404, `not found${hint}`);
      }
      res.writeHead(200, headers(TYPES[path.extname(rel)] ?? 'application/octet-stream', { 'Content-Length': stat.size }));
      if (req.method === 'HEAD') return res.end();
      const stream = fs.createReadStream(file);
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    });
  };
}

module.exports = { createViewerHandler, VIEWER_ROOT, CONTENT_SECURITY_POLICY };
