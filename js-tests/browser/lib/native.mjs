// The native side of the parity and browser tests: what the server computes for a bundle and a
// vector, to compare the WebAssembly build with.
//
// Two backends give the same answers (core's serde JSON shapes: { scores, explanation,
// attribution }):
//   - 'addon' (default): the npm package's `NativeModel.fromJson(json)` (crates/node/src/model.rs)
//              with `predict(vector, exact, topK)` and `attribution(vector, exact)`, in this
//              process: what a server running ml-anomaly computes;
//   - 'cli':   the `ml-anomaly` binary (`explain --model M --input F --full [--exact]`), one
//              process per batch of vectors.
// Training always goes through the CLI (`train`), which writes the bundle both sides load.
//
// Switching: the one line below, or ML_ANOMALY_NATIVE=addon|cli|auto in the environment ('auto':
// the addon when it loads, the CLI otherwise). With 'addon' a missing addon is an error naming
// the build command, never a silent fall-back to the CLI.
const NATIVE_BACKEND = process.env.ML_ANOMALY_NATIVE ?? 'addon';

/** Features listed in each native explanation (both backends; the wasm side lists as many). */
const TOP_K = 10;

import { execFile, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './paths.mjs';

const run = promisify(execFile);

/** Path of the CLI binary: $ML_ANOMALY_BIN, else built by cargo (a no-op when up to date). */
let cliPath;
export function cliBinary() {
  if (cliPath) return cliPath;
  if (process.env.ML_ANOMALY_BIN) {
    cliPath = process.env.ML_ANOMALY_BIN;
    return cliPath;
  }
  const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(REPO_ROOT, 'target');
  const r = spawnSync('cargo', ['build', '--release', '--quiet', '--bin', 'ml-anomaly'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 30 * 60 * 1000,
  });
  if (r.status !== 0) throw new Error(`cargo build --release --bin ml-anomaly failed (status ${r.status ?? r.signal})`);
  cliPath = path.join(targetDir, 'release', 'ml-anomaly');
  return cliPath;
}

async function cli(args) {
  const bin = cliBinary();
  try {
    const { stdout } = await run(bin, args, { maxBuffer: 1 << 30 });
    return stdout;
  } catch (e) {
    throw new Error(`${path.basename(bin)} ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

/** CSV with the feature names as header (the CLI's table format). */
export function toCsv(names, rows) {
  return `${names.join(',')}\n${rows.map((r) => r.map((v) => String(v)).join(',')).join('\n')}\n`;
}

/** Trains a bundle with the CLI; returns its JSON text. */
export async function trainBundle({ names, rows, seed, outPath }) {
  const csv = path.join(path.dirname(outPath), 'train.csv');
  fs.writeFileSync(csv, toCsv(names, rows));
  await cli(['train', '--input', csv, '--out', outPath, '--seed', String(seed)]);
  return fs.readFileSync(outPath, 'utf8');
}

/** One line of the CLI's `explain --full` output in the backend-neutral shape. */
function fromCliLine(line, i) {
  const o = JSON.parse(line);
  const p = o.prediction ?? o;
  const out = { scores: p.scores, explanation: p.explanation, attribution: o.attribution ?? p.attribution };
  for (const [k, v] of Object.entries(out)) {
    if (!v) throw new Error(`explain --full line ${i + 1} has no ${k}: ${line.slice(0, 200)}`);
  }
  return out;
}

function cliBackend() {
  return {
    name: 'cli',
    describe: () => `ml-anomaly CLI (${cliBinary()})`,
    async explain({ bundlePath, names, vectors, exact }) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ml-anomaly-explain-'));
      try {
        const input = path.join(dir, 'vectors.csv');
        fs.writeFileSync(input, toCsv(names, vectors));
        const args = ['explain', '--model', bundlePath, '--input', input, '--full', '--top', String(TOP_K)];
        if (exact) args.push('--exact');
        const lines = (await cli(args)).split('\n').filter((l) => l.trim());
        if (lines.length !== vectors.length) throw new Error(`explain --full printed ${lines.length} lines for ${vectors.length} vectors`);
        return lines.map(fromCliLine);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The package's NativeModel class, or the reason it cannot be used. */
function loadAddon() {
  try {
    const require = createRequire(path.join(REPO_ROOT, 'js-tests', 'package.json'));
    const { NativeModel, loadNative } = require('ml-anomaly');
    if (typeof NativeModel !== 'function') return { error: 'the ml-anomaly package exports no NativeModel' };
    loadNative(); // loads the addon now: a missing build is reported here, with its command
    return { NativeModel };
  } catch (e) {
    return { error: e.message };
  }
}

function addonBackend(NativeModel) {
  const cache = new Map();
  return {
    name: 'addon',
    describe: () => 'ml-anomaly NativeModel (Node addon)',
    async explain({ bundlePath, vectors, exact }) {
      let model = cache.get(bundlePath);
      if (!model) {
        model = NativeModel.fromJson(fs.readFileSync(bundlePath, 'utf8'));
        cache.set(bundlePath, model);
      }
      return vectors.map((v) => {
        const p = model.predict(v, exact, TOP_K);
        return { scores: p.scores, explanation: p.explanation, attribution: model.attribution(v, exact) };
      });
    },
  };
}

/** The native backend to compare with (see the top of this file). */
export function nativeBackend() {
  if (NATIVE_BACKEND === 'cli') return cliBackend();
  if (NATIVE_BACKEND !== 'addon' && NATIVE_BACKEND !== 'auto') {
    throw new Error(`ML_ANOMALY_NATIVE must be addon, cli or auto (got '${NATIVE_BACKEND}')`);
  }
  const { NativeModel, error } = loadAddon();
  if (NativeModel) return addonBackend(NativeModel);
  if (NATIVE_BACKEND === 'auto') return cliBackend();
  throw new Error(`the native backend 'addon' is unavailable (${error}); build it with scripts/build-addon.sh, or set ML_ANOMALY_NATIVE=cli`);
}
