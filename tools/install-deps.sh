#!/usr/bin/env bash
# Install what a fresh machine lacks to build and test nova-mq: the system
# packages bindep.txt lists (through bindep, as OpenStack's CI does) and
# tox.  Safe to run again: it installs only what is missing.
#
#   tools/install-deps.sh [PROFILE ...]     default: compile test functional
set -euo pipefail
cd "$(dirname "$0")/.."
profiles=("$@")
[ ${#profiles[@]} -gt 0 ] || profiles=(compile test functional)

PY=${PYTHON:-python3}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! "$PY" -m bindep --version >/dev/null 2>&1; then
    "$PY" -m pip install --quiet bindep
fi
missing=$("$PY" -m bindep -b "${profiles[@]}" || true)
if [ -n "$missing" ]; then
    echo "install-deps: installing system packages:" $missing
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -q --no-install-recommends $missing
fi
still=$("$PY" -m bindep -b "${profiles[@]}" || true)
if [ -n "$still" ]; then
    echo "install-deps: still missing after install: $still" >&2
    exit 1
fi
if ! "$PY" -m tox --version >/dev/null 2>&1; then
    "$PY" -m pip install --quiet 'tox>=4'
fi
echo "install-deps: system packages and tox are in place (${profiles[*]})"
