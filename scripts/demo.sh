#!/usr/bin/env bash
# The demo, the README's first command: sets up what is missing (scripts/setup.sh: wasm
# toolchain, npm packages; idempotent), builds the native addon, the CLI and the viewer's wasm,
# starts the demo Express app (examples/demo,
# wired as ExpenseFlow wires ml-anomaly), replays simulated traffic over HTTP — normal users
# first, then attacks mixed into normal traffic — trains, and prints per attack scenario what
# was detected, the actions taken and the top reasons. Then it leaves the server running to
# explore (URL and example curl commands at the end).
#
#   scripts/demo.sh
#
# Environment:
#   DEMO_EXIT=1        exit after the report (CI smoke test) instead of leaving the server running
#   PORT=3000          port of the demo app (loopback only)
#   DEMO_USERS=60 DEMO_DAYS=17 DEMO_WARMUP_DAYS=14 DEMO_ATTACKS=2 DEMO_SEED=42
#                      the simulated traffic (see `ml-anomaly simulate --help`): two weeks of
#                      normal traffic (the behavioral state needs about a week to learn each
#                      user's habits; a model trained on the warm-up alone flags ~10% of later
#                      normal requests instead of ~4%), then three days with attacks
#   DEMO_SKIP_NPM=1    do not run the setup / npm ci (everything already installed)
#   DEMO_NO_VIEWER=1   do not build the viewer's WebAssembly (the app then serves no viewer)
#
# Data (traffic, store, server log) goes to .demo-data/ (recreated each run).
set -euo pipefail
print_usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
SCRIPT_NAME=demo
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/wasm.sh
. "$ML_ANOMALY_ROOT/scripts/lib/wasm.sh"
# shellcheck source=lib/deps.sh
. "$ML_ANOMALY_ROOT/scripts/lib/deps.sh"

case "${1:-}" in -h | --help) print_usage; exit 0 ;; "") ;; *) die "unknown argument '$1' (see --help)" ;; esac

PORT="${PORT:-3000}"
USERS="${DEMO_USERS:-60}" DAYS="${DEMO_DAYS:-17}" WARMUP="${DEMO_WARMUP_DAYS:-14}"
ATTACKS="${DEMO_ATTACKS:-2}" SEED="${DEMO_SEED:-42}"
root="$ML_ANOMALY_ROOT"
data="$root/.demo-data"
url="http://127.0.0.1:$PORT"

command -v node >/dev/null 2>&1 || die "node not found (Node.js 20+ is required)"
if [ "${DEMO_SKIP_NPM:-0}" != 1 ]; then
    if [ "${DEMO_NO_VIEWER:-0}" = 1 ]; then
        bash "$root/scripts/setup.sh" --no-browser --no-wasm
    else
        bash "$root/scripts/setup.sh" --no-browser
    fi
fi

log "building the native addon"
bash "$root/scripts/build-addon.sh" >/dev/null
log "building the CLI (ml-anomaly simulate)"
cargo="$(host_cargo)" || die "cargo not found: install Rust with rustup first"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
(cd "$root" && CARGO_TARGET_DIR="$target_dir" RUSTC="$(host_rustc)" "$cargo" build --release -p ml-anomaly --bin ml-anomaly >&2)
cli="$target_dir/release/ml-anomaly"

if [ "${DEMO_NO_VIEWER:-0}" != 1 ]; then
    log "building the explanation viewer (WebAssembly)"
    bash "$root/scripts/build-viewer.sh" --no-npm >/dev/null
fi

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "port $PORT is already in use (set PORT=...)"
fi

rm -rf "$data"
mkdir -p "$data"
# Traffic starts on the Monday three weeks before this one, so all of it (17 days by default)
# lies in the past and inside the 30-day model window.
start_ms="$(node -e 'const d=864e5,t=Math.floor(Date.now()/d)*d,w=(new Date(t).getUTCDay()+6)%7;console.log(t-w*d-21*d)')"
warmup_end=$((start_ms + WARMUP * 86400000))
log "simulating $USERS users over $DAYS days ($WARMUP of normal traffic first, $ATTACKS attacks per scenario)"
"$cli" simulate --users "$USERS" --days "$DAYS" --warmup-days "$WARMUP" --attacks-per-scenario "$ATTACKS" \
    --seed "$SEED" --start-ms "$start_ms" --out "$data/traffic.jsonl" 2>"$data/simulate-summary.json"

log "starting the demo app on $url (log: .demo-data/server.log)"
(cd "$root/examples/demo" && DEMO_REPLAY=1 PORT="$PORT" ML_ANOMALY_STORE="$data/demo.sqlite" \
    ML_ANOMALY_AUTO_TRAIN=false exec node server.js >"$data/server.log" 2>&1) &
server_pid=$!
stop_server() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
trap 'stop_server' INT TERM
trap 'status=$?; if [ $status -ne 0 ]; then stop_server; fi' EXIT
for _ in $(seq 1 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$data/server.log" >&2; die "the demo app exited"; }
    sleep 0.2
done

node "$root/examples/demo/replay.js" --url "$url" --file "$data/traffic.jsonl" --warmup-end "$warmup_end"

cat <<EOT

== explore (the app keeps running; fake auth with headers)
   $url
   curl -s -H 'x-user-id: demo-admin' -H 'x-admin: true' $url/api/ml-anomaly/status
   curl -s -H 'x-user-id: demo-admin' -H 'x-admin: true' $url/api/ml-anomaly/models/history
   curl -s -H 'x-user-id: demo-admin' -H 'x-admin: true' $url/api/ml-anomaly/performance?hours=8760
   curl -s -H 'x-user-id: demo-admin' -H 'x-admin: true' $url/api/ml-anomaly/metrics
   curl -s -H 'x-user-id: demo-admin' -H 'x-admin: true' $url/api/demo/security-events
   curl -s -H 'x-user-id: user-0001' -H 'x-session-id: my-session' $url/api/expenses
   curl -s -H 'x-user-id: user-0001' $url/api/ml-anomaly/statistics?days=30
EOT
if [ -f "$root/npm/viewer/index.html" ]; then
    echo "   explanation viewer (a browser; signs you in as the demo admin): $url/demo/viewer"
fi

if [ "${DEMO_EXIT:-0}" = 1 ]; then
    stop_server
    log "DEMO_EXIT=1: stopped"
    exit 0
fi
log "server running (pid $server_pid); Ctrl-C stops it"
wait "$server_pid"
