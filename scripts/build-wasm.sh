#!/usr/bin/env bash
# Builds a wasm-bindgen crate of the workspace for the browser (or Node) in release mode.
#
#   scripts/build-wasm.sh <crate-package-name> [out-dir] [--target web|nodejs|bundler]
#                         [--profile release|<custom profile>]
#
# Steps: cargo build for wasm32-unknown-unknown (rustup target when installed, else Debian's
# rustc-web with -Zbuild-std; see scripts/lib/wasm.sh), wasm-bindgen glue into out-dir (default
# target/wasm-pkg/<crate>, --target web by default), then wasm-opt -Oz when a recent enough
# binaryen is found (see find_wasm_opt in scripts/lib/wasm.sh).
# Installs what is missing first (same functions as scripts/setup.sh; a no-op when present).
# Prints the final .wasm path and size in bytes on the last line of stdout.
set -euo pipefail
print_usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
SCRIPT_NAME=build-wasm
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/wasm.sh
. "$ML_ANOMALY_ROOT/scripts/lib/wasm.sh"

crate="" out_dir="" bindgen_target=web profile=release
while [ $# -gt 0 ]; do
    case "$1" in
    --target) [ $# -ge 2 ] || die "--target needs a value"; bindgen_target="$2"; shift 2 ;;
    --target=*) bindgen_target="${1#--target=}"; shift ;;
    --profile) [ $# -ge 2 ] || die "--profile needs a value"; profile="$2"; shift 2 ;;
    --profile=*) profile="${1#--profile=}"; shift ;;
    -h | --help) print_usage; exit 0 ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *)
        if [ -z "$crate" ]; then crate="$1"
        elif [ -z "$out_dir" ]; then out_dir="$1"
        else die "unexpected argument '$1'"; fi
        shift
        ;;
    esac
done
[ -n "$crate" ] || { print_usage >&2; exit 2; }
case "$bindgen_target" in web | nodejs | bundler) ;; *) die "--target must be web, nodejs or bundler" ;; esac
out_dir="${out_dir:-$ML_ANOMALY_ROOT/target/wasm-pkg/$crate}"
mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"

[ -n "$(wasm_bindgen_lock_version)" ] || die "wasm-bindgen is not in Cargo.lock: is '$crate' a wasm-bindgen crate of this workspace?"
wasm_ensure_toolchain
ensure_wasm_bindgen_cli

# The artifact path comes from cargo's own JSON messages rather than a guessed file name, so a
# [lib] name that differs from the package name still works.
messages="$(mktemp)"
trap 'rm -f "$messages"' EXIT
wasm_cargo build --profile "$profile" --lib -p "$crate" --message-format=json-render-diagnostics >"$messages"
wasm_in="$(grep '"reason":"compiler-artifact"' "$messages" | grep -o '"[^"]*\.wasm"' | tr -d '"' | tail -n 1)"
[ -n "$wasm_in" ] && [ -f "$wasm_in" ] ||
    die "cargo produced no .wasm for '$crate' (does it have crate-type = [\"cdylib\"]?)"
log "cargo output: $wasm_in ($(stat -c %s "$wasm_in") bytes)"

log "wasm-bindgen --target $bindgen_target --out-dir $out_dir"
wasm-bindgen --target "$bindgen_target" --out-dir "$out_dir" "$wasm_in"
stem="$(basename "$wasm_in" .wasm)"
wasm_out="$out_dir/${stem}_bg.wasm"
[ -f "$wasm_out" ] || die "wasm-bindgen did not write $wasm_out"

wasm_opt="$(find_wasm_opt)" || true
if [ -n "$wasm_opt" ]; then
    before="$(stat -c %s "$wasm_out")"
    if "$wasm_opt" -Oz "$wasm_out" -o "$wasm_out.opt"; then
        mv "$wasm_out.opt" "$wasm_out"
        log "wasm-opt -Oz ($wasm_opt): $before -> $(stat -c %s "$wasm_out") bytes"
    else
        rm -f "$wasm_out.opt"
        warn "wasm-opt failed; keeping the unoptimised module ($before bytes)"
    fi
else
    log "no usable wasm-opt (binaryen >= $WASM_OPT_MIN_VERSION); skipping size optimisation"
fi
echo "$wasm_out $(stat -c %s "$wasm_out")"
