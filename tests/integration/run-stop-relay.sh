#!/bin/sh
# SPDX-License-Identifier: MIT
# `berth run`: who gets the stop signal, and how often.  A worker of three
# processes that log every signal they get: the main process, a member of
# its process group, and a setsid() one outside it.  On SIGTERM each of
# them gets SIGTERM exactly once and SIGCONT exactly once (the main process
# group is signalled first with one kill(2), the rest of the cgroup in a
# frozen sweep that skips that group), in control-group mode with a cgroup
# and with --no-cgroup, by hand and as PID 1; they ignore SIGTERM, so
# SIGKILL follows at the stop timeout.  Then a lone main process (the
# freeze is skipped when the whole cgroup is the main group) is stopped.
. "${TOP_SRCDIR:-.}/tests/integration/lib.sh"
require_root
command -v unshare >/dev/null || skip_all "unshare(1) missing"
command -v setsid >/dev/null || skip_all "setsid(1) missing"

# count_sig SIG PID: how many times PID logged signal SIG.
count_sig() { awk -v s="$1" -v p="$2" '$1 == "SIG" && $2 == s && $4 == p' "$CLOG" | wc -l; }

for cg in cgroup no-cgroup; do
	opt=
	[ $cg = no-cgroup ] && opt=--no-cgroup
	for mode in host pid1; do
		: >"$CLOG"
		write_app "setsid $TEST_CHILD --log $CLOG start ignore-term wait &
$TEST_CHILD --log $CLOG start ignore-term wait &
exec $TEST_CHILD --log $CLOG start ignore-term wait"
		start_run "$mode" --stop-timeout 1s $opt
		wait_for "$CLOG" '^START ' 10
		for _i in $(seq 250); do
			[ "$(count_lines "$CLOG" '^START ')" -ge 3 ] && break
			sleep 0.02
		done
		# main: the group and session leader the other two descend from.
		main=$(awk '$1 == "START" && $4 == $2 && $5 == $2 { print $2 }' "$CLOG" |
			while read -r p; do
				awk -v p="$p" '$1 == "START" && $3 == p { f = 1 } END { exit !f }' \
					"$CLOG" && echo "$p"
			done)
		member=$(awk -v m="$main" '$1 == "START" && $2 != m && $4 == m { print $2 }' "$CLOG")
		outsider=$(awk -v m="$main" '$1 == "START" && $2 != m && $4 != m { print $2 }' "$CLOG")
		check "$cg $mode: main $main, group member $member, setsid $outsider" \
			test -n "$main" -a -n "$member" -a -n "$outsider"
		kill -TERM "$BERTH_PID"
		wait_run 10
		is "$RUN_RC" 137 "$cg $mode: SIGKILL at the stop timeout, status 137"
		# Without a cgroup the setsid one is an orphan moving to berth
		# when the main process dies: the SIGKILL sweep must not miss it.
		[ $mode = host ] && # (as PID 1 their pids are the namespace's)
			check "$cg $mode: none of the three is left" all_gone "$main" "$member" "$outsider"
		for who in main member outsider; do
			eval p=\$$who
			is "$(count_sig 15 "$p")" 1 "$cg $mode: the $who got SIGTERM once"
			is "$(count_sig 18 "$p")" 1 "$cg $mode: the $who got SIGCONT once"
		done
		[ $cg = cgroup ] || continue
		check "$cg $mode: SIGKILL for all three, logged" grep -q 'killed 3 processes' "$BLOG"
	done
done

# A lone main process: stopped at once, no sweep needed.
for mode in host pid1; do
	: >"$CLOG"
	write_app "exec $TEST_CHILD --log $CLOG start cgroup wait"
	start_run "$mode"
	wait_for "$CLOG" '^START ' 10
	kill -TERM "$BERTH_PID"
	wait_run 10
	is "$RUN_RC" 0 "lone $mode: status 0"
	is "$(count_lines "$CLOG" '^SIG 15 ')" 1 "lone $mode: SIGTERM once"
	check "lone $mode: the cgroup was removed" cgroup_gone $(child_cgroup_dirs)
done
done_testing
