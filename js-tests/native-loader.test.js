'use strict';
// Where the addon comes from (lib/native.js): ML_ANOMALY_NATIVE_PATH, the package's own build,
// else the platform package; a package without any is one error naming the platform and the
// package to install. The package is copied without its native/ directory to see that error.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const PKG = path.dirname(require.resolve('ml-anomaly/package.json'));

function withoutAddon(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ml-anomaly-loader-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const copy = path.join(dir, 'node_modules', 'ml-anomaly');
  fs.mkdirSync(copy, { recursive: true });
  for (const entry of fs.readdirSync(PKG)) {
    if (entry !== 'native' && entry !== 'node_modules') fs.cpSync(path.join(PKG, entry), path.join(copy, entry), { recursive: true });
  }
  return dir;
}

function loadIn(dir, env = {}) {
  const script = `try { require('./node_modules/ml-anomaly/lib/native.js').loadNative(); console.log(JSON.stringify({ loaded: true })); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
  const childEnv = { ...process.env, ...env };
  if (!('ML_ANOMALY_NATIVE_PATH' in env)) delete childEnv.ML_ANOMALY_NATIVE_PATH;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: dir, env: childEnv, encoding: 'utf8' }));
}

test('without an addon, the error names the running platform and its package', (t) => {
  const dir = withoutAddon(t);
  const { currentPlatform, platformPackage } = require(path.join(PKG, 'lib', 'native.js'));
  const entry = currentPlatform();
  const r = loadIn(dir);
  assert.equal(r.code, 'ML_ANOMALY_NATIVE_MISSING');
  assert.ok(r.message.includes(entry.platform), r.message);
  if (entry.target) assert.ok(r.message.includes(`install ${platformPackage(entry)}`), r.message);
  assert.match(r.message, /scripts\/build-addon\.sh/);
});

test('the platform package is used when present, and ML_ANOMALY_NATIVE_PATH still wins', (t) => {
  const dir = withoutAddon(t);
  const { currentPlatform, platformPackage } = require(path.join(PKG, 'lib', 'native.js'));
  const entry = currentPlatform();
  if (!entry.target) return t.skip(`no prebuilt platform for ${entry.platform}`);
  const built = path.join(PKG, 'native', 'ml_anomaly.node');
  if (!fs.existsSync(built)) throw new Error('the native addon is not built: run scripts/build-addon.sh');
  // What npm installs as the optional dependency: a package holding ml_anomaly.<platform>.node.
  const platformDir = path.join(dir, 'node_modules', platformPackage(entry));
  fs.mkdirSync(platformDir, { recursive: true });
  fs.writeFileSync(path.join(platformDir, 'package.json'), JSON.stringify({ name: platformPackage(entry), version: '0.0.0' }));
  fs.copyFileSync(built, path.join(platformDir, `ml_anomaly.${entry.platform}.node`));
  assert.deepEqual(loadIn(dir), { loaded: true });
  const explicit = loadIn(dir, { ML_ANOMALY_NATIVE_PATH: '/nonexistent/ml_anomaly.node' });
  assert.equal(explicit.code, 'ML_ANOMALY_NATIVE_MISSING');
  assert.match(explicit.message, /not found at \/nonexistent\/ml_anomaly\.node \(ML_ANOMALY_NATIVE_PATH\)/);
});
