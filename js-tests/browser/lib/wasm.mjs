// The viewer's WebAssembly build (wasm-bindgen --target web), instantiated in Node: the exact
// bytes the browser loads, so a parity result here holds for the page too (WebAssembly
// arithmetic is deterministic across engines; only NaN bit patterns may differ).
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { WASM_BINARY, WASM_GLUE } from './paths.mjs';

let mod;

/** The module's exports (Model, psi, ks2samp, binProportions); throws with the build command when missing. */
export async function loadWasmInNode() {
  if (mod) return mod;
  if (!fs.existsSync(WASM_BINARY) || !fs.existsSync(WASM_GLUE)) {
    throw new Error(`${WASM_BINARY} is missing: build it with scripts/build-viewer.sh`);
  }
  const glue = await import(pathToFileURL(WASM_GLUE).href);
  glue.initSync({ module: fs.readFileSync(WASM_BINARY) });
  mod = glue;
  return mod;
}
