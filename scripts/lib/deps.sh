# shellcheck shell=bash
# Browser and npm dependencies for the JS packages and tests.
#
# Why Debian's chromium: browser-test tools that download their own browser (`npx playwright
# install`, a plain `npm install puppeteer`) fail here, since only package registries are
# reachable; playwright-core drives /usr/bin/chromium instead.
#
# Requires scripts/lib/common.sh.

ensure_chromium() {
    apt_ensure chromium
    command -v chromium >/dev/null 2>&1 || die "chromium installed but not on PATH"
}

# npm projects of the repo, in install order. Directories that do not exist yet are skipped.
NPM_DIRS=(. npm/ml-anomaly npm/viewer js-tests)

# Fingerprint of what an install depends on: the manifest, the lockfile, and the Node major
# version (native modules are built per ABI). For the root, every package.json near the top of
# the repo counts too, since workspace members are installed by the root's install.
_npm_fingerprint() {
    local dir="$1"
    {
        cat "$dir/package.json"
        if [ "$dir" = "$ML_ANOMALY_ROOT/." ]; then
            find "$ML_ANOMALY_ROOT" -maxdepth 3 \( -name node_modules -o -name target -o -name .git \) -prune \
                -o -name package.json -print | sort | xargs cat
        fi
        [ -f "$dir/package-lock.json" ] && cat "$dir/package-lock.json"
        node -p 'process.versions.modules' 2>/dev/null
    } | sha256sum | awk '{print $1}'
}

# npm_install_dir DIR: `npm ci` with a lockfile, `npm install` without one; skipped when
# node_modules was installed by us from the same package.json + lockfile (a stamp inside
# node_modules records that), so repeated runs cost nothing. npm ci itself always wipes
# node_modules, which would make every setup run take as long as the first.
npm_install_dir() {
    local dir="$ML_ANOMALY_ROOT/$1" stamp fp
    [ -f "$dir/package.json" ] || return 0
    command -v npm >/dev/null 2>&1 || die "npm not found (Node.js 20+ with npm is required)"
    stamp="$dir/node_modules/.ml-anomaly-install-stamp"
    fp="$(_npm_fingerprint "$dir")"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fp" ]; then
        log "npm: $1 up to date"
        return 0
    fi
    if [ -f "$dir/package-lock.json" ]; then
        log "npm: npm ci in $1"
        (cd "$dir" && npm ci --no-audit --no-fund)
    else
        log "npm: npm install in $1 (no package-lock.json yet: commit the one this creates)"
        (cd "$dir" && npm install --no-audit --no-fund)
    fi
    mkdir -p "$dir/node_modules"
    _npm_fingerprint "$dir" >"$stamp"
}

# Workspace patterns of the root package.json, one per line (empty when it declares none).
_npm_root_workspaces() {
    [ -f "$ML_ANOMALY_ROOT/package.json" ] || return 0
    (cd "$ML_ANOMALY_ROOT" && node -e '
        const w = require("./package.json").workspaces;
        const list = Array.isArray(w) ? w : (w && Array.isArray(w.packages) ? w.packages : []);
        for (const p of list) console.log(p.replace(/^\.\//, "").replace(/\/$/, ""));
    ')
}

# Installs every npm project. Members of the root's npm workspaces are installed by the root's
# install (they share its node_modules and lockfile), so only the root and the projects outside
# the workspaces get an install of their own.
ensure_npm_deps() {
    local d pat found=0 member
    local -a workspaces=()
    mapfile -t workspaces < <(_npm_root_workspaces)
    for d in "${NPM_DIRS[@]}"; do
        [ -f "$ML_ANOMALY_ROOT/$d/package.json" ] || continue
        found=1
        member=0
        if [ "$d" != . ]; then
            for pat in "${workspaces[@]}"; do
                # shellcheck disable=SC2053 # $pat is a glob on purpose (e.g. "npm/*")
                [[ "$d" == $pat ]] && member=1
            done
        fi
        if [ "$member" -eq 1 ]; then
            log "npm: $d is a workspace of the root package; installed with it"
        else
            npm_install_dir "$d"
        fi
    done
    [ "$found" -eq 1 ] || log "npm: no package.json in ${NPM_DIRS[*]} yet; nothing to install"
}
