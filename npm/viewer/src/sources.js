// Where the viewer's data comes from: the app's /api/ml-anomaly routes, or files the analyst
// opens or drops. Everything is normalised here into three things:
//   - bundle text (what the wasm Model parses; wrappers like { success, model } are removed),
//   - a prediction: { vector, stored } where `stored` holds what the server recorded,
//   - traffic rows for the drift panel.
// Parsing is tolerant about wrappers and field spellings (the stored record, the CLI's explain
// lines, a bare array), strict about the numbers themselves: the wasm module checks length and
// finiteness with the core's own messages.

export const BUNDLE_FORMAT = 'ml-anomaly-model';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isNumberArray = (v) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number');
const isRowArray = (v) => Array.isArray(v) && v.length > 0 && v.every((r) => isNumberArray(r) || (isObject(r) && vectorOf(r)));

/** Parses JSON, or JSON Lines (returns the array of parsed lines), or null. */
function parseJsonish(text) {
  try {
    return { kind: 'json', value: JSON.parse(text) };
  } catch {
    const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    if (lines.length > 1) {
      try {
        return { kind: 'jsonl', value: lines.map((l) => JSON.parse(l)) };
      } catch {
        /* not JSON Lines either */
      }
    }
    return null;
  }
}

/** Numeric CSV (or whitespace-separated) rows; a non-numeric first line is taken as a header. */
function parseCsv(text) {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const rows = [];
  for (const [i, line] of lines.entries()) {
    const cells = line.split(/[,;\t ]+/).filter(Boolean);
    const nums = cells.map(Number);
    if (nums.some((n) => Number.isNaN(n) && !/^nan$/i.test(n))) {
      if (i === 0) continue; // header
      return null;
    }
    rows.push(cells.map((c) => (/^nan$/i.test(c) ? NaN : Number(c))));
  }
  return rows.length ? rows : null;
}

/** Removes `{ success, prediction }`-style wrappers. */
function unwrap(obj, keys) {
  let cur = obj;
  for (let depth = 0; depth < 3 && isObject(cur); depth += 1) {
    const key = keys.find((k) => isObject(cur[k]));
    if (!key) break;
    cur = cur[key];
  }
  return cur;
}

/** The feature vector of a record, if it has one (array, typed array or name-keyed object). */
function vectorOf(obj) {
  for (const key of ['features', 'vector', 'featureVector', 'x', 'input']) {
    const v = obj[key];
    if (isNumberArray(v)) return v;
    if (ArrayBuffer.isView(v)) return Array.from(v);
    if (isObject(v) && Object.values(v).length > 0 && Object.values(v).every((x) => typeof x === 'number')) return v;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Bundles

/**
 * The bundle JSON text to hand to the wasm Model, and the parsed object (for metadata), from a
 * file or API answer. Text that does not parse is passed through unchanged so that the core
 * reports what is wrong with it.
 */
export function bundleFromText(text) {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { text, meta: null };
  }
  if (isObject(parsed) && parsed.format === undefined) {
    const inner = unwrap(parsed, ['bundle', 'model', 'data']);
    if (isObject(inner) && inner.format !== undefined && inner !== parsed) {
      return { text: JSON.stringify(inner), meta: inner };
    }
  }
  return { text, meta: isObject(parsed) ? parsed : null };
}

// ---------------------------------------------------------------------------------------------
// Predictions

/**
 * A prediction from text: a stored record (optionally wrapped), an `ml-anomaly explain` line
 * (with its `features`), a bare array of numbers, or a one-row CSV.
 * Returns `{ vector, stored }`; `vector` may be a name-keyed object (see `resolveVector`).
 */
export function predictionFromText(text) {
  const parsed = parseJsonish(text);
  if (!parsed) {
    const rows = parseCsv(text);
    if (rows && rows.length === 1) return { vector: rows[0], stored: null };
    if (rows && rows.length > 1) {
      throw new Error(`this file holds ${rows.length} rows: open it as current traffic (drift), or keep one row`);
    }
    throw new Error('not JSON, JSON Lines or numeric CSV');
  }
  let value = parsed.value;
  if (parsed.kind === 'jsonl') {
    if (value.length !== 1 && !value.every(isObject)) {
      throw new Error(`this file holds ${value.length} rows: open it as current traffic (drift)`);
    }
    value = value[0];
  }
  return predictionFromValue(value);
}

export function predictionFromValue(value) {
  if (isNumberArray(value)) return { vector: value, stored: null };
  if (isRowArray(value)) {
    throw new Error(`this file holds ${value.length} vectors: open it as current traffic (drift), or keep one`);
  }
  if (!isObject(value)) throw new Error('expected a prediction record or an array of feature values');
  const record = unwrap(value, ['prediction', 'data', 'record', 'result']);
  const vector = vectorOf(record) ?? vectorOf(value);
  if (!vector) {
    throw new Error('the prediction has no feature vector (expected a `features` array of numbers)');
  }
  return { vector, stored: storedOf(record) };
}

/** What the server recorded about a prediction, in one shape (undefined where unknown). */
function storedOf(r) {
  const scores = isObject(r.scores) ? r.scores : {};
  const num = (...xs) => xs.find((x) => typeof x === 'number');
  const stored = {
    id: r.id ?? r._id ?? r.predictionId,
    composite: num(r.compositeScore, r.anomalyScore, scores.composite),
    isolationForest: num(r.isolationForestScore, scores.isolationForest),
    autoencoder: num(r.autoencoderScore, scores.autoencoder),
    isAnomaly: typeof r.isAnomaly === 'boolean' ? r.isAnomaly : scores.isAnomaly,
    confidence: num(r.confidence, scores.confidence),
    action: r.recommendedAction ?? r.action ?? scores.action,
    actionTaken: r.actionTaken,
    explanation: isObject(r.explanation) ? r.explanation : undefined,
    modelVersion: r.modelVersion ?? r.model?.version,
    timestamp: typeof r.timestamp === 'number' ? new Date(r.timestamp).toISOString() : r.timestamp ?? r.createdAt,
    userId: r.userId,
    sessionId: r.sessionId,
  };
  const known = Object.values(stored).some((v) => v !== undefined);
  return known ? stored : null;
}

/** A vector as an array in the model's feature order (name-keyed objects are mapped). */
export function resolveVector(vector, names) {
  if (Array.isArray(vector)) return vector.slice();
  const missing = names.filter((n) => !(n in vector));
  if (missing.length) {
    throw new Error(`the feature object lacks ${missing.length} of the model's features (first: ${missing[0]})`);
  }
  return names.map((n) => vector[n]);
}

// ---------------------------------------------------------------------------------------------
// Current traffic

/** Rows of feature values (for the drift panel) from JSON, JSON Lines or CSV. */
export function rowsFromText(text) {
  const parsed = parseJsonish(text);
  if (!parsed) {
    const rows = parseCsv(text);
    if (rows) return rows;
    throw new Error('not JSON, JSON Lines or numeric CSV');
  }
  let value = parsed.value;
  if (isObject(value)) value = value.rows ?? value.vectors ?? value.features ?? value.data ?? value;
  if (!Array.isArray(value)) throw new Error('expected an array of feature vectors');
  return value.map((r, i) => {
    if (isNumberArray(r)) return r;
    const v = isObject(r) ? vectorOf(unwrap(r, ['prediction', 'data'])) ?? vectorOf(r) : null;
    if (!v || !Array.isArray(v)) throw new Error(`row ${i + 1} is not an array of numbers`);
    return v;
  });
}

// ---------------------------------------------------------------------------------------------
// Dropped files

/** Guesses what a dropped file is: 'bundle', 'prediction' or 'traffic'. */
export function classify(text) {
  const parsed = parseJsonish(text);
  if (!parsed) {
    const rows = parseCsv(text);
    if (!rows) return 'bundle'; // let the bundle parser report what is wrong with it
    return rows.length === 1 ? 'prediction' : 'traffic';
  }
  const v = parsed.value;
  if (parsed.kind === 'jsonl') return v.length === 1 ? 'prediction' : 'traffic';
  if (isObject(v)) {
    if (v.format !== undefined || isObject(v.bundle) || isObject(v.model?.scaler ?? null)) return 'bundle';
    if (Array.isArray(v.rows) || Array.isArray(v.vectors)) return 'traffic';
    return 'prediction';
  }
  if (isNumberArray(v)) return 'prediction';
  if (isRowArray(v)) return 'traffic';
  return 'bundle';
}

// ---------------------------------------------------------------------------------------------
// The app's API

/**
 * Base URL of the /api/ml-anomaly routes. The app serves the viewer at `<api>/viewer/`, and
 * this file is `<api>/viewer/src/sources.js`, so the default is two levels up from here —
 * correct whatever the router's mount path. `?api=` overrides it; it must stay on the page's
 * own origin (the page talks to nothing else, and its Content-Security-Policy enforces that).
 */
export function apiBase(param) {
  const base = param ? new URL(param.endsWith('/') ? param : `${param}/`, window.location.href) : new URL('../../', import.meta.url);
  if (base.origin !== window.location.origin) {
    throw new Error(`the API base ${base.href} is not on this page's origin; the viewer only talks to its own origin`);
  }
  return base;
}

/** GET a JSON document with the page's own credentials; clear errors per status. */
export async function fetchJson(url) {
  let res;
  try {
    res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  } catch (e) {
    throw new Error(`could not reach ${url.pathname}: ${e.message}`);
  }
  const text = await res.text();
  if (!res.ok) {
    let detail = '';
    try {
      const body = JSON.parse(text);
      detail = body.error ?? body.message ?? '';
    } catch {
      /* not JSON */
    }
    const why = {
      401: 'not signed in (the viewer routes are admin-only)',
      403: 'not allowed (the viewer routes are admin-only)',
      404: 'not found',
    }[res.status] ?? `HTTP ${res.status}`;
    throw new Error(`${url.pathname}: ${why}${detail ? ` (${detail})` : ''}`);
  }
  return text;
}

/** The model version of the active model, from `GET models/active`. */
export function activeVersionOf(text) {
  const body = JSON.parse(text);
  const model = unwrap(body, ['model', 'activeModel', 'data']);
  const version = model?.version ?? body.version;
  if (version === undefined || version === null) throw new Error('models/active names no version');
  return version;
}

// ---------------------------------------------------------------------------------------------
// Drift status

/** Finds the drift report in a `GET drift/status` answer (wrappers and nesting tolerated). */
function findReport(value, depth = 0) {
  if (!isObject(value) || depth > 3) return null;
  if (Array.isArray(value.topDrifted) || (Array.isArray(value.features) && value.features.some((f) => isObject(f) && 'psi' in f))) {
    return value;
  }
  for (const key of ['report', 'lastReport', 'latest', 'drift', 'status', 'driftReport', 'data']) {
    const found = findReport(value[key], depth + 1);
    if (found) return found;
  }
  return null;
}

/**
 * Reference/current proportions of one distribution, if the object carries them: the core's
 * `Histogram` ({ edges, referenceProportions, currentProportions }), directly or under
 * `histogram` / `bins`.
 */
function binsOf(o) {
  if (!isObject(o)) return null;
  const nested = [o.histogram, o.bins].find((b) => isObject(b) && Array.isArray(b.edges));
  const src = nested ? { ...o, ...nested } : o;
  const edges = src.edges;
  const current = src.currentProportions ?? src.current;
  if (!isNumberArray(edges) && !(Array.isArray(edges) && edges.length === 0)) return null;
  if (!isNumberArray(current)) return null;
  return {
    edges,
    reference: isNumberArray(src.referenceProportions) ? src.referenceProportions : src.proportions ?? null,
    current,
  };
}

/**
 * The drift report of the app in one shape: `{ report, score, features }` where `score` and
 * each `features[i].bins` are `{ edges, reference, current }` proportions when the server sent
 * them (null otherwise). Returns null when the answer holds no report.
 */
export function driftFromText(text) {
  const body = JSON.parse(text);
  const report = findReport(body);
  if (!report) return null;
  const scoreSource = [report.scoreHistogram, report.scoreBins, report.compositeBins, report.scoreDistribution, report.score]
    .find((o) => binsOf(o));
  const features = (report.features ?? []).filter(isObject).map((f) => ({ ...f, bins: binsOf(f) }));
  const topDrifted = (report.topDrifted ?? []).filter(isObject).map((f) => ({ ...f, bins: binsOf(f) }));
  return { report, score: binsOf(scoreSource), features, topDrifted };
}
