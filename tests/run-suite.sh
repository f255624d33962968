#!/bin/sh
# run-suite.sh - installs every Debian package the build and the tests need,
# builds winrmd twice (a -Werror build and an ASan+UBSan build), runs the
# whole test suite against each, checks the formatting (make format-check,
# one test), smoke-runs every fuzz harness, and ends
# with one line "N passed, N failed" (totals over everything it ran).
#
# Usage (as root, from anywhere):  tests/run-suite.sh
# Environment: JOBS (default: number of CPUs), FUZZ_RUNS (default 20000).
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
JOBS=${JOBS:-$(nproc)}
FUZZ_RUNS=${FUZZ_RUNS:-20000}

scripts/install-deps.sh test || { echo "dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
add_counts() { # test-suite.log -> totals
	log=$1
	p=$(sed -n 's/^# PASS: *\([0-9]*\).*/\1/p' "$log" | head -1)
	f=$(sed -n 's/^# FAIL: *\([0-9]*\).*/\1/p' "$log" | head -1)
	e=$(sed -n 's/^# ERROR: *\([0-9]*\).*/\1/p' "$log" | head -1)
	x=$(sed -n 's/^# XPASS: *\([0-9]*\).*/\1/p' "$log" | head -1)
	s=$(sed -n 's/^# SKIP: *\([0-9]*\).*/\1/p' "$log" | head -1)
	passed=$((passed + ${p:-0}))
	# In CI nothing may be skipped: a skip counts as a failure.
	failed=$((failed + ${f:-0} + ${e:-0} + ${x:-0} + ${s:-0}))
}

autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; echo "0 passed, 1 failed"; exit 1; }

run_build() { # name, make check arguments, configure args...
	name=$1; check_args=$2; shift 2
	dir=$top/build-suite-$name
	rm -rf "$dir"; mkdir -p "$dir"
	echo "=== $name build: configure $*"
	if ! (cd "$dir" && "$top/configure" --enable-werror "$@" >configure.out 2>&1); then
		tail -30 "$dir/configure.out"; failed=$((failed + 1)); return
	fi
	if ! (cd "$dir" && make -j"$JOBS" >make.out 2>&1); then
		tail -40 "$dir/make.out"; failed=$((failed + 1)); return
	fi
	echo "=== $name build: make check"
	# Tests run one file at a time: pam_wrapper (the tests' PAM) races its
	# runtime directories when many processes start PAM at once.
	(cd "$dir" && make -j1 check $check_args >check.out 2>&1)
	grep -aE '^(PASS|FAIL|ERROR|XPASS|SKIP):' "$dir/check.out" | grep -v '^PASS' | head -50
	grep -E '^# (TOTAL|PASS|FAIL|ERROR|SKIP)' "$dir/test-suite.log" | tr '\n' ' '; echo
	if grep -qE '^(FAIL|ERROR)' "$dir/test-suite.log"; then
		# show the failing test points and diagnostics
		grep -E -A8 '^not ok|^ERROR' "$dir"/tests/*/*.log 2>/dev/null | head -150
	fi
	add_counts "$dir/test-suite.log"
}

run_build normal ""
# The style check (.clang-format) counts as one test.
echo "=== format-check"
if (cd "$top/build-suite-normal" && make format-check >format-check.out 2>&1); then
	echo "ok - make format-check"; passed=$((passed + 1))
else
	echo "not ok - make format-check"; tail -40 "$top/build-suite-normal/format-check.out"
	failed=$((failed + 1))
fi
# The container tests test the Debian package built from the sources,
# the same for both builds: once is enough.
run_build asan "CONTAINER_TESTS=" --enable-sanitizers

echo "=== fuzz smoke ($FUZZ_RUNS runs per harness)"
fdir=$top/build-suite-fuzz
rm -rf "$fdir"; mkdir -p "$fdir"
if (cd "$fdir" && "$top/configure" --enable-fuzz CC=clang >configure.out 2>&1 &&
    make -j"$JOBS" fuzz-harnesses >make.out 2>&1); then
	for h in "$fdir"/fuzz/fuzz-*; do
		[ -x "$h" ] || continue
		n=$(basename "$h")
		corpus=$top/fuzz/corpus/${n#fuzz-}
		work=$(mktemp -d)
		[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null
		if "$h" -runs="$FUZZ_RUNS" -max_len=65536 -timeout=10 "$work" >"$fdir/$n.out" 2>&1; then
			echo "ok - fuzz $n"; passed=$((passed + 1))
		else
			echo "not ok - fuzz $n"; tail -30 "$fdir/$n.out"; failed=$((failed + 1))
		fi
		rm -rf "$work"
	done
else
	tail -30 "$fdir/make.out" 2>/dev/null || tail -30 "$fdir/configure.out"
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
