#!/bin/bash
# build-deb.sh - builds the Debian package of winrmd the way a packager
# would (dpkg-buildpackage -us -uc -b), from the distribution tree of a
# configured build directory, and checks it with lintian.
#
#   tests/systemd/build-deb.sh BUILDDIR      prints the path of winrmd_*.deb
#
# The sources are "make distdir" of BUILDDIR, in a temporary directory:
# dpkg-buildpackage configures and builds in its source tree and writes its
# results next to it, which must not happen in the developer's tree.  That
# also checks that debian/ and everything the build needs are distributed.
#
# Results are cached in $WINRMD_TEST_CACHE/deb/<hash of the distribution
# tree but tests/>/ (default /var/cache/winrmd-tests): the .deb, lintian.txt (lintian's
# findings, overridden tags not shown) and build.log.  The same sources
# (a second build tree of the same checkout, e.g. the ASan build of
# tests/run-suite.sh) reuse it.  WINRMD_DEB_REBUILD=1 forces a build.
#
# The package build runs no tests (DEB_BUILD_OPTIONS=nocheck: make check
# runs them anyway) and makes no -dbgsym package.  Exit status 0 with the
# .deb's path on stdout; 1 when the build fails (the log's end on stderr);
# 3 when it builds but lintian reports an error or a warning (its findings
# on stderr; the path still printed).
set -euo pipefail

builddir=$(cd "${1:?usage: build-deb.sh BUILDDIR}" && pwd)
CACHE=${WINRMD_TEST_CACHE:-/var/cache/winrmd-tests}/deb

version=$(sed -n 's/^PACKAGE_VERSION = //p' "$builddir/Makefile")
tmp=$(mktemp -d /var/tmp/winrmd-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/winrmd-$version

t0=$(date +%s)
make -s -C "$builddir" distdir distdir="$src" top_distdir="$src" >"$tmp/distdir.log" 2>&1 ||
	{ tail -20 "$tmp/distdir.log" >&2; echo "build-deb.sh: make distdir failed" >&2; exit 1; }

# The key: every file of the tree, by name and contents, but the tests
# (the package is built with nocheck: they do not change it).
key=$(cd "$src" && find . -path ./tests -prune -o -type f -print0 | LC_ALL=C sort -z |
	xargs -0 sha256sum | sha256sum | cut -c1-16)
out=$CACHE/$key
if [ -s "$out/done" ] && [ "${WINRMD_DEB_REBUILD:-0}" != 1 ]; then
	echo "build-deb.sh: cached package $out (same sources)" >&2
else
	rm -rf "$out"
	echo "build-deb.sh: dpkg-buildpackage -us -uc -b in $src" >&2
	(
		cd "$src"
		export DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=$(nproc)"
		nice dpkg-buildpackage -us -uc -b
	) >"$tmp/build.log" 2>&1 || {
		tail -40 "$tmp/build.log" >&2
		echo "build-deb.sh: dpkg-buildpackage failed (log above)" >&2
		exit 1
	}
	t1=$(date +%s)
	echo "build-deb.sh: package built in $((t1 - t0)) s" >&2
	# lintian as a packager runs it; -I shows informational tags too.
	# It warns that it runs as root: that line is not a finding.
	changes=$(ls "$tmp"/winrmd_"$version"_*.changes)
	nice lintian -I --pedantic "$changes" 2>&1 |
		grep -v 'running with root privileges is not recommended' >"$tmp/lintian.txt" || true
	echo "build-deb.sh: lintian took $(($(date +%s) - t1)) s" >&2
	mkdir -p "$out"
	cp "$tmp"/winrmd_"$version"_*.deb "$tmp/lintian.txt" "$tmp/build.log" "$out/"
	date -u +%FT%TZ >"$out/done"
	# Packages of other sources: keep the last few.
	ls -1dt "$CACHE"/*/ 2>/dev/null | tail -n +6 | xargs -r rm -rf
fi
deb=$(ls "$out"/winrmd_"$version"_*.deb)
echo "$deb"
if grep -qE '^[EW]: ' "$out/lintian.txt"; then
	echo "build-deb.sh: lintian:" >&2
	cat "$out/lintian.txt" >&2
	exit 3
fi
exit 0
