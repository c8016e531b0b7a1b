// The editable table of every feature ("what if"). Rows are built once per loaded vector; a
// recomputation only rewrites the computed cells, so the input being typed in keeps its focus
// and caret.

import { h, replace } from '../dom.js';
import * as fmt from '../format.js';

/**
 * Builds the rows. `onEdit(index, value)` is called with a finite number on every valid edit;
 * `onReset(index)` when a row's reset button is used.
 */
export function buildFeatureRows(tbody, { names, labels, baselines, vector, onEdit, onReset }) {
  const rows = names.map((name, i) => {
    const inputId = `fv-${i}`;
    const errorId = `fv-${i}-error`;
    const input = h('input', {
      type: 'number',
      step: 'any',
      id: inputId,
      class: 'feature-input',
      value: String(vector[i]),
      'aria-describedby': `fn-${i} ${errorId}`,
      dataset: { index: i },
    });
    const error = h('span', { id: errorId, class: 'input-error', 'aria-live': 'polite' });
    input.addEventListener('input', () => {
      const v = input.value.trim() === '' ? NaN : Number(input.value);
      if (!Number.isFinite(v)) {
        input.setAttribute('aria-invalid', 'true');
        error.textContent = 'Enter a finite number';
        return;
      }
      input.removeAttribute('aria-invalid');
      error.textContent = '';
      onEdit(i, v);
    });
    const reset = h('button', {
      type: 'button',
      class: 'row-reset',
      'aria-label': `Reset ${labels[i]}`,
      hidden: true,
      text: 'Reset',
      onclick: () => onReset(i),
    });
    return h('tr', { dataset: { index: i, feature: name } },
      h('td', { class: 'num', text: i + 1 }),
      h('td', {},
        h('label', { for: inputId, class: 'feature-label', text: labels[i] }),
        h('span', { id: `fn-${i}`, class: 'feature-name', text: name })),
      h('td', {}, input, error),
      h('td', { class: 'num baseline', text: fmt.value(baselines[i]) }),
      h('td', { class: 'num z' }),
      h('td', { class: 'num contribution' }),
      h('td', {}, reset));
  });
  replace(tbody, rows);
}

/** Writes computed cells: z-scores and contributions per feature index; edited markers. */
export function updateFeatureRows(tbody, { byIndex, vector, original }) {
  for (const tr of tbody.rows) {
    const i = Number(tr.dataset.index);
    const f = byIndex[i];
    const edited = vector[i] !== original[i];
    tr.classList.toggle('edited', edited);
    tr.querySelector('.row-reset').hidden = !edited;
    const input = tr.querySelector('input');
    if (document.activeElement !== input && Number(input.value) !== vector[i]) input.value = String(vector[i]);
    if (!f) continue;
    tr.querySelector('.z').textContent = Number.isFinite(f.normalizedValue) ? f.normalizedValue.toFixed(2) : '–';
    const c = tr.querySelector('.contribution');
    c.textContent = fmt.signed(f.contribution);
    c.dataset.value = fmt.exact(f.contribution);
    c.classList.toggle('up', f.contribution > 0);
    c.classList.toggle('down', f.contribution < 0);
  }
}

/** Shows rows matching `filter` (name or label), in the requested order. */
export function arrangeFeatureRows(tbody, { filter, order, byIndex, vector, original }) {
  const q = filter.trim().toLowerCase();
  const rows = [...tbody.rows];
  for (const tr of rows) {
    const text = `${tr.dataset.feature} ${tr.querySelector('.feature-label').textContent}`.toLowerCase();
    tr.hidden = q !== '' && !text.includes(q);
  }
  const key = {
    index: (i) => i,
    impact: (i) => -Math.abs(byIndex[i]?.contribution ?? 0),
    edited: (i) => (vector[i] !== original[i] ? 0 : 1) * 1e6 + i,
  }[order] ?? ((i) => i);
  rows.sort((a, b) => key(Number(a.dataset.index)) - key(Number(b.dataset.index)) || Number(a.dataset.index) - Number(b.dataset.index));
  for (const tr of rows) tbody.append(tr);
}
