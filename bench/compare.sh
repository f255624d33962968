#!/bin/sh
# bench/compare.sh - before/after: builds git revision REF (default: the
# first parent of HEAD, e.g. main before a merge) and this tree, then runs
# bench/compare.py against both in one run and prints their ratio.
#
#   bench/compare.sh [REF]
#
# Environment: COMPARE_SECONDS (per round and measurement, default 3),
# COMPARE_ROUNDS (default 3), COMPARE_STREAM_BYTES (per stdout or stdin
# stream, default 20000000).  As root; loopback only.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
ref=${1:-HEAD^1}
scripts/install-deps.sh test >/dev/null
[ -x configure ] || autoreconf -fi >/dev/null 2>&1
mkdir -p build-bench
(cd build-bench && { [ -f Makefile ] || ../configure CFLAGS="-O2 -g" >/dev/null; } &&
	make -j"$(nproc)" all bench/wsman-stream >/dev/null)

base=$(mktemp -d /tmp/winrmd-base.XXXXXX)
cleanup() { rm -rf "$base"; }
trap cleanup EXIT INT TERM
sha=$(git rev-parse --verify "$ref^{commit}")
echo "== building the reference $ref ($sha)"
git archive "$sha" | tar -x -C "$base"
(cd "$base" && autoreconf -fi >/dev/null 2>&1 && mkdir build &&
	cd build && ../configure CFLAGS="-O2 -g" >/dev/null && make -j"$(nproc)" >/dev/null)
BASE_BUILDDIR="$base/build" WINRMD_BUILDDIR="$top/build-bench" WINRMD_SRCDIR="$top" \
	/usr/bin/python3 "$top/bench/compare.py"
