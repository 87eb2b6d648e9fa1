#!/bin/sh
# SPDX-License-Identifier: MIT
# Supervision with the whole box (the worker in its own PID, IPC and UTS
# namespaces under berth-init, as nobody, with the syscall filter): the
# promises of the --unconfined run-*.sh tests hold there too, and nothing
# of the worker outlives a SIGKILLed berth, by hand or as PID 1.
#
# The boxed worker cannot write to this test's /tmp: test-child logs to
# stdout, which is berth's log ($BLOG); its pids there are those of its
# own namespace, so host pids come from berth's process tree.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
RUN_BOXED=1
# The box shows the worker the OS and its app only: test-child goes into
# the app (beneath this test's /tmp, which the view binds again).
cp "$TEST_CHILD" "$APP/test-child"
chmod 0755 "$APP/test-child"
TEST_CHILD=$APP/test-child

# Every descendant of pid (host pids), berth-init and its orphans included.
descendants() {
	for _c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$_c"
		descendants "$_c"
	done
}

# wait_starts N: until test-child has logged N starts (5 s at most).
wait_starts() {
	for _i in $(seq 250); do
		[ "$(grep -c '^START ' "$BLOG")" -ge "$1" ] && break
		sleep 0.02
	done
}

# The child of berth named berth-init.
init_of() {
	for _c in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
		[ "$(cat "/proc/$_c/comm" 2>/dev/null)" = berth-init ] && echo "$_c"
	done
}

# Has pid exited?  Gone, a zombie, or in its exit with its memory released:
# berth-init's exit waits in the kernel until the zombie of the worker's
# main process, reparented to the host's init, is reaped there.
exited() {
	[ -n "$1" ] && ! grep -q '^VmRSS' "/proc/$1/status" 2>/dev/null
}

# The cgroup directories of pid (those named berth-*), one per line.
cgroup_dirs_of() {
	awk -F: '$3 ~ /\/berth-/ {
		ctl = $2; sub(/^name=/, "", ctl); if (ctl == "") ctl = "unified"
		print ctl ":" $3 }' "/proc/$1/cgroup" 2>/dev/null |
		while IFS=: read -r _ctl _path; do
			if [ -d "/sys/fs/cgroup/$_ctl$_path" ]; then
				echo "/sys/fs/cgroup/$_ctl$_path"
			elif [ "$_ctl" = unified ] && [ -d "/sys/fs/cgroup$_path" ]; then
				echo "/sys/fs/cgroup$_path"
			fi
		done
}

# A dead berth's cgroups (the next `berth run` does not remove them yet):
# kill what is left in them (a failure already), then rmdir, deepest first.
remove_cgroups() {
	for _d in "$@"; do
		for _p in $(cat "$_d/cgroup.procs" 2>/dev/null); do kill -KILL "$_p"; done
	done
	for _d in $(printf '%s\n' "$@" | sort -ru); do
		# up to 10 s: on a loaded machine a v1 hierarchy may refuse the
		# rmdir for a while after the last process of it is gone
		for _i in $(seq 500); do
			[ -d "$_d" ] || break
			rmdir "$_d" 2>/dev/null && break
			sleep 0.02
		done
	done
}

# --- nothing outlives a SIGKILLed berth ----------------------------------
# A plain child, a setsid grandchild, a double-forked daemon (test-child
# escape), and the start command itself.
write_app "sleep 1000 &
setsid sleep 1000 &
$TEST_CHILD escape start wait"
for mode in host pid1; do
	: >"$BLOG"
	start_run "$mode" --network none
	wait_for "$BLOG" '^ESCAPE ' 20 || { not_ok "$mode: the worker did not start"; dump_logs; }
	sleep 0.2
	pids=$(descendants "$BERTH_PID")
	init=$(init_of "$BERTH_PID")
	main=$(sed -n 's/.*started worker process \([0-9]*\).*/\1/p' "$BLOG" | head -n 1)
	# the cgroups berth made, from its instance record (as PID 1 the
	# logged pid is one of berth's own namespace, not the host's)
	proj=$(sed -n 's/.*"project": *"\([^"]*\)".*/\1/p' "$BERTH_STATE_DIR/project.json")
	record=$(ls "${BERTH_RUNTIME_DIR:-/run/berth}/instances/$proj"/*/app/test 2>/dev/null)
	dirs=$( (awk '$1 == "cgroup" { print $2 }' $record; cgroup_dirs_of "$main") | sort -u)
	check "$mode: berth recorded its cgroups ($(echo $dirs))" test -n "$dirs"
	n=$(echo "$pids" | grep -c .)
	check "$mode: berth-init and the worker's 5 processes are berth's descendants ($n)" \
		test -n "$init" -a "$n" -ge 6
	kill -KILL "$BERTH_PID"
	t0=$(now_ms)
	workers=$(echo "$pids" | grep -vx "${init:-none}")
	while ! { all_gone $workers && exited "$init"; } && [ $(($(now_ms) - t0)) -lt 1000 ]; do
		sleep 0.02
	done
	if all_gone $workers; then
		ok "$mode: SIGKILLed berth: the worker's processes gone in $(($(now_ms) - t0)) ms"
	else
		left=
		for p in $workers; do all_gone "$p" || left="$left $p ($(cat /proc/$p/comm))"; done
		not_ok "$mode: SIGKILLed berth: still alive after 1 s:$left"
		diag "$(ps -o pid,ppid,stat,wchan:30,comm -p "$(echo $pids $main | tr ' ' ,)")"
		for p in $workers; do kill -KILL "$p" 2>/dev/null; done
	fi
	check "$mode: and berth-init has exited" exited "$init"
	wait_run 10
	remove_cgroups $dirs
	check "$mode: the dead berth's cgroups removed by the test" cgroup_gone $dirs
	# and its instance record (run-dead-berth.sh tests the next run's cleanup)
	[ -n "$proj" ] && rm -rf "${BERTH_RUNTIME_DIR:-/run/berth}/instances/$proj"
done

# --- the stop signal reaches the program behind dash, exit 0 -------------
# sh -c does not exec the last command: the program gets the stop signal
# through the process group; its exit by SIGTERM within the timeout is 0.
write_app "$TEST_CHILD start wait
echo after"
: >"$BLOG"
start_run host --network none
wait_for "$BLOG" '^START ' 20 || { not_ok "the worker did not start"; dump_logs; }
init=$(init_of "$BERTH_PID")

# --- idle: no wakeup of berth or berth-init ------------------------------
switches() { awk '/ctxt_switches/ { n += $2 } END { print n }' "/proc/$1/status"; }
sleep 0.3
b0=$(switches "$BERTH_PID")
i0=$(switches "${init:-none}")
sleep 2
is "$(switches "$BERTH_PID")" "$b0" "an idle berth does not wake up (2 s)"
check "an idle berth-init does not wake up (2 s)" test -n "$init" -a "$(switches "${init:-none}")" = "$i0"

# --- relayed signals reach the program; restart after its exit -----------
kill -USR1 "$BERTH_PID"
wait_for "$BLOG" '^SIG 10 ' 10
check "SIGUSR1 relayed to the program behind sh" grep -q '^SIG 10 ' "$BLOG"
kill -HUP "$BERTH_PID"
wait_for "$BLOG" '^SIG 1 ' 10
check "SIGHUP relayed to the program behind sh" grep -q '^SIG 1 ' "$BLOG"
# test-child ends by SIGHUP, sh goes on with "echo after" and exits 0:
# the worker is started again, in the same namespaces.
wait_starts 2
is "$(grep -c '^START ' "$BLOG")" 2 "the worker was started again after its exit"
check "the restarted worker has the same berth-init" test -n "$init" -a "$(init_of "$BERTH_PID")" = "$init"
sleep 0.2
kill -TERM "$BERTH_PID"
wait_run 20
is "$RUN_RC" 0 "stopped in time: exit 0"
check "SIGTERM reached the program behind sh" grep -q '^SIG 15 ' "$BLOG"
check "stopped in under 5 s ($RUN_MS ms)" test "$RUN_MS" -lt 5000
check "berth-init is gone with berth" sh -c "[ -n '$init' ] && [ ! -e /proc/$init ]"

# --- berth-init killed on the host: the worker goes, both come back --------
write_app "$TEST_CHILD start wait"
: >"$BLOG"
start_run host --network none
wait_for "$BLOG" '^START ' 20 || { not_ok "the worker did not start"; dump_logs; }
init=$(init_of "$BERTH_PID")
kill -KILL "${init:-none}"
wait_for "$BLOG" 'berth-init \(process [0-9]+\) died' 10
check "berth-init's death is logged" grep -q "berth-init (process ${init:-none}) died" "$BLOG"
wait_starts 2
is "$(grep -c '^START ' "$BLOG")" 2 "the worker, killed with it, was started again"
new_init=$(init_of "$BERTH_PID")
check "in a new berth-init ($new_init)" test -n "$new_init" -a "$new_init" != "$init"
kill -TERM "$BERTH_PID"
wait_run 20
is "$RUN_RC" 0 "and stopped on request: exit 0"

# --- the worker cannot kill berth-init, even as uid 0 ----------------------
# The kernel drops a signal to a namespace's init that has no handler for
# it when it comes from inside the namespace, SIGKILL included (kill(2)
# returns 0); with Landlock ABI >= 6 the worker's domain refuses a signal
# to a process outside it (EPERM) before that.
write_app 'kill -KILL 1; kill -TERM 1; kill -USR1 1; kill -s RTMIN+3 1
echo "SENT $?"
exec sleep 1000'
: >"$BLOG"
start_run host --network none --user 0
wait_for "$BLOG" '^SENT ' 20 || { not_ok "the uid 0 worker did not start"; dump_logs; }
init=$(init_of "$BERTH_PID")
sleep 0.2
sent=$(awk '$1 == "SENT" { print $2 }' "$BLOG")
if [ "$(berth_landlock_scoped)" = yes ]; then
	is "$sent" 1 "uid 0 worker: kill 1 refused (Landlock signal scope)"
else
	is "$sent" 0 "uid 0 worker: kill 1 returns 0 (the kernel drops it)"
fi
check "uid 0 worker: berth-init survives SIGKILL, SIGTERM, SIGUSR1, SIGRTMIN+3" \
	sh -c "[ -n '$init' ] && kill -0 $init && ! grep -q 'berth-init.*died' '$BLOG'"
check "and has no signal pending" sh -c "grep -q '^ShdPnd:.0*\$' /proc/${init:-none}/status &&
	grep -q '^SigPnd:.0*\$' /proc/${init:-none}/status"
kill -TERM "$BERTH_PID"
wait_run 20

# --- a TERM-ignoring tree with setsid grandchildren: gone at the deadline -
write_app "$TEST_CHILD ignore-term escape escape start wait"
: >"$BLOG"
start_run host --network none --stop-timeout 500ms
wait_for "$BLOG" '^START ' 20 || { not_ok "the tree did not start"; dump_logs; }
sleep 0.2
pids=$(descendants "$BERTH_PID")
kill -TERM "$BERTH_PID"
wait_run 20
is "$RUN_RC" 137 "escalated to SIGKILL: exit 137"
check "killed at the deadline ($RUN_MS ms)" test "$RUN_MS" -ge 500 -a "$RUN_MS" -lt 5000
check "the deadline line names the kill" grep -q 'stop timeout (500 ms) reached: killed' "$BLOG"
check "nothing of the tree is left" all_gone $pids

# --- --no-cgroup: the orphans under berth-init are still the worker's ----
# The escaped daemon is berth-init's child: in the tree that is signalled
# and killed at the deadline; berth-init itself is not (it would take the
# namespace along and be reported as dead).
write_app "$TEST_CHILD escape start wait"
: >"$BLOG"
start_run host --network none --no-cgroup --stop-timeout 500ms
wait_for "$BLOG" '^ESCAPE ' 20 || { not_ok "--no-cgroup: the worker did not start"; dump_logs; }
sleep 0.2
init=$(init_of "$BERTH_PID")
orphans=$(cat "/proc/${init:-none}/task/${init:-none}/children" 2>/dev/null)
check "--no-cgroup: the daemon is berth-init's child" test -n "$orphans"
kill -TERM "$BERTH_PID"
wait_run 20
is "$RUN_RC" 137 "--no-cgroup: the TERM-ignoring daemon escalated: exit 137"
check "--no-cgroup: the deadline killed the daemon" grep -q 'reached: killed 1 processes' "$BLOG"
check "--no-cgroup: berth-init did not die before berth" sh -c "! grep -q 'berth-init.*died' '$BLOG'"
check "--no-cgroup: nothing is left" all_gone $orphans "${init:-none}"

# --- --no-cgroup: the stop ends when the last leftover does ---------------
# SIGTERM ends the start command's shell at once; its child, berth-init's
# then, takes 0.3 s to finish.  Its exit wakes nothing of berth's own
# (berth-init reaps it): berth watches it and exits then, not at 5 s.
write_app "sh -c 'trap \"sleep 0.3; echo CHILD DONE; exit 0\" TERM; echo READY; while :; do sleep 1 & wait \$!; done'"
: >"$BLOG"
start_run host --network none --no-cgroup --stop-timeout 5s
wait_for "$BLOG" '^READY' 20 || { not_ok "--no-cgroup: the nested worker did not start"; dump_logs; }
t0=$(now_ms)
kill -TERM "$BERTH_PID"
wait_run 20
ms=$(($(now_ms) - t0))
is "$RUN_RC" 0 "--no-cgroup: stopped in time: exit 0"
check "--no-cgroup: the stop ended with the shell's child ($ms ms), not at the deadline" \
	sh -c "grep -q '^CHILD DONE' '$BLOG' && [ $ms -lt 2500 ]"

done_testing
