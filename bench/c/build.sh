#!/usr/bin/env bash
# Builds the C load tools into target/bench-c/ with gcc -O2, each only when one of its sources is
# newer than it: loadgen (the verifying load generator), backend (a server.py-like backend) and
# wire_test (their tests). Installs gcc and libssl-dev (OpenSSL's libcrypto, for SHA-1) with
# apt-get when they are missing and this runs as root, as on CI.
#
# Usage: bench/c/build.sh [--test]    --test: then run bench/c/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

SRC=bench/c
OUT=target/bench-c
CFLAGS=(-O2 -std=c11 -Wall -Wextra -Wno-unused-parameter)
RUN_TESTS=0
case ${1:-} in
  --test) RUN_TESTS=1 ;;
  "") ;;
  -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (use --test)" ;;
esac

apt_install() { # package... -> installs them with apt-get (root only)
  ((EUID == 0)) || die "$* missing; install it (apt-get install $*) or run as root"
  echo "Installing $* (apt-get) ..."
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null ||
    die "apt-get install $* failed"
}

command -v gcc >/dev/null || apt_install gcc libc6-dev
if ! echo '#include <openssl/evp.h>' | gcc -E -x c - >/dev/null 2>&1; then
  apt_install libssl-dev
fi

mkdir -p "$OUT"
build() { # binary sources... -> compiles them into OUT/binary if any source (or wire.h) is newer
  local bin=$OUT/$1 stale=0 src
  shift
  for src in "$@" "$SRC/wire.h" "$0"; do
    [[ $src -nt $bin ]] && stale=1
  done
  ((stale)) || return 0
  echo "Building $bin"
  gcc "${CFLAGS[@]}" -o "$bin.tmp" "$@" -lcrypto -lm || die "gcc failed for $bin"
  mv "$bin.tmp" "$bin"
}
build loadgen "$SRC/loadgen.c" "$SRC/wire.c"
build backend "$SRC/backend.c" "$SRC/wire.c"
build wire_test "$SRC/wire_test.c" "$SRC/wire.c"

if ((RUN_TESTS)); then
  exec bench/c/test.sh
fi
