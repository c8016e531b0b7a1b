'use strict';
// NativeModel: a model bundle scored and explained offline through the addon. Stored vectors
// re-scored with the bundle the service exports give exactly the service's own numbers; results
// are core's camelCase shapes; bad input is a TypeError with the core's message and a code, a bad
// bundle an Error; nothing a caller passes can break the handle.

const test = require('node:test');
const assert = require('node:assert/strict');

const { NativeModel, ERROR_CODES } = require('ml-anomaly');
const { trainedService, expenseflowApp, replay } = require('./helpers/native-app');
const { listen } = require('./helpers/http');
const { hijackAttack, HOUR } = require('./helpers/traffic');

let ctx;

test.before(async () => {
  const trained = await trainedService({ seed: 31 });
  const { app, calls } = expenseflowApp(trained.service);
  const server = await listen(app);
  const attack = hijackAttack({ seed: 9, user: trained.users[3], at: trained.lastTimestamp + 10 * HOUR, requests: 4 });
  for (const e of attack) await replay(server.url, e);
  await trained.service.flush();
  await server.close();
  const ids = calls.securityEvents.map((e) => e.predictionId);
  assert.ok(ids.length >= 1, 'the attack produced stored anomalies');
  const bundleText = await trained.service.modelBundle(1);
  ctx = { ...trained, ids, bundleText, model: NativeModel.fromJson(bundleText) };
});

test.after(async () => {
  if (ctx) await ctx.service.close();
});

const ACTIONS = ['ALLOW', 'MONITOR', 'CHALLENGE', 'REQUIRE_2FA', 'BLOCK'];

test('a stored prediction re-scored offline gives the service\'s numbers exactly', async () => {
  const { model, service } = ctx;
  for (const id of ctx.ids) {
    const record = await service.getPrediction(id);
    assert.equal(record.features.length, model.nFeatures);
    const scores = model.score(record.features);
    assert.equal(scores.composite, record.compositeScore, `prediction ${id}: the live score`);
    for (const exact of [false, true]) {
      const served = await service.explainPrediction(id, { exact });
      const offline = model.predict(record.features, exact, served.explanation.topFeatures.length);
      assert.deepEqual(offline.scores, served.scores, `prediction ${id}, exact=${exact}`);
      // the evidence sentence is the decision layer's (sessions, users, devices), not the model's
      const { evidence, ...explanation } = served.explanation;
      assert.equal(typeof evidence, 'string', `prediction ${id}: the stored decision's evidence`);
      assert.deepEqual(offline.explanation, explanation, `prediction ${id}, exact=${exact}`);
      assert.deepEqual(model.attribution(record.features, exact), served.attribution, `prediction ${id}, exact=${exact}`);
    }
  }
});

test('results are core\'s camelCase shapes, in core\'s field order', () => {
  const { model } = ctx;
  const v = model.baselines();
  assert.equal(v.length, 59);
  assert.equal(model.featureNames().length, 59);
  assert.equal(model.featureNames()[0], 'request_rate_short');
  const s = model.score(v);
  assert.deepEqual(Object.keys(s), [
    'forestPathLength', 'forestRaw', 'autoencoderRaw', 'isolationForest', 'autoencoder',
    'composite', 'isAnomaly', 'confidence', 'modelAgreement', 'action',
  ]);
  assert.ok(ACTIONS.includes(s.action));
  const p = model.predict(v);
  assert.deepEqual(Object.keys(p), ['scores', 'explanation']);
  assert.deepEqual(p.scores, s);
  assert.equal(p.explanation.method, 'fast');
  assert.equal(p.explanation.topFeatures.length, 5, 'top 5 by default');
  assert.equal(p.explanation.baseValue, model.baseValue);
  const a = model.attribution(v, true);
  assert.deepEqual(Object.keys(a), ['method', 'baseValue', 'composite', 'contributions', 'isolationForest', 'autoencoder']);
  assert.equal(a.method, 'exact');
  assert.equal(a.contributions.length, 59);
  const sum = a.contributions.reduce((x, y) => x + y, 0);
  assert.ok(Math.abs(a.baseValue + sum - a.composite) < 1e-9, 'contributions sum to composite - baseValue');
  const th = model.thresholds();
  assert.deepEqual(Object.keys(th), ['anomalyThreshold', 'challenge', 'require2fa', 'block']);
  assert.ok(th.anomalyThreshold < th.challenge && th.challenge < th.require2fa && th.require2fa < th.block);
  // topK: 0 lists none, more than the features lists them all.
  assert.equal(model.predict(v, false, 0).explanation.topFeatures.length, 0);
  assert.equal(model.predict(v, false, 1000).explanation.topFeatures.length, 59);
  assert.equal(model.predict(v, null, null).explanation.topFeatures.length, 5);
});

test('a Float64Array and an array give the same answer', async () => {
  const { model, service } = ctx;
  const record = await service.getPrediction(ctx.ids[0]);
  const typed = new Float64Array(record.features);
  assert.deepEqual(model.predict(typed, true, 59), model.predict(record.features, true, 59));
  assert.deepEqual(model.attribution(typed), model.attribution(record.features));
  // A view into a larger buffer is read at its offset.
  const big = new Float64Array(61);
  big.set(record.features, 2);
  assert.deepEqual(model.score(big.subarray(2)), model.score(record.features));
});

test('bad vectors and arguments are TypeErrors with the core\'s message and a code', () => {
  const { model } = ctx;
  const v = model.baselines();
  const bad = (fn, message) => {
    assert.throws(fn, (err) => {
      assert.ok(err instanceof TypeError, `${err && err.constructor.name}: ${err && err.message}`);
      assert.equal(err.code, ERROR_CODES.INVALID_INPUT);
      if (message instanceof RegExp) assert.match(err.message, message);
      else assert.equal(err.message, message);
      return true;
    });
  };
  const at = (i, x) => v.map((y, j) => (j === i ? x : y));
  bad(() => model.score([1, 2, 3]), 'expected 59 features, got 3');
  bad(() => model.predict([...v, 0]), 'expected 59 features, got 60');
  bad(() => model.attribution(new Float64Array(58)), 'expected 59 features, got 58');
  bad(() => model.score(at(4, NaN)), 'non-finite value NaN in feature vector at index 4');
  bad(() => model.predict(at(0, Infinity), true), 'non-finite value inf in feature vector at index 0');
  bad(() => model.attribution(at(58, -Infinity)), 'non-finite value -inf in feature vector at index 58');
  bad(() => model.score(at(3, '12')), 'the feature vector must be an array of numbers: element 3 is a string');
  bad(() => model.score(at(7, null)), 'the feature vector must be an array of numbers: element 7 is null');
  bad(() => model.score(new Array(59)), 'the feature vector must be an array of numbers: element 0 is undefined');
  for (const [value, what] of [[null, 'null'], [undefined, 'undefined'], ['1,2', 'a string'], [42, 'a number'], [{ length: 59 }, 'an object'], [new Float32Array(59), 'another typed array']]) {
    bad(() => model.score(value), `the feature vector must be an array of numbers or a Float64Array, got ${what}`);
  }
  bad(() => model.predict(v, 'yes'), 'exact must be a boolean, got a string');
  bad(() => model.attribution(v, 1), 'exact must be a boolean, got a number');
  for (const k of [-1, 2.5, NaN, 2 ** 40]) bad(() => model.predict(v, false, k), /^topK must be a non-negative integer, got /);
  bad(() => model.predict(v, false, '3'), 'topK must be a non-negative integer, got a string');
  // The handle is unharmed.
  assert.deepEqual(model.score(v), ctx.model.score(model.baselines()));
});

test('malformed, foreign and invalid bundles are Errors with the core\'s message', () => {
  const bundle = JSON.parse(ctx.bundleText);
  const model = (text) => () => NativeModel.fromJson(text);
  const rejects = (fn, pattern) => {
    assert.throws(fn, (err) => {
      assert.ok(!(err instanceof TypeError), `${err.constructor.name}: ${err.message}`);
      assert.equal(err.code, ERROR_CODES.MODEL);
      assert.match(err.message, pattern);
      return true;
    });
  };
  rejects(model('{ not json'), /^invalid model bundle: /);
  rejects(model(''), /^invalid model bundle: /);
  rejects(model('{"format":"something-else","schemaVersion":1}'), /^invalid model bundle: /);
  rejects(model(JSON.stringify({ ...bundle, schemaVersion: 999 })), /^unsupported model schema version 999/);
  rejects(model(JSON.stringify({ ...bundle, featureNames: bundle.featureNames.slice(1) })), /^invalid model bundle: /);
  assert.throws(() => NativeModel.fromJson(42), (err) => err instanceof TypeError && err.code === ERROR_CODES.INVALID_INPUT && /JSON string, got a number/.test(err.message));
  assert.throws(() => NativeModel.fromJson(Buffer.from(ctx.bundleText)), TypeError);
  assert.throws(() => new NativeModel(), /NativeModel\.fromJson/);
});

test('the model is independent of the service that exported it', async () => {
  const other = NativeModel.fromJson(ctx.bundleText);
  const v = other.baselines();
  const before = other.predict(v, true, 59);
  const { service } = await trainedService({ seed: 32 });
  await service.close();
  assert.deepEqual(other.predict(v, true, 59), before);
  assert.deepEqual(ctx.model.predict(v, true, 59), before, 'two handles of one bundle agree');
});

test('without the addon: requiring and importing still work, fromJson names the build command', () => {
  const { execFileSync } = require('node:child_process');
  const script = `
    import pkg, { NativeModel } from 'ml-anomaly';
    if (pkg.NativeModel !== NativeModel) throw new Error('the ESM named export differs');
    try { NativeModel.fromJson('{}'); console.log('loaded'); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: __dirname,
    env: { ...process.env, ML_ANOMALY_NATIVE_PATH: '/nonexistent/ml_anomaly.node' },
    encoding: 'utf8',
  });
  const err = JSON.parse(out);
  assert.equal(err.code, ERROR_CODES.NATIVE_MISSING);
  assert.match(err.message, /native addon not found .*scripts\/build-addon\.sh/);
});
