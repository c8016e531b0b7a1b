#!/usr/bin/env bash
# Builds the native Node addon (crates/node, napi-rs) in release mode and installs it into the npm
# package as npm/ml-anomaly/native/ml_anomaly.node, where the package loads it from.
#
#   scripts/build-addon.sh [--debug]
#
#   --debug   build the dev profile instead (faster to compile, slow to run)
#
# Idempotent: cargo rebuilds only what changed and the copy is skipped when the file is identical.
# Honours CARGO_TARGET_DIR. No Node headers are needed (napi-rs links against Node's symbols at
# load time). Prints the installed path on the last line of stdout.
set -euo pipefail
print_usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
SCRIPT_NAME=build-addon
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/wasm.sh
. "$ML_ANOMALY_ROOT/scripts/lib/wasm.sh" # host_cargo / host_rustc: the rustup toolchain first

profile=release
for arg in "$@"; do
    case "$arg" in
    --debug) profile=dev ;;
    -h | --help) print_usage; exit 0 ;;
    *) die "unknown option '$arg' (see --help)" ;;
    esac
done

cargo="$(host_cargo)" || die "cargo not found: install Rust with rustup (stable) first"
rustc="$(host_rustc)"
target_dir="${CARGO_TARGET_DIR:-$ML_ANOMALY_ROOT/target}"
case "$target_dir" in /*) ;; *) target_dir="$ML_ANOMALY_ROOT/$target_dir" ;; esac
out_sub=$([ "$profile" = dev ] && echo debug || echo release)

log "cargo build --profile $profile -p anomaly-node"
(cd "$ML_ANOMALY_ROOT" && CARGO_TARGET_DIR="$target_dir" RUSTC="$rustc" \
    "$cargo" build --profile "$profile" -p anomaly-node >&2)

lib=""
for name in libanomaly_node.so libanomaly_node.dylib anomaly_node.dll; do
    if [ -f "$target_dir/$out_sub/$name" ]; then lib="$target_dir/$out_sub/$name"; break; fi
done
[ -n "$lib" ] || die "built library not found in $target_dir/$out_sub"

dest_dir="$ML_ANOMALY_ROOT/npm/ml-anomaly/native"
dest="$dest_dir/ml_anomaly.node"
mkdir -p "$dest_dir"
if [ -f "$dest" ] && cmp -s "$lib" "$dest"; then
    log "up to date: $dest"
else
    # Copy then rename: a running process that has the old file mapped keeps a valid image.
    cp "$lib" "$dest.tmp.$$"
    mv -f "$dest.tmp.$$" "$dest"
    log "installed $lib -> $dest"
fi
echo "$dest"
