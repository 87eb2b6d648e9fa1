#!/bin/sh
# SPDX-License-Identifier: MIT
# `berth run`: restarts.  The start command is restarted after exit 0,
# exit 1 and SIGSEGV, with gaps that grow (100, 200, 400 ms); a stop during
# the backoff is served at once; the crash budget ends berth with the last
# status; processes left behind by the start command are handled by the
# leftover policy.  By hand and as PID 1.
. "${TOP_SRCDIR:-.}/tests/integration/lib.sh"
require_root
command -v unshare >/dev/null || skip_all "unshare(1) missing"

# start_gaps: ms between consecutive START lines of the child log.
start_gaps() {
	awk '$1 == "START" { if (prev) printf "%d\n", ($6 - prev) / 1000000; prev = $6 }' "$CLOG"
}

# gaps_grow MIN...: the first gaps are at least these values, in order.
gaps_grow() {
	_gaps=$(start_gaps | tr '\n' ' ')
	set -- "$@"
	for _g in $_gaps; do
		[ $# -eq 0 ] && break
		[ "$_g" -ge "$1" ] || {
			diag "gaps: $_gaps"
			return 1
		}
		shift
	done
	[ $# -eq 0 ] || {
		diag "too few gaps: $_gaps"
		return 1
	}
}

for mode in host pid1; do
	for how in "exit 0" "exit 1" "kill 11"; do
		: >"$CLOG"
		write_app "exec $TEST_CHILD --log $CLOG start $how"
		start_run "$mode"
		_i=0
		while [ "$(count_lines "$CLOG" '^START ')" -lt 4 ] && [ $_i -lt 250 ]; do
			sleep 0.02
			_i=$((_i + 1))
		done
		check "$mode: $how: restarted (4 starts)" test "$(count_lines "$CLOG" '^START ')" -ge 4
		kill -TERM "$BERTH_PID"
		wait_run 10
		is "$RUN_RC" 0 "$mode: $how: stopped during a backoff: status 0"
		check "$mode: $how: gaps grow (>= 100, 200, 400 ms)" gaps_grow 95 195 395
	done
	check "$mode: SIGSEGV logged as such" grep -q 'killed by SIGSEGV' "$BLOG"
	check "$mode: the restart delays are logged" sh -c "grep -q 'restarting in 100 ms' '$BLOG' &&
		grep -q 'restarting in 200 ms' '$BLOG' && grep -q 'restarting in 400 ms' '$BLOG'"

	# --- a stop during a long backoff is served at once ----------------
	: >"$CLOG"
	write_app "$TEST_CHILD --log $CLOG start exit 1"
	start_run "$mode" --restart-min 5s --restart-max 10s
	wait_for "$BLOG" 'restarting in 5000 ms' 10
	t0=$(now_ms)
	kill -TERM "$BERTH_PID"
	wait_run 10
	el=$(($(now_ms) - t0))
	is "$RUN_RC" 0 "$mode: stop during the backoff: status 0"
	check "$mode: served at once (${el} ms)" test "$el" -lt 1000
	is "$(count_lines "$CLOG" '^START ')" 1 "$mode: no start after the stop"

	# --- crash budget ---------------------------------------------------
	: >"$CLOG"
	write_app "$TEST_CHILD --log $CLOG start exit 3"
	start_run "$mode" --max-restarts 2 --restart-window 60s
	wait_run 20
	is "$RUN_RC" 3 "$mode: crash budget spent: the worker's last status"
	is "$(count_lines "$CLOG" '^START ')" 3 "$mode: started 1 + 2 times"
	check "$mode: giving up logged" grep -q 'giving up with status 3' "$BLOG"

	: >"$CLOG"
	write_app "exec $TEST_CHILD --log $CLOG start kill 11"
	start_run "$mode" --max-restarts 1 --restart-window 60s
	wait_run 20
	is "$RUN_RC" 139 "$mode: crash budget after SIGSEGV: 128 + 11"

	# --- leftovers: default policy stops them before the restart -------
	: >"$CLOG"
	write_app "$TEST_CHILD --log $CLOG start escape exit 0"
	start_run "$mode" --stop-timeout 500ms --restart-min 10ms
	_i=0
	while [ "$(count_lines "$CLOG" '^ESCAPE ')" -lt 2 ] && [ $_i -lt 250 ]; do
		sleep 0.02
		_i=$((_i + 1))
	done
	if [ "$mode" = host ]; then
		first=$(logged_pids ESCAPE | head -n 1)
		check "$mode: leftover of run 1 gone before run 2" all_gone $first
	fi
	check "$mode: leftover reported" grep -q 'left behind by the start command (policy kill)' "$BLOG"
	check "$mode: leftover SIGKILLed (it ignores SIGTERM)" grep -q 'killed 1 leftover processes' "$BLOG"
	# the second start came only after the leftover was gone (>= 500 ms)
	check "$mode: restart waited for the leftover" gaps_grow 500
	kill -TERM "$BERTH_PID"
	wait_run 10
	check "$mode: stopped" test "$RUN_RC" -eq 0 -o "$RUN_RC" -eq 137

	# --- leftover policy restart (Platform.sh) ---------------------------
	: >"$CLOG"
	write_app "$TEST_CHILD --log $CLOG start cgroup escape exit 0"
	start_run "$mode" --leftover restart --stop-timeout 500ms --restart-min 10ms \
		--max-restarts 2 --restart-window 60s
	wait_run 20
	is "$RUN_RC" 0 "$mode: leftover policy restart: status of the last run"
	is "$(count_lines "$CLOG" '^ESCAPE ')" 3 "$mode: restarted with the leftovers running"
	check "$mode: the leftovers were stopped before berth exited" \
		grep -q 'stop timeout (500 ms) reached: killed 3 processes' "$BLOG"
	if [ "$mode" = host ]; then
		check "$mode: no leftover survives" all_gone $(logged_pids ESCAPE)
	fi
	check "$mode: the cgroups were removed" cgroup_gone $(child_cgroup_dirs)
done
done_testing
