# shellcheck shell=bash
# Shared helpers for the scripts in scripts/: logging, root escalation, idempotent apt installs.
#
# Why a library: setup.sh, build-wasm.sh, check-wasm-core.sh and .ci/run all need the same
# "install only what is missing" logic; keeping it in one place keeps them agreeing about what a
# fresh machine needs. Source it; it defines functions and a few variables, and runs nothing.

# Repository root (scripts/lib/.. /..), independent of the caller's working directory.
ML_ANOMALY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

log() { printf '[%s] %s\n' "${SCRIPT_NAME:-ml-anomaly}" "$*" >&2; }
warn() { printf '[%s] WARNING: %s\n' "${SCRIPT_NAME:-ml-anomaly}" "$*" >&2; }
die() {
    printf '[%s] ERROR: %s\n' "${SCRIPT_NAME:-ml-anomaly}" "$*" >&2
    exit 1
}

# Runs a command as root: directly when we are root, through passwordless sudo (-n: never
# prompt, so CI fails fast instead of hanging) otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

# True when the Debian package is installed (not merely known or half-configured).
deb_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

_APT_UPDATED=0
# apt_ensure PKG...: installs the packages that are missing; a no-op (no apt-get update, no network)
# when all are present. Waits for a held dpkg lock instead of failing.
apt_ensure() {
    local missing=() pkg
    for pkg in "$@"; do
        deb_installed "$pkg" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        log "apt: already installed: $*"
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install by hand: ${missing[*]}"
    if [ "$_APT_UPDATED" -eq 0 ]; then
        log "apt: apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q
        _APT_UPDATED=1
    fi
    log "apt: installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}"
}
