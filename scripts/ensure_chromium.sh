#!/usr/bin/env bash
# The browser tests drive Debian's chromium headless. Install it when it is
# missing and this machine can (root or sudo with apt-get); otherwise say how.
set -euo pipefail
command -v chromium >/dev/null && exit 0
if ! command -v apt-get >/dev/null; then
    echo "chromium is missing: install it to run the browser tests (they are skipped)" >&2
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
