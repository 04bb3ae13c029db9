#!/usr/bin/env bash
# Make sure Virtuoso open source is installed for the cross-engine tests (tests/test_virtuoso.py).
#
# Installs Debian's `virtuoso-opensource` package with apt-get when `virtuoso-t` is missing and
# we run as root. The package's own service is not started (the tests run a private server on
# loopback ports in a temp dir, with their own virtuoso.ini). Without root or apt-get it only
# says so: the Virtuoso tests then skip with that reason.
set -euo pipefail

if command -v virtuoso-t >/dev/null 2>&1 && command -v isql-vt >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-virtuoso: virtuoso-opensource is not installed and we are not root; Virtuoso tests will skip" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-virtuoso: no apt-get on this system; Virtuoso tests will skip" >&2
    exit 0
fi
echo "ensure-virtuoso: installing Debian virtuoso-opensource (apt-get)..." >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq >/dev/null && \
       apt-get install -y -qq --no-install-recommends virtuoso-opensource >/dev/null; }; then
    echo "ensure-virtuoso: apt-get failed; Virtuoso tests will skip (install virtuoso-opensource by hand)" >&2
    exit 0
fi
# The package's postinst may start its own service on 1111/8890 where policy allows: stop it,
# the tests start their own.
if command -v service >/dev/null 2>&1; then
    service virtuoso-opensource-7 stop >/dev/null 2>&1 || true
fi
echo "ensure-virtuoso: $(virtuoso-t -? 2>&1 | grep -m1 Version || echo 'virtuoso-opensource installed')" >&2
