// The explanation viewer in real headless Chromium (Debian's, through playwright-core).
//
// Fixtures: a bundle trained by the native CLI and a stored-prediction record built from the
// native explanation of one anomalous vector (lib/fixtures.mjs). The page is served by the
// viewer's own static handler at the path the app mounts it (/api/ml-anomaly/viewer/), next to
// fake answers of the API routes it calls. Checks:
//   - the displayed scores equal the native ones, to the displayed precision and exactly (the
//     data-value attributes carry the full doubles);
//   - the contribution chart has the native top features, in the native order;
//   - editing a feature (from the keyboard) recomputes the score the native side computes for
//     the edited vector; reset restores it;
//   - a malformed bundle (file or API) shows an error message, not a blank page;
//   - files opened or dropped work like the API; the drift card uses reference bins from the
//     bundle and current proportions from the drift status or a traffic file;
//   - labels, chart names, contrast, no horizontal scrolling at 1366 and 768 px, and no request
//     leaves the page's origin.
// Screenshots go to js-tests/artifacts/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildFixtures, FEATURE_NAMES, trafficRows } from './lib/fixtures.mjs';
import { loadWasmInNode } from './lib/wasm.mjs';
import { classifyNumbers } from './lib/compare.mjs';
import { launchChromium } from './lib/browser.mjs';
import { startServer, API } from './lib/server.mjs';
import { createRequire } from 'node:module';
import { ARTIFACTS_DIR, REPO_ROOT, VIEWER_DIR } from './lib/paths.mjs';
import * as a11y from './lib/a11y.mjs';

const TIMEOUT = { timeout: 120_000 };

let fx;
let wasm;
let model;
let server;
let browser;
/** The stored prediction served at predictions/p-1. */
let stored;
let storedVector;
let driftStatus;
/** Every request the pages made, and console errors. */
const requests = [];
const consoleErrors = [];

/** Index of the fixture vector to show: the most anomalous realistic one (a few features off). */
function pickVector() {
  let best = -1;
  fx.native.fast.forEach((n, i) => {
    const c = n.scores.composite;
    const realistic = ['extreme', 'perturbed'].includes(fx.vectors[i].kind);
    if (realistic && c < 0.99 && n.scores.action !== 'ALLOW' && (best < 0 || c > fx.native.fast[best].scores.composite)) best = i;
  });
  assert.ok(best >= 0, 'the fixtures hold no anomalous vector');
  return best;
}

/** Native contributions order: |c| descending, index ascending (the core's order). */
function nativeOrder(contributions) {
  return contributions
    .map((c, i) => ({ c, i }))
    .sort((a, b) => Math.abs(b.c) - Math.abs(a.c) || a.i - b.i)
    .map(({ c, i }) => ({ feature: FEATURE_NAMES[i], index: i, contribution: c }));
}

function assertSameNumber(actual, expected, what) {
  const kind = classifyNumbers(actual, expected);
  assert.notEqual(kind, 'different', `${what}: page ${actual} vs native ${expected}`);
}

/**
 * A drift status as the app sends it (`{ success, data: { ..., lastReport } }`, the core's
 * DriftReport with its reference/current histograms), computed by the same core in wasm.
 */
function driftStatusFor(rows) {
  return { success: true, data: { history: [], lastReport: model.assessDrift(rows), lastCheck: null } };
}

before(async () => {
  wasm = await loadWasmInNode();
  fx = await buildFixtures();
  model = wasm.Model.fromJson(fx.bundleText);
  const i = pickVector();
  storedVector = fx.vectors[i].vector;
  const n = fx.native.fast[i];
  stored = {
    id: 'p-1',
    userId: 'u-42',
    sessionId: 's-7',
    timestamp: '2024-06-11T10:15:00.000Z',
    features: storedVector,
    isolationForestScore: n.scores.isolationForest,
    autoencoderScore: n.scores.autoencoder,
    compositeScore: n.scores.composite,
    isAnomaly: n.scores.isAnomaly,
    confidence: n.scores.confidence,
    explanation: n.explanation,
    modelVersion: 1,
    recommendedAction: n.scores.action,
    actionTaken: n.scores.action,
  };
  driftStatus = driftStatusFor(trafficRows(400, 1, 11));
  const broken = fx.bundleText.slice(0, 5000);
  server = await startServer({
    [`${API}/predictions/p-1`]: { body: { success: true, prediction: stored } },
    [`${API}/predictions/p-2`]: { body: { success: true, prediction: { ...stored, id: 'p-2', modelVersion: 2 } } },
    [`${API}/predictions/missing`]: { status: 404, body: { success: false, error: 'Prediction not found' } },
    [`${API}/models/1/bundle`]: { body: fx.bundleText },
    [`${API}/models/2/bundle`]: { body: broken },
    [`${API}/models/active`]: { body: { success: true, model: { version: 1, isActive: true } } },
    [`${API}/drift/status`]: { body: driftStatus },
  });
  browser = await launchChromium();
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function openPage(query = '', { width = 1366, height = 900 } = {}) {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width, height });
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${query}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${query}: uncaught ${e.message}`));
  await page.goto(`${server.viewerUrl}${query}`);
  await page.waitForSelector('html[data-ready="true"]');
  return page;
}

async function shownScores(page) {
  return page.evaluate(() => {
    const out = document.querySelector('#composite-score');
    const dd = (f) => document.querySelector(`#facts dd[data-field="${f}"]`);
    return {
      compositeText: out.textContent,
      composite: Number(out.dataset.value),
      action: document.querySelector('#action').dataset.action,
      isolationForest: Number(dd('isolationForest').dataset.value),
      isolationForestText: dd('isolationForest').textContent,
      autoencoder: Number(dd('autoencoder').dataset.value),
      confidence: Number(dd('confidence').dataset.value),
      modelAgreement: Number(dd('modelAgreement').dataset.value),
      verification: document.querySelector('#verification').dataset.status,
    };
  });
}

async function bars(page) {
  return page.$$eval('#contributions-chart g.bar', (gs) => gs.map((g) => ({
    feature: g.dataset.feature,
    contribution: Number(g.dataset.contribution),
    label: g.querySelector('.bar-label').textContent,
  })));
}

test('a stored prediction loaded from the API shows the native scores and top contributions in order', TIMEOUT, async () => {
  const page = await openPage('?prediction=p-1');
  await page.waitForSelector('#composite-score[data-value]');
  const shown = await shownScores(page);
  assert.equal(shown.compositeText, stored.compositeScore.toFixed(4));
  assertSameNumber(shown.composite, stored.compositeScore, 'composite');
  assertSameNumber(shown.isolationForest, stored.isolationForestScore, 'isolation forest');
  assertSameNumber(shown.autoencoder, stored.autoencoderScore, 'autoencoder');
  assertSameNumber(shown.confidence, stored.confidence, 'confidence');
  assert.equal(shown.isolationForestText, stored.isolationForestScore.toFixed(4));
  assert.equal(shown.action, stored.recommendedAction);
  assert.ok(['match', 'rounding'].includes(shown.verification), shown.verification);

  const expected = nativeOrder(fx.native.fast[fx.vectors.findIndex((v) => v.vector === storedVector)].attribution.contributions);
  const chart = await bars(page);
  assert.equal(chart.length, 10, 'ten bars by default');
  assert.deepEqual(chart.map((b) => b.feature), expected.slice(0, 10).map((e) => e.feature));
  chart.forEach((b, k) => assertSameNumber(b.contribution, expected[k].contribution, `bar ${k + 1}`));
  // The readable explanation is the stored one, recomputed.
  assert.equal(await page.textContent('#explanation-text'), stored.explanation.explanation);

  // Fewer or more bars on request, same order.
  await page.selectOption('#top-k', '5');
  assert.deepEqual((await bars(page)).map((b) => b.feature), expected.slice(0, 5).map((e) => e.feature));
  await page.selectOption('#top-k', '20');
  assert.deepEqual((await bars(page)).map((b) => b.feature), expected.slice(0, 20).map((e) => e.feature));
  await page.selectOption('#top-k', '10');

  // The drift card: reference bins from the bundle, current proportions from the drift status.
  const ref = model.driftReference().score.bins;
  const hist = await page.$$eval('#drift-score rect.hist-ref, #drift-score rect.hist-cur', (rs) => rs.map((r) => ({
    cls: r.getAttribute('class'),
    p: Number(r.dataset.proportion),
  })));
  assert.deepEqual(hist.filter((h) => h.cls === 'hist-ref').map((h) => h.p), ref.proportions);
  const report = driftStatus.data.lastReport;
  assert.deepEqual(hist.filter((h) => h.cls === 'hist-cur').map((h) => h.p), report.scoreHistogram.currentProportions);
  assert.deepEqual(report.scoreHistogram.edges, ref.edges, 'the server bins scores over the bundle reference edges');
  const figures = await page.$$eval('#drift-features figure', (fs) => fs.map((f) => f.id));
  assert.deepEqual(figures, report.topDrifted.slice(0, 4).map((f) => `drift-feature-${f.index}`));
  const firstCurrent = await page.$$eval(`#drift-feature-${report.topDrifted[0].index} rect.hist-cur`, (rs) => rs.map((r) => Number(r.dataset.proportion)));
  assert.deepEqual(firstCurrent, report.topDrifted[0].histogram.currentProportions);
  assert.match(await page.textContent('#drift-summary'), /drifting/);

  await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'viewer-1366.png'), fullPage: true });
  await page.close();
});

test('editing a feature from the keyboard recomputes the score the native side computes', TIMEOUT, async () => {
  const page = await openPage('?prediction=p-1');
  await page.waitForSelector('#composite-score[data-value]');
  const before = await shownScores(page);
  const top = (await bars(page))[0];
  const j = FEATURE_NAMES.indexOf(top.feature);
  // Move the most influential feature to its training median: the score must drop.
  const median = model.baselines()[j];
  const edited = storedVector.slice();
  edited[j] = median;
  const [native] = await fx.backend.explain({ bundlePath: fx.bundlePath, names: FEATURE_NAMES, vectors: [edited], exact: false });
  assert.ok(native.scores.composite < stored.compositeScore, 'the fixture edit lowers the native score');

  await page.focus(`#fv-${j}`);
  await page.keyboard.press('Control+A');
  await page.keyboard.type(String(median));
  await page.waitForFunction((old) => document.querySelector('#composite-score').dataset.value !== old, String(before.composite));
  const after = await shownScores(page);
  assert.equal(after.compositeText, native.scores.composite.toFixed(4));
  assertSameNumber(after.composite, native.scores.composite, 'edited composite');
  assertSameNumber(after.isolationForest, native.scores.isolationForest, 'edited isolation forest');
  assertSameNumber(after.autoencoder, native.scores.autoencoder, 'edited autoencoder');
  assert.equal(after.action, native.scores.action);
  assert.equal(await page.isVisible('#whatif-bar'), true);
  assert.equal(await page.getAttribute(`tr[data-index="${j}"]`, 'class'), 'edited');
  const chart = await bars(page);
  const expected = nativeOrder(native.attribution.contributions);
  assert.deepEqual(chart.map((b) => b.feature), expected.slice(0, 10).map((e) => e.feature));
  chart.forEach((b, k) => assertSameNumber(b.contribution, expected[k].contribution, `edited bar ${k + 1}`));
  assert.equal(await page.textContent('#explanation-text'), native.explanation.explanation);

  // An invalid entry is flagged and changes nothing.
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  assert.equal(await page.getAttribute(`#fv-${j}`, 'aria-invalid'), 'true');
  assert.equal(Number(await page.getAttribute('#composite-score', 'data-value')), after.composite);

  // Reset restores the stored prediction.
  await page.click('#reset-all');
  const reset = await shownScores(page);
  assert.equal(reset.composite, before.composite);
  assert.equal(await page.isVisible('#whatif-bar'), false);
  assert.equal(await page.inputValue(`#fv-${j}`), String(storedVector[j]));
  await page.close();
});

test('a malformed bundle shows an error message, not a blank page', TIMEOUT, async () => {
  const page = await openPage();
  await page.setInputFiles('#bundle-file', {
    name: 'broken.json',
    mimeType: 'application/json',
    buffer: Buffer.from(fx.bundleText.slice(0, 2000)),
  });
  await page.waitForSelector('#error:not([hidden])');
  const message = await page.textContent('#error');
  assert.match(message, /^Could not load the model bundle \(file broken\.json\): invalid model bundle: not a JSON model bundle: /);
  assert.equal(await page.isVisible('h1'), true);
  assert.equal(await page.isVisible('#empty'), true);
  assert.equal(await page.isVisible('#workspace'), false);

  // Valid JSON, wrong content: the core's validation message.
  const bundle = JSON.parse(fx.bundleText);
  bundle.featureNames = bundle.featureNames.slice(0, 10);
  await page.setInputFiles('#bundle-file', { name: 'short.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(bundle)) });
  await page.waitForFunction(() => document.querySelector('#error').textContent.includes('short.json'));
  assert.match(await page.textContent('#error'), /invalid model bundle: .*features/);
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'viewer-error.png') });
  await page.close();

  // From the API: a broken bundle and an unknown prediction.
  const api = await openPage('?prediction=p-2');
  await api.waitForSelector('#error:not([hidden])');
  assert.match(await api.textContent('#error'), /^Could not load the model bundle \(model 2\): invalid model bundle/);
  await api.close();
  const missing = await openPage('?prediction=missing');
  await missing.waitForSelector('#error:not([hidden])');
  assert.match(await missing.textContent('#error'), /predictions\/missing: not found \(Prediction not found\)/);
  await missing.close();
});

test('files opened or dropped work like the API: bundle, bare vector, traffic window', TIMEOUT, async () => {
  const page = await openPage();
  const k = fx.vectors.findIndex((v) => v.kind === 'extreme');
  const vector = fx.vectors[k].vector;
  // Drop the vector first: the viewer keeps it until its model arrives.
  const drop = async (name, text) => {
    const dt = await page.evaluateHandle(([n, t]) => {
      const d = new DataTransfer();
      d.items.add(new File([t], n, { type: 'application/json' }));
      return d;
    }, [name, text]);
    await page.dispatchEvent('main', 'drop', { dataTransfer: dt });
  };
  await drop('vector.json', JSON.stringify(vector));
  await page.waitForFunction(() => document.querySelector('#source-line').textContent.includes('vector.json'));
  await drop('model.json', fx.bundleText);
  await page.waitForSelector('#composite-score[data-value]');
  const shown = await shownScores(page);
  assertSameNumber(shown.composite, fx.native.fast[k].scores.composite, 'composite of a dropped vector');
  assert.equal(shown.compositeText, fx.native.fast[k].scores.composite.toFixed(4));
  assert.equal(shown.verification, 'none');
  assert.equal(await page.isVisible('#error'), false);

  // A traffic window from a file: the drift card compares it with the reference.
  const rows = trafficRows(300, 1, 21);
  await page.setInputFiles('#current-file', { name: 'traffic.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(rows)) });
  await page.waitForFunction(() => document.querySelector('#drift-summary').textContent.includes('traffic.json'));
  const report = model.assessDrift(rows);
  const summary = await page.textContent('#drift-summary');
  assert.ok(summary.includes(`drift score ${report.composite.toFixed(4)}`), summary);
  assert.match(summary, report.isDrifting ? /drifting/ : /stable/);
  const cur = await page.$$eval('#drift-score rect.hist-cur', (rs) => rs.map((r) => Number(r.dataset.proportion)));
  const composites = model.scoreBatch(rows).map((s) => s.composite);
  assert.deepEqual(cur, wasm.binProportions(model.driftReference().score.bins.edges, composites));

  // The exact method changes the contributions, not the scores.
  await page.check('#exact');
  await page.waitForFunction(() => document.querySelector('#contributions-note').textContent.includes('exact TreeSHAP'));
  const exactBars = await bars(page);
  const expected = nativeOrder(fx.native.exact[k].attribution.contributions);
  assert.deepEqual(exactBars.map((b) => b.feature), expected.slice(0, 10).map((e) => e.feature));
  exactBars.forEach((b, i) => assertSameNumber(b.contribution, expected[i].contribution, `exact bar ${i + 1}`));
  assert.equal((await shownScores(page)).composite, shown.composite);
  await page.close();
});

test('accessible and responsive at laptop and tablet widths; nothing leaves the origin', TIMEOUT, async () => {
  for (const width of [1366, 768]) {
    const page = await openPage('?prediction=p-1', { width, height: 1000 });
    await page.waitForSelector('#composite-score[data-value]');
    assert.deepEqual(await page.evaluate(a11y.unlabelledControls), [], `unlabelled controls at ${width}px`);
    assert.deepEqual(await page.evaluate(a11y.chartsWithoutNames), [], `unnamed charts at ${width}px`);
    assert.deepEqual(await page.evaluate(a11y.lowContrastText), [], `low-contrast text at ${width}px`);
    assert.equal(await page.evaluate(a11y.overflowsHorizontally), false, `horizontal scrolling at ${width}px`);
    // Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
    // Every feature input is reachable with Tab (none has a negative tabindex).
    assert.equal(await page.$$eval('#features-body input', (is) => is.filter((i) => i.tabIndex < 0).length), 0);
    if (width === 768) await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'viewer-768.png'), fullPage: true });
    await page.close();
  }
  const foreign = requests.filter((u) => !u.startsWith(`${server.origin}/`) && !u.startsWith('data:'));
  assert.deepEqual(foreign, [], 'requests beyond the page origin');
  const unexpected = consoleErrors.filter((e) => !/status of 404/.test(e));
  assert.deepEqual(unexpected, [], 'console errors');
});

test('mounted in an Express router behind an admin check, the viewer serves itself and reaches the API', TIMEOUT, async (t) => {
  let express;
  try {
    express = createRequire(path.join(REPO_ROOT, 'js-tests', 'package.json'))('express');
  } catch {
    t.skip('express is not installed (npm install at the repository root)');
    return;
  }
  const { createViewerHandler } = createRequire(import.meta.url)(path.join(VIEWER_DIR, 'handler.cjs'));
  const app = express();
  const router = express.Router();
  const requireAdmin = (req, res, next) => (req.get('x-role') === 'admin' || /role=admin/.test(req.get('cookie') ?? '')
    ? next()
    : res.status(403).json({ success: false, error: 'Admin access required' }));
  router.use('/viewer', requireAdmin, createViewerHandler());
  router.get('/predictions/:id', requireAdmin, (req, res) => res.json({ success: true, prediction: stored }));
  router.get('/models/:version/bundle', requireAdmin, (req, res) => res.type('application/json').send(fx.bundleText));
  router.get('/drift/status', requireAdmin, (req, res) => res.status(404).json({ success: false, error: 'No drift report yet' }));
  app.use('/api/ml-anomaly', router);
  const httpServer = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const origin = `http://127.0.0.1:${httpServer.address().port}`;
  try {
    const denied = await fetch(`${origin}/api/ml-anomaly/viewer/`);
    assert.equal(denied.status, 403);
    const redirect = await fetch(`${origin}/api/ml-anomaly/viewer?prediction=p-1`, { headers: { 'x-role': 'admin' }, redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), '/api/ml-anomaly/viewer/?prediction=p-1');
    const pkg = await fetch(`${origin}/api/ml-anomaly/viewer/package.json`, { headers: { 'x-role': 'admin' } });
    assert.equal(pkg.status, 404, 'only the page, its sources and the wasm package are served');

    await browser.context.addCookies([{ name: 'role', value: 'admin', url: origin }]);
    const page = await browser.context.newPage();
    await page.goto(`${origin}/api/ml-anomaly/viewer?prediction=p-1`);
    await page.waitForSelector('#composite-score[data-value]');
    assert.equal(page.url(), `${origin}/api/ml-anomaly/viewer/?prediction=p-1`);
    assertSameNumber(Number(await page.getAttribute('#composite-score', 'data-value')), stored.compositeScore, 'composite via Express');
    assert.match(await page.textContent('#drift-summary'), /drift status unavailable: .*not found \(No drift report yet\)/i);
    await page.close();
  } finally {
    await new Promise((resolve) => httpServer.close(resolve));
  }
});
