#!/usr/bin/env bash
# Builds the native Node addon (crates/node, napi-rs) in release mode and installs it into the npm
# package as npm/ml-anomaly/native/ml_anomaly.node, where the package loads it from.
#
#   scripts/build-addon.sh [--debug] [--platform NAME]
#
#   --debug          build the dev profile instead (faster to compile, slow to run)
#   --platform NAME  build the prebuilt addon of a platform of npm/ml-anomaly/platforms.json
#                    (linux-x64-gnu, linux-x64-musl, linux-arm64-gnu) instead, cross-compiled
#                    when it is not the host, into target/napi/ml_anomaly.NAME.node (what
#                    scripts/package.js puts into the platform package); exits 3 when this
#                    machine cannot build it
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
# shellcheck source=lib/cross.sh
. "$ML_ANOMALY_ROOT/scripts/lib/cross.sh"

profile=release
platform=""
while [ $# -gt 0 ]; do
    case "$1" in
    --debug) profile=dev ;;
    --platform)
        [ $# -ge 2 ] || die "--platform needs a name (see --help)"
        platform="$2"
        shift
        ;;
    -h | --help) print_usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done

cargo="$(host_cargo)" || die "cargo not found: install Rust with rustup (stable) first"
rustc="$(host_rustc)"
target_dir="${CARGO_TARGET_DIR:-$ML_ANOMALY_ROOT/target}"
case "$target_dir" in /*) ;; *) target_dir="$ML_ANOMALY_ROOT/$target_dir" ;; esac
out_sub=$([ "$profile" = dev ] && echo debug || echo release)

if [ -n "$platform" ]; then
    target="$(platform_field "$platform" target)" || die "unknown platform '$platform' (see npm/ml-anomaly/platforms.json)"
    [ "$(platform_field "$platform" build)" = here ] ||
        { warn "$platform is declared but not built on this kind of machine (see platforms.json)"; exit 3; }
    ensure_cross "$platform" || exit 3
    linker="$(platform_field "$platform" linker)"
    flags="$(platform_field "$platform" rustflags)"
    env_target="$(echo "$target" | tr 'a-z-' 'A-Z_')"
    log "cargo build --profile $profile -p anomaly-node --target $target"
    (cd "$ML_ANOMALY_ROOT" && env CARGO_TARGET_DIR="$target_dir" RUSTC="$rustc" \
        ${linker:+"CARGO_TARGET_${env_target}_LINKER=$linker"} \
        ${flags:+"CARGO_TARGET_${env_target}_RUSTFLAGS=$flags"} \
        "$cargo" build --profile "$profile" -p anomaly-node --target "$target" >&2)
    built="$target_dir/$target/$out_sub/libanomaly_node.so"
    [ -f "$built" ] || die "built library not found: $built"
    mkdir -p "$target_dir/napi"
    dest="$target_dir/napi/ml_anomaly.$platform.node"
    cp "$built" "$dest.tmp.$$" && mv -f "$dest.tmp.$$" "$dest"
    log "built $dest"
    echo "$dest"
    exit 0
fi

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
