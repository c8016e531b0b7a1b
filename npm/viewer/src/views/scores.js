// The three scores (composite, Isolation Forest, autoencoder) on the 0–1 scale, over the action
// zones their thresholds define. The calibration makes the thresholds mean the same thing for
// each model's score, so all three rows share the zones.

import { s, h, replace } from '../dom.js';
import * as fmt from '../format.js';

const W = 640;
const LEFT = 150;
const RIGHT = 566;
const ROW = 34;
const TOP = 44;

const ZONES = [
  { key: 'allow', from: () => 0, to: (t) => t.anomalyThreshold, name: 'Allow', rule: (t) => `≤ ${t.anomalyThreshold}` },
  { key: 'monitor', from: (t) => t.anomalyThreshold, to: (t) => t.challenge, name: 'Monitor', rule: (t) => `> ${t.anomalyThreshold}` },
  { key: 'challenge', from: (t) => t.challenge, to: (t) => t.require2fa, name: 'Challenge', rule: (t) => `≥ ${t.challenge}` },
  { key: 'twofa', from: (t) => t.require2fa, to: (t) => t.block, name: 'Require 2FA', rule: (t) => `≥ ${t.require2fa}` },
  { key: 'block', from: (t) => t.block, to: () => 1, name: 'Block', rule: (t) => `≥ ${t.block}` },
];

const x = (v) => LEFT + (RIGHT - LEFT) * Math.min(1, Math.max(0, v));

/**
 * Draws the gauge rows into `container`.
 * rows: [{ key, label, value, original? }] (original: the value before what-if edits).
 */
export function renderScores(container, rows, thresholds) {
  const height = TOP + rows.length * ROW + 8;
  const t = thresholds;
  const marks = [
    { v: t.anomalyThreshold, name: 'anomaly' },
    { v: t.challenge, name: 'challenge' },
    { v: t.require2fa, name: 'require 2FA' },
    { v: t.block, name: 'block' },
  ].filter((m) => m.v <= 1);

  const description = `${rows.map((r) => `${r.label} ${fmt.score(r.value)}`).join(', ')}, on a 0 to 1 scale. `
    + `Thresholds: ${marks.map((m) => `${m.name} ${m.v}`).join(', ')}.`;

  const svg = s('svg', {
    viewBox: `0 0 ${W} ${height}`,
    class: 'scores-svg',
    role: 'img',
    'aria-labelledby': 'scores-svg-title scores-svg-desc',
  },
  s('title', { id: 'scores-svg-title', text: 'Scores against the action thresholds' }),
  s('desc', { id: 'scores-svg-desc', text: description }));

  // Threshold values above their lines, staggered on two lines so that close thresholds stay
  // readable; the legend names the zones between them.
  marks.forEach((m, i) => {
    svg.append(
      s('text', { x: x(m.v), y: i % 2 === 0 ? 14 : 30, class: 'threshold-label', 'text-anchor': 'middle', text: String(m.v) }),
    );
  });
  svg.append(
    s('text', { x: LEFT, y: 30, class: 'threshold-label', 'text-anchor': 'middle', text: '0' }),
    s('text', { x: RIGHT, y: 30, class: 'threshold-label', 'text-anchor': 'middle', text: '1' }),
  );

  rows.forEach((r, i) => {
    const y = TOP + i * ROW;
    const g = s('g', { class: 'score-row', dataset: { score: r.key, value: fmt.exact(r.value) } });
    g.append(s('text', { x: LEFT - 10, y: y + 15, 'text-anchor': 'end', class: 'row-label', text: r.label }));
    for (const z of ZONES) {
      const from = Math.min(1, z.from(t));
      const to = Math.min(1, z.to(t));
      if (to <= from) continue;
      g.append(s('rect', { x: x(from), y: y + 2, width: x(to) - x(from), height: 18, class: `zone zone-${z.key}` },
        s('title', { text: `${z.name}: ${fmt.score(from)} – ${fmt.score(to)}` })));
    }
    g.append(s('rect', { x: LEFT, y: y + 8, width: Math.max(1, x(r.value) - LEFT), height: 6, class: 'score-bar' }));
    if (r.original !== undefined && r.original !== r.value) {
      g.append(s('line', { x1: x(r.original), x2: x(r.original), y1: y, y2: y + 22, class: 'score-original' },
        s('title', { text: `before edits: ${fmt.score(r.original)}` })));
    }
    g.append(s('line', { x1: x(r.value), x2: x(r.value), y1: y - 1, y2: y + 23, class: 'score-marker' }));
    g.append(s('text', { x: RIGHT + 8, y: y + 15, class: 'row-value', text: fmt.score(r.value) }));
    svg.append(g);
  });

  for (const m of marks) {
    svg.append(s('line', { x1: x(m.v), x2: x(m.v), y1: 34, y2: height - 4, class: 'threshold-line' }));
  }
  replace(container, svg, legend(t));
}

function legend(t) {
  return h('ul', { class: 'legend zones-legend', 'aria-label': 'Action zones of the composite score' },
    ZONES.filter((z) => z.from(t) < 1).map((z) => h('li', {},
      h('span', { class: `swatch zone-${z.key}`, 'aria-hidden': 'true' }), `${z.name} ${z.rule(t)}`)));
}
