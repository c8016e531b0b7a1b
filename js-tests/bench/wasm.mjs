/**
 * The viewer's WebAssembly module, timed in Node (the exact bytes the browser loads, instantiated
 * with initSync): loading a bundle, scoring, the fast and exact predictions and attributions the
 * viewer's "what if" editing recomputes. Bundle: the browser tests' fixture (1,200 seeded
 * ExpenseFlow-like rows trained by `ml-anomaly train`: 100 trees, depth 12, 59 features).
 * Each case: 200 warm-up calls, then the median of 2,000 single-call timings over the parity
 * vectors. Prints a Markdown table for docs/benchmarks.md.
 *
 *   node js-tests/bench/wasm.mjs      # after scripts/build-viewer.sh and the release CLI build
 */

import fs from 'node:fs';
import zlib from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { buildFixtures } from '../browser/lib/fixtures.mjs';
import { loadWasmInNode } from '../browser/lib/wasm.mjs';
import { WASM_BINARY } from '../browser/lib/paths.mjs';

const WARMUP = 200;
const CALLS = 2000;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median µs of `fn(i)` over CALLS calls after WARMUP. */
function time(fn) {
  for (let i = 0; i < WARMUP; i++) fn(i);
  const t = new Array(CALLS);
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    fn(i);
    t[i] = (performance.now() - t0) * 1000;
  }
  return median(t);
}

const wasm = await loadWasmInNode();
const fx = await buildFixtures();
const vectors = fx.vectors.map((v) => v.vector);
const at = (i) => vectors[i % vectors.length];

const loads = [];
let model;
for (let i = 0; i < 20; i++) {
  if (model) model.free();
  const t0 = performance.now();
  model = wasm.Model.fromJson(fx.bundleText);
  loads.push((performance.now() - t0) * 1000);
}

const rows = [
  ['`Model.fromJson`', median(loads), `${(fx.bundleText.length / 1024).toFixed(0)} KB of JSON, median of 20`],
  ['`score`', time((i) => model.score(at(i))), 'both models, calibrated, composite'],
  ['`predict` fast, top 5', time((i) => model.predict(at(i), false, 5)), 'what the server answers per request'],
  ['`predict` fast, top 59', time((i) => model.predict(at(i), false, 59)), 'the viewer\'s table and chart'],
  ['`predict` exact, top 59', time((i) => model.predict(at(i), true, 59)), 'TreeSHAP + exact autoencoder attribution'],
  ['`attribution` fast', time((i) => model.attribution(at(i), false)), ''],
  ['`attribution` exact', time((i) => model.attribution(at(i), true)), ''],
];
model.free();

const size = fs.statSync(WASM_BINARY).size;
const gz = zlib.gzipSync(fs.readFileSync(WASM_BINARY), { level: 9 }).length;
console.log(`module: ${size} bytes, ${gz} gzip -9; Node ${process.version}\n`);
console.log('| call | median | notes |\n|---|---:|---|');
for (const [name, us, note] of rows) {
  const v = us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`;
  console.log(`| ${name} | ${v} | ${note} |`);
}
