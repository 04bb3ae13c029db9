#!/usr/bin/env bash
# Make sure a headless-capable Chromium is installed for the browser tests (tests/test_browser.py).
#
# Installs Debian's `chromium` package with apt-get when /usr/bin/chromium is missing and we run
# as root. Without root it only says so: the browser tests then skip with that reason.
# Never downloads a browser build of its own: only the system package manager is used.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-chromium: chromium is not installed and we are not root; browser tests will skip" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: no apt-get on this system; browser tests will skip" >&2
    exit 0
fi
echo "ensure-chromium: installing Debian chromium (apt-get)..." >&2
export DEBIAN_FRONTEND=noninteractive
trap 'echo "ensure-chromium: apt-get failed; install the chromium package by hand" >&2' ERR
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
trap - ERR
echo "ensure-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium installed')" >&2
