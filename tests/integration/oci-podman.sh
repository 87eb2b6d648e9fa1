#!/bin/sh
# SPDX-License-Identifier: MIT
# berth hook under a real engine: podman (with crun, or $OCI_RUNTIME=runc)
# runs berth only through the hooks.d files of contrib/oci-hooks.d (a copy
# naming the built berth, through --hooks-dir) and only for a container
# with the berth.worker annotation.  A busybox root filesystem (--rootfs:
# nothing pulled) gets the worker's limits in its cgroup, the ingress rules
# in its network namespace and the instance's storage, bounded by `disk`
# and persistent across two containers; `podman stop -t 30` of an init
# that drops SIGTERM returns at berth's 15-second deadline (the stop
# guard), an init that handles it or a child behind it ends promptly; a
# container without the annotation gets nothing from berth, a failing hook
# fails `podman run`; nothing is left afterwards, podman's state is private
# to the test (in $TMP) and the host's firewall untouched (no network).
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
command -v podman >/dev/null || skip_all "podman is not installed (apt-get install podman)"
. "$TOP_SRCDIR/tests/integration/oci-lib.sh"
oci_require

ROOTFS=$TMP/rootfs
STORAGE=$TMP/storage
OUT=$TMP/out.log
CGPARENT=berth-podman-$$
NAME=berth-pod-$$
# podman, private to the test (podman-lib.sh), reading hooks.d from $PM.
PM_ARGS="--hooks-dir $TMP/podman/hooks"
. "$TOP_SRCDIR/tests/integration/podman-lib.sh"
mkdir -p "$PM/hooks" "$ROOTFS/etc" "$APP/data"
oci_rootfs "$ROOTFS" sh cat grep sed stat dd rm date sleep echo


# The hooks.d files, as shipped, naming the built berth.
for f in berth.json berth-poststop.json; do
	sed "s|\"path\": *\"[^\"]*\"|\"path\": \"$BERTH\"|" "$TOP_SRCDIR/contrib/oci-hooks.d/$f" \
		>"$PM/hooks/$f"
done
hooks_copied() { # each the same as contrib/oci-hooks.d's but for its path
	for _f in berth.json berth-poststop.json; do
		grep -q "\"path\": \"$BERTH\"" "$PM/hooks/$_f" || return 1
		grep -v '"path"' "$PM/hooks/$_f" >"$TMP/a.json"
		grep -v '"path"' "$TOP_SRCDIR/contrib/oci-hooks.d/$_f" >"$TMP/b.json"
		cmp -s "$TMP/a.json" "$TMP/b.json" || return 1
	done
}
# The test's own setup, not a claim of berth's (that podman runs them is
# checked below, from berth's hook log): only a broken copy is reported.
hooks_copied || not_ok "setup: the copies of contrib/oci-hooks.d name the built berth"

cat >"$APP/.platform.app.yaml" <<'YAML'
name: app
type: "python:3.11"
disk: 64
mounts:
  data: {source: local, source_path: data}
workers:
  test:
    size: S
    commands:
      start: sleep 1000
YAML

ruleset_before=$(nftx /proc/self/ns/net "list ruleset" 2>&1)
hook_lines() { grep -c "$1" /run/berth/hook.log 2>/dev/null || true; }
# start CTR [--annotate] ARGS...: podman run -d, until READY in its log;
# sets CID (podman's id, the hook log's container name) and PID (its init).
start() {
	_c=$1
	shift
	_ann=
	if [ "$1" = --annotate ]; then
		shift
		_ann="--annotation berth.worker=test --annotation berth.app-config=$APP/.platform.app.yaml
			--annotation berth.storage-root=$STORAGE --annotation berth.state-dir=$TMP/state"
	fi
	: >"$OUT"
	CID=
	PID=
	# shellcheck disable=SC2086 # the annotations are words
	if ! pm run -d --name "$_c" --cgroup-parent "/$CGPARENT" $_ann --rootfs "$ROOTFS" "$@" \
		>"$TMP/run.out" 2>"$BLOG"; then
		diag "$(cat "$TMP/run.out" "$BLOG"; tail -5 /run/berth/hook.log)"
		return 1
	fi
	CID=$(tail -1 "$TMP/run.out")
	_i=0
	while :; do
		pm logs "$_c" >"$OUT" 2>&1
		grep -q '^READY' "$OUT" && break
		_i=$((_i + 1))
		if [ $_i -gt 100 ]; then
			diag "$(cat "$OUT"; tail -5 /run/berth/hook.log)"
			return 1
		fi
		sleep 0.2
	done
	PID=$(pm inspect -f '{{.State.Pid}}' "$_c")
}
stop_ms() { # CTR: podman stop -t 30, how long it took in STOP_MS
	_t0=$(now_ms)
	pm stop -t 30 "$1" >/dev/null 2>>"$BLOG"
	STOP_MS=$(($(now_ms) - _t0))
	pm logs "$1" >"$OUT" 2>&1
}

# The worker's box, twice (the storage persists), each stopped by podman.
BOX='data='$APP'/data; grep " $data " /proc/self/mountinfo | sed "s/^/MOUNT /"
stat -f -c "STATFS %b %S" $data
dd if=/dev/zero of=$data/fill bs=1M count=80 2>&1 | grep -i space | sed "s/^/FILL /"
rm -f $data/fill
[ -f $data/persist ] && echo PERSIST found || echo PERSIST none
date > $data/persist && echo WRITE data yes
trap "echo GOT TERM; exit 0" TERM
echo READY
while :; do sleep 0.1; done'
for round in 1 2; do
	if ! start "$NAME-$round" --annotate /bin/sh -c "$BOX"; then
		not_ok "round $round: podman runs the annotated container"
		continue
	fi
	ok "round $round: podman runs the annotated container"
	if [ $round = 1 ]; then
		# crun gives hooks /dev/null for stderr: berth's log has it all.
		check "the hook ran for it (hooks.d, createRuntime)" grep -q "container $CID (pid $PID): limits, ingress rules, storage and stop in place" /run/berth/hook.log
		is "$(cg_file "$PID" memory memory.limit_in_bytes memory.max)" 134217728 "the memory limit of size S in the container's cgroup"
		is "$(cg_file "$PID" pids pids.max pids.max)" 4096 "the worker's pids limit (not podman's 2048)"
		check "the ingress rules in the container's network namespace" sh -c "'$NETD' --nft /proc/$PID/ns/net 'list table inet berth' | grep -q 'policy drop'"
		check "the first container finds no file in storage" grep -q '^PERSIST none' "$OUT"
		check "the storage is writable" grep -q '^WRITE data yes' "$OUT"
		check "the storage is nosuid,nodev in the container" sh -c "grep ' $APP/data ' /proc/$PID/mountinfo | grep -q 'nosuid,nodev'"
		check_bound "podman" "$OUT"
		check "the storage is not mounted on the host" sh -c "! grep -q ' $APP/data ' /proc/self/mountinfo"
	else
		check "the storage persists across containers" grep -q '^PERSIST found' "$OUT"
	fi
	stop_ms "$NAME-$round"
	if ! alive "$PID" && grep -q '^GOT TERM' "$OUT" && [ "$STOP_MS" -lt 5000 ]; then
		ok "round $round: podman stop ends an init that handles SIGTERM promptly ($STOP_MS ms)"
	else
		not_ok "round $round: podman stop ends an init that handles SIGTERM promptly ($STOP_MS ms)"
		diag "$(cat "$OUT" "$BLOG")"
	fi
	pm rm "$NAME-$round" >/dev/null 2>>"$BLOG"
	[ $round = 1 ] && nothing_left "once the container is removed, no loop device or mount is left"
done
check "poststop ran (berth-poststop.json)" grep -q "container $CID: poststop" /run/berth/hook.log

# The stop guard: an init that drops SIGTERM (PID 1 of its pid namespace
# without a handler) is SIGKILLed at berth's 15 s, long before podman's 30.
if start "$NAME-stubborn" --annotate /bin/sh -c 'echo READY; exec sleep 1000'; then
	stop_ms "$NAME-stubborn"
	if ! alive "$PID" && [ "$STOP_MS" -ge 14500 ] && [ "$STOP_MS" -le 16500 ]; then
		ok "podman stop -t 30 of a TERM-dropping init returns at the 15 s deadline ($STOP_MS ms)"
	else
		not_ok "podman stop -t 30 of a TERM-dropping init returns at the 15 s deadline ($STOP_MS ms)"
		diag "$(tail -5 /run/berth/hook.log)"
	fi
	check "the guard's kill at the deadline is logged" sh -c "grep 'container $CID: ' /run/berth/hook.log | grep -q 'stop timeout (15000 ms) reached: killed 1 processes: $PID (sleep)'"
	is "$(pm inspect -f '{{.State.ExitCode}}' "$NAME-stubborn")" 137 "podman sees it SIGKILLed"
	pm rm "$NAME-stubborn" >/dev/null 2>>"$BLOG"
else
	not_ok "podman runs the TERM-dropping container"
fi
# An init without a handler whose child has one: the guard relays SIGTERM.
if start "$NAME-relay" --annotate /bin/sh -c \
	'sh -c '\''trap "echo CHILD TERM; exit 0" TERM; echo READY; while :; do sleep 0.1; done'\'' & wait; echo INIT DONE'; then
	stop_ms "$NAME-relay"
	if ! alive "$PID" && grep -q '^CHILD TERM' "$OUT" && grep -q '^INIT DONE' "$OUT" &&
		[ "$STOP_MS" -lt 5000 ]; then
		ok "podman stop: SIGTERM relayed past the init to its child, which ends promptly ($STOP_MS ms)"
	else
		not_ok "podman stop: SIGTERM relayed past the init to its child, which ends promptly ($STOP_MS ms)"
		diag "$(cat "$OUT"; tail -5 /run/berth/hook.log)"
	fi
	pm rm "$NAME-relay" >/dev/null 2>>"$BLOG"
else
	not_ok "podman runs the relay container"
fi

# Without the annotation, hooks.d's `when` leaves berth out.
if start "$NAME-plain" /bin/sh -c 'echo READY; exec sleep 1000'; then
	is "$(hook_lines "$CID")" 0 "no annotation: berth hook never ran"
	mem=$(cg_file "$PID" memory memory.limit_in_bytes memory.max)
	check "no annotation: no memory limit ($mem)" sh -c "[ '$mem' = max ] || [ '$mem' -gt 1000000000000 ]"
	pids=$(cg_file "$PID" pids pids.max pids.max)
	check "no annotation: podman's pids limit ($pids)" sh -c "[ '$pids' != 4096 ]"
	is "$(nftx /proc/"$PID"/ns/net "list tables" 2>&1 | grep -c berth)" 0 "no annotation: no berth table in its network namespace"
	check "no annotation: no storage mounted" sh -c "! grep -q ' $APP/data ' /proc/$PID/mountinfo"
	t0=$(now_ms)
	pm stop -t 2 "$NAME-plain" >/dev/null 2>>"$BLOG"
	ms=$(($(now_ms) - t0))
	check "no annotation: no stop guard, podman's own timeout kills it ($ms ms)" sh -c "[ $ms -ge 1900 ]"
	pm rm "$NAME-plain" >/dev/null 2>>"$BLOG"
else
	not_ok "podman runs a container without the annotation"
fi

# A failing hook fails the container: podman run refuses it, nothing runs.
: >"$TMP/run.out"
n0=$(wc -l </run/berth/hook.log)
if pm run -d --name "$NAME-bad" --cgroup-parent "/$CGPARENT" --annotation berth.worker=test \
	--annotation berth.app-config="$APP/.platform.app.yaml" --annotation berth.storage-root="$STORAGE" \
	--annotation berth.state-dir="$TMP/state" --annotation berth.stop-guard=maybe \
	--rootfs "$ROOTFS" /bin/sh -c 'echo RAN; exec sleep 1000' >"$TMP/run.out" 2>"$BLOG"; then
	not_ok "a failing hook: podman run refuses the container"
else
	running=$(pm ps -q --filter status=running | wc -l)
	check "a failing hook: podman run refuses the container (the reason in berth's log, $running running)" sh -c "tail -n +$((n0 + 1)) /run/berth/hook.log | grep -q \"annotation berth.stop-guard: 'maybe' is neither on nor off\" && [ $running = 0 ]"
	diag "podman: $(tail -1 "$BLOG")"
fi
pm rm -f -t 0 "$NAME-bad" >/dev/null 2>&1

# Nothing left.
is "$(pm ps -a -q | wc -l)" 0 "no container left"
nothing_left "no loop device or mount of the test left"
is "$(nftx /proc/self/ns/net "list ruleset" 2>&1)" "$ruleset_before" "the host's firewall ruleset is unchanged"
check "no podman network device in the host's namespace" sh -c "! ip link show cni-podman0 >/dev/null 2>&1 && ! ip link show podman0 >/dev/null 2>&1"
is "$(host_state)" "$host_state_before" "no podman state outside the test's directory"
cg=$(ls -d /sys/fs/cgroup/*/"$CGPARENT"/libpod-* 2>/dev/null | wc -l)
is "$cg" 0 "the containers' cgroups are gone"
done_testing
