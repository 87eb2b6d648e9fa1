#!/bin/sh
# SPDX-License-Identifier: MIT
# Limits from `size` on this host's hierarchy (v1 controllers here; the
# pure v2 run is tests/integration/vm-cgroup2.sh): the values in the cgroup
# files are the table's, a worker allocating past its memory limit is
# OOM-killed, reported and restarted, a fork bomb stops at the pids limit
# (pids.current and cgroup.procs), a busy loop under S uses about 0.4
# CPU (from the cgroup's own CPU accounting), and the cgroups are gone after.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
plan 14

# write_sized_app SIZE START_COMMAND
write_sized_app() {
	{
		printf 'name: app\ntype: "python:3.11"\nworkers:\n  test:\n    size: %s\n' "$1"
		printf '    commands:\n      start: |\n'
		printf '%s\n' "$2" | sed 's/^/        /'
	} >"$APP/.platform.app.yaml"
	START_CMD=$2
}

# cg_file CTL FILE: the worker's cgroup file in hierarchy CTL ("" = cgroup2),
# wherever this host mounts it.
cg_file() {
	_l=$(awk -v c="$1" '$1 == "CGROUP" { split($2, a, ":"); n = split(a[2], k, ",")
		for (i = 1; i <= n; i++) if (k[i] == c) { print $2; exit }
		if (c == "" && a[1] == "0") { print $2; exit } }' "$CLOG")
	echo "$(cgroup_dir "$_l")/$2"
}

# --- values and OOM ----------------------------------------------------------
write_sized_app S "exec $TEST_CHILD --log $CLOG start cgroup sleep 300 hog 300 wait"
start_run host
wait_for "$CLOG" '^HOG' 10
is "$(cat "$(cg_file memory memory.limit_in_bytes)")" 134217728 "S: memory.limit_in_bytes is 128 MiB"
if [ -e "$(cg_file memory memory.memsw.limit_in_bytes)" ]; then
	is "$(cat "$(cg_file memory memory.memsw.limit_in_bytes)")" 134217728 "S: memsw = memory (no swap)"
else
	is "$(cat "$(cg_file memory memory.swappiness)")" 0 "S: no swap accounting here, swappiness 0"
fi
is "$(cat "$(cg_file cpu cpu.cfs_quota_us)") $(cat "$(cg_file cpu cpu.cfs_period_us)")" \
	"40000 100000" "S: 0.40 CPU = 40 ms per 100 ms"
is "$(cat "$(cg_file pids pids.max)")" 4096 "default pids.max 4096"
check "OOM kill reported with limit and count" wait_for "$BLOG" \
	'killed by the OOM killer \(memory limit 128 MiB, oom_kill count 1\)' 10
check "restarted after the OOM kill" wait_for "$BLOG" 'restarting in' 5
i=0
while [ "$(count_lines "$CLOG" '^START')" -lt 2 ] && [ $i -lt 250 ]; do
	sleep 0.02
	i=$((i + 1))
done
[ "$(count_lines "$CLOG" '^START')" -ge 2 ] && ok "the worker ran again" || not_ok "no second run"
check "and was OOM-killed again (count 2)" wait_for "$BLOG" 'oom_kill count 2' 10
dirs=$(child_cgroup_dirs)
kill -TERM "$BERTH_PID"
wait_run 20
is "$RUN_RC" 0 "stopped on request: exit 0"
cgroup_gone $dirs && ok "cgroups removed" || not_ok "cgroups left: $dirs"

# --- fork bomb ------------------------------------------------------------------
: >"$CLOG"
write_sized_app S "$TEST_CHILD --log $CLOG cgroup
bomb() { bomb | bomb & }
bomb
sleep 1000"
start_run host --pids-max 64
wait_for "$CLOG" '^CGROUP' 10
# The bomb keeps forking and failing: sample pids.current for 3 s, keep the
# peak, and read how often the limit refused a fork (pids.events "max").
# The processes in the worker's cgroup are counted too, from cgroup.procs
# (membership, not the pids controller's own count).
peak=0
procs=0
i=0
while [ $i -lt 60 ]; do
	cur=$(cat "$(cg_file pids pids.current)" 2>/dev/null || echo 0)
	[ "$cur" -gt "$peak" ] && peak=$cur
	cur=$(wc -l <"$(cg_file "" cgroup.procs)" 2>/dev/null || echo 0)
	[ "$cur" -gt "$procs" ] && procs=$cur
	sleep 0.05
	i=$((i + 1))
done
refused=$(awk '$1 == "max" { print $2 }' "$(cg_file pids pids.events)" 2>/dev/null)
[ "$peak" -le 64 ] && [ "${refused:-0}" -gt 0 ] &&
	ok "fork bomb held at pids.max 64 (peak $peak, $refused forks refused)" ||
	not_ok "pids peak $peak, forks refused: ${refused:-none}"
[ "$procs" -gt 1 ] && [ "$procs" -le 64 ] &&
	ok "at most 64 processes in the worker's cgroup.procs (peak $procs)" ||
	not_ok "the bomb's processes in cgroup.procs: peak $procs, want 2..64"
dirs=$(child_cgroup_dirs)
kill -TERM "$BERTH_PID"
wait_run 30
cgroup_gone $dirs && ok "fork bomb gone, cgroups removed (exit $RUN_RC)" ||
	not_ok "cgroups left: $dirs"

# --- CPU quota ------------------------------------------------------------------
: >"$CLOG"
write_sized_app S "$TEST_CHILD --log $CLOG cgroup
while :; do :; done"
start_run host
wait_for "$CLOG" '^CGROUP' 10
stat=$(cg_file "" cpu.stat)
sleep 1
u0=$(awk '$1 == "usage_usec" { print $2 }' "$stat")
t0=$(now_ms)
sleep 3
u1=$(awk '$1 == "usage_usec" { print $2 }' "$stat")
t1=$(now_ms)
# CPUs used = usage delta (us) / wall time (us); expect 0.40: at most
# 0.50 (the quota holds; without it the loop takes a whole CPU), at least
# 0.20 (a loaded two-core CI still gives it that).
milli=$(((u1 - u0) / (t1 - t0)))
[ "$milli" -ge 200 ] && [ "$milli" -le 500 ] && ok "busy loop under S uses 0.$milli CPU" ||
	not_ok "busy loop used $milli milli-CPU, want about 400 (200..500)"
kill -TERM "$BERTH_PID"
wait_run 20
done_testing
