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
RT=${OCI_RUNTIME:-crun}
command -v "$RT" >/dev/null || skip_all "$RT is not installed (apt-get install $RT)"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ! file -L "$BUSYBOX" 2>/dev/null | grep -q static; then
	[ -x /bin/busybox ] && ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' && BUSYBOX=/bin/busybox ||
		skip_all "no static busybox (apt-get install busybox-static)"
fi

PM=$TMP/podman
ROOTFS=$TMP/rootfs
STORAGE=$TMP/storage
OUT=$TMP/out.log
# The containers' parent cgroup (podman makes it, and conmon's beside the
# containers' in it, in every v1 hierarchy): this test's, removed at exit.
CGPARENT=berth-podman-$$
NAME=berth-pod-$$
mkdir -p "$PM/hooks" "$PM/rt" "$PM/state" "$ROOTFS/bin" "$ROOTFS/proc" "$ROOTFS/dev" \
	"$ROOTFS/sys" "$ROOTFS/tmp" "$ROOTFS/etc" "$APP/data"
cp "$BUSYBOX" "$ROOTFS/bin/busybox"
for c in sh cat grep sed stat dd rm date sleep echo; do
	ln -sf busybox "$ROOTFS/bin/$c"
done

# podman runs its OCI runtime ($OCI_RUNTIME: crun, podman's default, or
# runc) through a wrapper of that name (podman treats it by its name), which
# keeps the runtime's state in this test's directory (--root; not /run/crun)
# and runs it in a private mount namespace with the host's cgroup2 mount
# hidden, as oci-crun.sh's crunx() does: on a hybrid host (v1 controllers,
# a cgroup2 at /sys/fs/cgroup/unified, which carries hugetlb on the test
# VM) crun 1.8 refuses every container ("cgroups in hybrid mode not
# supported, drop all controllers from cgroupv2"); hidden, it sees a v1
# host.  podman itself,
# with cgroupfs, only uses the v1 hierarchies.  runc 1.1 handles the hybrid
# host itself and passes with or without the hiding (OCI_RUNTIME=runc).
# Only the runtime's commands are wrapped: conmon and the container's
# cleanup stay in the host's namespace.
cat >"$PM/rt/$RT" <<EOF
#!/bin/sh
exec unshare -m sh -c '
	mount --make-rprivate /
	if mountpoint -q /sys/fs/cgroup/unified; then
		mount -t tmpfs none /sys/fs/cgroup/unified
	fi
	exec "$RT" --root "$PM/state" "\$@"' sh "\$@"
EOF
chmod +x "$PM/rt/$RT"
# podman's configuration, none of the host's: locks in files under its
# tmp_dir (not /dev/shm/libpod_lock), networks (CNI's lock) in $PM, no
# network at all (so no bridge, no firewall rule in the host's namespace),
# a private ipc namespace (no /dev/shm mount on the host), and rlimits any
# root may set (podman's defaults for root raise RLIMIT_NOFILE and
# RLIMIT_NPROC above the hard limits, which needs CAP_SYS_RESOURCE: crun
# fails with EPERM where root lacks it, as on the test VM).  The exit
# command conmon runs (podman container cleanup) gets CONTAINERS_CONF and
# the global flags.
cat >"$PM/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"
ipcns = "private"
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
lock_type = "file"
tmp_dir = "$PM/tmp"
static_dir = "$PM/static"
volume_path = "$PM/volumes"
[network]
network_config_dir = "$PM/net"
EOF
pm() {
	CONTAINERS_CONF=$PM/containers.conf podman --root "$PM/root" --runroot "$PM/runroot" \
		--storage-driver vfs --runtime "$PM/rt/$RT" --hooks-dir "$PM/hooks" "$@"
}
# What podman would leave on the host if its state were not private.
host_state() {
	for _f in /dev/shm/libpod_lock /run/libpod /run/containers /var/lib/containers \
		/etc/cni/net.d/cni.lock; do
		[ -e "$_f" ] && echo "$_f"
	done
}
host_state_before=$(host_state)
podman_cleanup() {
	pm rm -a -f -t 0 >/dev/null 2>&1
	# podman's cgroups in each hierarchy: the containers' (gone with them)
	# and conmon's, beneath this test's parent.
	for _h in /sys/fs/cgroup/*/"$CGPARENT"; do
		[ -d "$_h" ] && find "$_h" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	# Nothing of this test may stay mounted beneath $TMP before it goes.
	grep " $TMP" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r _m; do
		umount -l "$_m"
	done
	cleanup
}
trap podman_cleanup EXIT

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

. "$TOP_SRCDIR/tests/integration/oci-lib.sh"
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
