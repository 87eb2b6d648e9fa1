# SPDX-License-Identifier: MIT
# Sourced by tests/vm/init: a berth killed with SIGKILL on pure cgroup v2.
# berth runs alone in a delegated service cgroup, so it sits in its
# supervisor leaf and has enabled memory, cpu and pids in the service's
# subtree_control; killed, it leaves the worker's cgroup (with a setsid()
# grandchild in it), the leaf and those controllers.  The next berth of
# the instance, started from another service, removes the three and says
# so in one line; the first service is then as it was.

dead_test() {
	_app=/tmp/dead-app _clog=/tmp/dead-child.log
	mkdir -p $_app
	: >$_clog
	printf 'name: app\ntype: "python:3.11"\nworkers:\n  test:\n    commands:\n      start: |\n        %s\n' \
		"$TEST_CHILD --log $_clog start cgroup escape wait" >$_app/.platform.app.yaml
	set -- $BERTH -f $_app/.platform.app.yaml --state-dir /run/berth run --unconfined \
		--stop-timeout 1s test
	_svc1=$(service berth-dead1) && _svc2=$(service berth-dead2) || {
		not_ok "dead: service cgroups"
		return
	}
	run_alone "$_svc1" 30 "$@" >/tmp/berth-dead1.log 2>&1
	_first=$RUN_PID
	if ! wait_for $_clog '^ESCAPE ' 10; then
		not_ok "dead: the first worker started"
		diag </tmp/berth-dead1.log
		kill -KILL $RUN_PID
		wait_alone
		return
	fi
	_cg=$(awk '$1 == "CGROUP" { sub(/^0::/, "", $2); print $2 }' $_clog)
	_pids="$(awk '$1 == "START" || $1 == "ESCAPE" { print $2 }' $_clog)"
	check "dead: the first berth sits in its supervisor leaf" \
		grep -qx $_first $CG$_cg-supervisor/cgroup.procs
	kill -KILL $_first
	wait_alone
	check "dead: the killed berth left its cgroups and controllers" \
		test -d $CG$_cg -a -d $CG$_cg-supervisor -a -n "$(cat $_svc1/cgroup.subtree_control)"
	: >$_clog
	run_alone "$_svc2" 30 "$@" >/tmp/berth-dead2.log 2>&1
	if wait_for $_clog '^ESCAPE ' 10; then ok "dead: the next berth starts"; else
		not_ok "dead: the next berth did not start"
		diag </tmp/berth-dead2.log
	fi
	check "dead: one line says what it removed" grep -Eq \
		"cleaned up after a dead berth \\(pid $_first\\): killed [1-9][0-9]* process(es)?, removed 2 cgroups" \
		/tmp/berth-dead2.log
	check "dead: the first worker's processes are gone" all_gone $_pids
	check "dead: the first service is as it was (no cgroup, no controller)" service_clean $_svc1
	_pids="$(awk '$1 == "START" || $1 == "ESCAPE" { print $2 }' $_clog)"
	kill -TERM $RUN_PID
	wait_alone
	check "dead: the next berth stops (exit status $RUN_RC)" test "$RUN_RC" = 137
	check "dead: its processes are gone" all_gone $_pids
	check "dead: the second service is as it was" service_clean $_svc2
	check "dead: no instance record is left" test -z "$(find /run/berth/instances -type f)"
	rmdir $_svc1 $_svc2
}
dead_test
