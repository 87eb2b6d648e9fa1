#!/bin/sh
# SPDX-License-Identifier: MIT
# `berth --log-format json run`: every line on stderr is one JSON object
# with time, level, pid, msg, worker and event, and each lifecycle event
# carries its fields (berth(1), "JSON log"): a start command that exits 3
# once and then ignores SIGTERM gives started, exited (exit_code),
# restarting (delay_ms), started, stopping, killed at the deadline (pids),
# exited (signal), stopped (exit_status 137).  By hand and as PID 1.
. "${TOP_SRCDIR:-.}/tests/integration/lib.sh"
require_root
command -v unshare >/dev/null || skip_all "unshare(1) missing"
command -v python3 >/dev/null || skip_all "python3 missing"
have_berth_run || skip_all "berth run not built"

# check_json LOG: the Python checks; prints "ok" or what is wrong.
check_json() {
	python3 - "$1" <<'PY'
import json, sys
log = sys.argv[1]
bad = []
events = []
for n, line in enumerate(open(log), 1):
    try:
        o = json.loads(line)
    except ValueError:
        bad.append("line %d is not JSON: %r" % (n, line[:80]))
        continue
    for k, t in (("time", str), ("level", str), ("pid", int), ("msg", str)):
        if not isinstance(o.get(k), t):
            bad.append("line %d: %s missing or not %s" % (n, k, t.__name__))
    if o.get("worker") != "test":
        bad.append("line %d: worker %r" % (n, o.get("worker")))
    if "event" in o:
        events.append(o)

def want(ev, **fields):
    for o in events:
        if o["event"] != ev or o.get("_seen"):
            continue
        o["_seen"] = True
        for k, v in fields.items():
            got = o.get(k)
            ok = v(got) if callable(v) else got == v
            if not ok:
                bad.append("%s: %s is %r" % (ev, k, got))
        return o
    bad.append("no (further) %s event" % ev)
    return {}

is_int = lambda x: isinstance(x, int) and not isinstance(x, bool)
first = want("started", worker_pid=is_int, method=lambda m: isinstance(m, str) and m)
want("exited", worker_pid=first.get("worker_pid"), exit_code=3, uptime_ms=is_int)
want("restarting", delay_ms=lambda d: is_int(d) and d >= 100)
second = want("started", worker_pid=is_int)
want("stopping", signal="SIGTERM", stop_signal="SIGTERM", kill_mode="control-group",
     timeout_ms=300)
want("killed", reason="deadline", count=lambda c: is_int(c) and c >= 1,
     pids=lambda p: isinstance(p, list) and second.get("worker_pid") in p)
want("exited", signal="SIGKILL", core_dumped=False, uptime_ms=is_int)
want("stopped", exit_status=137, duration_ms=lambda d: is_int(d) and d >= 300)
print("ok" if not bad else "; ".join(bad))
PY
}

for mode in host pid1; do
	: >"$CLOG"
	rm -f "$TMP/once"
	write_app "if [ -e $TMP/once ]; then exec $TEST_CHILD --log $CLOG start ignore-term wait; fi
touch $TMP/once
exit 3"
	BERTH_LOG_FORMAT=json
	export BERTH_LOG_FORMAT
	start_run "$mode" --stop-timeout 300ms
	unset BERTH_LOG_FORMAT
	wait_for "$CLOG" '^START ' 10
	wait_for "$BLOG" '"event": *"started".*' 5
	# The second start: the child's START line comes after berth's line.
	sleep 0.1
	kill -TERM "$BERTH_PID"
	wait_run 10
	is "$RUN_RC" 137 "$mode: exit status 137 after the deadline"
	res=$(check_json "$BLOG")
	check "$mode: JSON lines with each event's fields ($res)" test "$res" = ok
done
done_testing
