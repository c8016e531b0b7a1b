#!/usr/bin/env bash
# Builds the in-browser explanation viewer: the anomaly-wasm crate compiled to WebAssembly with
# its wasm-bindgen glue (--target web) into npm/viewer/wasm/, which the static page loads.
#
#   scripts/build-viewer.sh [--no-npm]
#
#   --no-npm   do not install the npm dependencies first (binaryen's wasm-opt, playwright-core)
#
# Idempotent: cargo, wasm-bindgen and the npm install stamp make a second run cheap. The npm
# install matters for size: it brings binaryen's current wasm-opt, which scripts/build-wasm.sh
# picks up (Debian's binaryen 108 breaks wasm-bindgen output and is never used).
# The release profile is tuned for this build through cargo's environment overrides (fat LTO,
# one codegen unit): 3% smaller than the workspace's thin-LTO release profile at the same speed;
# opt-level "z" would save 15% more but explains 3.5x slower (measurements in docs/viewer.md).
# Prints the .wasm path and its size in bytes on the last line of stdout.
set -euo pipefail
print_usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
SCRIPT_NAME=build-viewer
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/deps.sh
. "$ML_ANOMALY_ROOT/scripts/lib/deps.sh"

want_npm=1
for arg in "$@"; do
    case "$arg" in
    --no-npm) want_npm=0 ;;
    -h | --help)
        print_usage
        exit 0
        ;;
    *) die "unknown option '$arg' (see --help)" ;;
    esac
done

[ "$want_npm" -eq 1 ] && ensure_npm_deps

# The output directory is git-ignored, so a fresh clone lacks it: create it before anything
# is redirected into it.
out_dir="$ML_ANOMALY_ROOT/npm/viewer/wasm"
mkdir -p "$out_dir"
last_line="$(CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
    "$ML_ANOMALY_ROOT/scripts/build-wasm.sh" anomaly-wasm "$out_dir" --target web | tail -n 1)"
read -r wasm_path wasm_size <<<"$last_line"
log "viewer ready: $wasm_path ($wasm_size bytes, $(gzip -9c "$wasm_path" | wc -c) gzipped); serve it with: node npm/viewer/serve.js"
echo "$wasm_path $wasm_size"
