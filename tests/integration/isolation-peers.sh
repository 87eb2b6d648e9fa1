#!/bin/sh
# SPDX-License-Identifier: MIT
# Two boxed workers of two apps, both as nobody: worker B can neither see,
# signal nor ptrace worker A, nor read A's /proc entries (its own PID
# namespace and /proc: kill -0 of A's pid fails, kill -9 -1 leaves A alone,
# its own pid is small; also without the filter, with --allow-local-listen
# and as uid 0), shares no SysV IPC
# with A (its own IPC namespace: A's shared memory segment and message
# queue are not there, their keys do not attach) and has its own hostname
# (UTS namespace); A's IPC objects do not outlive A's berth.  berth exec
# gets namespaces of its own too.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
for t in ipcmk ipcs ipcrm nsenter /usr/bin/python3; do
	command -v "$t" >/dev/null 2>&1 || skip_all "needs $t"
done

A=$TMP/alpha
B=$TMP/beta
ALOG=$TMP/alpha.log
BLOG_B=$TMP/beta.log

# write_peer DIR NAME START: an app NAME with worker "peer" in DIR/app.
write_peer() {
	mkdir -p "$1/state" "$1/app"
	{
		printf 'name: %s\ntype: "python:3.11"\nworkers:\n  peer:\n' "$2"
		printf '    commands:\n      start: |\n'
		printf '%s\n' "$3" | sed 's/^/        /'
	} >"$1/app/.platform.app.yaml"
}

# run_peer DIR LOG: berth run, boxed, in the background; sets PEER_PID.
run_peer() {
	"$BERTH" -f "$1/app/.platform.app.yaml" --state-dir "$1/state" run --network none \
		--storage-root "$1/storage" peer >"$2" 2>&1 </dev/null &
	PEER_PID=$!
	STARTED_PIDS="$STARTED_PIDS $PEER_PID"
}

# A's objects, should a berth without IPC namespaces leave them on the host
# (every start of A's: a restarted A makes new ones).
ipc_cleanup() {
	for k in $(awk '$1 == "SHM" || $1 == "MSQ" { print $2 }' "$ALOG" 2>/dev/null); do
		ipcrm -M "$k" 2>/dev/null
		ipcrm -Q "$k" 2>/dev/null
	done
}
trap 'ipc_cleanup; cleanup' EXIT

# A: a shared memory segment and a message queue, reported with their keys.
write_peer "$A" alpha "$(cat <<'SH'
shm=$(ipcmk -M 4096 | awk '{ print $NF }')
msq=$(ipcmk -Q | awk '{ print $NF }')
ipcs -m | awk -v id="$shm" '$2 == id { print "SHM", $1 }'
ipcs -q | awk -v id="$msq" '$2 == id { print "MSQ", $1 }'
echo "HOST $(uname -n)"
echo READY
exec sleep 1000
SH
)"
run_peer "$A" "$ALOG"
A_BERTH=$PEER_PID
if ! wait_for "$ALOG" '^READY' 20; then
	not_ok "worker A did not start"
	diag "$(cat "$ALOG")"
fi
A_PID=$(sed -n 's/.*started worker process \([0-9]*\) .*/\1/p' "$ALOG" | head -n 1)
A_SHM=$(awk '$1 == "SHM" { print $2; exit }' "$ALOG")
A_MSQ=$(awk '$1 == "MSQ" { print $2; exit }' "$ALOG")
check "A created a segment and a queue ($A_SHM, $A_MSQ)" test -n "$A_SHM" -a -n "$A_MSQ"
is "$(awk '$1 == "HOST" { print $2 }' "$ALOG")" alpha--peer "A's hostname is <app>--<worker>"

# A's objects are in A's own IPC namespace, that of its berth-init.
A_INIT=
for c in $(cat "/proc/$A_BERTH/task/$A_BERTH/children" 2>/dev/null); do
	[ "$(cat "/proc/$c/comm" 2>/dev/null)" = berth-init ] && A_INIT=$c
done
check "A's berth has a berth-init child" test -n "$A_INIT"
if [ -n "$A_INIT" ]; then
	check "A's segment is in A's IPC namespace" sh -c \
		"nsenter --ipc=/proc/$A_INIT/ns/ipc ipcs -m | grep -q '^$A_SHM '"
else
	not_ok "A's segment is in A's IPC namespace (no berth-init)"
fi
check "the host does not see A's segment" sh -c "! ipcs -m | grep -q '^$A_SHM '"

# B: everything it can find of A, then kill -9 -1.
py_get='import ctypes, sys
l = ctypes.CDLL(None, use_errno=True)
def key(s):
    k = int(s, 16)
    return ctypes.c_int(k - (1 << 32) if k >= 1 << 31 else k)
print("SHMGET", l.shmget(key(sys.argv[1]), 0, 0))
print("MSGGET", l.msgget(key(sys.argv[2]), 0))'
py_ptrace='import ctypes, sys
l = ctypes.CDLL(None, use_errno=True)
r = l.ptrace(16, int(sys.argv[1]), 0, 0)  # PTRACE_ATTACH
print("PTRACE", "ok" if r == 0 else "failed")'
write_peer "$B" beta "$(cat <<SH
echo "BPID \$\$"
echo "HOST \$(uname -n)"
kill -0 $A_PID 2>/dev/null && echo "KILL0 ok" || echo "KILL0 failed"
echo "IPCS \$(ipcs -m -q | grep -c '^0x')"
/usr/bin/python3 -c '$py_get' $A_SHM $A_MSQ
/usr/bin/python3 -c '$py_ptrace' $A_PID
echo "OWNPROC \$(cat /proc/1/comm)"
[ -e /proc/$A_PID ] && echo "PROCPID visible" || echo "PROCPID hidden"
cat /proc/$A_PID/environ >/dev/null 2>&1 && echo "ENVIRON read" || echo "ENVIRON denied"
ls /proc/$A_PID/root/ >/dev/null 2>&1 && echo "ROOT read" || echo "ROOT denied"
kill -9 -1
echo READY
exec sleep 1000
SH
)"

# probe_b WHAT [RUN OPTIONS...]: run B with the options, check what it
# found of A, stop it.  Without the filter and with --allow-local-listen
# (where an older berth left the worker without its Landlock domain) the
# namespaces hold all the same.
probe_b() {
	_what=$1
	shift
	"$BERTH" -f "$B/app/.platform.app.yaml" --state-dir "$B/state" run --network none \
		--storage-root "$B/storage" "$@" peer >"$BLOG_B" 2>&1 </dev/null &
	B_BERTH=$!
	STARTED_PIDS="$STARTED_PIDS $B_BERTH"
	if ! wait_for "$BLOG_B" '^READY' 20; then
		not_ok "$_what: worker B did not start"
		diag "$(cat "$BLOG_B")"
	fi
	sleep 0.2
	bpid=$(field BPID)
	check "$_what: B's own pid is small ($bpid): its own PID namespace" \
		test -n "$bpid" -a "${bpid:-99}" -le 10
	is "$(field HOST)" beta--peer "$_what: B has its own hostname"
	is "$(field KILL0)" failed "$_what: B cannot kill -0 A's worker ($A_PID)"
	is "$(field PTRACE)" failed "$_what: B cannot ptrace A's worker"
	is "$(field IPCS)" 0 "$_what: B sees no SysV IPC object"
	is "$(field SHMGET)" -1 "$_what: B cannot get A's segment by its key"
	is "$(field MSGGET)" -1 "$_what: B cannot get A's queue by its key"
	check "$_what: kill -9 -1 in B left A's worker alive" kill -0 "$A_PID"
	check "$_what: kill -9 -1 in B left A's berth-init alive" kill -0 "${A_INIT:-none}"
	check "$_what: A's berth is still running" kill -0 "$A_BERTH"
	# The worker's /proc is its own PID namespace's (/proc/1 is berth-init).
	is "$(field OWNPROC)" berth-init "$_what: B's /proc is its own"
	is "$(field PROCPID)" hidden "$_what: B does not see /proc/<A's pid>"
	is "$(field ENVIRON)" denied "$_what: B cannot read A's environ"
	is "$(field ROOT)" denied "$_what: B cannot enter A's root"
	kill -TERM "$B_BERTH"
	wait "$B_BERTH"
	is "$?" 0 "$_what: berth $B_BERTH stopped on request, exit 0"
	[ "$T_FAILED" -gt 0 ] && diag "--- B ($_what):" && diag "$(cat "$BLOG_B")"
}
field() { awk -v k="$1" '$1 == k { print $2; exit }' "$BLOG_B"; }
probe_b default
probe_b "--seccomp off --allow-local-listen" --seccomp off --allow-local-listen
probe_b "--user 0" --user 0

kill -TERM "$A_BERTH"
wait "$A_BERTH"
is "$?" 0 "berth $A_BERTH stopped on request, exit 0"
STARTED_PIDS=
check "A's segment is gone with A" sh -c "! ipcs -m | grep -q '^$A_SHM '"
check "A's queue is gone with A" sh -c "! ipcs -q | grep -q '^$A_MSQ '"
if [ -n "$A_INIT" ]; then
	check "A's berth-init is gone" all_gone "$A_INIT"
fi
# berth exec: the same namespaces, its own berth-init.
out=$("$BERTH" -f "$A/app/.platform.app.yaml" --state-dir "$A/state" exec \
	--storage-root "$A/storage" peer -- sh -c 'echo "$$ $(uname -n)"' 2>"$TMP/exec.log" </dev/null)
is "$out" "2 alpha--peer" "berth exec: pid 2 in a PID namespace of its own, the hostname"
[ "$T_FAILED" -gt 0 ] && { diag "--- A:"; diag "$(cat "$ALOG")"; }
done_testing
