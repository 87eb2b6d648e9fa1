#!/bin/sh
# SPDX-License-Identifier: MIT
# `berth run` removes table inet berth from a network namespace it did not
# create when it exits: --network netns:PATH after a stop, after a give-up
# and when the table was changed meanwhile (deleted anyway, and said so);
# --network current with berth as PID 1 (unshare --pid --fork) in a
# namespace the test made, after a stop and after a setup failure.
# Namespaces come from `ip netns add` (in a mount namespace of this test's
# own); the test's own namespace is never touched.
#
# The script runs itself again in that mount namespace before lib.sh
# makes its temporary directory: the exec would skip lib.sh's cleanup.
if [ -z "${BERTH_NET_CLEANUP_INNER:-}" ] && command -v unshare >/dev/null &&
	[ "$(id -u)" -eq 0 ]; then
	BERTH_NET_CLEANUP_INNER=1 exec unshare --mount --propagation private sh "$0" "$@"
fi
. "${TOP_SRCDIR:-.}/tests/integration/lib.sh"
require_root
[ -n "${BERTH_NET_CLEANUP_INNER:-}" ] || skip_all "needs unshare (util-linux)"
command -v ip >/dev/null || skip_all "needs ip (iproute2)"
D=${TOP_BUILDDIR:?run through make check}/tests/helpers/net-driver
RUN_BOXED=1
NS=berth-tc$$-a
NS2=berth-tc$$-b
ip netns add "$NS" && ip netns add "$NS2" || skip_all "cannot create network namespaces"
trap 'ip netns del "$NS" 2>/dev/null; ip netns del "$NS2" 2>/dev/null; cleanup' EXIT
before=$("$D" --present 2>/dev/null)

# has_table NS: table inet berth is in namespace NS
has_table() { "$D" --nft "/run/netns/$1" "list tables" 2>/dev/null | grep -q 'inet berth'; }
no_table() { ! has_table "$1"; }

write_app "echo READY
exec sleep 1000"

# --- netns:PATH, a stop --------------------------------------------------
start_run host --network "netns:/run/netns/$NS"
check "netns: the worker runs" wait_for "$BLOG" '^READY' 20
check "netns: the table is there while berth runs" has_table "$NS"
kill -TERM "$BERTH_PID"
wait_run 20
is "$RUN_RC" 0 "netns: stopped, status 0"
check "netns: the table is removed at exit" no_table "$NS"
check "netns: and the removal logged" grep -q 'removed from the namespace' "$BLOG"

# --- changed while berth ran: deleted anyway, said so ----------------------
start_run host --network "netns:/run/netns/$NS"
wait_for "$BLOG" '^READY' 20
"$D" --nft "/run/netns/$NS" "add rule inet berth input tcp dport 22 accept"
kill -TERM "$BERTH_PID"
wait_run 20
is "$RUN_RC" 0 "changed: stopped, status 0"
check "changed: the table is removed all the same" no_table "$NS"
check "changed: the change is reported" grep -q 'was changed while berth ran' "$BLOG"

# --- a give-up ---------------------------------------------------------------
write_app "exit 3"
start_run host --network "netns:/run/netns/$NS" --max-restarts 0
wait_run 20
is "$RUN_RC" 3 "give-up: exit status 3"
check "give-up: the table is removed" no_table "$NS"

# start_pid1 NSENTER...: berth as PID 1 of a new pid namespace, started
# through the given command (which joins NS2).
start_pid1() {
	RUN_WRAP="$*"
	start_run pid1 --network current
	RUN_WRAP=
}

# --- current, berth as PID 1 in a namespace of the test's ----------------------
write_app "echo READY
exec sleep 1000"
start_pid1 nsenter --net="/run/netns/$NS2"
check "current: the worker runs (berth PID 1)" wait_for "$BLOG" '^READY' 20
check "current: the table is there while berth runs" has_table "$NS2"
kill -TERM "$BERTH_PID"
wait_run 20
is "$RUN_RC" 0 "current: stopped, status 0"
check "current: the table is removed from the namespace at exit" no_table "$NS2"

# --- a setup failure after the table was installed: `ip netns exec` mounts
# a sysfs of its own on /sys, which hides the cgroup hierarchies -----------
start_pid1 ip netns exec "$NS2"
wait_run 20
is "$RUN_RC" 125 "setup failure: exit status 125"
check "setup failure: it came after the table was installed" \
	sh -c "grep -q 'ingress dropped' '$BLOG' && grep -q 'no usable cgroup' '$BLOG'"
check "setup failure: the table is removed" no_table "$NS2"
check "the test's own namespace never had one" \
	sh -c "[ '$before' = 0 ] && [ \"\$('$D' --present 2>/dev/null)\" = 0 ]"

done_testing
