# SPDX-License-Identifier: MIT
# Helpers for the `berth run` integration tests (TAP).  Source it, call
# plan N (or let done_testing count), then use the helpers below.
#
#   TMP              a fresh directory, removed at exit
#   APP              an app root in it, with .platform.app.yaml written by
#                    write_app START_COMMAND (worker "test")
#   start_run MODE [OPTIONS...]   start berth (MODE "host" or "pid1") on
#                    the worker in the background; BERTH_PID is the berth
#                    process to signal, RUN_PID what to wait for
#   wait_run [SECONDS]  wait for it (SIGKILL + failure past SECONDS) and
#                    set RUN_RC; RUN_MS is how long it took since start_run
#   ok / not_ok / check DESC CMD... / is GOT WANT DESC / skip DESC REASON /
#   skip_all REASON
#   child_cgroup_dirs, pid_cgroup_dirs PID, run_cgroup_dirs, cgroup_mounts
#                    cgroup directories on any layout (v2, hybrid, v1)
#   CLEANUP_CGROUPS  cgroup directories the test made, removed at exit
#
# Cleanup, pass or fail, kills every process still below this script, the
# worker's logged processes and those in its cgroups (all by pid), then
# removes those cgroups and the ones named after a berth it started.
set -u

: "${BERTH:?BERTH not set (run through make check)}"
: "${TEST_CHILD:?TEST_CHILD not set}"
: "${RUN_DRIVER:=}"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-it.XXXXXX")
APP=$TMP/app
CLOG=$TMP/child.log
BLOG=$TMP/berth.log
mkdir -p "$APP" "$TMP/state"
# whose it is, for the suite's last test on a machine shared with other runs
echo "${TOP_BUILDDIR:-}" >"$TMP/.suite"
# berth keeps per-project state (generated secrets): never the machine's.
BERTH_STATE_DIR=$TMP/state
export BERTH_STATE_DIR
: >"$CLOG"
T_N=0
T_FAILED=0
T_PLANNED=
BERTH_PID=
RUN_PID=
RUN_RC=
RUN_MS=
STARTED_PIDS=
STARTED_BERTHS=
# cgroup directories a test made itself, removed (deepest first) at exit
CLEANUP_CGROUPS=

cleanup() {
	# A berth still running (a failed or interrupted test): ask it to stop,
	# so that it empties and removes its cgroup; SIGKILL after 20 s.
	_alive=
	for p in $STARTED_PIDS; do
		kill -TERM "$p" 2>/dev/null && _alive="$_alive $p"
	done
	_i=0
	while [ -n "$_alive" ] && [ $_i -lt 1000 ]; do
		_still=
		for p in $_alive; do
			_st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
			[ -n "$_st" ] && [ "$_st" != Z ] && _still="$_still $p"
		done
		_alive=$_still
		[ -n "$_alive" ] && sleep 0.02
		_i=$((_i + 1))
	done
	for p in $_alive; do
		kill -KILL "$p" 2>/dev/null
	done
	# Whatever the test left, pass or fail: every process still below this
	# shell, the test-child processes the worker logged (escaped ones
	# included: their command line says test-child, so a reused pid is
	# never hit), every process in the worker's cgroups, then those cgroups
	# and the ones named after a berth this test started.
	_cgs=$(child_cgroup_dirs 2>/dev/null)
	for p in $STARTED_BERTHS; do
		_cgs="$_cgs $(cgroup_mounts | while read -r _m; do
			find "$_m" -maxdepth 6 -type d -name "berth-*-$p" 2>/dev/null
		done)"
	done
	for _round in 1 2 3; do
		_kill=$(descendants $$)
		if [ -s "$CLOG" ]; then
			for p in $(awk '$1 == "START" || $1 == "ESCAPE" { print $2 }' "$CLOG"); do
				if [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' <"/proc/$p/cmdline" |
					grep -q "test-child"; then
					_kill="$_kill $p"
				fi
			done
		fi
		for _cg in $_cgs; do
			_kill="$_kill $(cat "$_cg/cgroup.procs" 2>/dev/null)"
		done
		[ -n "$(echo $_kill)" ] || break
		kill -KILL $_kill 2>/dev/null
		sleep 0.05
	done
	_cgs="$_cgs $CLEANUP_CGROUPS"
	for _cg in $(printf '%s\n' $_cgs | awk '{ print length($0), $0 }' | sort -rn | cut -d' ' -f2-); do
		_i=0
		while [ -d "$_cg" ] && ! rmdir "$_cg" 2>/dev/null && [ $_i -lt 100 ]; do
			sleep 0.02
			_i=$((_i + 1))
		done
	done
	# the empty directories of this test's instance records, for each
	# state directory it used (berth keeps them; a record left behind
	# stays, for the next test to see)
	_rd=${BERTH_RUNTIME_DIR:-/run/berth}/instances
	for _pj in "$TMP"/state*/project.json; do
		_proj=$(sed -n 's/.*"project": *"\([^"]*\)".*/\1/p' "$_pj" 2>/dev/null)
		[ -n "$_proj" ] && [ -d "$_rd/$_proj" ] &&
			find "$_rd/$_proj" -depth -type d -empty -delete 2>/dev/null
	done
	# A copy of the read-only sources (make distcheck) keeps their modes:
	# a user who is not root unlinks nothing in a directory without w.
	chmod -R u+w "$TMP" 2>/dev/null
	rm -rf "$TMP"
}
# descendants PID: every process below PID, deepest last.
descendants() {
	for _c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$_c"
		descendants "$_c"
	done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

plan() { T_PLANNED=$1; echo "1..$1"; }
ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() {
	T_N=$((T_N + 1))
	T_FAILED=$((T_FAILED + 1))
	echo "not ok $T_N - $*"
}
diag() { echo "$*" | sed 's/^/# /'; }
# skip DESC REASON: one test that cannot run here; a failure under
# BERTH_STRICT=1 (CI), where nothing may be skipped.
skip() {
	if [ "${BERTH_STRICT:-0}" = 1 ]; then
		not_ok "$1 (cannot run: $2; BERTH_STRICT=1)"
	else
		T_N=$((T_N + 1))
		echo "ok $T_N - $1 # SKIP $2"
	fi
}
check() {
	_d=$1
	shift
	if "$@"; then ok "$_d"; else
		not_ok "$_d"
		dump_logs
	fi
}
is() {
	if [ "$1" = "$2" ]; then ok "$3"; else
		not_ok "$3 (got '$1', want '$2')"
		dump_logs
	fi
}
dump_logs() {
	diag "--- berth log:"
	[ -f "$BLOG" ] && diag "$(tail -n 30 "$BLOG")"
	diag "--- child log:"
	[ -f "$CLOG" ] && diag "$(tail -n 30 "$CLOG")"
}
done_testing() {
	[ -n "$T_PLANNED" ] || echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
	exit $?
}
skip_all() {
	if [ "${BERTH_STRICT:-0}" = 1 ]; then
		echo "1..1"
		echo "not ok 1 - cannot run: $1 (BERTH_STRICT=1 forbids skipping)"
		exit 1
	fi
	echo "1..0 # SKIP $1"
	exit 0
}

require_root() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (cgroups, pid namespaces)"
}

# signal numbers (dash's kill -l only maps numbers to names)
signum() {
	case $1 in
	HUP) echo 1 ;; INT) echo 2 ;; QUIT) echo 3 ;; KILL) echo 9 ;; USR1) echo 10 ;;
	SEGV) echo 11 ;; USR2) echo 12 ;; TERM) echo 15 ;; CONT) echo 18 ;; WINCH) echo 28 ;;
	*) echo 0 ;;
	esac
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# write_app START_COMMAND: the app config with worker "test".
write_app() {
	{
		printf 'name: app\ntype: "python:3.11"\nworkers:\n  test:\n'
		printf '    commands:\n      start: |\n'
		printf '%s\n' "$1" | sed 's/^/        /'
	} >"$APP/.platform.app.yaml"
	START_CMD=$1
}

# yes when the worker's Landlock domain refuses signals out of it (ABI >= 6),
# as `berth show` reports it for the app written by write_app.
berth_landlock_scoped() {
	"$BERTH" -f "$APP/.platform.app.yaml" show test 2>/dev/null |
		python3 -c 'import json, sys
ll = json.load(sys.stdin)["plan"]["sandbox"]["landlock"]
print("yes" if any("signal" in s for s in ll.get("scoped", [])) else "no")'
}

# Does the real binary have `run`?  Otherwise (until the CLI is wired)
# drive run_worker() through tests/helpers/run-driver, which takes the
# same options; strict mode insists on the real binary.
have_berth_run() {
	"$BERTH" run --help >/dev/null 2>&1
}

# run_cmd OPTIONS...: the command line that runs worker "test".
run_cmd() {
	if have_berth_run; then
		# These scripts test supervision: the worker runs unconfined
		# (its log file is in this test's /tmp).  RUN_BOXED=1 keeps the
		# box (run-box.sh tests the two together).
		_box=--unconfined
		[ "${RUN_BOXED:-0}" = 1 ] && _box=
		echo "$BERTH" -f "$APP/.platform.app.yaml" run $_box "$@" test
	elif [ "${BERTH_STRICT:-0}" != 1 ] && [ -x "$RUN_DRIVER" ]; then
		echo "$RUN_DRIVER" "$@" "$APP" "\"\$START_CMD\""
	else
		echo false
	fi
}

# start_run MODE OPTIONS...
start_run() {
	_mode=$1
	shift
	: >"$BLOG"
	_cmd=$(run_cmd "$@")
	RUN_T0=$(now_ms)
	export START_CMD
	case $_mode in
	host)
		eval "exec $_cmd" 2>>"$BLOG" >>"$BLOG" </dev/null &
		RUN_PID=$!
		BERTH_PID=$RUN_PID
		;;
	pid1)
		# RUN_WRAP: a command to start it through (e.g. nsenter --net=...)
		eval "exec ${RUN_WRAP:-} unshare --pid --fork --mount --mount-proc $_cmd" \
			2>>"$BLOG" >>"$BLOG" </dev/null &
		RUN_PID=$!
		BERTH_PID=
		for _i in $(seq 100); do
			BERTH_PID=$(cat "/proc/$RUN_PID/task/$RUN_PID/children" 2>/dev/null |
				awk '{print $1}')
			[ -n "$BERTH_PID" ] && break
			sleep 0.02
		done
		;;
	esac
	STARTED_PIDS="$STARTED_PIDS $RUN_PID $BERTH_PID"
	STARTED_BERTHS="$STARTED_BERTHS $BERTH_PID"
}

# wait_run [TIMEOUT_SECONDS]: a berth still running after TIMEOUT (30 s)
# is a hang: it is SIGKILLed, the hang is a failed test and RUN_RC is
# "hung", so that no `is "$RUN_RC" 137` passes for it.
wait_run() {
	_limit=${1:-30}
	_i=0
	_hung=
	while kill -0 "$RUN_PID" 2>/dev/null; do
		_state=$(awk '{print $3}' "/proc/$RUN_PID/stat" 2>/dev/null)
		[ "$_state" = Z ] && break
		_i=$((_i + 1))
		if [ $_i -gt $((_limit * 50)) ]; then
			_hung=1
			kill -KILL "$RUN_PID" $BERTH_PID 2>/dev/null
			break
		fi
		sleep 0.02
	done
	wait "$RUN_PID"
	RUN_RC=$?
	RUN_MS=$(($(now_ms) - RUN_T0))
	if [ -n "$_hung" ]; then
		RUN_RC=hung
		not_ok "berth exited within ${_limit}s (it hung: SIGKILLed)"
		dump_logs
	fi
	# Reaped: its pid may be reused, never signal it again.
	_left=
	for _p in $STARTED_PIDS; do
		[ "$_p" = "$RUN_PID" ] || [ "$_p" = "$BERTH_PID" ] || _left="$_left $_p"
	done
	STARTED_PIDS=$_left
}

# wait_for FILE PATTERN [SECONDS]: until a line matches (grep -E).
wait_for() {
	_i=0
	while ! grep -Eq "$2" "$1" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -gt $((${3:-10} * 50)) ] && return 1
		sleep 0.02
	done
	return 0
}

count_lines() { grep -Ec "$2" "$1" 2>/dev/null || true; }

# pids the child logged with TAG ("START", "ESCAPE").
logged_pids() { awk -v t="$1" '$1 == t { print $2 }' "$CLOG"; }

# all_gone PID...: none of them is alive (zombies count as gone).
all_gone() {
	for p in "$@"; do
		if [ -r "/proc/$p/stat" ]; then
			_s=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
			[ -n "$_s" ] && [ "$_s" != Z ] && return 1
		fi
	done
	return 0
}

# cgroup_mounts: the mount point of every cgroup hierarchy (v1 and v2).
cgroup_mounts() {
	awk '{ for (i = 7; $i != "-"; i++) ; if ($(i + 1) ~ /^cgroup2?$/) print $5 }' \
		/proc/self/mountinfo
}

# cgroup_dir N:CTL:PATH: the directory of one /proc/PID/cgroup line, on
# whatever layout this host has (pure v2, hybrid, v1).
cgroup_dir() {
	echo "$1" | {
		IFS=: read -r _n _ctl _path
		awk -v ctl="$_ctl" -v n="$_n" '{
			for (i = 7; $i != "-"; i++) ;
			fs = $(i + 1); opts = "," $(i + 3) ","
			if (n == 0 && ctl == "" && fs == "cgroup2") { print $5; exit }
			if (fs != "cgroup" || ctl == "") next
			k = split(ctl, c, ",")
			for (j = 1; j <= k; j++) if (index(opts, "," c[j] ",") == 0) next
			print $5; exit
		}' /proc/self/mountinfo | sed "s|\$|$_path|"
	}
}

# pid_cgroup_dirs PID: the berth-* cgroup directories PID is in.
pid_cgroup_dirs() {
	while read -r _l; do
		case $_l in */berth-*) cgroup_dir "$_l" ;; esac
	done <"/proc/$1/cgroup" | sort -u
}

# run_cgroup_dirs: the berth-* cgroup directories of every process below
# the running berth (BERTH_PID), whatever the worker is.
run_cgroup_dirs() {
	for _p in $(descendants "$BERTH_PID"); do
		pid_cgroup_dirs "$_p" 2>/dev/null
	done | sort -u
}

# The worker's cgroup directories, from the child's "cgroup" report
# ("CGROUP n:ctl:/path"), one per line, on any cgroup layout.
child_cgroup_dirs() {
	awk '$1 == "CGROUP" { print $2 }' "$CLOG" | while read -r _l; do
		case $_l in */berth-*) cgroup_dir "$_l" ;; esac
	done | sort -u
}

# cgroup_gone DIR...: none of the worker's cgroup directories exists.  No
# directory at all is a failure: the check would pass whatever happened.
cgroup_gone() {
	if [ $# -eq 0 ]; then
		diag "cgroup_gone: no cgroup directory known (did the worker report one?)"
		return 1
	fi
	for _cg in "$@"; do
		[ -e "$_cg" ] && return 1
	done
	return 0
}
