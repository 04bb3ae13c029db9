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
source "$(dirname "$0")/apt-install.sh"
status=0
apt_install ensure-chromium "browser tests" chromium fonts-dejavu-core || status=$?
[ "$status" -eq 1 ] && exit 0
[ "$status" -ne 0 ] && exit 1
echo "ensure-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium installed')" >&2
