#!/usr/bin/env node
// Serves the explanation viewer on its own, for opening it without the demo app:
//
//   node npm/viewer/serve.js [--port 8080] [--host 127.0.0.1]
//
// then open http://127.0.0.1:8080/ and open (or drop) a model bundle and a prediction.
//
// Why a server at all: browsers refuse ES modules and WebAssembly from file:// URLs. Why not
// `npx http-server`: no extra dependency, no download, and this one sends the same
// Content-Security-Policy the app does (handler.cjs), so standalone use exercises it too.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import handler from './handler.cjs';

const { createViewerHandler, VIEWER_ROOT } = handler;

function parseArgs(argv) {
  const opts = { port: 8080, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--port') opts.port = Number(value());
    else if (flag === '--host') opts.host = value();
    else if (flag === '--help' || flag === '-h') opts.help = true;
    else throw new Error(`unknown option ${argv[i]} (see --help)`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error('--port must be 0..65535');
  return opts;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`serve.js: ${e.message}`);
    process.exit(2);
  }
  if (opts.help) {
    console.log('usage: node npm/viewer/serve.js [--port 8080] [--host 127.0.0.1]');
    process.exit(0);
  }
  if (!fs.existsSync(path.join(VIEWER_ROOT, 'wasm', 'anomaly_wasm_bg.wasm'))) {
    console.warn('serve.js: npm/viewer/wasm/ is not built yet; run scripts/build-viewer.sh first');
  }
  const server = http.createServer(createViewerHandler());
  server.on('error', (e) => {
    console.error(`serve.js: ${e.message}`);
    process.exit(1);
  });
  server.listen(opts.port, opts.host, () => {
    console.log(`ml-anomaly viewer: http://${opts.host}:${server.address().port}/`);
  });
}
