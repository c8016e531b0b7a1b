// Drift: reference (training) vs current distributions over the reference's quantile bins.
// Bins are right-closed, as the server counts them: (-inf, e0], (e0, e1], ..., (e_last, inf).
// The reference proportions come from the model bundle; the current ones from the app's drift
// status or from a traffic file binned by the wasm module.

import { s, h, replace } from '../dom.js';
import * as fmt from '../format.js';

const H = 190;
const LEFT = 44;
const TOP = 16;
const BOTTOM = H - 40;

/** Labels of the bins cut at `edges`. */
export function binLabels(edges) {
  if (edges.length === 0) return ['all'];
  const labels = [`≤ ${fmt.value(edges[0])}`];
  for (let i = 1; i < edges.length; i += 1) labels.push(`${fmt.value(edges[i - 1])}–${fmt.value(edges[i])}`);
  labels.push(`> ${fmt.value(edges[edges.length - 1])}`);
  return labels;
}

/** Index of the bin holding `x` (number of edges strictly below x), the core's `bin_of`. */
export function binOf(edges, x) {
  let i = 0;
  while (i < edges.length && edges[i] < x) i += 1;
  return i;
}

/**
 * One histogram: reference vs current (current may be null) over the bins of `edges`.
 * `marker`: optional { value, label } drawn as the bin it falls in (e.g. this prediction).
 */
export function histogram({ id, title, edges, reference, current, marker, width = 640 }) {
  const W = width;
  const RIGHT = W - 10;
  const labels = binLabels(edges);
  const n = labels.length;
  const maxP = Math.max(0.01, ...reference, ...(current ?? []));
  const slot = (RIGHT - LEFT) / n;
  const barW = current ? slot * 0.38 : slot * 0.6;
  const y = (p) => BOTTOM - (BOTTOM - TOP) * (p / maxP);
  const markerBin = marker ? binOf(edges, marker.value) : -1;

  const desc = labels
    .map((l, i) => `${l}: reference ${fmt.percent(reference[i])}${current ? `, current ${fmt.percent(current[i])}` : ''}`)
    .join('; ');
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: `histogram-svg${width < 640 ? ' small' : ''}`,
    role: 'img',
    'aria-labelledby': `${id}-title ${id}-desc`,
    dataset: { bins: n },
  },
  s('title', { id: `${id}-title`, text: title }),
  s('desc', { id: `${id}-desc`, text: `${desc}${marker ? `. ${marker.label} falls in bin ${labels[markerBin]}` : ''}` }));

  for (const p of [0, maxP / 2, maxP]) {
    svg.append(
      s('line', { x1: LEFT, x2: RIGHT, y1: y(p), y2: y(p), class: 'grid-line' }),
      s('text', { x: LEFT - 4, y: y(p) + 4, 'text-anchor': 'end', class: 'axis-label', text: fmt.percent(p, 0) }),
    );
  }
  svg.append(s('line', { x1: LEFT, x2: RIGHT, y1: BOTTOM, y2: BOTTOM, class: 'axis-line' }));
  labels.forEach((label, i) => {
    const x0 = LEFT + i * slot;
    if (i === markerBin) {
      svg.append(s('rect', { x: x0 + 1, y: TOP - 6, width: slot - 2, height: BOTTOM - TOP + 6, class: 'marker-bin' },
        s('title', { text: `${marker.label}: ${fmt.score(marker.value)}` })));
    }
    const ref = reference[i] ?? 0;
    const refX = current ? x0 + slot / 2 - barW - 1 : x0 + (slot - barW) / 2;
    svg.append(s('rect', { x: refX, y: y(ref), width: barW, height: BOTTOM - y(ref), class: 'hist-ref', dataset: { bin: i, proportion: fmt.exact(ref) } },
      s('title', { text: `${label}: reference ${fmt.percent(ref)}` })));
    if (current) {
      const cur = current[i] ?? 0;
      svg.append(s('rect', { x: x0 + slot / 2 + 1, y: y(cur), width: barW, height: BOTTOM - y(cur), class: 'hist-cur', dataset: { bin: i, proportion: fmt.exact(cur) } },
        s('title', { text: `${label}: current ${fmt.percent(cur)}` })));
    }
  });
  // Edge values as ticks between the bars (the table lists the ranges); thinned so that
  // labels never overlap on narrow charts.
  const every = Math.max(1, Math.ceil(46 / slot));
  edges.forEach((e, i) => {
    const xe = LEFT + (i + 1) * slot;
    svg.append(s('line', { x1: xe, x2: xe, y1: BOTTOM, y2: BOTTOM + 4, class: 'tick' }));
    if (i % every === 0) {
      svg.append(s('text', { x: xe, y: BOTTOM + 16, 'text-anchor': 'middle', class: 'bin-label', text: fmt.value(e) }));
    }
  });
  if (marker) {
    svg.append(s('text', { x: LEFT + markerBin * slot + slot / 2, y: TOP + 4, 'text-anchor': 'middle', class: 'marker-label', text: '▼ this' }));
  }

  const table = h('details', { class: 'table-alt' },
    h('summary', { text: `${title}: as a table` }),
    h('table', { class: 'data-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Bin' }), h('th', { scope: 'col', text: 'Reference' }),
        current ? h('th', { scope: 'col', text: 'Current' }) : null)),
      h('tbody', {}, labels.map((l, i) => h('tr', { class: i === markerBin ? 'marked' : '' },
        h('th', { scope: 'row', text: `${l}${i === markerBin ? ` (${marker.label})` : ''}` }),
        h('td', { text: fmt.percent(reference[i]) }),
        current ? h('td', { text: fmt.percent(current[i]) }) : null)))));

  const legendItems = [h('li', {}, h('span', { class: 'swatch hist-ref', 'aria-hidden': 'true' }), 'training reference')];
  if (current) legendItems.push(h('li', {}, h('span', { class: 'swatch hist-cur', 'aria-hidden': 'true' }), 'current traffic'));
  return h('figure', { class: 'histogram', id },
    h('figcaption', { text: title }),
    svg,
    h('ul', { class: 'legend' }, legendItems),
    table);
}

/** Fills the drift card. `view`: the state the main module computed (see main.js). */
export function renderDrift({ summaryEl, scoreEl, featuresEl }, view) {
  replace(summaryEl, view.summary);
  replace(scoreEl, histogram({
    id: 'drift-score-hist',
    title: 'Composite score distribution',
    edges: view.score.edges,
    reference: view.score.reference,
    current: view.score.current,
    marker: view.marker,
  }));
  if (view.features.length === 0) {
    replace(featuresEl, h('p', { class: 'hint', text: view.featuresHint }));
    return;
  }
  replace(featuresEl, view.features.map((f) => histogram({
    id: `drift-feature-${f.index}`,
    title: `${f.label}${f.stat ? ` — ${f.stat}` : ''}`,
    edges: f.edges,
    reference: f.reference,
    current: f.current,
    marker: f.marker,
    width: 460,
  })));
}
