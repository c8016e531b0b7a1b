# shellcheck shell=bash
# wasm32-unknown-unknown toolchain selection, install and invocation.
#
# Why two paths: a developer laptop usually has `rustup target add wasm32-unknown-unknown`, but on
# our CI machines that download is not to be counted on (only crates.io, npm, PyPI and Debian are
# reachable by policy). Debian ships a second compiler with its std sources (rustc-web,
# rust-web-src) and a wasm linker (lld-22), so std can be built for wasm32 from source with
# -Zbuild-std. We use the rustup target when it is installed and fall back to Debian otherwise.
# The two compilers never share a target dir: their artifacts are not interchangeable, and mixing
# them makes each cargo rebuild everything (or fail on metadata from the other rustc).
#
# Requires scripts/lib/common.sh. Environment knobs:
#   WASM_TOOLCHAIN=auto|rustup|debian   force a path (default auto: rustup target if installed)
#   WASM_RUSTUP_TIMEOUT=120             seconds allowed for `rustup target add`
#   WASM_RUSTUP_RETRY=1                 retry `rustup target add` even if it failed recently
#   CARGO_TARGET_DIR                    base target dir; the Debian path uses <base>/wasm-debian

WASM_TARGET=wasm32-unknown-unknown
DEBIAN_WASM_PACKAGES=(rustc-web cargo-web rust-web-src lld-22)
DEBIAN_CARGO=/usr/bin/cargo
DEBIAN_RUSTC=/usr/bin/rustc
DEBIAN_RUSTDOC=/usr/bin/rustdoc
DEBIAN_WASM_LD=/usr/bin/wasm-ld-22
DEBIAN_RUST_SRC=/usr/lib/rustlib/src/rust/library

# Marker that remembers a failed `rustup target add`, so repeated setup runs stay a quick no-op
# instead of waiting for the timeout every time.
_wasm_rustup_fail_marker() {
    echo "${XDG_CACHE_HOME:-$HOME/.cache}/ml-anomaly/rustup-wasm32-failed"
}

# Paths of the rustup toolchain's own binaries for the repo (honours rust-toolchain files and
# RUSTUP_TOOLCHAIN). Calling them by absolute path keeps a Debian /usr/bin/rustc that comes first
# in PATH from being picked up by accident. Fails when rustup is absent.
rustup_tool() {
    command -v rustup >/dev/null 2>&1 || return 1
    (cd "$ML_ANOMALY_ROOT" && rustup which "$1" 2>/dev/null)
}

host_rustc() { rustup_tool rustc || command -v rustc; }
host_cargo() { rustup_tool cargo || command -v cargo; }

# True when the host (rustup) compiler has a std for wasm32: the sysroot holds libcore for it.
wasm_rustup_target_installed() {
    local rustc libdir
    rustc="$(host_rustc)" || return 1
    [ -n "$rustc" ] || return 1
    libdir="$("$rustc" --print target-libdir --target "$WASM_TARGET" 2>/dev/null)" || return 1
    compgen -G "$libdir/libcore-*.rlib" >/dev/null
}

# Tries `rustup target add` once, with a timeout. Never fails the caller.
wasm_try_rustup_target() {
    if wasm_rustup_target_installed; then
        log "wasm: rustup target $WASM_TARGET already installed"
        return 0
    fi
    if ! command -v rustup >/dev/null 2>&1; then
        log "wasm: rustup not found; not trying the rustup target"
        return 1
    fi
    local marker
    marker="$(_wasm_rustup_fail_marker)"
    if [ -f "$marker" ] && [ "${WASM_RUSTUP_RETRY:-0}" != 1 ] &&
        [ -n "$(find "$marker" -mmin -1440 2>/dev/null)" ]; then
        log "wasm: 'rustup target add' failed within the last day (see $marker); not retrying (WASM_RUSTUP_RETRY=1 forces it)"
        return 1
    fi
    local t="${WASM_RUSTUP_TIMEOUT:-120}"
    log "wasm: trying 'rustup target add $WASM_TARGET' (timeout ${t}s)"
    if (cd "$ML_ANOMALY_ROOT" && timeout "$t" rustup target add "$WASM_TARGET") && wasm_rustup_target_installed; then
        rm -f "$marker"
        log "wasm: rustup target installed"
        return 0
    fi
    mkdir -p "$(dirname "$marker")" && date >"$marker"
    warn "wasm: 'rustup target add $WASM_TARGET' failed or timed out; using the Debian fallback"
    return 1
}

# True when everything the Debian recipe needs is present.
wasm_debian_ready() {
    [ -x "$DEBIAN_CARGO" ] && [ -x "$DEBIAN_RUSTC" ] && [ -x "$DEBIAN_WASM_LD" ] &&
        [ -f "$DEBIAN_RUST_SRC/Cargo.lock" ] &&
        deb_installed cargo-web && deb_installed rustc-web
}

wasm_ensure_debian_fallback() {
    apt_ensure "${DEBIAN_WASM_PACKAGES[@]}"
    wasm_debian_ready || die "Debian wasm fallback incomplete after install (need $DEBIAN_CARGO, $DEBIAN_RUSTC, $DEBIAN_WASM_LD, $DEBIAN_RUST_SRC)"
}

# Makes sure some wasm32 toolchain is usable: the rustup target if it can be had, else Debian's.
wasm_ensure_toolchain() {
    case "${WASM_TOOLCHAIN:-auto}" in
    debian) wasm_ensure_debian_fallback ;;
    rustup)
        wasm_try_rustup_target || die "WASM_TOOLCHAIN=rustup but the rustup target $WASM_TARGET is not installed"
        ;;
    auto)
        if ! wasm_try_rustup_target; then
            wasm_ensure_debian_fallback
        fi
        ;;
    *) die "WASM_TOOLCHAIN must be auto, rustup or debian (got '${WASM_TOOLCHAIN}')" ;;
    esac
}

# Prints the path that wasm builds will use (rustup|debian), or fails when neither is ready.
wasm_selected_toolchain() {
    case "${WASM_TOOLCHAIN:-auto}" in
    rustup) wasm_rustup_target_installed && echo rustup ;;
    debian) wasm_debian_ready && echo debian ;;
    *)
        if wasm_rustup_target_installed; then
            echo rustup
        elif wasm_debian_ready; then
            echo debian
        else
            return 1
        fi
        ;;
    esac
}

# Target dir for the given path; the Debian compiler gets a subdirectory of its own.
wasm_target_dir() {
    local base="${CARGO_TARGET_DIR:-$ML_ANOMALY_ROOT/target}"
    case "$1" in
    rustup) echo "$base" ;;
    debian) echo "${WASM_DEBIAN_TARGET_DIR:-$base/wasm-debian}" ;;
    esac
}

# wasm_cargo SUBCOMMAND ARGS...: runs cargo for wasm32 with the selected toolchain, from the repo
# root. Example: wasm_cargo build --release -p anomaly-wasm
wasm_cargo() {
    local path sub="$1"
    shift
    path="$(wasm_selected_toolchain)" || die "no wasm32 toolchain: run scripts/setup.sh (or install the rustup target)"
    local tdir
    tdir="$(wasm_target_dir "$path")"
    log "wasm: cargo $sub $* (toolchain: $path, target dir: $tdir)"
    if [ "$path" = rustup ]; then
        local cargo rustc
        cargo="$(host_cargo)"
        rustc="$(host_rustc)"
        (cd "$ML_ANOMALY_ROOT" && CARGO_TARGET_DIR="$tdir" RUSTC="$rustc" \
            "$cargo" "$sub" --target "$WASM_TARGET" "$@")
    else
        # RUSTC_BOOTSTRAP unlocks -Zbuild-std on this stable compiler; std is rebuilt from
        # rust-web-src for wasm32 and linked with lld-22 (rustc-web ships no rust-lld).
        (cd "$ML_ANOMALY_ROOT" && env -u RUSTUP_TOOLCHAIN \
            PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1 RUSTC="$DEBIAN_RUSTC" RUSTDOC="$DEBIAN_RUSTDOC" \
            CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$DEBIAN_WASM_LD" CARGO_TARGET_DIR="$tdir" \
            "$DEBIAN_CARGO" "$sub" --target "$WASM_TARGET" -Zbuild-std=std,panic_abort "$@")
    fi
}

# Prints the wasm-bindgen version recorded in Cargo.lock (empty when absent). The CLI must match
# it exactly: the glue format changes between patch releases and wasm-bindgen refuses a mismatch.
wasm_bindgen_lock_version() {
    local lock="$ML_ANOMALY_ROOT/Cargo.lock" versions
    [ -f "$lock" ] || return 0
    versions="$(awk '
        /^\[\[package\]\]/ { name = ""; next }
        /^name = / { name = $3; gsub(/"/, "", name); next }
        /^version = / && name == "wasm-bindgen" { v = $3; gsub(/"/, "", v); print v; name = "" }
    ' "$lock" | sort -u)"
    if [ "$(printf '%s\n' "$versions" | grep -c .)" -gt 1 ]; then
        warn "Cargo.lock holds several wasm-bindgen versions ($(echo $versions)); using the newest"
        versions="$(printf '%s\n' "$versions" | sort -V | tail -1)"
    fi
    printf '%s' "$versions"
}

# Version of the wasm-bindgen CLI on PATH (empty when absent).
wasm_bindgen_cli_version() {
    command -v wasm-bindgen >/dev/null 2>&1 || return 0
    wasm-bindgen --version 2>/dev/null | awk '{print $2}'
}

# Installs wasm-bindgen-cli at exactly the Cargo.lock version (skips when it already matches, or
# when no crate uses wasm-bindgen yet).
ensure_wasm_bindgen_cli() {
    local want have bindir
    want="$(wasm_bindgen_lock_version)"
    if [ -z "$want" ]; then
        log "wasm-bindgen: not in Cargo.lock yet; skipping wasm-bindgen-cli"
        return 0
    fi
    bindir="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"
    case ":$PATH:" in *":$bindir:"*) ;; *) export PATH="$bindir:$PATH" ;; esac
    have="$(wasm_bindgen_cli_version)"
    if [ "$have" = "$want" ]; then
        log "wasm-bindgen: CLI $have already installed (matches Cargo.lock)"
        return 0
    fi
    log "wasm-bindgen: installing wasm-bindgen-cli $want (found: ${have:-none}); takes a few minutes"
    # No --locked (the team recipe; verified with 0.2.130 on rustc 1.95). CARGO_TARGET_DIR is
    # dropped so cargo builds in a temporary dir and the project's target dir stays clean.
    env -u CARGO_TARGET_DIR "$(host_cargo)" install wasm-bindgen-cli --version "$want" --force
    have="$(wasm_bindgen_cli_version)"
    [ "$have" = "$want" ] || die "wasm-bindgen CLI is '$have' after install, expected '$want' (is $bindir first in PATH?)"
}

# wasm-opt (binaryen) only shrinks the output, so its absence is never an error. Old binaryen is
# worse than none: Debian 12's binaryen 108 rewrites wasm-bindgen's externref table so that the
# glue fails at load time ("WebAssembly.Table.set(): Argument 1 is invalid for table"), seen with
# wasm-bindgen 0.2.130. So only binaryen >= WASM_OPT_MIN_VERSION is used. The npm package
# `binaryen` (a devDependency of a JS package of the repo) ships a current wasm-opt that runs on
# Node; it is looked for in the repo's node_modules first.
WASM_OPT_MIN_VERSION=116

_wasm_opt_version() { "$1" --version 2>/dev/null | grep -oE 'version[ _][0-9]+' | head -n 1 | grep -oE '[0-9]+'; }

# Prints the wasm-opt to use (WASM_OPT, the repo's node_modules, then PATH), or fails when none is
# recent enough. WASM_OPT=none disables optimisation.
find_wasm_opt() {
    local cand v
    [ "${WASM_OPT:-}" = none ] && return 1
    for cand in "${WASM_OPT:-}" \
        "$ML_ANOMALY_ROOT/node_modules/.bin/wasm-opt" \
        "$ML_ANOMALY_ROOT/npm/viewer/node_modules/.bin/wasm-opt" \
        "$ML_ANOMALY_ROOT/npm/ml-anomaly/node_modules/.bin/wasm-opt" \
        "$ML_ANOMALY_ROOT/js-tests/node_modules/.bin/wasm-opt" \
        "$(command -v wasm-opt 2>/dev/null || true)"; do
        [ -n "$cand" ] && [ -x "$cand" ] || continue
        v="$(_wasm_opt_version "$cand")"
        if [ -n "$v" ] && [ "$v" -ge "$WASM_OPT_MIN_VERSION" ]; then
            echo "$cand"
            return 0
        fi
        log "wasm-opt: ignoring $cand (binaryen version ${v:-unknown} < $WASM_OPT_MIN_VERSION breaks wasm-bindgen output)"
    done
    return 1
}
