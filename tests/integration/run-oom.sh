#!/bin/sh
# SPDX-License-Identifier: MIT
# An OOM kill anywhere in the worker, on this host's layout (the memory
# controller on v1 here; pure v2: tests/vm/limits.sh), unconfined and in
# the box: a child of the start script is OOM-killed while the script goes
# on to its next command.  berth logs the kill when it happens (not when
# the main process exits, which it would never do), kills the rest of the
# worker (as memory.oom.group does on v2) and restarts it; with
# --max-restarts 0 it exits 90, the status of "gave up after an OOM kill".
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
plan 14

for box in unconfined boxed; do
	: >"$CLOG"
	if [ $box = boxed ]; then
		# The boxed worker sees only the OS and its app, and cannot write
		# this test's /tmp: test-child goes into the app, logs to stdout
		# (berth's log), with the pids of its own namespace.
		RUN_BOXED=1
		cp "$TEST_CHILD" "$APP/test-child"
		chmod 0755 "$APP/test-child"
		TC=$APP/test-child L=$BLOG opts="--network none"
	else
		RUN_BOXED=0 TC="$TEST_CHILD --log $CLOG" L=$CLOG opts=
	fi
	# The hog is killed; the script goes on with a process that waits.
	write_app "$TC hog 200
exec $TC start wait"
	start_run host $opts --memory 64M --restart-min 300ms
	check "$box: the OOM kill is logged while the worker still runs" wait_for "$BLOG" \
		'killed by the OOM killer \(memory limit 64 MiB, oom_kill count 1\) in /sys/fs/cgroup/' 10
	check "$box: the rest of the worker is killed" wait_for "$BLOG" 'OOM kill: killed the worker' 5
	# The victim, when berth still sees it dying in the cgroup, is the hog
	# (boxed, test-child logs the pids of its namespace: the name only).
	hog=$(awk '$1 == "HOG" { print $3; exit }' "$L")
	[ $box = boxed ] && hog='[0-9]+'
	if grep -q 'OOM killer.*dying: ' "$BLOG"; then
		check "$box: the dying process named is the hog" \
			grep -Eq "OOM killer.*dying: $hog \(test-child\);" "$BLOG"
	else
		ok "$box: the hog was gone before berth looked: no victim named"
	fi
	# The restarted worker hogs again: its HOG line is the second (a
	# restart waits until the cgroup is empty: the first run's waiting
	# process is gone by then).
	i=0
	while [ "$(count_lines "$L" '^HOG ')" -lt 2 ] && [ $i -lt 250 ]; do
		sleep 0.02
		i=$((i + 1))
	done
	[ "$(count_lines "$L" '^HOG ')" -ge 2 ] && ok "$box: the worker restarted" ||
		not_ok "$box: no restart ($(count_lines "$L" '^HOG ') runs)"
	kill -TERM "$BERTH_PID"
	wait_run 20
	is "$RUN_RC" 0 "$box: stopped on request: exit 0"

	# Give up at once: the worker's cgroup emptied, exit 90 (not 137).
	: >"$CLOG"
	start_run host $opts --memory 64M --max-restarts 0
	wait_run 20
	is "$RUN_RC" 90 "$box: --max-restarts 0 after an OOM kill: exit 90"
done

# The watch costs nothing while idle: with the OOM notice in the epoll set
# (on v1 an eventfd), a quiet worker under a memory limit never wakes berth.
: >"$CLOG"
RUN_BOXED=0
write_app "exec $TEST_CHILD --log $CLOG start wait"
start_run host --memory 64M
wait_for "$CLOG" '^START' 10
sleep 0.3
switches() { awk '/ctxt_switches/ { n += $2 } END { print n }' "/proc/$1/status"; }
if grep -q ' - cgroup cgroup .*memory' /proc/self/mountinfo; then
	check "v1 memory: berth holds the OOM eventfd" sh -c \
		"ls -l /proc/$BERTH_PID/fd | grep -q 'anon_inode:\[eventfd\]'"
else
	check "v2 memory: berth holds memory.events" sh -c \
		"ls -l /proc/$BERTH_PID/fd | grep -q 'memory.events'"
fi
b0=$(switches "$BERTH_PID")
sleep 2
is "$(switches "$BERTH_PID")" "$b0" "an idle berth with the OOM watch does not wake up (2 s)"
kill -TERM "$BERTH_PID"
wait_run 20
[ "$T_FAILED" -eq 0 ] || dump_logs
done_testing
