#!/bin/sh
# SPDX-License-Identifier: MIT
# A berth killed with SIGKILL leaves its cgroups, possibly worker processes
# in them (a setsid grandchild under --unconfined) and, boxed, its disk on
# a loop device.  The next `berth run` of the instance removes all that
# (one "cleaned up after a dead berth" line) and starts cleanly, and once
# it stops nothing of either run is left: processes (by pid), cgroups (by
# name), loop device, instance record, mounts.  Killed while the worker
# runs, during the stop, during a restart backoff, and right after start;
# unconfined and boxed (own storage root, a disk).  A berth exec that
# joined the killed berth keeps the disk until it ends.  Two berths of one
# instance at once: the second is refused and touches nothing.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root

RUNTIME=${BERTH_RUNTIME_DIR:-/run/berth}
cleanup_runtime() {
	# the record directories of this test's project (empty once all passed)
	[ -n "${PROJECT:-}" ] && [ -d "$RUNTIME/instances/$PROJECT" ] &&
		find "$RUNTIME/instances/$PROJECT" -depth -type d -exec rmdir {} + 2>/dev/null
	cleanup
}
trap cleanup_runtime EXIT

# cgroup directories named after berth pid $1 (its instance and its leaf)
cg_dirs() {
	find /sys/fs/cgroup -maxdepth 6 -type d -name "berth-test-$1*" 2>/dev/null
}
# every pid in those directories
cg_pids() {
	for d in $(cg_dirs "$1"); do cat "$d/cgroup.procs" 2>/dev/null; done | sort -u
}
record() { ls "$RUNTIME/instances/$PROJECT"/*/app/test 2>/dev/null; }

# The worker in sh, not test-child: boxed, only the host's tree is seen
# (a build directory under /tmp is not).  "escape" leaves a grandchild in
# a session of its own that ignores SIGTERM.
ESCAPE='setsid sh -c '"'"'trap "" TERM; echo ESCAPE $$; exec sleep 1000'"'"' &'
worker() {
	case $1 in
	runs) printf 'echo START $$\n%s\nexec sleep 1000\n' "$ESCAPE" ;;
	ignore-term) printf 'trap "" TERM\necho START $$\n%s\nexec sleep 1000\n' "$ESCAPE" ;;
	exits) printf 'echo START $$\nexit 3\n' ;;
	plain) printf 'echo START $$\nexec sleep 1000\n' ;;
	esac
}
write_start() { # runs | ignore-term | exits | plain
	{
		printf 'name: app\ntype: "python:3.11"\ndisk: 64\n'
		printf 'mounts:\n  data: {source: local, source_path: data}\n'
		printf 'workers:\n  test:\n    commands:\n      start: |\n'
		worker "$1" | sed 's/^/        /'
	} >"$APP/.platform.app.yaml"
	# shellcheck disable=SC2034 # lib.sh's start_run exports it
	START_CMD=$(worker "$1")
}

box_opts() {
	[ "$RUN_BOXED" = 1 ] && echo "--storage-root $TMP/storage --network none"
}

# scenario NAME MODE WORKER RUN-OPTIONS WAIT-PATTERN [ACTION]
# Start berth, wait for WAIT-PATTERN in its log (then ACTION: "term" sends
# SIGTERM and waits for the stop), SIGKILL it; run again; stop; check.
scenario() {
	name="$1 ($2)"
	RUN_BOXED=0
	[ "$2" = boxed ] && RUN_BOXED=1
	write_start "$3"
	# shellcheck disable=SC2046,SC2086
	start_run host $(box_opts) $4
	if ! wait_for "$BLOG" "$5" 20; then
		not_ok "$name: the first berth did not get to '$5'"
		dump_logs
	fi
	if [ "${6:-}" = term ]; then
		kill -TERM "$BERTH_PID"
		wait_for "$BLOG" 'SIGTERM received: stopping' 10 ||
			not_ok "$name: the first berth did not start stopping"
	fi
	pid1=$BERTH_PID
	pids1=$(cg_pids "$pid1")
	kill -KILL "$pid1"
	wait_run 10
	cp "$BLOG" "$TMP/first.log"
	img=$(find "$TMP/storage" -name disk.img 2>/dev/null | head -n 1)

	write_start runs
	# shellcheck disable=SC2046
	start_run host $(box_opts) --stop-timeout 1s
	if wait_for "$BLOG" '^ESCAPE ' 20; then
		ok "$name: the next berth starts"
	else
		not_ok "$name: the next berth did not start"
		dump_logs
	fi
	pid2=$BERTH_PID
	pids2=$(cg_pids "$pid2")
	n=$(count_lines "$BLOG" "cleaned up after a dead berth \\(pid $pid1\\)")
	diag "$name: $(echo "$pids1" | wc -w) processes in the first berth's cgroups;" \
		"$(grep -o 'cleaned up after.*' "$BLOG")"
	if [ "${7:-}" = maybe ]; then
		if [ "$n" -le 1 ]; then ok "$name: at most one cleanup line"; else
			not_ok "$name: $n cleanup lines"
		fi
	else
		is "$n" 1 "$name: one cleanup line"
	fi
	kill -TERM "$pid2"
	wait_run 20
	# shellcheck disable=SC2086
	check "$name: no process of either run is left" all_gone $pids1 $pids2 $pid1 $pid2
	is "$(cg_dirs "$pid1") $(cg_dirs "$pid2")" " " "$name: no cgroup of either berth is left"
	is "$(record)" "" "$name: no instance record is left"
	if [ -n "$img" ]; then
		is "$(losetup -j "$img")" "" "$name: no loop device of the image is left"
	fi
	is "$(grep -cF "$TMP" /proc/self/mountinfo)" 0 "$name: nothing of the test is mounted"
}

# the project (the record's first key) comes from this test's state dir
write_start exits
# (spec creates the state; show only reads it)
"$BERTH" -f "$APP/.platform.app.yaml" spec --no-prepare -o /dev/null test >/dev/null 2>&1
PROJECT=$(sed -n 's/.*"project": *"\([^"]*\)".*/\1/p' "$TMP/state/project.json")
[ -n "$PROJECT" ] || skip_all "no project in $TMP/state/project.json"

for mode in unconfined boxed; do
	scenario "killed while the worker runs" $mode runs "" '^ESCAPE '
	scenario "killed during the stop" $mode ignore-term "--stop-timeout 60s" '^ESCAPE ' term
	scenario "killed during a restart backoff" $mode exits \
		"--restart-min 3s --restart-max 3s" 'restarting in'
	scenario "killed right after start" $mode runs "" '.' "" maybe
done

# A berth exec joined the berth that is killed: it still mounts the disk,
# so the next berth run removes the dead one's cgroups, says the disk is
# still attached and is refused by the storage; once the exec ends, the
# run starts.
RUN_BOXED=1
write_start plain
# shellcheck disable=SC2046
start_run host $(box_opts)
wait_for "$BLOG" '^START ' 20 || not_ok "exec: the run did not start"
run1=$BERTH_PID
# shellcheck disable=SC2046
"$BERTH" -f "$APP/.platform.app.yaml" exec --storage-root "$TMP/storage" test -- \
	sleep 1000 >"$TMP/exec.log" 2>&1 </dev/null &
exec_pid=$!
STARTED_PIDS="$STARTED_PIDS $exec_pid"
sleep 1
kill -KILL "$run1"
wait_run 10
# shellcheck disable=SC2046
"$BERTH" -f "$APP/.platform.app.yaml" run $(box_opts) test >"$TMP/next.log" 2>&1 </dev/null
is "$?" 125 "exec: the next run is refused while the exec mounts the disk"
check "exec: it removed the dead berth's cgroups and says the disk is in use" \
	grep -q "cleaned up after a dead berth (pid $run1): .*removed 4 cgroups, its disk /dev/loop[0-9]* is still attached" "$TMP/next.log"
check "exec: the storage names berth exec" grep -q 'is still in use (by a berth exec' "$TMP/next.log"
is "$(cg_dirs "$run1")" "" "exec: no cgroup of the dead berth is left"
kill -TERM "$exec_pid"
wait "$exec_pid"
# shellcheck disable=SC2046
start_run host $(box_opts)
if wait_for "$BLOG" '^START ' 20; then ok "exec: once it ended, the run starts"; else
	not_ok "exec: the run did not start after the exec ended"
fi
kill -TERM "$BERTH_PID"
wait_run 20
is "$RUN_RC" 0 "exec: and stops normally"
is "$(losetup -j "$img")" "" "exec: no loop device of the image is left"

# Two at once: the second is refused, the first goes on untouched.
RUN_BOXED=1
write_start plain
# shellcheck disable=SC2046
start_run host $(box_opts)
wait_for "$BLOG" '^START ' 20 || not_ok "two at once: the first did not start"
first=$BERTH_PID
rec=$(cat "$(record)")
dirs=$(cg_dirs "$first")
# shellcheck disable=SC2046
"$BERTH" -f "$APP/.platform.app.yaml" run $(box_opts) test >"$TMP/second.log" 2>&1 </dev/null
is "$?" 125 "two at once: the second exits 125"
is "$(grep -c 'is already run by another berth (pid '"$first"')' "$TMP/second.log")" 1 \
	"two at once: one clear line naming the first"
is "$(grep -c 'error' "$TMP/second.log")" 1 "two at once: and no other error"
is "$(cat "$(record)")" "$rec" "two at once: the record is the first's, unchanged"
is "$(cg_dirs "$first")" "$dirs" "two at once: the first's cgroups are there"
check "two at once: the first berth still runs" kill -0 "$first"
kill -TERM "$first"
wait_run 20
is "$RUN_RC" 0 "two at once: the first stops normally"
is "$(record)" "" "two at once: no record left"
# A runtime directory on a read-only filesystem (a container's read-only
# root): one warning, and the worker runs without a record.
mkdir "$TMP/rorun"
write_start exits
# shellcheck disable=SC2016 # expanded by the inner sh
BERTH_RUNTIME_DIR=$TMP/rorun/berth unshare -m sh -c \
	'mount -t tmpfs -o ro berth-test "$1" && shift && exec "$@"' sh "$TMP/rorun" \
	"$BERTH" -f "$APP/.platform.app.yaml" run --unconfined --max-restarts 0 test \
	>"$TMP/ro.log" 2>&1 </dev/null
is "$?" 3 "read-only runtime directory: the worker runs (its exit status)"
is "$(grep -c 'is on a read-only filesystem: no instance record' "$TMP/ro.log")" 1 \
	"read-only runtime directory: one warning"
done_testing
