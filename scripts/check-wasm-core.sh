#!/usr/bin/env bash
# CI gate: anomaly-core (crates/core, default features) must build for wasm32-unknown-unknown.
#
#   scripts/check-wasm-core.sh
#
# Why: the browser viewer runs the same core as the Node addon, so core must stay free of I/O,
# threads and OS randomness. Two checks, either one failing fails the script:
#  1. `cargo build --release --lib -p anomaly-core` for wasm32 (rustup target when installed, else
#     Debian's rustc-web with -Zbuild-std; see scripts/lib/wasm.sh). Catches dependencies that do
#     not build there (getrandom without a JS backend, rayon used without the `parallel` feature).
#  2. A source scan for std APIs that compile for wasm32-unknown-unknown but fail or panic at run
#     time there (std::fs, std::net, std::process, std::thread, std::env, Instant, SystemTime).
#     Test code is exempt: scanning stops at a file's first `#[cfg(test)]` (tests go at the end
#     of the file), and test-only files are skipped (tests.rs, *_tests.rs, test_*.rs, files under
#     a tests/ directory, files with `#![cfg(test)]`). A line may opt out with a
#     `// wasm-ok: <reason>` comment.
set -euo pipefail
SCRIPT_NAME=check-wasm-core
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/wasm.sh
. "$ML_ANOMALY_ROOT/scripts/lib/wasm.sh"

src="$ML_ANOMALY_ROOT/crates/core/src"
[ -d "$src" ] || die "$src not found"

log "scanning $src for APIs that do not work on wasm32-unknown-unknown"
pattern='std::(fs|net|process|thread|env)\b|\b(Instant|SystemTime)\b|\bthread::spawn\b'
hits=""
while IFS= read -r -d '' file; do
    case "${file#"$src"/}" in tests.rs | */tests.rs | *_tests.rs | test_*.rs | */test_*.rs | tests/* | */tests/*) continue ;; esac
    grep -qF '#![cfg(test)]' "$file" && continue
    # Only the part before the first #[cfg(test)] counts.
    stop="$(grep -n -m 1 -F '#[cfg(test)]' "$file" | cut -d: -f1 || true)"
    found="$(head -n "$((${stop:-0} > 0 ? stop - 1 : 1000000))" "$file" |
        grep -nE "$pattern" | grep -vE '^[0-9]+:[[:space:]]*//|wasm-ok:' || true)"
    [ -z "$found" ] || hits+="$(printf '%s\n' "$found" | sed "s|^|${file#"$ML_ANOMALY_ROOT"/}:|")"$'\n'
done < <(find "$src" -name '*.rs' -print0 | sort -z)
if [ -n "$hits" ]; then
    printf '%s' "$hits" >&2
    die "anomaly-core uses APIs that fail on wasm32 (see above); move them to anomaly-engine or mark a line '// wasm-ok: <reason>'"
fi

start=$SECONDS
wasm_ensure_toolchain
wasm_cargo build --release --lib -p anomaly-core
log "anomaly-core builds for $WASM_TARGET ($(wasm_selected_toolchain) toolchain) in $((SECONDS - start))s"
