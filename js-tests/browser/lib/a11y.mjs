// Accessibility checks run inside the page (page.evaluate): labels of form controls, accessible
// names of the charts, text contrast (WCAG 2 AA) and horizontal overflow. Deliberately small:
// they catch the regressions a viewer like this one is prone to, not everything axe would.

/** Form controls without an accessible name (label, aria-label or aria-labelledby). */
export function unlabelledControls() {
  return [...document.querySelectorAll('input, select, textarea, button')]
    .filter((el) => el.type !== 'hidden' && !el.closest('[hidden]'))
    .filter((el) => {
      if (el.labels && el.labels.length) return false;
      if (el.getAttribute('aria-label')) return false;
      const ids = (el.getAttribute('aria-labelledby') ?? '').split(/\s+/).filter(Boolean);
      if (ids.some((id) => document.getElementById(id)?.textContent.trim())) return false;
      if (el.tagName === 'BUTTON' && el.textContent.trim()) return false;
      return true;
    })
    .map((el) => el.id || el.outerHTML.slice(0, 80));
}

/** SVG charts that are not images with a non-empty title and description. */
export function chartsWithoutNames() {
  return [...document.querySelectorAll('svg')]
    .filter((svg) => !svg.closest('[hidden]'))
    .filter((svg) => {
      if (svg.getAttribute('role') !== 'img') return true;
      const ids = (svg.getAttribute('aria-labelledby') ?? '').split(/\s+/).filter(Boolean);
      return ids.length < 2 || ids.some((id) => !document.getElementById(id)?.textContent.trim());
    })
    .map((svg) => svg.outerHTML.slice(0, 80));
}

/**
 * Visible HTML text whose contrast with its background is below WCAG AA (4.5:1, or 3:1 for
 * large text). The background is the first opaque ancestor background (white when none).
 */
export function lowContrastText() {
  const parse = (c) => {
    const m = c.match(/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/);
    return m ? { r: +m[1], g: +m[2], b: +m[3], a: m[4] === undefined ? 1 : +m[4] } : null;
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || seen.has(el) || !n.textContent.trim() || el.closest('svg')) continue;
    seen.add(el);
    const style = getComputedStyle(el);
    const rect = el.getBoundingClientRect();
    if (style.visibility === 'hidden' || rect.width === 0 || rect.height === 0 || el.closest('[hidden]')) continue;
    const fg = parse(style.color);
    const bg = background(el);
    const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) bad.push(`${el.tagName}.${el.className} "${n.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return bad;
}

/** True when the page scrolls horizontally (content wider than the viewport). */
export function overflowsHorizontally() {
  return document.documentElement.scrollWidth > window.innerWidth + 1;
}
