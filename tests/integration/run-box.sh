#!/bin/sh
# SPDX-License-Identifier: MIT
# `berth run` with the whole box, as root, by hand and as PID 1: the worker
# runs as nobody with no capabilities, no_new_privs and the syscall filter,
# in its own network namespace and cgroup namespace, sees the new root
# (read-only even for root, its own /run) with the app read-only and its
# storage writable (persistent across restarts), resolves database.internal to the
# context's address, has the ingress ruleset in its network namespace, and
# nothing is left on the host afterwards: mounts,
# cgroups, firewall tables.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
RUN_BOXED=1
NETD=${TOP_BUILDDIR:?run through make check}/tests/helpers/net-driver

# The app: a local mount, a relationship, and a start command that reports
# what the worker sees on stdout (berth's log) and then waits.
mkdir -p "$APP/.platform"
printf 'mysqldb:\n  type: mariadb:10.6\n' >"$APP/.platform/services.yaml"
cat >"$TMP/context.json" <<'JSON'
{"services": {"mysqldb": {"ip": "10.11.12.13"}}}
JSON
{
	printf 'name: app\ntype: "python:3.11"\ndisk: 64\n'
	printf 'relationships:\n  database: "mysqldb:mysql"\n'
	printf 'mounts:\n  data: {source: local, source_path: data}\n'
	printf 'workers:\n  test:\n    size: S\n    commands:\n      start: |\n'
	cat <<'SH' | sed 's/^/        /'
grep -E '^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status | tr '\t' ' ' | sed 's/^/STATUS /'
touch ./app-file 2>/dev/null && echo WRITE app yes || echo WRITE app no
touch /tmp/x 2>/dev/null && echo WRITE tmp yes || echo WRITE tmp no
echo "OPTS / $(awk '$5 == "/" { print $6 }' /proc/self/mountinfo | tail -n 1)"
echo "OPTS app $(awk -v d="$PWD" '$5 == d { print $6 }' /proc/self/mountinfo | tail -n 1)"
echo "SHM $(awk '$5 == "/dev/shm" { for (i = 7; $i != "-"; i++) ; print $6, $(i + 1) }' /proc/self/mountinfo | tail -n 1) $(stat -c %a /dev/shm) $(touch /dev/shm/x 2>/dev/null && echo writable)"
[ -f data/persist ] && echo PERSIST found || echo PERSIST none
date > data/persist && echo WRITE data yes || echo WRITE data no
echo "HOSTS $(grep database.internal /etc/hosts | tr -s ' \t' ' ')"
echo "CGROUP $(grep '^0::' /proc/self/cgroup)"
f=/sys/fs/cgroup/unified/cgroup.procs; [ -e $f ] || f=/sys/fs/cgroup/cgroup.procs
grep -qx "$$" $f && echo CGPROCS self || echo CGPROCS missing
echo "RUN $(ls -A /run | wc -l) VARLIB $(ls -d /var/lib 2>/dev/null | wc -l)"
echo "IFACES $(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/self/net/dev | tr '\n' ' ')"
echo READY
exec sleep 1000
SH
} >"$APP/.platform.app.yaml"

mounts_of_test() { grep -F -e "$TMP" -e /berth/ /proc/self/mountinfo | grep -v -e '^$' || true; }
before=$(mounts_of_test)
# The app root belongs to the worker's user: only the read-only mount can
# refuse its write there.
chown 65534:65534 "$APP"
host_tables() { "$NETD" --nft /proc/self/ns/net "list tables" 2>&1 | grep -c berth; }
tables_before=$(host_tables)

for mode in host pid1; do
	: >"$BLOG"
	BERTH_CONTEXT=$TMP/context.json start_run "$mode" --network none
	if ! wait_for "$BLOG" '^READY' 20; then
		not_ok "$mode: the worker did not start"
		dump_logs
	fi
	check "$mode: runs as nobody" grep -q '^STATUS Uid: 65534 65534 65534 65534' "$BLOG"
	check "$mode: no capabilities" sh -c "grep '^STATUS Cap' '$BLOG' | grep -vq ' 0000000000000000\$' && exit 1 || exit 0"
	check "$mode: no_new_privs and seccomp" sh -c "grep -q '^STATUS NoNewPrivs: 1' '$BLOG' && grep -q '^STATUS Seccomp: 2' '$BLOG'"
	check "$mode: the app root (the worker's own) is read-only" grep -q '^WRITE app no' "$BLOG"
	check "$mode: the new root is mounted read-only" grep -Eq '^OPTS / ro(,|$)' "$BLOG"
	check "$mode: the app root is mounted read-only" grep -Eq '^OPTS app ro(,|$)' "$BLOG"
	check "$mode: /dev/shm a tmpfs of its own, 1777, writable, nosuid,nodev,noexec" \
		grep -Eq '^SHM rw,nosuid,nodev,noexec(,[a-z]+)* tmpfs 1777 writable$' "$BLOG"
	cgs=$(run_cgroup_dirs)
	check "$mode: the worker is in berth-* cgroups" test -n "$cgs"
	# The ingress ruleset, read back from the worker's own namespace.
	wnet=
	for p in $(descendants "$BERTH_PID"); do
		[ "$(readlink "/proc/$p/ns/net")" != "$(readlink /proc/self/ns/net)" ] &&
			wnet=/proc/$p/ns/net && break
	done
	"$NETD" --nft "${wnet:-/nonexistent}" "list table inet berth" >"$TMP/rules.txt" 2>&1
	check "$mode: the worker's namespace has the ingress ruleset (input policy drop)" \
		grep -q 'hook input priority filter; policy drop;' "$TMP/rules.txt"
	check "$mode: /tmp and the storage mount are writable" sh -c "grep -q '^WRITE tmp yes' '$BLOG' && grep -q '^WRITE data yes' '$BLOG'"
	check "$mode: database.internal is the context's address" grep -q '^HOSTS 10.11.12.13 database.internal' "$BLOG"
	check "$mode: only loopback (--network none)" grep -q '^IFACES lo $' "$BLOG"
	check "$mode: the worker's cgroup is its cgroup namespace's root" grep -q '^CGROUP 0::/$' "$BLOG"
	check "$mode: whose cgroup.procs lists the worker" grep -q '^CGPROCS self' "$BLOG"
	check "$mode: its own empty /run, no /var/lib" grep -q '^RUN 0 VARLIB 0' "$BLOG"
	if [ "$mode" = host ]; then
		check "host: first run finds no file in storage" grep -q '^PERSIST none' "$BLOG"
	else
		check "pid1: the file of the earlier run is in storage" grep -q '^PERSIST found' "$BLOG"
	fi
	[ "$mode" = pid1 ] || {
		[ -e "$APP/app-file" ] && not_ok "a file appeared in the app root" ||
			ok "host: nothing written to the app root"
	}
	kill -TERM "$BERTH_PID"
	wait_run 30
	is "$RUN_RC" 0 "$mode: stopped on request, exit 0"
	check "$mode: its cgroups were removed" cgroup_gone $cgs
	is "$(mounts_of_test)" "$before" "$mode: the host's mount table is as before"
	is "$(host_tables)" "$tables_before" \
		"$mode: no berth table in the host's network namespace"
done
# The read-only view as root (no permission stands in the way): EROFS.
for p in ./x /etc/x /usr/x /x; do
	"$BERTH" -f "$APP/.platform.app.yaml" exec --user 0 test -- sh -c "echo x > $p" 2>"$BLOG"
	check "exec --user 0: $p is read-only" grep -q "Read-only file system" "$BLOG"
done
check "storage stays on the host, outside the app" test -f "$(find "$TMP/state/storage" -name persist -path '*/local/*' 2>/dev/null | head -n 1)" -o -n "$(find "$TMP/state/storage" -name 'disk.img' | head -n 1)"

# slirp4netns (--network private) is berth's helper, not part of the worker.
# Without a cgroup the stop leaves it alone; SIGKILLed by hand, berth takes
# it along (its parent-death signal), and the worker's main process too.
# What only berth removes (its cgroups) stays then; the test removes it.
if [ ! -x /usr/bin/slirp4netns ]; then
	for t in "host, --no-cgroup: slirp4netns is no leftover of the worker" \
		"host, --no-cgroup: the worker started again" \
		"host, --no-cgroup --network private: stopped at once, exit 0" \
		"host, --no-cgroup: the stop signal went to the worker only" \
		"host, SIGKILL: slirp4netns goes with berth"; do
		skip "$t" "no /usr/bin/slirp4netns"
	done
else
	# --no-cgroup: slirp4netns is berth's child, but not the worker's.
	# When the worker's main process dies, it is no leftover of it (it was
	# reported and killed as one), and the restarted worker still has
	# its network; the stop does not signal it (berth's debug line counts
	# the processes that got the stop signal: the worker's one).
	export BERTH_LOG_LEVEL=debug
	start_run host --network private --no-cgroup
	unset BERTH_LOG_LEVEL
	if wait_for "$BLOG" '^READY' 20; then
		main=$(sed -n 's/.*started worker process \([0-9]*\).*/\1/p' "$BLOG" | head -n 1)
		kill -KILL "$main"
		wait_for "$BLOG" 'restarting in|left behind' 10
		check "host, --no-cgroup: slirp4netns is no leftover of the worker" \
			sh -c "! grep -q 'left behind' '$BLOG'"
		for _i in $(seq 250); do
			[ "$(grep -c '^READY' "$BLOG")" -ge 2 ] && break
			sleep 0.02
		done
		is "$(grep -c '^READY' "$BLOG")" 2 "host, --no-cgroup: the worker started again"
		kill -TERM "$BERTH_PID"
		wait_run 30
		check "host, --no-cgroup --network private: stopped at once, exit 0" \
			sh -c "[ '$RUN_RC' = 0 ] && [ '$RUN_MS' -lt 10000 ]"
		check "host, --no-cgroup: the stop signal went to the worker only" \
			grep -q 'sent SIGTERM and SIGCONT to 1 processes' "$BLOG"
	else
		not_ok "host, --no-cgroup --network private: the worker did not start"
		dump_logs
		kill -KILL "$BERTH_PID"
		wait_run 5
	fi
	: >"$BLOG"
	start_run host --network private
	if ! wait_for "$BLOG" '^READY' 20; then
		not_ok "host, --network private: the worker did not start"
		dump_logs
	fi
	slirp=
	for p in $(cat "/proc/$BERTH_PID/task/$BERTH_PID/children" 2>/dev/null); do
		case $(cat "/proc/$p/comm" 2>/dev/null) in slirp4netns) slirp="$slirp $p" ;; esac
	done
	kill -KILL "$BERTH_PID"
	wait_run 10
	for _i in $(seq 100); do
		all_gone $slirp && break
		sleep 0.02
	done
	if [ -n "$slirp" ] && all_gone $slirp; then
		ok "host, SIGKILL: slirp4netns (${slirp# }) went with berth"
	else
		not_ok "host, SIGKILL: slirp4netns (${slirp# }) went with berth"
		dump_logs
	fi
	left=$(find /sys/fs/cgroup -maxdepth 5 -type d -name "berth-test-$BERTH_PID" 2>/dev/null)
	for d in $left; do
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -KILL "$p"; done
	done
	for d in $left; do
		for _i in $(seq 500); do rmdir "$d" 2>/dev/null && break; sleep 0.02; done
	done
	# and its instance record, which a next berth run would have acted on
	proj=$(sed -n 's/.*"project": *"\([^"]*\)".*/\1/p' "$TMP/state/project.json")
	[ -n "$proj" ] && rm -rf "${BERTH_RUNTIME_DIR:-/run/berth}/instances/$proj"
fi

# unprivileged: refused with a message naming --unconfined
chmod 755 "$TMP" "$APP"
mkdir -p "$TMP/state-nobody"
chown 65534:65534 "$TMP/state-nobody"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env BERTH_STATE_DIR="$TMP/state-nobody" \
	"$BERTH" -f "$APP/.platform.app.yaml" run --no-cgroup test 2>&1 </dev/null)
rc=$?
is "$rc" 125 "unprivileged run without --unconfined: refused (125)"
echo "$out" | grep -q -- '--unconfined' && ok "and the message names --unconfined" ||
	{ not_ok "message: $out"; }
done_testing
