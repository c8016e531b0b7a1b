// The native side of the parity and browser tests: what the server computes for a bundle and a
// vector, to compare the WebAssembly build with.
//
// Two backends give the same answers (core's serde JSON shapes: { scores, explanation,
// attribution }):
//   - 'cli':   the `ml-anomaly` binary (`explain --model M --input F --full [--exact]`), one
//              process per batch of vectors;
//   - 'addon': the Node addon's stateless `NativeModel.fromJson(json)` with
//              `predict(vector, exact, topK)` and `attribution(vector, exact)`.
// Training always goes through the CLI (`train`), which writes the bundle both sides load.
//
// Switching: the one line below (or ML_ANOMALY_NATIVE=cli|addon|auto in the environment). 'auto'
// takes the addon when it exports NativeModel, the CLI otherwise.
const NATIVE_BACKEND = process.env.ML_ANOMALY_NATIVE ?? 'auto';

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
        const args = ['explain', '--model', bundlePath, '--input', input, '--full'];
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

function loadAddon() {
  try {
    const require = createRequire(path.join(REPO_ROOT, 'js-tests', 'package.json'));
    const addon = require('ml-anomaly');
    return addon.NativeModel ?? addon.native?.NativeModel ?? null;
  } catch {
    return null;
  }
}

function addonBackend(NativeModel) {
  const cache = new Map();
  const parse = (v) => (typeof v === 'string' ? JSON.parse(v) : v);
  return {
    name: 'addon',
    describe: () => 'Node addon NativeModel',
    async explain({ bundlePath, vectors, exact }) {
      let model = cache.get(bundlePath);
      if (!model) {
        model = NativeModel.fromJson(fs.readFileSync(bundlePath, 'utf8'));
        cache.set(bundlePath, model);
      }
      return vectors.map((v) => {
        const p = parse(model.predict(v, exact, 5));
        return { scores: p.scores, explanation: p.explanation, attribution: parse(model.attribution(v, exact)) };
      });
    },
  };
}

/** The native backend to compare with (see the top of this file). */
export function nativeBackend() {
  if (NATIVE_BACKEND === 'cli') return cliBackend();
  const NativeModel = loadAddon();
  if (NATIVE_BACKEND === 'addon') {
    if (!NativeModel) throw new Error('ML_ANOMALY_NATIVE=addon but the ml-anomaly package exports no NativeModel');
    return addonBackend(NativeModel);
  }
  return NativeModel ? addonBackend(NativeModel) : cliBackend();
}
