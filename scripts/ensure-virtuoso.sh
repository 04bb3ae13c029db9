#!/usr/bin/env bash
# Make sure Virtuoso open source is installed for the cross-engine tests (tests/test_virtuoso.py).
#
# Installs Debian's `virtuoso-opensource` package with apt-get when `virtuoso-t` is missing and
# we run as root. The package's own service is not used (the tests run a private server on
# loopback ports in a temp dir, with their own virtuoso.ini). When it cannot be installed it
# says so and the Virtuoso tests skip with that reason.
set -euo pipefail

if command -v virtuoso-t >/dev/null 2>&1 && command -v isql-vt >/dev/null 2>&1; then
    exit 0
fi
source "$(dirname "$0")/apt-install.sh"
apt_install ensure-virtuoso "Virtuoso tests" virtuoso-opensource || exit 0
# Where policy lets the package start its service (1111/8890), stop it: tests start their own.
if command -v service >/dev/null 2>&1; then
    service virtuoso-opensource-7 stop >/dev/null 2>&1 || true
fi
echo "ensure-virtuoso: $(virtuoso-t -? 2>&1 | grep -m1 Version || echo 'virtuoso-opensource installed')" >&2
