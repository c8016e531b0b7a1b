// Loads the WebAssembly build of anomaly-core (npm/viewer/wasm, made by scripts/build-viewer.sh).
// URLs are resolved against this file, not the page, so the viewer works from any mount path.
// The glue is imported dynamically so that a missing build is an error message on the page,
// not a module graph that silently fails to load.

let ready;

/** Instantiates the module once; resolves to its exports (Model, psi, ks2samp, binProportions). */
export function loadWasm() {
  ready ??= (async () => {
    const glueUrl = new URL('../wasm/anomaly_wasm.js', import.meta.url);
    let glue;
    try {
      glue = await import(glueUrl.href);
    } catch (e) {
      throw new Error(`the WebAssembly package could not be loaded from ${glueUrl.pathname} (build it with scripts/build-viewer.sh): ${e.message}`);
    }
    await glue.default({ module_or_path: new URL('../wasm/anomaly_wasm_bg.wasm', import.meta.url) });
    return glue;
  })();
  return ready;
}
