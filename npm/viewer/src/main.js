// The explanation viewer: loads a model bundle and a prediction (from the app's API or from
// files), recomputes everything with the WebAssembly build of anomaly-core, and re-renders on
// every edit. One state object, one `render()`; the views are plain functions of it.

import { loadWasm } from './wasm.js';
import * as src from './sources.js';
import { byId, h, replace } from './dom.js';
import * as fmt from './format.js';
import { renderScores } from './views/scores.js';
import { renderContributions } from './views/contributions.js';
import { buildFeatureRows, updateFeatureRows, arrangeFeatureRows } from './views/features.js';
import { renderDrift } from './views/drift.js';

/**
 * Features the readable explanation is built from, unless the stored prediction shows how many
 * the server used: the original service's top 5.
 */
const DEFAULT_EXPLANATION_TOP_K = 5;
/**
 * How far a stored score may be from the browser's recomputation and still count as the same
 * computation. Native and WebAssembly builds are bit-identical (the core uses the `libm` crate on
 * both, see docs/viewer.md), so anything but 'identical' is unexpected; a difference this small
 * is reported as rounding (e.g. a score that went through a lossy store), anything larger means
 * another model or input.
 */
const ROUNDING_TOLERANCE = 1e-12;

function compareScores(stored, recomputed) {
  if (stored === recomputed) return 'identical';
  return Math.abs(stored - recomputed) <= ROUNDING_TOLERANCE ? 'rounding' : 'different';
}

/** Most drifted features drawn in the drift card. */
const DRIFT_FEATURES_SHOWN = 4;

const state = {
  wasm: null,
  model: null,
  bundleLabel: '',
  bundleMeta: null,
  names: [],
  labels: [],
  baselines: [],
  thresholds: null,
  driftRef: null,
  driftCfg: null,
  /** { vector: number[] (as loaded), stored, label } */
  prediction: null,
  /** A prediction opened before its model: applied when the model arrives. */
  pendingPrediction: null,
  /** The vector being looked at (the loaded one plus what-if edits). */
  vector: null,
  exact: false,
  chartTopK: 10,
  /** Results for `vector` and for the loaded vector. */
  current: null,
  original: null,
  drift: { server: null, serverError: null, local: null, pendingRows: null },
};

// ---------------------------------------------------------------------------------------------
// Messages

function showError(message) {
  const el = byId('error');
  el.textContent = message;
  el.hidden = false;
}

function clearError() {
  const el = byId('error');
  el.hidden = true;
  el.textContent = '';
}

let statusTimer;
function status(message, { debounce = 0 } = {}) {
  clearTimeout(statusTimer);
  const write = () => { byId('status').textContent = message; };
  if (debounce) statusTimer = setTimeout(write, debounce);
  else write();
}

// ---------------------------------------------------------------------------------------------
// Loading

function setBundle(text, label) {
  const { text: bundleText, meta } = src.bundleFromText(text);
  let model;
  try {
    model = state.wasm.Model.fromJson(bundleText);
  } catch (e) {
    throw new Error(`Could not load the model bundle (${label}): ${e.message}`);
  }
  state.model?.free();
  state.model = model;
  state.bundleLabel = label;
  state.bundleMeta = meta;
  state.names = model.featureNames();
  state.baselines = model.baselines();
  state.thresholds = model.thresholds();
  state.driftRef = model.driftReference();
  state.driftCfg = model.driftConfig();
  // The core's readable labels, for every feature, come with an explanation of all of them.
  const all = model.predict(state.baselines, false, state.names.length).explanation.topFeatures;
  const labelOf = new Map(all.map((f) => [f.feature, f.label]));
  state.labels = state.names.map((n) => labelOf.get(n) ?? n);
  state.drift.local = null;

  const pending = state.pendingPrediction ?? state.prediction;
  state.pendingPrediction = null;
  if (pending && pending.label !== 'training medians') {
    try {
      usePrediction(pending);
    } catch (e) {
      showError(e.message);
      useMedians();
    }
  } else {
    useMedians();
  }
  if (state.drift.pendingRows) {
    const { rows, label: rowsLabel } = state.drift.pendingRows;
    state.drift.pendingRows = null;
    setTraffic(rows, rowsLabel);
  }
}

function useMedians() {
  usePrediction({ vector: state.baselines.slice(), stored: null, label: 'training medians' });
}

function usePrediction(prediction) {
  const vector = src.resolveVector(prediction.vector, state.names);
  try {
    state.model.score(vector);
  } catch (e) {
    throw new Error(`Could not use the prediction (${prediction.label}): ${e.message}`);
  }
  state.prediction = { ...prediction, vector };
  state.vector = vector.slice();
  state.exact = prediction.stored?.explanation?.method === 'exact';
  byId('exact').checked = state.exact;
  buildFeatureRows(byId('features-body'), {
    names: state.names,
    labels: state.labels,
    baselines: state.baselines,
    vector: state.vector,
    onEdit: (i, v) => {
      state.vector[i] = v;
      scheduleRender(i);
    },
    onReset: (i) => {
      state.vector[i] = state.prediction.vector[i];
      scheduleRender(i);
      byId(`fv-${i}`).focus();
    },
  });
  state.original = null;
  render();
  arrange();
}

function setPrediction(prediction) {
  if (!state.model) {
    state.pendingPrediction = prediction;
    status(`Prediction loaded (${prediction.label}); now open its model bundle.`);
    renderSourceLine();
    return;
  }
  usePrediction(prediction);
}

function setTraffic(rows, label) {
  if (!state.model) {
    state.drift.pendingRows = { rows, label };
    status(`Traffic loaded (${rows.length} rows); now open the model bundle.`);
    return;
  }
  let scores;
  try {
    scores = state.model.scoreBatch(rows);
  } catch (e) {
    throw new Error(`Could not score the traffic file (${label}): ${e.message}`);
  }
  const composites = scores.map((sc) => sc.composite);
  // Binned once here: the what-if edits only move this prediction's marker, not the window.
  const ref = state.driftRef;
  const perFeature = state.names.map((name, j) => {
    const bins = ref.features[j].bins;
    const current = state.wasm.binProportions(bins.edges, rows.map((r) => r[j]));
    return { index: j, name, edges: bins.edges, reference: bins.proportions, current, tv: totalVariation(bins.proportions, current) };
  });
  const scoreCurrent = state.wasm.binProportions(ref.score.bins.edges, composites);
  const local = { label, rows: rows.length, scoreCurrent, perFeature, report: null, reportError: null };
  const minRows = state.driftCfg.minCurrentRows;
  if (rows.length >= minRows) {
    try {
      local.report = state.model.assessDrift(rows);
    } catch (e) {
      local.reportError = e.message;
    }
  } else {
    local.reportError = `${rows.length} rows: the drift report needs at least ${minRows}; distributions are shown without it`;
  }
  state.drift.local = local;
  renderDriftCard();
}

async function readFile(file) {
  try {
    return await file.text();
  } catch (e) {
    throw new Error(`Could not read ${file.name}: ${e.message}`);
  }
}

async function openFiles(files, forcedKind) {
  const loaded = [];
  for (const file of files) {
    const text = await readFile(file);
    loaded.push({ file, text, kind: forcedKind ?? src.classify(text) });
  }
  // Bundles first, so a prediction dropped together with its model lands on that model.
  const rank = { bundle: 0, prediction: 1, traffic: 2 };
  loaded.sort((a, b) => rank[a.kind] - rank[b.kind]);
  clearError();
  for (const { file, text, kind } of loaded) {
    try {
      if (kind === 'bundle') setBundle(text, `file ${file.name}`);
      else if (kind === 'prediction') {
        let parsed;
        try {
          parsed = src.predictionFromText(text);
        } catch (e) {
          throw new Error(`Could not read the prediction (${file.name}): ${e.message}`);
        }
        setPrediction({ ...parsed, label: `file ${file.name}` });
      } else {
        let rows;
        try {
          rows = src.rowsFromText(text);
        } catch (e) {
          throw new Error(`Could not read the traffic file (${file.name}): ${e.message}`);
        }
        setTraffic(rows, `file ${file.name}`);
      }
    } catch (e) {
      showError(e.message);
    }
  }
  showWorkspace();
}

async function loadFromApi(params) {
  const base = src.apiBase(params.get('api'));
  const id = params.get('prediction');
  let prediction = null;
  if (id) {
    status(`Loading prediction ${id}…`);
    const text = await src.fetchJson(new URL(`predictions/${encodeURIComponent(id)}`, base));
    try {
      prediction = { ...src.predictionFromText(text), label: `prediction ${id}` };
    } catch (e) {
      throw new Error(`Could not read prediction ${id}: ${e.message}`);
    }
  }
  let version = params.get('model') ?? prediction?.stored?.modelVersion;
  if (version === undefined || version === null || version === 'active') {
    version = src.activeVersionOf(await src.fetchJson(new URL('models/active', base)));
  }
  status(`Loading model ${version}…`);
  const bundle = await src.fetchJson(new URL(`models/${encodeURIComponent(version)}/bundle`, base));
  setBundle(bundle, `model ${version}`);
  if (prediction) setPrediction(prediction);
  showWorkspace();
  try {
    state.drift.server = src.driftFromText(await src.fetchJson(new URL('drift/status', base)));
    if (!state.drift.server) state.drift.serverError = 'the app has no drift report yet';
  } catch (e) {
    state.drift.serverError = `drift status unavailable: ${e.message}`;
  }
  renderDriftCard();
}

// ---------------------------------------------------------------------------------------------
// Rendering

let frame = 0;
let lastEdited = -1;
function scheduleRender(editedIndex) {
  lastEdited = editedIndex;
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    try {
      render();
    } catch (e) {
      showError(`Could not recompute: ${e.message}`);
    }
  });
}

function compute(vector) {
  const n = state.names.length;
  const full = state.model.predict(vector, state.exact, n);
  const topK = state.prediction.stored?.explanation?.topFeatures?.length || DEFAULT_EXPLANATION_TOP_K;
  const text = state.model.predict(vector, state.exact, topK);
  const byIndex = [];
  for (const f of full.explanation.topFeatures) byIndex[state.names.indexOf(f.feature)] = f;
  return { scores: full.scores, ranked: full.explanation.topFeatures, byIndex, explanation: text.explanation };
}

function render() {
  if (!state.model || !state.vector) return;
  state.original ??= compute(state.prediction.vector);
  const edits = state.vector.reduce((acc, v, i) => (v !== state.prediction.vector[i] ? [...acc, i] : acc), []);
  state.current = edits.length ? compute(state.vector) : state.original;
  renderSummary(edits);
  renderExplanation();
  renderChart();
  updateFeatureRows(byId('features-body'), {
    byIndex: state.current.byIndex,
    vector: state.vector,
    original: state.prediction.vector,
  });
  renderDriftCard();
  renderSourceLine();
  const sc = state.current.scores;
  if (lastEdited >= 0) {
    status(`What if: composite ${fmt.score(sc.composite)}, action ${fmt.action(sc.action)} (${edits.length} feature${edits.length === 1 ? '' : 's'} edited).`, { debounce: 400 });
    lastEdited = -1;
  } else {
    status(`Composite ${fmt.score(sc.composite)}, action ${fmt.action(sc.action)}: recomputed in your browser.`);
  }
}

function fact(term, value, exactValue, field) {
  return [
    h('dt', { text: term }),
    h('dd', { dataset: { field, ...(exactValue !== undefined ? { value: fmt.exact(exactValue) } : {}) }, text: value }),
  ];
}

function renderSummary(edits) {
  const sc = state.current.scores;
  const stored = state.prediction.stored;
  const out = byId('composite-score');
  out.textContent = fmt.score(sc.composite);
  out.dataset.value = fmt.exact(sc.composite);
  const action = byId('action');
  action.textContent = fmt.action(sc.action);
  action.dataset.action = sc.action;
  action.className = `action-badge action-${sc.action.toLowerCase()}`;

  replace(byId('facts'),
    fact('Anomaly', sc.isAnomaly ? `yes (> ${fmt.score(state.thresholds.anomalyThreshold)})` : 'no', undefined, 'isAnomaly'),
    fact('Confidence', fmt.score(sc.confidence), sc.confidence, 'confidence'),
    fact('Model agreement', fmt.score(sc.modelAgreement), sc.modelAgreement, 'modelAgreement'),
    fact('Isolation Forest', fmt.score(sc.isolationForest), sc.isolationForest, 'isolationForest'),
    fact('Autoencoder', fmt.score(sc.autoencoder), sc.autoencoder, 'autoencoder'),
    fact('Base value', fmt.score(state.model.baseValue), state.model.baseValue, 'baseValue'),
    stored?.modelVersion !== undefined ? fact('Model version', String(stored.modelVersion), undefined, 'modelVersion') : null,
    stored?.actionTaken ? fact('Action taken', String(stored.actionTaken), undefined, 'actionTaken') : null,
    stored?.timestamp ? fact('Time', String(stored.timestamp), undefined, 'timestamp') : null,
  );

  const verification = byId('verification');
  const o = state.original.scores;
  if (!stored || stored.composite === undefined) {
    verification.dataset.status = 'none';
    verification.textContent = state.prediction.label === 'training medians'
      ? 'No prediction loaded: showing the training medians. Edit any value below, or open a prediction.'
      : 'Recomputed in your browser from the model bundle (no stored scores to compare with).';
  } else {
    const pairs = [['composite', o.composite], ['isolationForest', o.isolationForest], ['autoencoder', o.autoencoder]]
      .filter(([k]) => stored[k] !== undefined)
      .map(([k, v]) => ({ k, v, match: compareScores(stored[k], v) }));
    const worst = pairs.some((p) => p.match === 'different') ? 'different' : pairs.some((p) => p.match === 'rounding') ? 'rounding' : 'identical';
    verification.dataset.status = { identical: 'match', rounding: 'rounding', different: 'mismatch' }[worst];
    const names = pairs.map((p) => p.k).join(', ');
    if (worst === 'identical') {
      verification.textContent = `✓ Recomputed in your browser: identical to the stored prediction (${names}).`;
    } else if (worst === 'rounding') {
      const d = Math.max(...pairs.map((p) => Math.abs(stored[p.k] - p.v)));
      verification.textContent = `✓ Recomputed in your browser: equal to the stored prediction up to floating-point rounding (${names}; largest difference ${d.toExponential(1)}: the server's and WebAssembly's math libraries can differ in the last bit of exp2).`;
    } else {
      verification.textContent = `⚠ The stored prediction differs from the recomputation: ${pairs
        .filter((p) => p.match === 'different')
        .map((p) => `${p.k} stored ${fmt.score(stored[p.k])}, recomputed ${fmt.score(p.v)}`).join('; ')}. Was it made with another model version?`;
    }
  }

  const bar = byId('whatif-bar');
  bar.hidden = edits.length === 0;
  if (edits.length) {
    const list = edits.slice(0, 3).map((i) => `${state.labels[i]} ${fmt.value(state.prediction.vector[i])} → ${fmt.value(state.vector[i])}`).join('; ');
    byId('whatif-text').textContent = `What if: ${edits.length} feature${edits.length === 1 ? '' : 's'} edited (${list}${edits.length > 3 ? '; …' : ''}). `
      + `Before the edits: composite ${fmt.score(o.composite)}, ${fmt.action(o.action)}.`;
  }

  const rows = [
    { key: 'composite', label: 'Composite', value: sc.composite, original: o.composite },
    { key: 'isolationForest', label: 'Isolation Forest', value: sc.isolationForest, original: o.isolationForest },
    { key: 'autoencoder', label: 'Autoencoder', value: sc.autoencoder, original: o.autoencoder },
  ];
  renderScores(byId('scores-chart'), rows, state.thresholds);
}

function renderExplanation() {
  const e = state.current.explanation;
  byId('explanation-text').textContent = e.explanation;
  byId('explanation-summary').textContent = e.summary;
  replace(byId('confidence-factors'), e.confidenceFactors.map((f) => h('li', {},
    h('strong', { text: f.factor }), ` — ${f.description} `,
    h('span', { class: 'impact', text: `(impact ${fmt.score(f.impact).slice(0, 4)})` }))));
}

function renderChart() {
  const ranked = state.current.ranked.slice(0, state.chartTopK);
  const sc = state.current.scores;
  byId('contributions-note').textContent = `In composite-score units, measured from the base value ${fmt.score(state.model.baseValue)} `
    + `(the score of the training medians); all ${state.names.length} contributions add up to the composite ${fmt.score(sc.composite)}. `
    + `Forest part: ${state.exact ? 'exact TreeSHAP' : 'fast path attribution'}.`;
  renderContributions(byId('contributions-chart'), byId('contributions-table'), ranked, {
    baseValue: state.model.baseValue,
    composite: sc.composite,
    method: state.exact ? 'exact' : 'fast',
  });
}

function arrange() {
  if (!state.current) return;
  arrangeFeatureRows(byId('features-body'), {
    filter: byId('feature-filter').value,
    order: byId('feature-sort').value,
    byIndex: state.current.byIndex,
    vector: state.vector,
    original: state.prediction.vector,
  });
}

function totalVariation(a, b) {
  return 0.5 * a.reduce((acc, p, i) => acc + Math.abs(p - (b[i] ?? 0)), 0);
}

/** What the drift card shows, from the local traffic file or else the app's drift status. */
function driftView() {
  const ref = state.driftRef;
  const composite = state.current?.scores.composite;
  const marker = composite === undefined ? undefined : { value: composite, label: 'this prediction' };
  const scoreBins = { edges: ref.score.bins.edges, reference: ref.score.bins.proportions, current: null };
  const local = state.drift.local;
  const server = state.drift.server;
  const summary = [];
  let features = [];
  let featuresHint = 'No current traffic: open a traffic file (JSON, JSON Lines or CSV of feature vectors) or open this page from the app.';

  const reportLine = (r, source) => h('span', { dataset: { drifting: String(r.isDrifting) } },
    `${source}: drift score ${fmt.score(r.composite)} (threshold ${fmt.score(r.threshold)}) — `,
    h('strong', { text: r.isDrifting ? 'drifting' : 'stable' }),
    `; score PSI ${r.psi.toFixed(3)}, KS D = ${r.ks.statistic.toFixed(3)} (p = ${r.ks.pValue.toPrecision(3)}), ${r.currentRows} rows.`);

  if (local) {
    scoreBins.current = local.scoreCurrent;
    if (local.report) summary.push(reportLine(local.report, `Traffic ${local.label}`));
    else summary.push(`Traffic ${local.label}: ${local.reportError}.`);
    const { perFeature } = local;
    const order = local.report
      ? local.report.topDrifted.map((f) => f.index)
      : perFeature.slice().sort((a, b) => b.tv - a.tv).map((f) => f.index);
    const stats = new Map((local.report?.features ?? []).map((f) => [f.index, f]));
    features = order.slice(0, DRIFT_FEATURES_SHOWN).map((j) => {
      const f = perFeature[j];
      const st = stats.get(j);
      return {
        ...f,
        label: state.labels[j],
        stat: st ? `drift ${st.drift.toFixed(2)}, PSI ${st.psi.toFixed(3)}, mean shift ${st.meanShift.toFixed(2)}σ` : `total variation ${f.tv.toFixed(3)}`,
        marker: state.vector ? { value: state.vector[j], label: 'this prediction' } : undefined,
      };
    });
  } else if (server) {
    const r = server.report;
    if (typeof r.composite === 'number' && r.ks) summary.push(reportLine(r, 'The app’s latest drift check'));
    else summary.push('The app’s latest drift check.');
    if (server.score && server.score.current.length === scoreBins.edges.length + 1) scoreBins.current = server.score.current;
    const list = server.topDrifted.length ? server.topDrifted : server.features.slice().sort((a, b) => (b.drift ?? 0) - (a.drift ?? 0));
    features = list.slice(0, DRIFT_FEATURES_SHOWN).map((f) => {
      const j = Number.isInteger(f.index) ? f.index : state.names.indexOf(f.name);
      const bins = ref.features[j]?.bins;
      if (!bins) return null;
      const full = server.features.find((g) => g.index === j || g.name === state.names[j]);
      const srvBins = f.bins ?? full?.bins;
      const current = srvBins && srvBins.current.length === bins.edges.length + 1 ? srvBins.current : null;
      const parts = [];
      if (typeof f.drift === 'number') parts.push(`drift ${f.drift.toFixed(2)}`);
      if (typeof f.psi === 'number') parts.push(`PSI ${f.psi.toFixed(3)}`);
      if (typeof f.meanShift === 'number') parts.push(`mean shift ${f.meanShift.toFixed(2)}σ`);
      return {
        index: j, edges: bins.edges, reference: bins.proportions, current,
        label: state.labels[j], stat: parts.join(', '),
        marker: state.vector ? { value: state.vector[j], label: 'this prediction' } : undefined,
      };
    }).filter(Boolean);
    if (!scoreBins.current) summary.push(' The app sent no current score proportions; showing the reference.');
    if (features.length === 0) featuresHint = 'The app’s drift report lists no drifted features.';
  } else {
    summary.push(`${state.drift.serverError ? `${state.drift.serverError[0].toUpperCase()}${state.drift.serverError.slice(1)}. ` : ''}`
      + 'No current traffic loaded: the chart shows where this prediction falls in the training distribution of composite scores '
      + `(${ref.referenceRows} training rows).`);
  }
  return { summary, score: scoreBins, marker, features, featuresHint };
}

function renderDriftCard() {
  if (!state.model || !state.driftRef) return;
  renderDrift({ summaryEl: byId('drift-summary'), scoreEl: byId('drift-score'), featuresEl: byId('drift-features') }, driftView());
}

function renderSourceLine() {
  const parts = [];
  if (state.model) {
    const t = state.bundleMeta?.training;
    parts.push(`Model: ${state.bundleLabel} (${state.names.length} features${t?.trainingSize ? `, trained on ${t.trainingSize} rows` : ''})`);
  }
  const p = state.prediction ?? state.pendingPrediction;
  if (p) parts.push(`Vector: ${p.label}`);
  byId('source-line').textContent = parts.length ? parts.join(' · ') : 'No model loaded.';
}

function showWorkspace() {
  const ready = Boolean(state.model && state.vector);
  byId('workspace').hidden = !ready;
  byId('empty').hidden = ready;
  renderSourceLine();
}

// ---------------------------------------------------------------------------------------------
// Wiring

function wire() {
  const fileInput = (id, kind) => {
    const input = byId(id);
    input.addEventListener('change', async () => {
      if (input.files?.length) await openFiles([...input.files], kind);
      input.value = '';
    });
  };
  fileInput('bundle-file', 'bundle');
  fileInput('prediction-file', 'prediction');
  fileInput('current-file', 'traffic');

  byId('reset-all').addEventListener('click', () => {
    state.vector = state.prediction.vector.slice();
    render();
    byId('composite-score').focus?.();
  });
  byId('exact').addEventListener('change', (e) => {
    state.exact = e.target.checked;
    state.original = null;
    render();
  });
  byId('top-k').addEventListener('change', (e) => {
    state.chartTopK = Number(e.target.value);
    renderChart();
  });
  byId('feature-filter').addEventListener('input', arrange);
  byId('feature-sort').addEventListener('change', arrange);

  // Drag and drop anywhere on the page.
  const overlay = byId('drop-overlay');
  let depth = 0;
  window.addEventListener('dragenter', (e) => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    depth += 1;
    overlay.hidden = false;
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) overlay.hidden = true;
  });
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', async (e) => {
    e.preventDefault();
    depth = 0;
    overlay.hidden = true;
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) await openFiles(files);
  });
}

async function boot() {
  byId('boot-hint').hidden = true;
  wire();
  try {
    state.wasm = await loadWasm();
  } catch (e) {
    showError(`The viewer could not start: ${e.message}`);
    status('');
    return;
  }
  const params = new URLSearchParams(window.location.search);
  status('Ready: open a model bundle and a prediction.');
  if (params.has('prediction') || params.has('model')) {
    try {
      await loadFromApi(params);
    } catch (e) {
      showError(e.message);
      status('');
    }
  }
  document.documentElement.dataset.ready = 'true';
}

boot();
