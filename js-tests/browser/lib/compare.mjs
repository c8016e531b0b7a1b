// Comparing the WebAssembly build's answers with the native ones, value by value.
//
// A number matches when it is identical, or "close": within TOLERANCE relative to its magnitude
// (absolute below 1). Close but not identical is legitimate only where the two builds use
// different math libraries (see docs/viewer.md: glibc's exp2 natively, Rust's libm port in
// wasm); the parity test checks that every such difference traces back to one of those calls.

export const TOLERANCE = 1e-12;

export function classifyNumbers(a, b) {
  if (Object.is(a, b) || a === b) return 'identical';
  if (Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= TOLERANCE * Math.max(1, Math.abs(a), Math.abs(b))) {
    return 'close';
  }
  return 'different';
}

/**
 * Walks two JSON values; returns the paths where they differ:
 * [{ path, wasm, native, kind: 'close' | 'different' }]. Object key order is ignored.
 */
export function diff(wasm, native, path = '', out = []) {
  if (typeof wasm === 'number' && typeof native === 'number') {
    const kind = classifyNumbers(wasm, native);
    if (kind !== 'identical') out.push({ path, wasm, native, kind });
  } else if (Array.isArray(wasm) && Array.isArray(native)) {
    if (wasm.length !== native.length) out.push({ path: `${path}.length`, wasm: wasm.length, native: native.length, kind: 'different' });
    else wasm.forEach((w, i) => diff(w, native[i], `${path}[${i}]`, out));
  } else if (wasm && native && typeof wasm === 'object' && typeof native === 'object') {
    const keys = new Set([...Object.keys(wasm), ...Object.keys(native)]);
    for (const k of keys) {
      if (!(k in wasm) || !(k in native)) out.push({ path: `${path}.${k}`, wasm: wasm[k], native: native[k], kind: 'different' });
      else diff(wasm[k], native[k], `${path}.${k}`, out);
    }
  } else if (wasm !== native) {
    out.push({ path, wasm, native, kind: 'different' });
  }
  return out;
}
