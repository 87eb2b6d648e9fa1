#!/bin/sh
# SPDX-License-Identifier: MIT
# `berth run` where no cgroup2 is mounted (a host with v1 hierarchies
# alone, or a container that hides the rest): no cgroup.events tells
# berth that the worker's cgroup emptied.  A stop whose main process
# exits at once while a leftover of its tree (in the box, berth-init's
# child, not berth's) lingers up to 2 s ends when the leftover does, not at
# the 6 s deadline.  The cgroup2 mount is hidden in a mount namespace of
# the test's (unshare -m, a tmpfs over /sys/fs/cgroup/unified).
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
mountpoint -q /sys/fs/cgroup/unified ||
	skip_all "no hybrid cgroup layout (/sys/fs/cgroup/unified) to hide cgroup2 from"
write_app '(trap "" TERM; sleep 2) &
trap "exit 0" TERM
echo STARTED
while :; do sleep 0.2; done'
unshare -m sh -c 'mount --make-rprivate / && mount -t tmpfs none /sys/fs/cgroup/unified &&
	BERTH_STOP_TIMEOUT=6s BERTH_NETWORK=none exec "$1" -C "$2" run test' sh "$BERTH" "$APP" \
	>"$BLOG" 2>&1 &
pid=$!
STARTED_PIDS=$pid
i=0
until grep -q '^STARTED' "$BLOG" || [ $i -gt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "the worker starts without cgroup2" grep -q '^STARTED' "$BLOG"
sleep 0.3
t0=$(now_ms)
kill -TERM "$pid"
wait "$pid"
rc=$?
ms=$(($(now_ms) - t0))
STARTED_PIDS=
is "$rc" 0 "stopped: exit 0"
if [ "$ms" -ge 500 ] && [ "$ms" -lt 4000 ]; then
	ok "the stop ends with the leftover (about 1.5 s), not at the 6 s deadline ($ms ms)"
else
	not_ok "the stop ends with the leftover (about 1.5 s), not at the 6 s deadline ($ms ms)"
	dump_logs
fi
check "berth used a cgroup (v1)" grep -q 'clone3+cgroup+tasks\|fork+tasks\|clone3+tasks' "$BLOG"
done_testing
