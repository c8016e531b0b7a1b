#!/usr/bin/env bash
# Every test of the project: the README's second command, and what CI runs (.ci/run).
#
#   scripts/test.sh
#
#   1. setup          scripts/setup.sh: wasm32 target (or Debian's fallback), wasm-bindgen-cli,
#                     Chromium, npm packages; a quick no-op when everything is there
#   2. Rust           rustfmt check, clippy and rustdoc (warnings are errors), cargo test --workspace: unit tests, the
#                     integration tests in tests/ (ADBench quality when ../shared is present,
#                     features, drift, engine restart/crash/store files, bounded fuzzing of
#                     every decoder: tests/fuzz_decoders.rs), doc tests
#   3. wasm32 gate    scripts/check-wasm-core.sh: anomaly-core builds for wasm32 and uses no
#                     I/O, threads or clocks
#   4. builds         the native addon and the viewer's WebAssembly
#   5. JavaScript     npm test: the package through real Express servers over real HTTP, the
#                     viewer in headless Chromium, wasm/native parity
#   6. packages       scripts/install-test.sh: every package packed, sizes against the budget,
#                     publish dry-run, installed offline into a fresh app without Rust (Node 20, 22)
#   7. demo           scripts/demo.sh end to end (DEMO_EXIT=1)
#
# Environment: CARGO_TARGET_DIR is honoured; TEST_SKIP_DEMO=1 skips step 6.
set -euo pipefail
print_usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
SCRIPT_NAME=test
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/wasm.sh
. "$ML_ANOMALY_ROOT/scripts/lib/wasm.sh"

case "${1:-}" in -h | --help) print_usage; exit 0 ;; "") ;; *) die "unknown argument '$1' (see --help)" ;; esac

root="$ML_ANOMALY_ROOT"
cd "$root"
started=$SECONDS
step() { log "== $1 ($((SECONDS - started))s)"; }

step "1/7 setup"
bash scripts/setup.sh

cargo="$(host_cargo)" || die "cargo not found"
export RUSTC="$(host_rustc)"

step "2/7 Rust: fmt, clippy, rustdoc and cargo test --workspace"
"$cargo" fmt --all --check
"$cargo" clippy --workspace --all-targets --quiet -- -D warnings
# the crate docs are the design notes (ARCHITECTURE.md points into them): no broken links
RUSTDOCFLAGS="-D warnings" "$cargo" doc --workspace --no-deps --quiet
"$cargo" test --workspace --quiet

step "3/7 wasm32 gate for anomaly-core"
bash scripts/check-wasm-core.sh

step "4/7 builds: native addon, viewer (WebAssembly)"
bash scripts/build-addon.sh
bash scripts/build-viewer.sh --no-npm

step "5/7 JavaScript: npm test (HTTP, headless Chromium, parity)"
npm test --silent

step "6/7 packages: pack, install into a fresh app, run"
bash scripts/install-test.sh

if [ "${TEST_SKIP_DEMO:-0}" != 1 ]; then
    step "7/7 demo, end to end"
    DEMO_EXIT=1 DEMO_SKIP_NPM=1 PORT="${DEMO_PORT:-3917}" bash scripts/demo.sh
fi

log "all tests passed in $((SECONDS - started))s"
