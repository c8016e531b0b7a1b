#!/usr/bin/env bash
# The JS benchmarks: predictStreaming latency through the addon, Express throughput with and
# without mlAnomalyCheck (autocannon, loopback), training time on 50,000 vectors, RSS with
# 100,000 active sessions. Builds the addon first (release). Prints a Markdown table for
# docs/benchmarks.md.
#
#   scripts/bench-js.sh            # full runs (about 2 minutes)
#   BENCH_QUICK=1 scripts/bench-js.sh
#   BENCH_ONLY=predict,memory scripts/bench-js.sh
#   BENCH_DURATION=20 scripts/bench-js.sh   # seconds per autocannon run
#   BENCH_VARIANTS= scripts/bench-js.sh     # without the js-only / untrained throughput runs
set -euo pipefail
print_usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
SCRIPT_NAME=bench-js
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/deps.sh
. "$ML_ANOMALY_ROOT/scripts/lib/deps.sh"
case "${1:-}" in -h | --help) print_usage; exit 0 ;; "") ;; *) die "unknown argument '$1' (see --help)" ;; esac

ensure_npm_deps
bash "$ML_ANOMALY_ROOT/scripts/build-addon.sh" >/dev/null
cd "$ML_ANOMALY_ROOT/js-tests"
exec node bench/run.js
