#!/bin/sh
# SPDX-License-Identifier: MIT
# The image recipe, contrib/container/Containerfile, offline: a base image
# imported from a root filesystem made of the host's files (busybox, the
# libraries berth and libnftables link), the build context as the recipe
# documents it (`make install-strip DESTDIR=CONTEXT/root`, the app in
# CONTEXT/app), `podman build` with the local base, then `podman run` of
# its workers with berth as PID 1:
#   - with the capabilities doc/containers.md lists and BERTH_NO_CGROUP=1:
#     the worker starts, as web, in its box (berth-init is its PID 1, the
#     app read-only); a plain `podman stop` (the engine's 10 s) of a worker
#     that ignores SIGTERM ends at the image's 8 s, berth's deadline, exit
#     137, not at podman's SIGKILL;
#   - each capability of the list dropped in turn, and the cgroupfs left
#     read-only: berth refuses to start (125) and says why;
#   - --privileged (a writable cgroupfs): the worker's own cgroup with its
#     size's limit, beneath the container's, gone after a prompt stop (0);
#   - the fallback, --unconfined with BERTH_NO_CGROUP=1, with no
#     capability at all.
# podman's state is private to the test (in $TMP, podman-lib.sh);
# nothing is left: no container, cgroup, mount, podman state, network
# device or firewall rule.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
command -v podman >/dev/null || skip_all "podman is not installed (apt-get install podman)"
command -v crun >/dev/null || skip_all "crun is not installed (apt-get install crun)"
BUSYBOX=$(command -v busybox || echo /bin/busybox)
[ -x "$BUSYBOX" ] && ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic' ||
	skip_all "no static busybox (apt-get install busybox-static)"
NFT=$(ls /lib/*/libnftables.so.1 /usr/lib/*/libnftables.so.1 2>/dev/null | head -1)
[ -n "$NFT" ] || skip_all "no libnftables.so.1 (apt-get install libnftables1)"
RECIPE=$TOP_SRCDIR/contrib/container/Containerfile

ROOTFS=$TMP/rootfs
CTX=$TMP/context
CGPARENT=berth-image-$$
NAME=berth-img-$$
BASE=localhost/berth-test-base-$$
IMAGE=localhost/berth-test-app-$$
OUT=$TMP/out.log
# The capabilities berth needs in the container (doc/containers.md).
CAPS="CHOWN KILL SETGID SETPCAP SETUID NET_ADMIN SYS_ADMIN"
mkdir -p "$ROOTFS/bin" "$ROOTFS/etc" "$ROOTFS/proc" \
	"$ROOTFS/sys" "$ROOTFS/dev" "$ROOTFS/tmp" "$ROOTFS/run" "$ROOTFS/var/lib" "$CTX/app"

# --- podman, private to the test (podman-lib.sh) ---------------------------
RT=crun
. "$TOP_SRCDIR/tests/integration/podman-lib.sh"
# The host's firewall, through libnftables (tests/helpers/net-driver).
NETD=${TOP_BUILDDIR:?run through make check}/tests/helpers/net-driver
ruleset() { "$NETD" --nft /proc/self/ns/net "list ruleset" 2>&1; }
ruleset_before=$(ruleset)

# --- the base image: the host's busybox and libraries, no pull ------------
copy_libs() { # BINARY: the libraries it links and the loader, at their paths
	ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3; next }
		$1 ~ /^\// { print $1 }' | while read -r _l; do
		[ -e "$ROOTFS$_l" ] && continue
		mkdir -p "$ROOTFS$(dirname "$_l")" && cp -L "$_l" "$ROOTFS$_l" || exit 1
	done
}
cp "$BUSYBOX" "$ROOTFS/bin/busybox"
for c in sh awk cat grep id sleep; do
	ln -s busybox "$ROOTFS/bin/$c"
done
mkdir -p "$ROOTFS$(dirname "$NFT")"
cp -L "$NFT" "$ROOTFS$NFT"
copy_libs "$BERTH" && copy_libs "$NFT" || skip_all "cannot copy the libraries of berth"
# root, the user web (uid 999) the recipe would create, nobody.
printf 'root:x:0:0::/root:/bin/sh\nweb:x:999:999::/app:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n' \
	>"$ROOTFS/etc/passwd"
printf 'root:x:0:\nweb:x:999:\nnogroup:x:65534:\n' >"$ROOTFS/etc/group"
tar -C "$ROOTFS" -cf "$TMP/rootfs.tar" .
if pm import "$TMP/rootfs.tar" "$BASE" >/dev/null 2>"$BLOG"; then
	ok "podman import: the base image from a local root filesystem"
else
	not_ok "podman import: the base image from a local root filesystem"
	diag "$(cat "$BLOG")"
fi

# --- the build context as the recipe documents it --------------------------
# make install-strip of this build (a make of its own: not the jobserver of
# the make check that runs this test).
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP_BUILDDIR" install-strip \
	DESTDIR="$CTX/root" >"$BLOG" 2>&1; then
	ok "make install-strip DESTDIR=CONTEXT/root"
else
	not_ok "make install-strip DESTDIR=CONTEXT/root"
	diag "$(tail -5 "$BLOG")"
fi
prefix=$(sed -n 's/^prefix = //p' "$TOP_BUILDDIR/Makefile")
# The workers: one ignores SIGTERM (sh and its sleeps), one exits on it,
# one is a shell that SIGTERM ends before the child it waits for, which
# takes 0.3 s to finish (as `sh -c "python3 worker.py"` with dash).
cat >"$CTX/app/.platform.app.yaml" <<'YAML'
name: app
type: "python:3.11"
size: S
workers:
  stubborn:
    commands:
      start: |
        echo "WORKER uid=$(id -u) pid=$$ init=$(cat /proc/1/comm)"
        echo "APP $(awk '$5 == "/app" { print $6 }' /proc/self/mountinfo)"
        trap "" TERM
        while :; do sleep 1; done
  polite:
    commands:
      start: |
        echo "WORKER uid=$(id -u) pid=$$ init=$(cat /proc/1/comm)"
        trap "echo GOT TERM; exit 0" TERM
        while :; do sleep 1 & wait $!; done
  nested:
    commands:
      start: |
        echo "WORKER uid=$(id -u) pid=$$ init=$(cat /proc/1/comm)"
        sh -c 'trap "sleep 0.3; echo CHILD DONE; exit 0" TERM; while :; do sleep 1 & wait $!; done'
YAML

t0=$(now_ms)
# --network none: the RUN step's container would otherwise get CNI's
# bridge, a cni-podman0 device and iptables chains in the host's namespace
# (containers.conf's netns does not apply to podman build).
if pm build --network none --pull=never -f "$RECIPE" --build-arg BASE="$BASE" --build-arg PACKAGES= \
	--build-arg PREFIX="$prefix" -t "$IMAGE" "$CTX" >"$BLOG" 2>&1; then
	ok "podman build with the recipe, offline ($(($(now_ms) - t0)) ms)"
else
	not_ok "podman build with the recipe, offline"
	diag "$(tail -15 "$BLOG")"
fi
is "$(pm image inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Config.StopSignal}}' "$IMAGE" 2>&1)" \
	'["/usr/local/bin/berth","run"] ["queue"] SIGTERM' "the image: berth run as ENTRYPOINT, the worker as CMD, SIGTERM"
pm image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$IMAGE" >"$TMP/env" 2>&1
check "the image: BERTH_APP_DIR=/app" grep -qx BERTH_APP_DIR=/app "$TMP/env"
check "the image: BERTH_STOP_TIMEOUT=8s, below the engine's 10 s" grep -qx BERTH_STOP_TIMEOUT=8s "$TMP/env"

# The sanitizers' settings of an ASan build, into the container.
SAN=
[ -n "${ASAN_OPTIONS:-}" ] && SAN="$SAN -e ASAN_OPTIONS=$ASAN_OPTIONS"
[ -n "${UBSAN_OPTIONS:-}" ] && SAN="$SAN -e UBSAN_OPTIONS=$UBSAN_OPTIONS"

# run CTR WORKER OPTIONS...: podman run -d; CID, PID (berth, its PID 1).
run() {
	_c=$1 _w=$2
	shift 2
	CID=
	PID=
	# shellcheck disable=SC2086 # SAN is words
	CID=$(pm run -d --name "$_c" --cgroup-parent "/$CGPARENT" $SAN "$@" "$IMAGE" "$_w" 2>"$BLOG") ||
		{ diag "$(cat "$BLOG")"; return 1; }
	PID=$(pm inspect -f '{{.State.Pid}}' "$_c")
}
# started CTR: until the worker's first line (10 s); the log in $OUT.
started() { pm_logged "$1" '^WORKER'; }
stop_ms() { # CTR [podman stop options]: STOP_MS, EXIT (the container's status)
	_c=$1
	shift
	_t0=$(now_ms)
	pm stop "$@" "$_c" >/dev/null 2>>"$BLOG"
	STOP_MS=$(($(now_ms) - _t0))
	EXIT=$(pm inspect -f '{{.State.ExitCode}}' "$_c")
	pm logs "$_c" >"$OUT" 2>&1
}
alive() { _s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null); [ -n "$_s" ] && [ "$_s" != Z ]; }
caps_but() { # CAP: the list without it, for --cap-add
	_l=
	for _x in $CAPS; do [ "$_x" = "$1" ] || _l="$_l${_l:+,}$_x"; done
	echo "$_l"
}

# --- the box with the documented capabilities ------------------------------
ALLCAPS=$(caps_but none)
if run "$NAME-box" stubborn --cap-drop all --cap-add "$ALLCAPS" -e BERTH_NO_CGROUP=1 &&
	started "$NAME-box"; then
	ok "the worker starts with --cap-drop all --cap-add $ALLCAPS"
	check "it runs as web (uid 999)" grep -q '^WORKER uid=999 ' "$OUT"
	check "its PID 1 is berth-init: a PID namespace of its own" grep -Eq '^WORKER .* pid=[0-9] init=berth-init' "$OUT"
	check "the app tree is mounted read-only in its view" grep -q '^APP ro,' "$OUT"
	check "the ingress rules are in place" grep -q 'ingress dropped' "$OUT"
	is "$(pm inspect -f '{{.Config.StopTimeout}}' "$NAME-box")" 10 "podman's stop timeout is its default, 10 s"
	stop_ms "$NAME-box"
	if [ "$STOP_MS" -ge 7500 ] && [ "$STOP_MS" -lt 9500 ] && [ "$EXIT" = 137 ] && ! alive "$PID" &&
		grep -q 'stop timeout (8000 ms) reached: killed' "$OUT"; then
		ok "podman stop of a TERM-ignoring worker ends at berth's 8 s deadline, 137 ($STOP_MS ms)"
	else
		not_ok "podman stop of a TERM-ignoring worker ends at berth's 8 s deadline, 137 ($STOP_MS ms, exit $EXIT)"
		diag "$(tail -8 "$OUT")"
	fi
	check "berth removed its ruleset before it exited" grep -q 'table inet berth removed' "$OUT"
else
	not_ok "the worker starts with --cap-drop all --cap-add $ALLCAPS"
fi
pm rm -f -t 0 "$NAME-box" >/dev/null 2>&1

# Without a cgroup the child that outlives the shell is berth-init's: its
# exit ends the stop all the same, at once, not at the deadline.
if run "$NAME-nested" nested --cap-drop all --cap-add "$ALLCAPS" -e BERTH_NO_CGROUP=1 &&
	started "$NAME-nested"; then
	stop_ms "$NAME-nested"
	if [ "$EXIT" = 0 ] && [ "$STOP_MS" -lt 3000 ] && grep -q '^CHILD DONE' "$OUT"; then
		ok "no cgroup: the stop ends when the shell's child does, 0 ($STOP_MS ms)"
	else
		not_ok "no cgroup: the stop ends when the shell's child does, 0 ($STOP_MS ms, exit $EXIT)"
		diag "$(tail -5 "$OUT")"
	fi
else
	not_ok "no cgroup: the nested worker starts"
fi
pm rm -f -t 0 "$NAME-nested" >/dev/null 2>&1

# --- each capability is needed; so is a writable cgroupfs -------------------
# failing CTR WORKER WANT OPTIONS...: berth refuses (125, or keeps failing
# its worker's setup) and says WANT.
failing() {
	_c=$1 _w=$2 _want=$3
	shift 3
	run "$_c" "$_w" "$@" || return 1
	_i=0
	until pm logs "$_c" 2>&1 | grep -q "$_want"; do
		_i=$((_i + 1))
		[ $_i -gt 50 ] && { diag "$(pm logs "$_c" 2>&1 | tail -4)"; return 1; }
		sleep 0.1
	done
	! pm logs "$_c" 2>&1 | grep -q '^WORKER'
}
for cap in $CAPS; do
	case $cap in
	SYS_ADMIN) want='setns: Operation not permitted' ;;
	NET_ADMIN) want='berth needs CAP_NET_ADMIN' ;;
	CHOWN) want='local storage directory .*Operation not permitted' ;;
	KILL) continue ;; # below
	*) want='could not set up the user and capabilities: Operation not permitted' ;;
	esac
	check "without CAP_$cap the worker does not start: '$want'" \
		failing "$NAME-no-$cap" stubborn "$want" --cap-drop all --cap-add "$(caps_but "$cap")" \
		-e BERTH_NO_CGROUP=1
	pm rm -f -t 0 "$NAME-no-$cap" >/dev/null 2>&1
done
# Without CAP_KILL berth (root) may not signal the worker (web): neither
# the stop signal nor the SIGKILL at the deadline reaches it.
if run "$NAME-no-KILL" polite --cap-drop all --cap-add "$(caps_but KILL)" -e BERTH_NO_CGROUP=1 \
	-e BERTH_STOP_TIMEOUT=300ms && started "$NAME-no-KILL"; then
	stop_ms "$NAME-no-KILL" -t 30
	check "without CAP_KILL the stop cannot reach the worker: 'survive SIGKILL'" sh -c \
		"grep -q 'survive SIGKILL' '$OUT' && ! grep -q '^GOT TERM' '$OUT'"
else
	not_ok "without CAP_KILL: the worker starts"
fi
pm rm -f -t 0 "$NAME-no-KILL" >/dev/null 2>&1
check "without a writable cgroupfs (nor BERTH_NO_CGROUP=1): 'Read-only file system'" \
	failing "$NAME-rocg" stubborn 'cannot create cgroup .*Read-only file system' \
	--cap-drop all --cap-add "$ALLCAPS"
# podman 4.3 says "stopped" between the process's exit and its cleanup
# (seen under load): the same exit, not yet tidied.
is "$(pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$NAME-rocg" | sed 's/^stopped /exited /')" \
	"exited 125" "without a writable cgroupfs: berth exits 125"
pm rm -f -t 0 "$NAME-rocg" >/dev/null 2>&1

# --- its own cgroup where the cgroupfs is writable (--privileged) -----------
if run "$NAME-priv" polite --privileged && started "$NAME-priv"; then
	ok "--privileged: the worker starts"
	cg=$(ls -d /sys/fs/cgroup/memory/"$CGPARENT"/libpod-"$CID"/berth-polite-* 2>/dev/null)
	is "$(cat "$cg/memory.limit_in_bytes" 2>&1)" 134217728 "--privileged: its own cgroup in the container's, size S's memory limit"
	stop_ms "$NAME-priv"
	if [ "$EXIT" = 0 ] && [ "$STOP_MS" -lt 5000 ] && grep -q '^GOT TERM' "$OUT"; then
		ok "--privileged: podman stop ends a worker that handles SIGTERM promptly, 0 ($STOP_MS ms)"
	else
		not_ok "--privileged: podman stop ends a worker that handles SIGTERM promptly, 0 ($STOP_MS ms, exit $EXIT)"
		diag "$(tail -5 "$OUT")"
	fi
	check "--privileged: berth removed the worker's cgroup" sh -c "! ls -d /sys/fs/cgroup/*/$CGPARENT/libpod-$CID/berth-* 2>/dev/null | grep -q ."
else
	not_ok "--privileged: the worker starts"
fi
pm rm -f -t 0 "$NAME-priv" >/dev/null 2>&1

# --- the fallback: no box, no cgroup, no capability --------------------------
if run "$NAME-unconf" polite --cap-drop all -e BERTH_UNCONFINED=1 -e BERTH_NO_CGROUP=1 &&
	started "$NAME-unconf"; then
	check "--unconfined --no-cgroup: starts with no capability, as root, berth its PID 1" \
		grep -q '^WORKER uid=0 pid=[0-9]* init=berth$' "$OUT"
	stop_ms "$NAME-unconf"
	is "$EXIT" 0 "--unconfined --no-cgroup: podman stop, 0 ($STOP_MS ms)"
else
	not_ok "--unconfined --no-cgroup: starts with no capability"
fi
pm rm -f -t 0 "$NAME-unconf" >/dev/null 2>&1

# --- nothing left ----------------------------------------------------------
is "$(pm ps -a -q | wc -l)" 0 "no container left"
pm rmi -f "$IMAGE" "$BASE" >/dev/null 2>&1
is "$(find /sys/fs/cgroup/*/"$CGPARENT" -maxdepth 1 -name 'libpod-*' 2>/dev/null | wc -l)" 0 "the containers' cgroups are gone"
is "$(our_mounts)" 0 "no mount of the test left"
drop_blob_cache
is "$(host_state)" "$host_state_before" "no podman state or network device outside the test's directory"
is "$(ruleset)" "$ruleset_before" "the host's firewall ruleset is unchanged"
done_testing
