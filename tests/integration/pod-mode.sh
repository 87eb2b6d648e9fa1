#!/bin/sh
# SPDX-License-Identifier: MIT
# Pod mode under a real engine: plain `podman run` of an image imported
# from a local root filesystem (busybox-static, berth and what it links,
# the app; nothing pulled), the container built as the generated manifests
# ask (--cap-drop all, no-new-privileges, podman's default seccomp
# profile, --read-only, --memory and --cpus of the worker's size, --user
# 65534, no network) with BERTH_POD=1:
#   - berth is PID 1 and the worker its child; its one line names the
#     engine's guarantees and berth's own; the pod's environment reaches
#     the worker, berth's own settings do not; berth creates no cgroup;
#     a worker that exits is restarted; a stop of a worker that ignores
#     SIGTERM ends at berth's deadline (137), not at podman's timeout;
#   - each guarantee missing in turn (a capability added, no
#     no-new-privileges, seccomp=unconfined, root, a writable root, no
#     memory limit, a CPU limit above the size's): berth refuses, 125,
#     naming that guarantee and only it; its waiver lets the worker start;
#   - pod mode is never guessed: without BERTH_POD berth tries its own box.
# podman's state is private to the test (in $TMP, podman-lib.sh);
# nothing is left: no container, cgroup, mount, podman state, network
# device or firewall rule.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
command -v podman >/dev/null || skip_all "podman is not installed (apt-get install podman)"
command -v crun >/dev/null || skip_all "crun is not installed (apt-get install crun)"

ROOTFS=$TMP/rootfs
CGPARENT=berth-podmode-$$
NAME=berth-podmode-$$
IMAGE=localhost/berth-test-pod-$$
OUT=$TMP/out.log
RT=crun
. "$TOP_SRCDIR/tests/integration/podman-lib.sh"
. "$TOP_SRCDIR/tests/integration/pod-image.sh"
links_before=$(ip -br link | awk '{print $1}' | sort)
ipt_before=$(iptables -S 2>&1)

# --- the image: busybox, berth and its libraries, the app -------------------
pod_rootfs "$ROOTFS" sh cat env sort grep id sleep awk sed || skip_all "cannot copy berth and its libraries"
mkdir -p "$ROOTFS/etc/berth"
# The context gives project and entropy: berth writes no state (the root
# is read-only).
cat >"$ROOTFS/etc/berth/context.json" <<'EOF2'
{"project": "podproj", "entropy": "PODMODEENTROPY", "tree_id": "9851a01081f3c2f943f75f62c38b67f8bc0ec15c",
 "branch": "main", "environment": "main-podmode"}
EOF2
cat >"$ROOTFS/app/.platform.app.yaml" <<'YAML'
name: app
type: "python:3.11"
size: S
variables:
  env:
    FROM_APP: app
workers:
  probe:
    commands:
      start: |
        n=$(cat /tmp/starts 2>/dev/null || echo 0); n=$((n + 1)); echo $n >/tmp/starts
        echo "WORKER start=$n uid=$(id -u) pid=$$ ppid=$PPID init=$(cat /proc/1/comm)"
        env | sort | sed 's/^/ENV /'
        [ $n -ge 2 ] || exit 3
        trap "" TERM
        while :; do sleep 1; done
YAML
if pod_image "$ROOTFS" "$IMAGE"; then
	ok "podman import: the image from a local root filesystem"
else
	not_ok "podman import: the image from a local root filesystem"
	diag "$(cat "$BLOG")"
fi

# The sanitizers' settings of an ASan build, into the container.
SAN=
[ -n "${ASAN_OPTIONS:-}" ] && SAN="$SAN -e ASAN_OPTIONS=$ASAN_OPTIONS"
[ -n "${UBSAN_OPTIONS:-}" ] && SAN="$SAN -e UBSAN_OPTIONS=$UBSAN_OPTIONS"
# The box the generated manifests ask for; size S of python: 128M, 0.4 CPU.
CAPDROP="--cap-drop all"
NNP="--security-opt no-new-privileges"
USR="--user 65534"
RO="--read-only"
MEM="--memory 128m"
CPU="--cpus 0.4"
SECCOMP=
box() { echo "$CAPDROP $NNP $USR $RO $MEM $CPU $SECCOMP"; }

# run CTR ARGS...: podman run -d of berth --pod ARGS; CID, PID (berth).
run() {
	_c=$1
	shift
	CID=
	PID=
	# shellcheck disable=SC2086 # SAN and box are words
	CID=$(pm run -d --name "$_c" --cgroup-parent "/$CGPARENT" $SAN $(box) \
		-e BERTH_APP_DIR=/app -e BERTH_CONTEXT=/etc/berth/context.json \
		-e BERTH_STOP_TIMEOUT=3s -e BERTH_RESTART_MIN=200ms -e FOO=from-pod \
		"$@" "$IMAGE" /usr/local/bin/berth run probe 2>"$BLOG") ||
		{ diag "$(cat "$BLOG")"; return 1; }
	PID=$(pm inspect -f '{{.State.Pid}}' "$_c")
}
# started CTR: until the worker's second start (10 s); the log in $OUT.
started() { pm_logged "$1" '^WORKER start=2'; }
# ended CTR: the container's exit status once it ended (10 s), log in $OUT.
ended() {
	_i=0
	while [ "$(pm inspect -f '{{.State.Status}}' "$1" 2>/dev/null)" != exited ]; do
		_i=$((_i + 1))
		[ $_i -gt 50 ] && { echo hung; return; }
		sleep 0.2
	done
	pm logs "$1" >"$OUT" 2>&1
	pm inspect -f '{{.State.ExitCode}}' "$1"
}
alive() { _s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null); [ -n "$_s" ] && [ "$_s" != Z ]; }

# --- the engine's box: berth PID 1, the worker its child -------------------
if run "$NAME-good" -e BERTH_POD=1 && started "$NAME-good"; then
	ok "pod mode: the worker starts in the engine's box"
	is "$(cat "/proc/$PID/comm" 2>&1)" berth "the container's init is berth"
	check "the worker sees berth as its PID 1 and parent" \
		grep -Eq '^WORKER start=2 uid=65534 pid=[0-9]+ ppid=1 init=berth$' "$OUT"
	check "one line: the engine's guarantees and berth's own" grep -q \
		'pod mode: engine: caps none, no_new_privs, seccomp, uid 65534, ro root, memory 128M, cpu 0.4; berth: env, restart, stop 3s, reap$' \
		"$OUT"
	check "the pod's environment reaches the worker (FOO, no --pass-env)" grep -qx 'ENV FOO=from-pod' "$OUT"
	check "the app config's env: too" grep -qx 'ENV FROM_APP=app' "$OUT"
	check "berth's own settings do not (BERTH_*)" sh -c "! grep -q '^ENV BERTH_' '$OUT'"
	check "nor the engine's additions (HOSTNAME, container)" sh -c "! grep -Eq '^ENV (HOSTNAME|container)=' '$OUT'"
	check "USER is the engine's user" grep -qx 'ENV USER=nobody' "$OUT"
	check "a worker that exits is restarted (exit 3, then start 2)" \
		sh -c "grep -q '^WORKER start=1 ' '$OUT' && grep -q 'exited with status 3' '$OUT'"
	cgs=$(find /sys/fs/cgroup/*/"$CGPARENT"/libpod-"$CID"* -mindepth 1 -type d 2>/dev/null | wc -l)
	is "$cgs" 0 "berth created no cgroup in the container's"
	t0=$(now_ms)
	pm stop -t 30 "$NAME-good" >/dev/null 2>>"$BLOG"
	ms=$(($(now_ms) - t0))
	ex=$(ended "$NAME-good")
	if [ "$ex" = 137 ] && [ "$ms" -ge 2500 ] && [ "$ms" -lt 8000 ] && ! alive "$PID" &&
		grep -q 'stop timeout (3000 ms) reached: killed' "$OUT"; then
		ok "podman stop -t 30 of a TERM-ignoring worker ends at berth's 3 s, 137 ($ms ms)"
	else
		not_ok "podman stop -t 30 of a TERM-ignoring worker ends at berth's 3 s, 137 ($ms ms, exit $ex)"
		diag "$(tail -5 "$OUT")"
	fi
else
	not_ok "pod mode: the worker starts in the engine's box"
	diag "$(tail -5 "$OUT")"
fi
pm rm -f -t 0 "$NAME-good" >/dev/null 2>&1

# --- each guarantee missing in turn: 125, naming it -------------------------
# refused NAME WHAT: berth refused with 125, naming NAME (and only it),
# and the worker never started.
refused() {
	_ex=$(ended "$NAME-$1")
	[ "$_ex" = 125 ] && grep -q "the engine does not provide $1 ([^;]*); .*--pod-waive $1\$" "$OUT" &&
		! grep -q '^WORKER' "$OUT" || { diag "exit $_ex: $(tail -3 "$OUT")"; return 1; }
}
for g in caps no_new_privs seccomp root ro_root memory cpu; do
	CAPDROP="--cap-drop all" NNP="--security-opt no-new-privileges" USR="--user 65534" RO="--read-only"
	MEM="--memory 128m" CPU="--cpus 0.4" SECCOMP=
	case $g in
	caps) CAPDROP="--cap-drop all --cap-add CHOWN" how="a capability added (CHOWN)" ;;
	no_new_privs) NNP= how="no no-new-privileges" ;;
	seccomp) SECCOMP="--security-opt seccomp=unconfined" how="seccomp=unconfined" ;;
	root) USR="--user 0" how="--user 0" ;;
	ro_root) RO= how="a writable root" ;;
	memory) MEM= how="no memory limit" ;;
	cpu) CPU="--cpus 1" how="1 CPU, above size S's 0.4" ;;
	esac
	if run "$NAME-$g" -e BERTH_POD=1 && refused "$g"; then
		ok "$how: berth refuses, 125, naming $g"
	else
		not_ok "$how: berth refuses, 125, naming $g"
	fi
	pm rm -f -t 0 "$NAME-$g" >/dev/null 2>&1
	if run "$NAME-$g-w" -e BERTH_POD=1 -e BERTH_POD_WAIVE="$g" && started "$NAME-$g-w" &&
		grep -q "pod mode: engine: .* waived (" "$OUT"; then
		ok "$how: BERTH_POD_WAIVE=$g lets the worker start, the line says waived"
	else
		not_ok "$how: BERTH_POD_WAIVE=$g lets the worker start, the line says waived"
	fi
	pm rm -f -t 0 "$NAME-$g-w" >/dev/null 2>&1
done
CAPDROP="--cap-drop all" NNP="--security-opt no-new-privileges" USR="--user 65534" RO="--read-only"
MEM="--memory 128m" CPU="--cpus 0.4" SECCOMP=

# --- the option and its twin -------------------------------------------------
RO=
if CID=$(pm run -d --name "$NAME-opt" --cgroup-parent "/$CGPARENT" $SAN $(box) \
	-e BERTH_APP_DIR=/app -e BERTH_CONTEXT=/etc/berth/context.json -e BERTH_RESTART_MIN=200ms \
	"$IMAGE" /usr/local/bin/berth run --pod --pod-waive ro_root probe 2>"$BLOG") &&
	started "$NAME-opt"; then
	ok "--pod --pod-waive ro_root on the command line: the worker starts"
else
	not_ok "--pod --pod-waive ro_root on the command line: the worker starts"
fi
pm rm -f -t 0 "$NAME-opt" >/dev/null 2>&1
RO="--read-only"
run "$NAME-bad" -e BERTH_POD=1 -e BERTH_POD_WAIVE=caps,bogus
is "$(ended "$NAME-bad")" 2 "BERTH_POD_WAIVE with an unknown name: usage error, 2"
check "it names the unknown name" grep -q "'bogus' is not one of caps, no_new_privs" "$OUT"
pm rm -f -t 0 "$NAME-bad" >/dev/null 2>&1
# Never guessed: without BERTH_POD, berth builds its own box (and cannot).
run "$NAME-plain"
is "$(ended "$NAME-plain")" 125 "without BERTH_POD berth does not guess pod mode: its own box, 125"
check "it says why: berth builds the box as root" grep -q "builds the worker's box as root" "$OUT"
pm rm -f -t 0 "$NAME-plain" >/dev/null 2>&1

# --- nothing left ----------------------------------------------------------
is "$(pm ps -a -q | wc -l)" 0 "no container left"
pm rmi -f "$IMAGE" >/dev/null 2>&1
is "$(find /sys/fs/cgroup/*/"$CGPARENT" -maxdepth 1 -name 'libpod-*' 2>/dev/null | wc -l)" 0 "the containers' cgroups are gone"
is "$(our_mounts)" 0 "no mount of the test left"
drop_blob_cache
is "$(host_state)" "$host_state_before" "no podman state or network device outside the test's directory"
is "$(ip -br link | awk '{print $1}' | sort)" "$links_before" "no network device left"
is "$(iptables -S 2>&1)" "$ipt_before" "the host's iptables rules are unchanged"
done_testing
