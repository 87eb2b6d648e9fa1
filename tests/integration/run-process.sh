#!/bin/sh
# SPDX-License-Identifier: MIT
# `berth run`: the worker's process.  Zombies and orphans are reaped (as
# PID 1 and as subreaper); no descriptor leaks into the worker; its signal
# mask and dispositions are clean; its cwd is the app root; no terminal;
# cgroup refusal and --no-cgroup.
. "${TOP_SRCDIR:-.}/tests/integration/lib.sh"
require_root
command -v unshare >/dev/null || skip_all "unshare(1) missing"

# zombies_of PID: how many zombie children PID has.
zombies_of() {
	_z=0
	for _st in /proc/[0-9]*/stat; do
		set -- $(sed 's/^.*) //' "$_st" 2>/dev/null)
		[ "${1:-}" = Z ] && [ "${2:-}" = "$ZPARENT" ] && _z=$((_z + 1))
	done
	echo $_z
}

for mode in host pid1; do
	: >"$CLOG"
	write_app "$TEST_CHILD --log $CLOG orphans 5 zombies 3 sleep 200
$TEST_CHILD --log $CLOG start wait"
	start_run "$mode"
	wait_for "$CLOG" '^START ' 10
	sleep 0.5
	if [ "$mode" = host ]; then
		ZPARENT=$BERTH_PID
		is "$(zombies_of)" 0 "$mode: orphans and zombies reaped by berth (subreaper)"
	else
		# As PID 1 the zombies would be berth's: count them inside the
		# namespace through its /proc (no zombie may stay under pid 1).
		ns_z=$(nsenter -t "$BERTH_PID" -p -m sh -c \
			'n=0; for s in /proc/[0-9]*/stat; do set -- $(sed "s/^.*) //" $s 2>/dev/null);
			 [ "${1:-}" = Z ] && n=$((n+1)); done; echo $n' 2>/dev/null)
		is "$ns_z" 0 "$mode: no zombie left in the pid namespace"
	fi
	check "$mode: orphans were created" grep -q '^ORPHANS 5' "$CLOG"
	kill -TERM "$BERTH_PID"
	wait_run 10
	is "$RUN_RC" 0 "$mode: status 0"

	# --- a clean process ---------------------------------------------------
	: >"$CLOG"
	write_app "exec $TEST_CHILD --log $CLOG sigmask fds cwd tty start wait"
	# Started with extra descriptors (a directory, a file, a socket) and
	# with SIGHUP and SIGTERM ignored, SIGUSR1 blocked: none of it may
	# reach the worker.
	exec 7<"$TMP" 8>"$TMP/extra" 9<>/dev/null
	(
		trap '' HUP TERM
		start_run "$mode"
		echo "$RUN_PID $BERTH_PID" >"$TMP/pids"
	)
	exec 7<&- 8>&- 9<&-
	read -r RUN_PID BERTH_PID <"$TMP/pids"
	wait_for "$CLOG" '^START ' 10
	is "$(awk '$1 == "FDS" { $1 = ""; print substr($0, 2) }' "$CLOG")" "0 1 2" \
		"$mode: only fds 0, 1, 2 in the worker"
	is "$(awk '$2 == "SigBlk:" { print $3 }' "$CLOG")" 0000000000000000 "$mode: empty signal mask"
	is "$(awk '$2 == "SigIgn:" { print $3 }' "$CLOG")" 0000000000000000 \
		"$mode: no ignored signal (berth was started with HUP, TERM ignored)"
	is "$(awk '$1 == "CWD" { print $2 }' "$CLOG")" "$(cd "$APP" && pwd -P)" "$mode: cwd is the app root"
	is "$(awk '$1 == "TTY" { print $2, $3 }' "$CLOG")" "isatty0=0 devtty=no" \
		"$mode: stdin not a tty, no controlling terminal"
	check "$mode: the worker leads its own session" \
		awk '$1 == "START" && $2 == $4 && $2 == $5 { f = 1 } END { exit !f }' "$CLOG"
	kill -TERM "$BERTH_PID"
	# The background job was started in a subshell: wait by polling.
	_i=0
	while kill -0 "$RUN_PID" 2>/dev/null && [ $_i -lt 500 ]; do
		sleep 0.02
		_i=$((_i + 1))
	done
	check "$mode: berth stopped although it was started with SIGTERM ignored" \
		sh -c "! kill -0 $RUN_PID 2>/dev/null"
done

# --- idle means no wakeup ------------------------------------------------
: >"$CLOG"
write_app "exec $TEST_CHILD --log $CLOG start wait"
start_run host
wait_for "$CLOG" '^START ' 10
sleep 0.3
switches() { awk '/ctxt_switches/ { n += $2 } END { print n }' "/proc/$BERTH_PID/status"; }
before=$(switches)
sleep 2
is "$(switches)" "$before" "an idle berth does not wake up (no context switch in 2 s)"
kill -TERM "$BERTH_PID"
wait_run 10

# --- under a terminal: the worker gets none -----------------------------
if command -v script >/dev/null; then
	: >"$CLOG"
	write_app "exec $TEST_CHILD --log $CLOG tty start exit 0"
	cmd=$(run_cmd --max-restarts 0)
	export START_CMD
	script -qec "$cmd" /dev/null >"$BLOG" 2>&1 </dev/null
	is "$(awk '$1 == "TTY" { print $2, $3 }' "$CLOG")" "isatty0=0 devtty=no" \
		"under a pty: no controlling terminal, stdin not the tty"
else
	skip "under a pty: no controlling terminal, stdin not the tty" "no script(1) (bsdutils)"
fi

# --- cgroups: refusal, and --no-cgroup ----------------------------------
: >"$CLOG"
write_app "$TEST_CHILD --log $CLOG start wait"
start_run host --cgroup-parent does/not/exist
wait_run 10
is "$RUN_RC" 125 "a cgroup that cannot be created: setup failure (125)"
check "it says so, naming the path" grep -q 'does/not/exist' "$BLOG"
is "$(count_lines "$CLOG" '^START ')" 0 "nothing was started"

# A parent that exists on every hierarchy: the worker's cgroup beneath it,
# removed at the stop, the parent left as it was.
parent=berth-parent-$$
for m in $(cgroup_mounts); do
	mkdir "$m/$parent" && CLEANUP_CGROUPS="$CLEANUP_CGROUPS $m/$parent"
done
: >"$CLOG"
write_app "exec $TEST_CHILD --log $CLOG start cgroup wait"
start_run host --cgroup-parent "$parent"
wait_for "$CLOG" '^START ' 10
cgs=$(child_cgroup_dirs)
under=yes
for cg in $cgs; do
	case $cg in */$parent/berth-test-*) ;; *) under="no: $cg" ;; esac
done
check "--cgroup-parent: the worker's cgroups are beneath it ($(echo $cgs | wc -w) of them)" \
	test -n "$cgs" -a "$under" = yes
kill -TERM "$BERTH_PID"
wait_run 10
is "$RUN_RC" 0 "--cgroup-parent: stopped, status 0"
check "--cgroup-parent: the worker's cgroups removed" cgroup_gone $cgs
left=
for m in $(cgroup_mounts); do
	[ -d "$m/$parent" ] || left="$left $m/$parent (gone)"
	[ -z "$(find "$m/$parent" -mindepth 1 -type d 2>/dev/null)" ] || left="$left $m/$parent (not empty)"
done
is "${left# }" "" "--cgroup-parent: the parent left as it was"

# Not allowed to create cgroups (an unprivileged user): refused unless
# --no-cgroup, which then works.
if command -v setpriv >/dev/null; then
	chmod 755 "$TMP" "$APP"
	chmod 644 "$APP/.platform.app.yaml"
	: >"$CLOG"
	chmod 666 "$CLOG"
	asuser="setpriv --reuid=65534 --regid=65534 --clear-groups"
	mkdir -p "$TMP/state-nobody"
	chown 65534:65534 "$TMP/state-nobody"
	asuser="env BERTH_STATE_DIR=$TMP/state-nobody $asuser"
	write_app "$TEST_CHILD --log $CLOG start exit 0"
	chmod 644 "$APP/.platform.app.yaml"
	cmd=$(run_cmd --max-restarts 0)
	export START_CMD
	eval "$asuser $cmd" >"$BLOG" 2>&1 </dev/null
	is "$?" 125 "unprivileged: refused (125)"
	check "unprivileged: says so and names --no-cgroup" grep -q -- '--no-cgroup' "$BLOG"
	is "$(count_lines "$CLOG" '^START ')" 0 "unprivileged: nothing was started"
	cmd=$(run_cmd --max-restarts 0 --no-cgroup)
	eval "$asuser $cmd" >"$BLOG" 2>&1 </dev/null
	is "$?" 0 "unprivileged with --no-cgroup: runs (status of the single run)"
	is "$(count_lines "$CLOG" '^START ')" 1 "unprivileged with --no-cgroup: started"
else
	for t in "unprivileged: refused (125)" "unprivileged: says so and names --no-cgroup" \
		"unprivileged: nothing was started" \
		"unprivileged with --no-cgroup: runs (status of the single run)" \
		"unprivileged with --no-cgroup: started"; do
		skip "$t" "no setpriv(1) (util-linux)"
	done
fi

: >"$CLOG"
write_app "$TEST_CHILD --log $CLOG start ignore-term escape wait"
start_run host --no-cgroup --stop-timeout 500ms
wait_for "$CLOG" '^ESCAPE ' 10
pids="$(logged_pids START) $(logged_pids ESCAPE)"
kill -TERM "$BERTH_PID"
wait_run 10
is "$RUN_RC" 137 "--no-cgroup: SIGKILL escalation, 137"
check "--no-cgroup: the setsid() grandchild is gone too (subreaper)" all_gone $pids
check "--no-cgroup: the kill names them" grep -q 'killed 2 processes' "$BLOG"

done_testing
