// Fixtures of the parity and browser tests, generated at test time (nothing large committed):
// seeded ExpenseFlow-like feature rows → `ml-anomaly train` → a bundle; about 1300 vectors
// (training rows, perturbed rows, extreme rows, special values) explained natively, fast and
// exact. Nothing is cached between runs on purpose: training and explaining take well under a
// second natively, and a cache keyed on a binary cannot see through wrappers or a rebuilt core
// (a stale cache once made a core change look like a wasm/native difference).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nativeBackend, trainBundle } from './native.mjs';

const TRAIN_SEED = 20240611;
const DATA_SEED = 7;
const TRAIN_ROWS = 1200;

/** The 59 features, in vector order (crates/core/src/features/names.rs). */
export const FEATURE_NAMES = [
  'request_rate_short', 'request_rate_medium', 'request_rate_long', 'rate_accel_short', 'rate_accel_medium',
  'time_since_last', 'hour_sin', 'hour_cos', 'day_sin', 'day_cos', 'inter_arrival_mean', 'inter_arrival_std',
  'inter_arrival_min', 'inter_arrival_max', 'signal_endpoint', 'signal_cadence', 'signal_geo', 'signal_ua',
  'signal_priv', 'risk_mean', 'risk_std', 'risk_min', 'risk_max', 'risk_median', 'anomaly_rate', 'anomaly_count',
  'severity_low', 'severity_moderate', 'severity_high', 'severity_critical', 'endpoint_diversity', 'ip_diversity',
  'ua_diversity', 'location_diversity', 'signal_entropy', 'burst_count', 'hour_diversity', 'bigram_count',
  'trigram_count', 'most_common_bigram', 'sequence_regularity', 'risk_trend', 'cyclic_score', 'state_transitions',
  'predictability', 'unusual_sequences', 'session_age', 'endpoint_sensitivity', 'http_method', 'request_size',
  'time_since_session_start', 'is_weekend', 'is_business_hours', 'recent_sessions', 'concurrent_sessions',
  'avg_session_duration', 'session_switch_rate', 'device_diversity', 'ip_diversity_week',
];

/** mulberry32: a small seeded PRNG (tests must be deterministic). */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = () => {
    let u = 0;
    while (u === 0) u = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
  return { next, gauss };
}

const clamp01 = (x) => Math.min(1, Math.max(0, x));

/** One plausible feature row; `shift` > 0 makes busier, riskier, night-time traffic (drift). */
function row(r, shift = 0) {
  const z = r.gauss(); // activity level shared by the rate-like features
  const hour = (shift ? 22 + 6 * r.next() : 7 + 12 * r.next() + 2 * r.gauss()) % 24;
  const day = Math.floor(7 * r.next());
  const rate = Math.max(0, Math.round((3 + shift * 6) * Math.exp(0.35 * z + 0.2 * r.gauss())));
  const exp = (mean) => -mean * Math.log(1 - r.next());
  const flag = (p) => (r.next() < p ? 1 : 0);
  const count = (mean) => Math.max(0, Math.round(mean + Math.sqrt(mean) * r.gauss()));
  const risk = clamp01(0.15 + shift * 0.3 + 0.08 * r.gauss());
  const ia = exp(20 / (1 + rate));
  const weekend = day >= 5 ? 1 : 0;
  const v = {
    request_rate_short: rate,
    request_rate_medium: rate * 4 + count(2),
    request_rate_long: rate * 12 + count(6),
    rate_accel_short: 0.3 * r.gauss() + shift,
    rate_accel_medium: 0.2 * r.gauss(),
    time_since_last: exp(15 / (1 + shift * 3)),
    hour_sin: Math.sin((2 * Math.PI * hour) / 24),
    hour_cos: Math.cos((2 * Math.PI * hour) / 24),
    day_sin: Math.sin((2 * Math.PI * day) / 7),
    day_cos: Math.cos((2 * Math.PI * day) / 7),
    inter_arrival_mean: ia,
    inter_arrival_std: ia * (0.3 + 0.2 * r.next()),
    inter_arrival_min: ia * 0.2 * r.next(),
    inter_arrival_max: ia * (2 + r.next()),
    signal_endpoint: flag(0.05 + shift * 0.3),
    signal_cadence: flag(0.08),
    signal_geo: flag(0.03 + shift * 0.2),
    signal_ua: flag(0.04),
    signal_priv: flag(0.02),
    risk_mean: risk,
    risk_std: Math.abs(0.05 + 0.02 * r.gauss()),
    risk_min: clamp01(risk - 0.1 * r.next()),
    risk_max: clamp01(risk + 0.2 * r.next()),
    risk_median: clamp01(risk + 0.02 * r.gauss()),
    anomaly_rate: clamp01(0.05 + 0.04 * r.gauss() + shift * 0.2),
    anomaly_count: count(1 + shift * 4),
    severity_low: count(2),
    severity_moderate: count(0.8),
    severity_high: count(0.2 + shift),
    severity_critical: flag(0.02 + shift * 0.1),
    endpoint_diversity: 1 + count(3),
    ip_diversity: 1 + flag(0.1 + shift * 0.5),
    ua_diversity: 1 + flag(0.05),
    location_diversity: 1 + flag(0.05 + shift * 0.4),
    signal_entropy: clamp01(0.3 + 0.15 * r.gauss()) * 2,
    burst_count: count(0.5 + shift * 3),
    hour_diversity: 1 + count(2),
    bigram_count: count(6),
    trigram_count: count(4),
    most_common_bigram: clamp01(0.4 + 0.1 * r.gauss()),
    sequence_regularity: clamp01(0.7 + 0.1 * r.gauss() - shift * 0.3),
    risk_trend: 0.05 * r.gauss(),
    cyclic_score: clamp01(0.5 + 0.15 * r.gauss()),
    state_transitions: count(5),
    predictability: clamp01(0.6 + 0.12 * r.gauss()),
    unusual_sequences: count(0.3 + shift * 2),
    session_age: exp(1800),
    endpoint_sensitivity: Math.floor(4 * r.next() ** 2),
    http_method: Math.floor(5 * r.next() ** 3),
    request_size: Math.round(Math.exp(6 + 0.8 * r.gauss())),
    time_since_session_start: exp(900),
    is_weekend: weekend,
    is_business_hours: !weekend && hour >= 9 && hour < 18 ? 1 : 0,
    recent_sessions: 1 + count(2),
    concurrent_sessions: 1 + flag(0.1 + shift * 0.3),
    avg_session_duration: Math.max(1, 60 + 15 * r.gauss()),
    session_switch_rate: clamp01(0.05 + 0.03 * r.gauss()),
    device_diversity: 1 + flag(0.15),
    ip_diversity_week: 1 + count(1.5),
  };
  return FEATURE_NAMES.map((n) => v[n]);
}

export function trainingRows(n = TRAIN_ROWS, seed = DATA_SEED) {
  const r = rng(seed);
  return Array.from({ length: n }, () => row(r));
}

/** A window of current traffic, `shift` in [0, 1] away from training behaviour. */
export function trafficRows(n, shift, seed) {
  const r = rng(seed);
  return Array.from({ length: n }, () => row(r, r.next() < 0.6 ? shift : 0));
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * The parity vectors with their kind: training rows, perturbed training rows, extreme rows and
 * special values (medians, zeros, huge and tiny magnitudes, a subnormal).
 */
export function parityVectors(train, seed = 99) {
  const r = rng(seed);
  const out = [];
  const add = (kind, v) => out.push({ kind, vector: v });
  for (let i = 0; i < 120; i += 1) add('training', train[(i * 10) % train.length].slice());
  // Many perturbed rows: differences between math libraries hit about one exp2 input in a
  // thousand, so a large set gives the tolerance path a chance to be exercised.
  for (let i = 0; i < 1000; i += 1) {
    const base = train[Math.floor(r.next() * train.length)];
    add('perturbed', base.map((v) => (r.next() < 0.3 ? v * (1 + 0.25 * r.gauss()) + 0.1 * r.gauss() : v)));
  }
  const extremes = [(v) => v * 100 + 50, () => -1e3, () => 1e9, () => 0, (v) => -v - 7, () => 1e-9];
  for (let i = 0; i < 60; i += 1) {
    const v = train[Math.floor(r.next() * train.length)].slice();
    const k = 1 + Math.floor(5 * r.next());
    for (let j = 0; j < k; j += 1) {
      const f = Math.floor(r.next() * v.length);
      v[f] = extremes[Math.floor(r.next() * extremes.length)](v[f]);
    }
    add('extreme', v);
  }
  const n = FEATURE_NAMES.length;
  const medians = FEATURE_NAMES.map((_, j) => median(train.map((t) => t[j])));
  add('special', medians);
  add('special', new Array(n).fill(0));
  add('special', new Array(n).fill(1));
  add('special', new Array(n).fill(1e12));
  add('special', new Array(n).fill(-1e12));
  add('special', new Array(n).fill(1e-300));
  add('special', medians.map((m, j) => (j === 3 ? 5e-324 : m)));
  add('special', medians.map((m, j) => (j % 2 ? m * 1e6 : -m * 1e6)));
  return out;
}

/**
 * Trains the fixture bundle and asks the native side about every parity vector, in a temporary
 * directory removed when the process exits.
 * Returns { dir, bundlePath, bundleText, train, vectors: [{kind, vector}], native: { fast, exact }, backend }.
 */
export async function buildFixtures() {
  const backend = nativeBackend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ml-anomaly-viewer-fixtures-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const train = trainingRows();
  const vectors = parityVectors(train);
  const bundlePath = path.join(dir, 'model.json');
  await trainBundle({ names: FEATURE_NAMES, rows: train, seed: TRAIN_SEED, outPath: bundlePath });
  const vs = vectors.map((v) => v.vector);
  const native = {
    fast: await backend.explain({ bundlePath, names: FEATURE_NAMES, vectors: vs, exact: false }),
    exact: await backend.explain({ bundlePath, names: FEATURE_NAMES, vectors: vs, exact: true }),
  };
  return { dir, bundlePath, bundleText: fs.readFileSync(bundlePath, 'utf8'), train, vectors, native, backend };
}
