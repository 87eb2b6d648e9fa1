#!/bin/sh
# SPDX-License-Identifier: MIT
# count-tests.sh BUILD_DIR: after `make check` in BUILD_DIR, the number of
# test cases each tier ran (unit, privileged, integration), against the
# least numbers declared in tests/declared-counts.  Fails, naming the
# tier, when a tier ran no test or fewer than declared (a Check program
# that died before its summary counts none of its cases).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: count-tests.sh BUILD_DIR}
declared=$top/tests/declared-counts
status=0

# cases TIER: Check programs' "Checks: N", TAP scripts' results
cases() {
	case $1 in
	integration)
		cat "$build"/tests/integration/*.trs 2>/dev/null | grep -c '^:test-result:' || true
		;;
	*)
		for l in "$build/tests/$1"/*.log; do
			[ -f "$l" ] || continue
			sed -n 's/^[0-9]*%: Checks: \([0-9]*\),.*/\1/p' "$l" | tail -n 1
		done | awk '{ n += $1 } END { print n + 0 }'
		;;
	esac
}

for tier in unit privileged integration; do
	want=$(awk -v t="$tier" '$1 == t { print $2 }' "$declared")
	got=$(cases "$tier")
	if [ "$got" -eq 0 ]; then
		echo "count-tests: the $tier tier ran no test" >&2
		status=1
	elif [ "$got" -lt "${want:-0}" ]; then
		echo "count-tests: the $tier tier ran $got test cases, fewer than the $want declared in tests/declared-counts" >&2
		status=1
	else
		echo "count-tests: $tier: $got test cases (at least ${want:-0} declared)"
	fi
done
exit $status
