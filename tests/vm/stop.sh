# SPDX-License-Identifier: MIT
# Sourced by tests/vm/init: the stop of a worker on pure cgroup v2.  berth
# runs alone in a delegated service cgroup, as under systemd; the worker
# ignores SIGTERM and has a setsid() grandchild.  On SIGTERM to berth both
# are SIGKILLed at the 1 s deadline (exit status 137), and the worker's
# cgroup, berth's supervisor leaf and the controllers berth enabled are gone.
#
# `berth -f APP run --stop-timeout 1s test` is the command under test: a
# berth without `run` is a failure, never a stand-in.

stop_test() {
	_app=/tmp/app _clog=/tmp/child.log
	mkdir -p $_app
	: >$_clog
	_start="$TEST_CHILD --log $_clog start cgroup ignore-term escape wait"
	printf 'name: app\ntype: "python:3.11"\nworkers:\n  test:\n    commands:\n      start: |\n        %s\n' \
		"$_start" >$_app/.platform.app.yaml
	if ! $BERTH run --help >/dev/null 2>&1; then
		not_ok "stop: berth has a run command"
		return
	fi
	_how="berth run"
	set -- $BERTH -f $_app/.platform.app.yaml --state-dir /run/berth run --unconfined --stop-timeout 1s test
	_svc=$(service berth-stop) || {
		not_ok "stop: service cgroup"
		return
	}
	run_alone "$_svc" 30 "$@" >/tmp/berth-stop.log 2>&1
	if ! wait_for $_clog '^ESCAPE ' 10; then
		not_ok "stop ($_how): the worker started"
		diag </tmp/berth-stop.log
		kill -KILL $RUN_PID
		wait_alone
		return
	fi
	_cg=$(awk '$1 == "CGROUP" { sub(/^0::/, "", $2); print $2 }' $_clog)
	_pids="$(awk '$1 == "START" || $1 == "ESCAPE" { print $2 }' $_clog)"
	case $_cg in
	/system.slice/berth-stop.service/?*) ok "stop ($_how): the worker runs in $_cg" ;;
	*) not_ok "stop ($_how): the worker runs in '$_cg', not beneath its service" ;;
	esac
	check "stop ($_how): memory, cpu and pids enabled for the worker's cgroup" \
		test -f $CG$_cg/memory.max -a -f $CG$_cg/cpu.max -a -f $CG$_cg/pids.max
	check "stop ($_how): berth moved itself into $_cg-supervisor" \
		grep -qx $RUN_PID $CG$_cg-supervisor/cgroup.procs
	_t0=$(uptime_ms)
	kill -TERM $RUN_PID
	wait_alone
	_el=$(($(uptime_ms) - _t0))
	if [ "$RUN_RC" = 137 ]; then ok "stop ($_how): exit status 137 after the SIGKILL"; else
		not_ok "stop ($_how): exit status $RUN_RC, want 137"
		diag </tmp/berth-stop.log
	fi
	check "stop ($_how): killed at the 1 s deadline (${_el} ms)" \
		test "$_el" -ge 950 -a "$_el" -lt 2000
	check "stop ($_how): the TERM-ignoring worker and its setsid() grandchild are gone" \
		all_gone $_pids
	check "stop ($_how): the worker's cgroup and the supervisor leaf are removed" \
		test ! -e $CG$_cg -a ! -e $CG$_cg-supervisor
	check "stop ($_how): the service cgroup is left as it was" service_clean $_svc
	rmdir $_svc
}
stop_test

# The same stop with the worker in its own PID, IPC and UTS namespaces
# (run-driver --hostname: berth-init without the rest of the box, which
# needs more of a system than this VM has): berth-init sits with berth in
# its supervisor leaf, not in the worker's cgroup, and goes before the
# leaf is removed.  test-child's pids are those of its namespace: the
# worker's host pids come from its cgroup.
stop_ns_test() {
	_app=/tmp/app-ns _clog=/tmp/child-ns.log
	mkdir -p $_app
	: >$_clog
	_start="$TEST_CHILD --log $_clog start cgroup ignore-term escape wait"
	_svc=$(service berth-stop-ns) || {
		not_ok "stop, namespaces: service cgroup"
		return
	}
	run_alone "$_svc" 30 $RUN_DRIVER --hostname app--test --stop-timeout 1s $_app "$_start" \
		>/tmp/berth-stop-ns.log 2>&1
	if ! wait_for $_clog '^ESCAPE ' 10; then
		not_ok "stop, namespaces: the worker started"
		diag </tmp/berth-stop-ns.log
		kill -KILL $RUN_PID
		wait_alone
		return
	fi
	_cg=$(awk '$1 == "CGROUP" { sub(/^0::/, "", $2); print $2 }' $_clog)
	_init=
	for _c in $(cat /proc/$RUN_PID/task/$RUN_PID/children); do
		[ "$(cat /proc/$_c/comm)" = berth-init ] && _init=$_c
	done
	_pids=$(cat $CG$_cg/cgroup.procs)
	_nspid=$(awk '$1 == "START" { print $2 }' $_clog)
	check "stop, namespaces: the worker has a pid of its namespace ($_nspid)" \
		test "${_nspid:-99}" -le 10
	check "stop, namespaces: berth-init ($_init) is in berth's supervisor leaf" \
		grep -qx "${_init:-none}" $CG$_cg-supervisor/cgroup.procs
	check "stop, namespaces: berth-init is not in the worker's cgroup" \
		sh -c "! grep -qx '${_init:-none}' $CG$_cg/cgroup.procs"
	kill -TERM $RUN_PID
	wait_alone
	if [ "$RUN_RC" = 137 ]; then ok "stop, namespaces: exit status 137 after the SIGKILL"; else
		not_ok "stop, namespaces: exit status $RUN_RC, want 137"
		diag </tmp/berth-stop-ns.log
	fi
	check "stop, namespaces: the worker, its grandchild and berth-init are gone" \
		all_gone $_pids ${_init:-none}
	check "stop, namespaces: the worker's cgroup and the supervisor leaf are removed" \
		test -n "$_cg" -a ! -e "$CG$_cg" -a ! -e "$CG$_cg-supervisor"
	check "stop, namespaces: the service cgroup is left as it was" service_clean $_svc
	rmdir $_svc
}
stop_ns_test
