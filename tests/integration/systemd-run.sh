#!/bin/sh
# SPDX-License-Identifier: MIT
# `systemctl start berth@INSTANCE` from what `make install` installed,
# under a real systemd: systemd boots as PID 1 of a podman container
# (--systemd=always, offline: a root filesystem of the host's /usr,
# read-only, and a few files of /etc; the host's PID 1 need not be
# systemd), with this build installed (`make install DESTDIR=`, its prefix
# mounted read-only at the same path), the example app installed with it
# copied to /srv/app and /etc/berth/app-queue.env saying which worker:
#   - `systemctl start` returns once berth said READY=1 (Type=notify):
#     systemd's "Started" comes after berth's "started worker process", the
#     unit is active with berth's STATUS= line, the worker runs;
#   - `journalctl -u` has berth's lines with their priorities (6 for info,
#     4 for warnings, from the <N> prefixes) and without berth's timestamp
#     and pid;
#   - `systemctl stop` ends at once, the unit inactive (not failed);
#   - a worker that ignores SIGTERM is SIGKILLed at berth's 15 s deadline,
#     before systemd's TimeoutStopSec=30s: the unit inactive, status 137
#     (SuccessExitStatus=137).
# The container has the capabilities doc/containers.md lists and, not
# privileged (which would let its systemd apply the host's sysctl.d to
# the kernel), a read-only cgroupfs: the env files say BERTH_NO_CGROUP=1
# and BERTH_NETWORK=current (the container's network namespace, its
# loopback alone: a namespace of the worker's own would need CAP_SYS_PTRACE
# for berth to open it, which a container's systemd services lack).  podman's state
# is private to the test (podman-lib.sh); nothing is left.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
command -v podman >/dev/null || skip_all "podman is not installed (apt-get install podman)"
command -v crun >/dev/null || skip_all "crun is not installed (apt-get install crun)"
[ -x /lib/systemd/systemd ] || skip_all "systemd is not installed (apt-get install systemd)"
for d in bin lib sbin; do
	[ "$(readlink "/$d")" = "usr/$d" ] || skip_all "/$d is not a link to usr/$d: the root filesystem is made of the host's /usr"
done
prefix=$(sed -n 's/^prefix = //p' "${TOP_BUILDDIR:?run through make check}/Makefile")
case $prefix in
/usr | /usr/lib* | /usr/bin* | /usr/share*) skip_all "prefix $prefix: the container mounts the host's /usr there" ;;
esac

RT=crun
CGPARENT=berth-systemd-$$
NAME=berth-sd-$$
. "$TOP_SRCDIR/tests/integration/podman-lib.sh"
ROOTFS=$TMP/rootfs
INST=$TMP/inst
NETD=$TOP_BUILDDIR/tests/helpers/net-driver
ruleset() { "$NETD" --nft /proc/self/ns/net "list ruleset" 2>&1; }
ruleset_before=$(ruleset)

# --- the root filesystem: the host's /usr and a few files of its /etc -----
mkdir -p "$ROOTFS/usr" "$ROOTFS/etc/systemd/system" "$ROOTFS/etc/berth" "$ROOTFS/var/lib" \
	"$ROOTFS/var/log" "$ROOTFS/root" "$ROOTFS/srv" "$ROOTFS/proc" "$ROOTFS/sys" \
	"$ROOTFS/dev" "$ROOTFS/run" "$ROOTFS/tmp"
for d in bin lib lib64 sbin; do
	[ -L "/$d" ] && ln -s "$(readlink "/$d")" "$ROOTFS/$d"
done
for f in passwd group shadow gshadow nsswitch.conf os-release; do
	[ -e "/etc/$f" ] && cp -L "/etc/$f" "$ROOTFS/etc/$f"
done
: >"$ROOTFS/etc/machine-id" # systemd makes a transient one

# --- make install ------------------------------------------------------------
# A make of its own: not the jobserver of the make check that runs this.
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP_BUILDDIR" install \
	DESTDIR="$INST" >"$BLOG" 2>&1; then
	ok "make install DESTDIR=INST (prefix $prefix)"
else
	not_ok "make install DESTDIR=INST (prefix $prefix)"
	diag "$(tail -5 "$BLOG")"
fi
unit=$(find "$INST" -name 'berth@.service' | head -1)
unit=${unit#"$INST"}
bin=$(find "$INST" -path '*/bin/berth' | head -1)
bin=${bin#"$INST"}
check "the installed unit runs the installed berth ($bin)" \
	grep -q "^ExecStart=$bin run " "$INST$unit"
examples=$(dirname "$(find "$INST" -path '*/examples/.platform.app.yaml' | head -1)")
cp -a "$examples" "$ROOTFS/srv/app"
# A worker that ignores SIGTERM (sh and its sleeps).
mkdir -p "$ROOTFS/srv/stubborn"
cat >"$ROOTFS/srv/stubborn/.platform.app.yaml" <<'YAML'
name: stubborn
type: "python:3.11"
size: S
workers:
  stubborn:
    commands:
      start: |
        echo "STUBBORN $$"
        trap "" TERM
        while :; do sleep 1; done
YAML
# The sanitizers' settings of an ASan build, for berth under systemd.
san() {
	[ -n "${ASAN_OPTIONS:-}" ] && echo "ASAN_OPTIONS=$ASAN_OPTIONS"
	[ -n "${UBSAN_OPTIONS:-}" ] && echo "UBSAN_OPTIONS=$UBSAN_OPTIONS"
	true
}
printf 'BERTH_APP_DIR=/srv/app\nBERTH_WORKER=queue\nBERTH_NETWORK=current\nBERTH_NO_CGROUP=1\n%s\n' \
	"$(san)" >"$ROOTFS/etc/berth/app-queue.env"
printf 'BERTH_APP_DIR=/srv/stubborn\nBERTH_WORKER=stubborn\nBERTH_NETWORK=current\nBERTH_NO_CGROUP=1\n%s\n' \
	"$(san)" >"$ROOTFS/etc/berth/app-stubborn.env"

# --- systemd as the container's PID 1 -----------------------------------------
sx() { pm exec "$NAME" "$@"; }
if pm run -d --name "$NAME" --cgroup-parent "/$CGPARENT" --systemd=always \
	--cap-add SYS_ADMIN,NET_ADMIN -v /usr:/usr:ro -v "$INST$prefix:$prefix:ro" \
	--rootfs "$ROOTFS" /lib/systemd/systemd >/dev/null 2>"$BLOG"; then
	i=0
	until st=$(sx systemctl is-system-running --wait 2>&1); do
		case $st in running | degraded) break ;; esac
		i=$((i + 1))
		[ $i -gt 100 ] && break
		sleep 0.2
	done
	is "$(sx cat /proc/1/comm 2>&1) $st" "systemd running" "systemd boots as the container's PID 1"
	[ "$st" = running ] || diag "$(sx systemctl --failed --no-pager 2>&1)"
else
	not_ok "systemd boots as the container's PID 1"
	diag "$(cat "$BLOG")"
fi
# A unit outside systemd's search path (a --prefix of one's own, as make
# distcheck's) is linked into /etc/systemd/system.
fragment=$unit
case ${unit%/*} in
/usr/local/lib/systemd/system | /usr/lib/systemd/system | /lib/systemd/system) ;;
*)
	fragment=/etc/systemd/system/berth@.service
	sx systemctl link "$unit" >/dev/null 2>>"$BLOG"
	is "$(sx readlink "$fragment" 2>&1)" "$unit" "systemctl link $unit"
	;;
esac
# show UNIT PROP...: the values of `systemctl show -p PROP`, in that order
show() {
	_u=$1
	shift
	for _p; do
		sx systemctl show -p "$_p" --value "$_u" 2>&1
	done | tr '\n' ' ' | sed 's/ $//'
}
# entries UNIT: berth's own lines of the unit's journal, "PRIORITY|MESSAGE"
entries() {
	sx journalctl --no-pager -o export -u "$1" 2>&1 | awk '
		/^$/ { if (id == "berth") print p "|" m; id = ""; p = ""; m = ""; next }
		/^SYSLOG_IDENTIFIER=/ { id = substr($0, 19) }
		/^PRIORITY=/ { p = substr($0, 10) }
		/^MESSAGE=/ { m = substr($0, 9) }'
}
stop_ms() { # UNIT: STOP_MS
	_t0=$(now_ms)
	sx timeout 40 systemctl stop "$1" >/dev/null 2>>"$BLOG"
	STOP_MS=$(($(now_ms) - _t0))
}

# --- systemctl start: active after READY=1, with berth's STATUS= line ---------
U=berth@app-queue.service
t0=$(now_ms)
if sx timeout 30 systemctl start "$U" 2>"$BLOG"; then
	ok "systemctl start $U returns ($(($(now_ms) - t0)) ms)"
else
	not_ok "systemctl start $U returns"
	diag "$(cat "$BLOG")"
	diag "$(sx journalctl --no-pager -u "$U" 2>&1 | tail -8)"
fi
is "$(show "$U" FragmentPath)" "$fragment" "the unit is the one make install installed"
is "$(show "$U" Type ActiveState SubState)" "notify active running" \
	"Type=notify: active, running"
status=$(show "$U" StatusText)
main=$(show "$U" MainPID)
wpid=${status#worker queue running (process }
wpid=${wpid%)}
check "StatusText is berth's STATUS= line: $status" \
	sh -c "echo '$status' | grep -Eqx 'worker queue running \\(process [0-9]+\\)'"
check "the worker (process $wpid) runs the example's queue-worker.py" \
	sx grep -q queue-worker.py "/proc/$wpid/cmdline"
is "$(sx cat "/proc/$main/comm" 2>&1)" berth "the unit's main process is berth"
sx journalctl --no-pager -o cat -u "$U" >"$TMP/journal" 2>&1
started=$(grep -n 'queue: started worker process' "$TMP/journal" | head -1 | cut -d: -f1)
active=$(grep -n "^Started $U" "$TMP/journal" | head -1 | cut -d: -f1)
if [ -n "$started" ] && [ -n "$active" ] && [ "$started" -lt "$active" ]; then
	ok "systemd's \"Started\" (line $active) comes after berth's \"started worker process\" (line $started)"
else
	not_ok "systemd's \"Started\" comes after berth's \"started worker process\""
	diag "$(cat "$TMP/journal")"
fi
i=0
until grep -q '^queue worker [0-9]*: TYPE=worker' "$TMP/journal" || [ $i -gt 50 ]; do
	sleep 0.1
	i=$((i + 1))
	sx journalctl --no-pager -o cat -u "$U" >"$TMP/journal" 2>&1
done
check "the worker's own output is in the unit's journal" grep -q '^queue worker [0-9]*: TYPE=worker' "$TMP/journal"

# --- the journal: priorities from the <N> prefixes, no time, no pid ------------
entries "$U" >"$TMP/entries"
check "info: PRIORITY=6 ('started worker process')" grep -q '^6|queue: started worker process' "$TMP/entries"
check "warning: PRIORITY=4 ('--no-cgroup: no limits')" grep -q '^4|queue: warning: --no-cgroup: no limits' "$TMP/entries"
check "berth's lines carry neither its timestamp, its pid nor a raw <N> prefix" \
	sh -c "[ -s '$TMP/entries' ] && ! grep -Eq '^[0-9]\\|(<[0-9]>|[0-9]{4}-[0-9]{2}-[0-9]{2}T|.*berth\\[)' '$TMP/entries'"

# --- systemctl stop: at once, inactive ----------------------------------------
stop_ms "$U"
is "$(show "$U" ActiveState Result ExecMainStatus)" "inactive success 0" \
	"systemctl stop: inactive, not failed, status 0 ($STOP_MS ms)"
if [ "$STOP_MS" -lt 15000 ] && sx journalctl --no-pager -o cat -u "$U" 2>&1 |
	grep -q 'queue worker: SIGTERM received'; then
	ok "systemctl stop ends within berth's deadline, the worker's SIGTERM handler ran ($STOP_MS ms)"
else
	not_ok "systemctl stop ends within berth's deadline, the worker's SIGTERM handler ran ($STOP_MS ms)"
	diag "$(sx journalctl --no-pager -o cat -u "$U" 2>&1 | tail -6)"
fi

# --- a worker that ignores SIGTERM: berth's SIGKILL at 15 s, not systemd's -------
S=berth@app-stubborn.service
if sx timeout 30 systemctl start "$S" 2>"$BLOG"; then
	ok "systemctl start $S"
	stop_ms "$S"
	# systemd keeps no ExecMainStatus of a stop it deems successful:
	# berth's last line says 137, systemd's Result says success.
	is "$(show "$S" ActiveState Result)" "inactive success" "TERM ignored: inactive, not failed"
	if [ "$STOP_MS" -ge 14500 ] && [ "$STOP_MS" -lt 25000 ]; then
		ok "TERM ignored: systemctl stop ends at berth's 15 s deadline, not systemd's 30 s ($STOP_MS ms)"
	else
		not_ok "TERM ignored: systemctl stop ends at berth's 15 s deadline, not systemd's 30 s ($STOP_MS ms)"
	fi
	entries "$S" >"$TMP/entries"
	check "the deadline's SIGKILL is a warning, PRIORITY=4" \
		grep -q '^4|stubborn: warning: stop timeout (15000 ms) reached: killed' "$TMP/entries"
	sx journalctl --no-pager -o cat -u "$S" >"$TMP/journal" 2>&1
	check "berth exited 137 and systemd took it as a success (SuccessExitStatus=137)" \
		sh -c "grep -q '^6|stubborn: stopped in [0-9]* ms, exit status 137\$' '$TMP/entries' &&
		       grep -q 'Deactivated successfully' '$TMP/journal'"
	check "systemd did not time out nor kill itself" sh -c \
		"! grep -Eq 'timed out|Killing process' '$TMP/journal'"
else
	not_ok "systemctl start $S"
	diag "$(sx journalctl --no-pager -u "$S" 2>&1 | tail -8)"
fi

# --- nothing left ----------------------------------------------------------------
# systemd's shutdown (podman's stop signal for it, SIGRTMIN+3).
t0=$(date +%s%N)
pm stop -t 20 "$NAME" >/dev/null 2>>"$BLOG"
diag "podman stop (systemd's shutdown): $((($(date +%s%N) - t0) / 1000000)) ms"
pm rm -f -t 0 "$NAME" >/dev/null 2>&1
is "$(pm ps -a -q | wc -l)" 0 "no container left"
# The cgroups the container's systemd made beneath its own, in the host's
# name=systemd hierarchy: empty, removed by the test.  A process podman
# has just SIGKILLed (its stop timed out on a busy machine) leaves its
# cgroup when its exit is done: up to 5 s for that, then it is a leak.
cg_procs() { find /sys/fs/cgroup/*/"$CGPARENT" -name cgroup.procs -exec cat {} + 2>/dev/null; }
i=0
while [ "$(cg_procs | wc -l)" -gt 0 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
procs=$(cg_procs | wc -l)
is "$procs" 0 "no process left in the container's cgroups (after $((i * 100)) ms)"
[ "$procs" -eq 0 ] || diag "$(cg_procs | xargs -r ps -o pid,stat,cmd -p 2>&1)"
find /sys/fs/cgroup/*/"$CGPARENT" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
is "$(find /sys/fs/cgroup/*/"$CGPARENT" -maxdepth 1 -name 'libpod-*' 2>/dev/null | wc -l)" 0 "the container's cgroups are gone"
is "$(our_mounts)" 0 "no mount of the test left"
is "$(host_state)" "$host_state_before" "no podman state or network device outside the test's directory"
is "$(ruleset)" "$ruleset_before" "the host's firewall ruleset is unchanged"
done_testing
