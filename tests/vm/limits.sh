# SPDX-License-Identifier: MIT
# Sourced by tests/vm/init: limits from `size` through `berth run` on pure
# cgroup v2, berth alone in a delegated service cgroup as under systemd.
# Size S puts the table's values in the worker's cgroup (memory.max 128 MiB,
# no swap, the whole group OOM-killed, cpu.max "40000 100000", pids.max
# 4096); a worker touching 300 MiB is OOM-killed and berth says so; a fork
# bomb stops at --pids-max 64; a busy loop gets about 0.4 CPU (cpu.stat).
# Nothing is left in the service cgroup afterwards.

# berth_run NAME SECONDS OPTIONS...: berth run (unconfined: the box has its
# own tests; these are about cgroup v2) on worker "test" of
# $_app, alone in the service cgroup berth-NAME ($_svc), logging to $_blog.
berth_run() {
	_name=$1 _secs=$2
	shift 2
	_svc=$(service "berth-$_name") || return 1
	: >$_clog
	: >$_blog
	run_alone "$_svc" "$_secs" $BERTH -f $_app/.platform.app.yaml --state-dir /run/berth \
		run --unconfined "$@" test >$_blog 2>&1
}
sized_app() { # SIZE START_COMMAND
	mkdir -p $_app
	{
		printf 'name: app\ntype: "python:3.11"\nworkers:\n  test:\n    size: %s\n' "$1"
		printf '    commands:\n      start: |\n'
		printf '%s\n' "$2" | sed 's/^/        /'
	} >$_app/.platform.app.yaml
}
is() { # GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3 (got '$1', want '$2')"; fi
}
# The worker's cgroup directory, from test-child's "cgroup" report.
worker_cg() { awk '$1 == "CGROUP" { sub(/^0::/, "", $2); print "'$CG'" $2; exit }' $_clog; }
# After berth is gone: the worker's cgroup too, and the service as found.
removed() { test ! -e "$1" && service_clean "$_svc"; }
all_removed() { # DESCRIPTION WORKER_CGROUP
	check "$1: the worker's cgroup removed, the service cgroup as it was" removed "$2"
	rmdir $_svc
}
stop_berth() {
	kill -TERM $RUN_PID
	wait_alone
}

limits_test() {
	_app=/tmp/app-limits _clog=/tmp/limits-child.log _blog=/tmp/limits-berth.log
	if ! $BERTH run --help >/dev/null 2>&1; then
		not_ok "limits: berth has a run command"
		return
	fi

	# --- size S: the values, then the OOM kill --------------------------------
	sized_app S "exec $TEST_CHILD --log $_clog start cgroup sleep 1500 hog 300 wait"
	berth_run oom 60 --max-restarts 0 || {
		not_ok "limits: service cgroup"
		return
	}
	if wait_for $_clog '^CGROUP' 10; then
		_w=$(worker_cg)
		is "$(cat $_w/memory.max)" 134217728 "S: memory.max is 128 MiB"
		if [ -e $_w/memory.swap.max ]; then
			is "$(cat $_w/memory.swap.max)" 0 "S: memory.swap.max is 0"
		else
			ok "S: no swap accounting in this kernel, no memory.swap.max # SKIP"
		fi
		is "$(cat $_w/memory.oom.group)" 1 "S: memory.oom.group is 1"
		is "$(cat $_w/cpu.max)" "40000 100000" "S: cpu.max is 0.40 CPU"
		is "$(cat $_w/pids.max)" 4096 "S: pids.max is the default 4096"
	else
		not_ok "S: the worker started"
		diag <$_blog
	fi
	wait_alone
	is "$RUN_RC" 90 "OOM: berth gave up after an OOM kill: 90"
	# oom_kill counts processes: memory.oom.group kills the sh in front of
	# the worker too, so one OOM kill of the worker may count 2.
	if grep -Eq 'killed by the OOM killer \(memory limit 128 MiB, oom_kill count [1-9]' $_blog; then
		ok "OOM: reported with the limit and the count"
	else
		not_ok "OOM: reported with the limit and the count"
		diag <$_blog
	fi
	check "OOM: the worker never got its 300 MiB" sh -c "! grep -q '^HOGGED' $_clog"
	all_removed "OOM" "$_w"

	# --- a fork bomb stops at pids.max ------------------------------------------
	sized_app S "$TEST_CHILD --log $_clog cgroup
bomb() { bomb | bomb & }
bomb
sleep 1000"
	berth_run bomb 60 --pids-max 64 --stop-timeout 2s
	wait_for $_clog '^CGROUP' 10
	_w=$(worker_cg)
	# The most processes seen over 3 s (a bomb that keeps failing to fork
	# may also collapse: a single late sample proves nothing).
	_cur=0
	for _i in $(seq 30); do
		_c=$(cat $_w/pids.current 2>/dev/null || echo 0)
		[ "$_c" -gt "$_cur" ] && _cur=$_c
		sleep 0.1
	done
	check "fork bomb held at pids.max 64 (at most $_cur processes)" \
		test "$_cur" -le 64 -a "$_cur" -gt 8
	_max=$(awk '$1 == "max" { print $2 }' $_w/pids.events 2>/dev/null)
	check "pids.events counts the refused forks ($_max)" test "${_max:-0}" -gt 0
	stop_berth
	check "fork bomb: berth stopped (exit status $RUN_RC)" test "$RUN_RC" = 0 -o "$RUN_RC" = 137
	all_removed "fork bomb" "$_w"

	# --- a busy loop under S gets 0.4 CPU -------------------------------------
	sized_app S "$TEST_CHILD --log $_clog cgroup
while :; do :; done"
	berth_run cpu 60
	wait_for $_clog '^CGROUP' 10
	_w=$(worker_cg)
	sleep 1
	_u0=$(awk '$1 == "usage_usec" { print $2 }' $_w/cpu.stat)
	_t0=$(uptime_ms)
	sleep 2
	_u1=$(awk '$1 == "usage_usec" { print $2 }' $_w/cpu.stat)
	_t1=$(uptime_ms)
	_milli=$(((_u1 - _u0) / (_t1 - _t0)))
	check "a busy loop under S uses 0.$_milli CPU (0.40: 0.20 on a loaded host, 0.50 at most)" \
		test "$_milli" -ge 200 -a "$_milli" -le 500
	stop_berth
	is "$RUN_RC" 0 "busy loop: stopped on request, exit status 0"
	all_removed "busy loop" "$_w"
}
limits_test
