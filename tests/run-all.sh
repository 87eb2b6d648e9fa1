#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole test suite, as CI runs it (.ci/run, after the README's first
# command):
#   1. install the Debian packages the build and the tests need;
#   2. build in build/ and run `make check` (unit, privileged, integration)
#      with skips, XFAIL and XPASS counted as failures (BERTH_STRICT=1), and
#      check each tier ran at least the test cases tests/declared-counts
#      declares (tests/count-tests.sh);
#   3. build again with ASan + UBSan in build-asan/ and run the suite again;
#   4. run the libFuzzer target over the config loader for FUZZ_SECONDS;
#   5. `make check-mutants`: each mutant of tests/mutants must fail the
#      tests that claim its feature, in every tier that claims it;
#   6. make the release tarball and run `make distcheck` on it as nobody.
# Must run as root on Debian 12 (the privileged and integration tiers need
# the real kernel).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
: "${FUZZ_SECONDS:=60}"

if [ "$(id -u)" -ne 0 ]; then
	echo "tests/run-all.sh: must run as root (the privileged tests need it)" >&2
	exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
xargs apt-get install -y -qq --no-install-recommends < .ci/packages > /dev/null

./autogen.sh > /dev/null 2>&1
# The README's first command configures and builds in the tree itself;
# the builds below are out of tree, which configure refuses beside an
# in-tree configuration.
if [ -f config.status ]; then
	echo "tests/run-all.sh: the tree is configured in place: make distclean first"
	make -s distclean > /dev/null 2>&1 || true
fi
export BERTH_STRICT=1
summary=""
status=0

run_build() { # DIR CONFIGURE-ARGS...
	dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	if ! (cd "$dir" && "$top/configure" -q --enable-werror "$@" && make -s -j"$jobs"); then
		total_bad=$((total_bad + 1))
		summary="$summary$dir: build FAILED
"
		return 1
	fi
	make -C "$dir" -j"$jobs" check || true
	log="$dir/test-suite.log"
	if [ ! -f "$log" ]; then
		echo "no test-suite.log in $dir" >&2
		return 1
	fi
	pass=$(sed -n 's/^# PASS: *//p' "$log" | head -n 1)
	fail=$(sed -n 's/^# FAIL: *//p' "$log" | head -n 1)
	skip=$(sed -n 's/^# SKIP: *//p' "$log" | head -n 1)
	err=$(sed -n 's/^# ERROR: *//p' "$log" | head -n 1)
	xpass=$(sed -n 's/^# XPASS: *//p' "$log" | head -n 1)
	xfail=$(sed -n 's/^# XFAIL: *//p' "$log" | head -n 1)
	# Nothing is expected to fail: an XFAIL (a TODO "not ok") is a failure
	# like any other, an XPASS too.
	bad=$((fail + skip + err + xpass + xfail))
	total_pass=$((total_pass + pass))
	# Each tier ran, and at least the declared number of test cases.
	counted=ok
	sh "$top/tests/count-tests.sh" "$dir" || counted=FAILED
	[ "$counted" = ok ] || bad=$((bad + 1))
	summary="$summary$dir: $pass passed, $bad failed ($skip skipped, $err errors, $xfail xfail, $xpass xpass; test counts $counted)
"
	total_bad=$((total_bad + bad))
	if [ "$bad" -ne 0 ]; then
		sed -n '/^\(FAIL\|ERROR\|SKIP\|XPASS\|XFAIL\):/p' "$log" >&2
		cat "$log" >&2
		return 1
	fi
	return 0
}

total_pass=0
total_bad=0
run_build build || status=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_build build-asan --enable-sanitizers CC=gcc || status=1

fuzz_status=0
BUILD_DIR="$top/build" "$top/tests/fuzz/run.sh" "$FUZZ_SECONDS" || fuzz_status=1
[ "$fuzz_status" -eq 0 ] || status=1

mutants_status=0
if [ -f build/Makefile ]; then
	make -C build -s check-mutants || mutants_status=1
else
	mutants_status=1
fi
[ "$mutants_status" -eq 0 ] || status=1

# The release tarball: made from build/, then built, checked, installed
# and uninstalled by `make distcheck` as a plain user (read-only sources,
# an out-of-tree build; the tiers that need root skip there, so strict
# mode is off for this step only: the same tests ran as root above).
dist_status=0
dist_dir=$(mktemp -d /tmp/berth-distcheck.XXXXXX)
if make -C build -s dist >/dev/null && cp build/berth-*.tar.gz "$dist_dir/" &&
	chown -R nobody "$dist_dir" &&
	(cd "$dist_dir" && env -u BERTH_STRICT runuser -u nobody -- sh -c \
		'tar xzf berth-*.tar.gz && cd berth-*/ && ./configure -q &&
		 make -s -j'"$jobs"' distcheck' >distcheck.log 2>&1); then
	:
else
	tail -n 40 "$dist_dir/distcheck.log" >&2
	dist_status=1
	status=1
fi
rm -rf "$dist_dir"

printf '%s' "$summary"
echo "fuzz (${FUZZ_SECONDS}s): $([ $fuzz_status -eq 0 ] && echo clean || echo FAILED)"
[ "$fuzz_status" -eq 0 ] || total_bad=$((total_bad + 1))
echo "mutants: $([ $mutants_status -eq 0 ] && echo all killed || echo FAILED)"
[ "$mutants_status" -eq 0 ] || total_bad=$((total_bad + 1))
echo "distcheck as a plain user: $([ $dist_status -eq 0 ] && echo passed || echo FAILED)"
[ "$dist_status" -eq 0 ] || total_bad=$((total_bad + 1))
echo "$total_pass passed, $total_bad failed"
exit $status
