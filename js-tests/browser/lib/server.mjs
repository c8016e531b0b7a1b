// A loopback HTTP server for the browser tests: the viewer's own static handler (npm/viewer/
// handler.cjs, with its Content-Security-Policy) at the path the app mounts it, plus fake
// answers of the /api/ml-anomaly routes the viewer calls. Every request is logged so tests can
// check the page asks for nothing unexpected.
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { VIEWER_DIR } from './paths.mjs';

export const API = '/api/ml-anomaly';

/** routes: { '/api/ml-anomaly/x': { status?, body (string or JSON value) } } */
export async function startServer(routes = {}) {
  const { createViewerHandler } = createRequire(import.meta.url)(path.join(VIEWER_DIR, 'handler.cjs'));
  const log = [];
  const handlers = {};
  for (const [p, answer] of Object.entries(routes)) {
    handlers[p] = (req, res) => {
      const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status ?? 200, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(body);
    };
  }
  const handle = createViewerHandler({ prefix: `${API}/viewer/`, routes: handlers });
  const server = http.createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    handle(req, res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    viewerUrl: `${origin}${API}/viewer/`,
    log,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
