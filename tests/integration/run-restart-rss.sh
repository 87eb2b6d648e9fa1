#!/bin/sh
# SPDX-License-Identifier: MIT
# `berth run` does not grow per restart: a worker that exits at once is
# restarted every millisecond; berth's VmRSS after ~2500 restarts is within
# 64 KiB of what it was after ~500 (warmed up), and it holds as many fds.
# It grew by ~340 bytes per restart: a 1 MiB file buffer freed into the
# heap, walked through by each restart's short-lived allocations.
# Unconfined, then with the box (mount view, network namespace none, hosts
# file, user, Landlock, filter), which adds per-start work.  The app has a
# service (relationships): its services.yaml is a second file berth reads.
. "${TOP_SRCDIR:-.}/tests/integration/lib.sh"
require_root

# Under AddressSanitizer freed memory waits in a quarantine (RSS grows
# until it is full): without it, what grows is memory berth still holds,
# once ASan's own allocator has warmed up (its RSS levels off after about
# 3000 restarts, measured, though runs grew by 168 and 360 KiB after
# that).  The bound there is 480 KiB, below what the leak this test was
# written for grew by over 2000 restarts (680 KiB); the normal build keeps
# 64.
WARM=500
BOUND=64
if [ -n "${ASAN_OPTIONS:-}" ]; then
	ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=0"
	export ASAN_OPTIONS
	WARM=3000
	BOUND=480
fi

mkdir -p "$APP/.platform"
printf 'mysqldb:\n  type: mariadb:10.6\n' >"$APP/.platform/services.yaml"

restarts() { count_lines "$BLOG" 'restarting in'; }

# wait_restarts N: until berth logged N restarts (60 s at most).
wait_restarts() {
	_i=0
	while [ "$(restarts)" -lt "$1" ] && [ $_i -lt 3000 ]; do
		sleep 0.02
		_i=$((_i + 1))
	done
	[ "$(restarts)" -ge "$1" ]
}

# sample: "RSS_KIB FDS", each the least of 40 looks (a pidfd or pipe of a
# start in flight comes and goes; a boxed start is slow enough that a few
# looks may all fall inside one).
sample() {
	_rss=
	_fds=
	for _k in $(seq 40); do
		_r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$BERTH_PID/status")
		_f=$(ls "/proc/$BERTH_PID/fd" | wc -l)
		[ -z "$_rss" ] || [ "$_r" -lt "$_rss" ] && _rss=$_r
		[ -z "$_fds" ] || [ "$_f" -lt "$_fds" ] && _fds=$_f
		sleep 0.01
	done
	echo "$_rss $_fds"
}

for box in 0 1; do
	RUN_BOXED=$box
	name=unconfined
	opts=
	if [ $box = 1 ]; then
		name=boxed
		opts="--network none"
	fi
	{
		printf 'name: app\ntype: "python:3.11"\n'
		printf 'relationships:\n  database: "mysqldb:mysql"\n'
		printf 'workers:\n  test:\n    commands:\n      start: |\n        exit 0\n'
	} >"$APP/.platform.app.yaml"
	# shellcheck disable=SC2086
	start_run host --restart-min 1ms --restart-max 1ms $opts
	if ! wait_restarts $WARM; then
		not_ok "$name: $WARM restarts within 60 s (got $(restarts))"
		dump_logs
		kill -TERM "$BERTH_PID"
		wait_run 20
		continue
	fi
	set -- $(sample)
	rss0=$1 fds0=$2
	n0=$(restarts)
	wait_restarts $((n0 + 2000))
	set -- $(sample)
	rss1=$1 fds1=$2
	n1=$(restarts)
	kill -TERM "$BERTH_PID"
	wait_run 20
	is "$RUN_RC" 0 "$name: stopped, status 0"
	diag "$name: VmRSS ${rss0} KiB after $n0 restarts, ${rss1} KiB after $n1; fds $fds0, $fds1"
	check "$name: at least 2000 restarts between the samples ($((n1 - n0)))" \
		test $((n1 - n0)) -ge 2000
	check "$name: VmRSS grew by at most $BOUND KiB ($((rss1 - rss0)) KiB)" \
		test $((rss1 - rss0)) -le $BOUND
	# a leak per restart is 2000 more; a start in flight in every look is
	# at most the two of that start (its pidfd and error pipe)
	check "$name: no more fds after 2000 more restarts ($fds0, then $fds1)" \
		test "$fds1" -le $((fds0 + 2))
done
RUN_BOXED=0

done_testing
