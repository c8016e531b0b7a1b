// Number formatting shared by the views. Displayed numbers are rounded for reading; the full
// value always travels in a `data-value` attribute (String(x) is the shortest representation
// that reads back as the same double), so tests and curious analysts can compare exactly.

/** A score in [0, 1] with 4 decimals. */
export function score(x) {
  return Number.isFinite(x) ? x.toFixed(4) : '–';
}

/** A signed contribution (composite-score units). */
export function signed(x, digits = 4) {
  if (!Number.isFinite(x)) return '–';
  const s = Math.abs(x).toFixed(digits);
  if (Number(s) === 0) return s;
  return x > 0 ? `+${s}` : `−${s}`;
}

/** A raw feature value: integers as they are, others with up to 4 significant decimals. */
export function value(x) {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(3);
  return String(Number(x.toPrecision(5)));
}

/** A proportion as a percentage. */
export function percent(x, digits = 1) {
  return Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : '–';
}

/** The exact value for a data attribute. */
export function exact(x) {
  return String(x);
}

/** Human-readable action name. */
export function action(a) {
  return { ALLOW: 'Allow', MONITOR: 'Monitor', CHALLENGE: 'Challenge', REQUIRE_2FA: 'Require 2FA', BLOCK: 'Block' }[a] ?? String(a);
}
