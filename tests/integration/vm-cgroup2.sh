#!/bin/sh
# SPDX-License-Identifier: MIT
# The cgroup tests, the limits and the stop in a pure cgroup v2 kernel:
# tests/vm/run.sh boots Debian's kernel with cgroup_no_v1=all under qemu and
# its TAP is this test's.  Where it cannot run (no qemu, no /dev/kvm, no
# kernel package) it is skipped, or fails with BERTH_STRICT=1.
: "${TOP_SRCDIR:=.}"
out=$(sh "$TOP_SRCDIR/tests/vm/run.sh")
rc=$?
if [ "$rc" -eq 77 ]; then
	if [ "${BERTH_STRICT:-0}" = 1 ]; then
		echo "1..1"
		echo "not ok 1 - cannot run the cgroup v2 VM: $out (BERTH_STRICT=1 forbids skipping)"
		exit 1
	fi
	echo "1..0 # SKIP cannot run the cgroup v2 VM: $out"
	exit 0
fi
printf '%s\n' "$out"
exit "$rc"
