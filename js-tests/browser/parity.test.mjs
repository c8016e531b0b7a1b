// Parity: the WebAssembly build (the very bytes the viewer loads) and the native build give the
// same scores, explanations and attributions for the same bundle and vectors.
//
// Expected result (docs/viewer.md explains why): every number is bit-identical. The core takes
// the transcendental functions on its scoring path (exp2 in the forest score, log in c(n), expm1
// in the calibration tail, cos in exact TreeSHAP's Gauss–Legendre nodes) from the `libm` crate,
// not from the platform's C library, so the native build (otherwise glibc) and the wasm build
// compute the same bits; everything else is IEEE arithmetic in the same order. So the test requires
//   1. every number bit-identical, every string/flag identical;
//   2. errors (wrong length, non-finite numbers, malformed bundles) thrown as JS Errors with the
//      core's messages.
// It records what it saw in js-tests/artifacts/parity-summary.json.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildFixtures, FEATURE_NAMES } from './lib/fixtures.mjs';
import { loadWasmInNode } from './lib/wasm.mjs';
import { diff } from './lib/compare.mjs';
import { ARTIFACTS_DIR } from './lib/paths.mjs';

let fx;
let wasm;
let model;

before(async () => {
  wasm = await loadWasmInNode();
  fx = await buildFixtures();
  model = wasm.Model.fromJson(fx.bundleText);
});

function wasmAnswer(vector, exact, topK) {
  const p = model.predict(vector, exact, topK);
  return { scores: p.scores, explanation: p.explanation, attribution: model.attribution(vector, exact) };
}

test('wasm and native agree on scores, explanations and attributions of every parity vector', async (t) => {
  assert.ok(fx.vectors.length >= 300, `${fx.vectors.length} vectors`);
  const summary = {
    backend: fx.backend.describe(),
    vectors: fx.vectors.length,
    kinds: {},
    comparedNumbers: 0,
    identicalNumbers: 0,
    closeNumbers: 0,
    vectorsWithDifferences: { fast: 0, exact: 0 },
    differingVectors: { fast: [], exact: [] },
    maxAbsDifference: {},
    examples: [],
  };
  for (const v of fx.vectors) summary.kinds[v.kind] = (summary.kinds[v.kind] ?? 0) + 1;
  const failures = [];

  for (const method of ['fast', 'exact']) {
    const exact = method === 'exact';
    fx.vectors.forEach(({ kind, vector }, i) => {
      const native = fx.native[method][i];
      const topK = native.explanation.topFeatures.length;
      const mine = wasmAnswer(vector, exact, topK);
      const diffs = diff(mine, native);
      summary.comparedNumbers += countNumbers(native);
      if (diffs.length) {
        summary.vectorsWithDifferences[method] += 1;
        summary.differingVectors[method].push(i);
      }
      for (const d of diffs) {
        if (d.kind === 'different') {
          failures.push(`${method} vector ${i} (${kind}) ${d.path}: wasm ${JSON.stringify(d.wasm)} vs native ${JSON.stringify(d.native)}`);
          continue;
        }
        summary.closeNumbers += 1;
        failures.push(`${method} vector ${i} (${kind}) ${d.path} is not bit-identical: wasm ${d.wasm} vs native ${d.native}`);
        const group = d.path.replace(/\[\d+\]/g, '[]');
        summary.maxAbsDifference[group] = Math.max(summary.maxAbsDifference[group] ?? 0, Math.abs(d.wasm - d.native));
        if (summary.examples.length < 8) summary.examples.push({ method, vector: i, kind, ...d });
      }
    });
  }
  summary.identicalNumbers = summary.comparedNumbers - summary.closeNumbers;
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(ARTIFACTS_DIR, 'parity-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  t.diagnostic(`native backend: ${summary.backend}`);
  t.diagnostic(`${summary.comparedNumbers} numbers compared, ${summary.closeNumbers} not bit-identical; `
    + `vectors with any difference: fast ${summary.vectorsWithDifferences.fast}, exact ${summary.vectorsWithDifferences.exact}`);
  for (const [k, v] of Object.entries(summary.maxAbsDifference)) t.diagnostic(`max |Δ| ${k}: ${v}`);
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} mismatches`);
});

function countNumbers(v) {
  if (typeof v === 'number') return 1;
  if (Array.isArray(v)) return v.reduce((a, x) => a + countNumbers(x), 0);
  if (v && typeof v === 'object') return Object.values(v).reduce((a, x) => a + countNumbers(x), 0);
  return 0;
}

test('the parity vectors exercise anomalies, the calibration tail and every action the data reaches', () => {
  // Guards the fixture itself: parity on a set where nothing is anomalous would prove little.
  const actions = new Set(fx.native.fast.map((n) => n.scores.action));
  assert.ok(actions.has('ALLOW'), [...actions].join());
  assert.ok([...actions].some((a) => a !== 'ALLOW' && a !== 'MONITOR'), `actions seen: ${[...actions].join()}`);
  const tail = fx.native.fast.filter((n) => n.scores.isolationForest > 0.95 || n.scores.autoencoder > 0.95);
  assert.ok(tail.length > 0, 'no vector reaches the calibration tail');
});

test('binning training values with the bundle reference edges reproduces the reference proportions', () => {
  // The reference was captured natively at training time from these very rows; the viewer bins
  // current values with the wasm binProportions. Same rows → same proportions, bit for bit.
  const ref = model.driftReference();
  assert.equal(ref.features.length, FEATURE_NAMES.length);
  ref.features.forEach((f, j) => {
    const got = wasm.binProportions(f.bins.edges, fx.train.map((r) => r[j]));
    assert.deepEqual(got, f.bins.proportions, `feature ${FEATURE_NAMES[j]}`);
  });
});

test('bundle accessors expose names, medians, thresholds and weights', () => {
  const bundle = JSON.parse(fx.bundleText);
  assert.deepEqual(model.featureNames(), FEATURE_NAMES);
  assert.equal(model.nFeatures, FEATURE_NAMES.length);
  assert.deepEqual(model.baselines(), bundle.scaler.center ?? model.baselines());
  const t = model.thresholds();
  assert.deepEqual(Object.keys(t).sort(), ['anomalyThreshold', 'block', 'challenge', 'require2fa']);
  assert.equal(t.anomalyThreshold, bundle.ensemble.policy.anomalyThreshold);
  const w = model.weights();
  assert.ok(Math.abs(w.isolationForest + w.autoencoder - 1) < 1e-15);
  assert.equal(model.baseValue, bundle.baseline.composite);
  // The baselines are the training medians: half the rows at or below each.
  model.baselines().forEach((m, j) => {
    const below = fx.train.filter((r) => r[j] <= m).length / fx.train.length;
    assert.ok(below >= 0.5, `${FEATURE_NAMES[j]}: ${below}`);
  });
});

test('bad input becomes a JS Error with the core message, never a crash', () => {
  const v = fx.vectors[0].vector;
  const throwsWith = (fn, re) => assert.throws(fn, (e) => e instanceof Error && re.test(e.message), String(re));
  throwsWith(() => model.score(v.slice(0, 3)), /^expected 59 features, got 3$/);
  throwsWith(() => model.predict([...v, 1], false, 5), /^expected 59 features, got 60$/);
  throwsWith(() => model.attribution(v.map((x, j) => (j === 4 ? NaN : x)), true), /^non-finite value NaN in feature vector at index 4$/);
  throwsWith(() => model.score(v.map((x, j) => (j === 58 ? Infinity : x))), /^non-finite value inf in feature vector at index 58$/);
  throwsWith(() => model.score(v.map((x, j) => (j === 2 ? '12' : x))), /^the feature vector must be an array of numbers: invalid type: string "12", expected f64$/);
  throwsWith(() => model.score(null), /must be an array of numbers/);
  throwsWith(() => wasm.Model.fromJson('{"format": "ml-anomaly-model", "schemaVersion": 1'), /^invalid model bundle: not a JSON model bundle: /);
  throwsWith(() => wasm.Model.fromJson('{"format": "ml-anomaly-model", "schemaVersion": 99}'), /^unsupported model schema version 99/);
  throwsWith(() => wasm.Model.fromJson('[1, 2, 3]'), /^invalid model bundle/);
  const truncated = JSON.parse(fx.bundleText);
  truncated.featureNames.pop();
  throwsWith(() => wasm.Model.fromJson(JSON.stringify(truncated)), /^invalid model bundle: .*features/);
  throwsWith(() => model.scoreBatch([v, v.slice(0, 3)]), /^row 2: expected 59 features, got 3$/);
  throwsWith(() => model.assessDrift([v, [...v.slice(0, 58), NaN]]), /^row 2: non-finite value NaN in feature vector at index 58$/);
  throwsWith(() => wasm.ks2samp([1, 2], [3], 'nope'), /^invalid parameter `method`/);
  throwsWith(() => wasm.psi([], [1], 10), /^not enough data/);
  // The model still works after all of that.
  assert.equal(model.score(v).composite, fx.native.fast[0].scores.composite);
});

test('typed arrays and plain arrays give the same answer', () => {
  const v = fx.vectors[5].vector;
  assert.deepEqual(model.predict(Float64Array.from(v), true, 5), model.predict(v, true, 5));
});

test('drift assessment of current rows in wasm reports a shifted window as drifting and a resample as stable', async () => {
  const { trafficRows } = await import('./lib/fixtures.mjs');
  const min = model.driftConfig().minCurrentRows;
  const calm = model.assessDrift(fx.train.slice(0, Math.max(min, 400)));
  const moved = model.assessDrift(trafficRows(Math.max(min, 400), 1, 5));
  assert.equal(calm.isDrifting, false, `calm composite ${calm.composite}`);
  assert.equal(moved.isDrifting, true, `moved composite ${moved.composite}`);
  assert.ok(moved.topDrifted.length > 0);
  assert.throws(() => model.assessDrift(fx.train.slice(0, min - 1)), /not enough data/);
});
