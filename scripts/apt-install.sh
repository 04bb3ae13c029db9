# Sourced by scripts/ensure-*.sh: install Debian packages for tests that need a system program.
#
# apt_install LABEL TESTS PACKAGE...
#   returns 0 when installed, 1 when it cannot try (not root, no apt-get: TESTS will skip),
#   2 when apt-get failed. Only the system package manager is used.
apt_install() {
    local label=$1 tests=$2
    shift 2
    if [ "$(id -u)" -ne 0 ]; then
        echo "$label: $1 is not installed and we are not root; $tests will skip" >&2
        return 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$label: no apt-get on this system; $tests will skip" >&2
        return 1
    fi
    echo "$label: installing Debian $* (apt-get)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq >/dev/null &&
           apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }; then
        echo "$label: apt-get failed; install $* by hand" >&2
        return 2
    fi
}
