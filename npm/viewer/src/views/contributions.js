// The top contributions as a signed bar chart: bars to the right raise the composite score,
// bars to the left lower it, in composite-score units measured from the base value (the score
// of the training baselines). Each row names the feature and shows its value and baseline.
// The SVG is an image with a text description; the same numbers are in a table next to it.

import { s, h, replace } from '../dom.js';
import * as fmt from '../format.js';

const W = 720;
const LABEL_W = 250;
const ROW = 40;
const TOP = 22;
const BAR_LEFT = LABEL_W + 20;
const BAR_RIGHT = W - 80;
const ZERO = (BAR_LEFT + BAR_RIGHT) / 2;
const HALF = (BAR_RIGHT - BAR_LEFT) / 2;

function truncate(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * features: FeatureContribution[] (already ordered by |contribution|, the core's order).
 * baseValue / composite: for the caption.
 */
export function renderContributions(chartEl, tableEl, features, { baseValue, composite, method }) {
  const maxAbs = Math.max(1e-12, ...features.map((f) => Math.abs(f.contribution)));
  const height = TOP + features.length * ROW + 10;
  const desc = features
    .map((f, i) => `${i + 1}. ${f.label}: ${fmt.signed(f.contribution)} (value ${fmt.value(f.value)}, baseline ${fmt.value(f.baseline)})`)
    .join('; ');
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${height}`,
    class: 'contributions-svg',
    role: 'img',
    'aria-labelledby': 'contrib-svg-title contrib-svg-desc',
  },
  s('title', { id: 'contrib-svg-title', text: `Top ${features.length} feature contributions to the composite score` }),
  s('desc', { id: 'contrib-svg-desc', text: `Bars to the right raise the score, to the left lower it. ${desc}` }));

  svg.append(
    s('text', { x: ZERO - 8, y: 12, 'text-anchor': 'end', class: 'axis-label', text: '← lowers score' }),
    s('text', { x: ZERO + 8, y: 12, class: 'axis-label', text: 'raises score →' }),
  );

  features.forEach((f, i) => {
    const y = TOP + i * ROW;
    const len = (Math.abs(f.contribution) / maxAbs) * HALF;
    const positive = f.contribution > 0;
    const g = s('g', {
      class: `bar ${positive ? 'bar-up' : 'bar-down'}`,
      dataset: { feature: f.feature, contribution: fmt.exact(f.contribution), rank: i + 1 },
    });
    g.append(
      s('title', { text: `${f.label} (${f.feature}): ${fmt.signed(f.contribution, 6)} — Isolation Forest ${fmt.signed(f.isolationForest, 6)}, autoencoder ${fmt.signed(f.autoencoder, 6)}` }),
      s('text', { x: LABEL_W, y: y + 14, 'text-anchor': 'end', class: 'bar-label', text: truncate(f.label, 30) }),
      s('text', { x: LABEL_W, y: y + 30, 'text-anchor': 'end', class: 'bar-sub', text: `value ${fmt.value(f.value)} · baseline ${fmt.value(f.baseline)}` }),
      s('rect', { x: positive ? ZERO : ZERO - len, y: y + 8, width: Math.max(len, 1), height: 18, class: 'bar-rect' }),
      s('text', {
        x: positive ? ZERO + len + 6 : ZERO - len - 6,
        y: y + 22,
        'text-anchor': positive ? 'start' : 'end',
        class: 'bar-value',
        text: fmt.signed(f.contribution),
      }),
    );
    svg.append(g);
  });
  svg.append(s('line', { x1: ZERO, x2: ZERO, y1: TOP - 4, y2: height - 4, class: 'zero-line' }));
  replace(chartEl, svg);

  replace(tableEl, h('table', { class: 'data-table' },
    h('caption', { text: `Composite ${fmt.score(composite)} = base value ${fmt.score(baseValue)} + the sum of all contributions (${method} attribution)` }),
    h('thead', {}, h('tr', {},
      ['Rank', 'Feature', 'Value', 'Baseline', 'Contribution', 'Isolation Forest part', 'Autoencoder part']
        .map((c) => h('th', { scope: 'col', text: c })))),
    h('tbody', {}, features.map((f, i) => h('tr', {},
      h('td', { text: i + 1 }),
      h('th', { scope: 'row', text: `${f.label} (${f.feature})` }),
      h('td', { text: fmt.value(f.value) }),
      h('td', { text: fmt.value(f.baseline) }),
      h('td', { text: fmt.signed(f.contribution, 6) }),
      h('td', { text: fmt.signed(f.isolationForest, 6) }),
      h('td', { text: fmt.signed(f.autoencoder, 6) }),
    )))));
}
