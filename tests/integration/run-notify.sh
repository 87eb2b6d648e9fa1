#!/bin/sh
# SPDX-License-Identifier: MIT
# `berth run` under a service manager: the notify protocol on a real
# AF_UNIX datagram socket ($NOTIFY_SOCKET, a path and an abstract name):
# READY=1 once the worker runs, with its pid in STATUS=, STATUS= at a
# restart without a second READY=1, STOPPING=1 on SIGTERM; the worker never
# sees NOTIFY_SOCKET; a malformed one stops the start (2).  And the
# journal's stream ($JOURNAL_STREAM naming berth's stderr): lines with
# priority prefixes and without berth's own time and pid.
. "${TOP_SRCDIR:-.}/tests/integration/lib.sh"
require_root
command -v python3 >/dev/null || skip_all "python3 missing"

NLOG=$TMP/notify.log

# listen NAME: a datagram socket at NAME (a path, or @abstract) writing
# each message to $NLOG on one line, newlines as '|'.
listen() {
	: >"$NLOG"
	python3 -c 'import socket, sys
name = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:] if name.startswith("@") else name)
open(sys.argv[2] + ".ready", "w").close()
while True:
    m = s.recv(4096).decode()
    with open(sys.argv[2], "a") as f:
        f.write(m.replace("\n", "|") + "\n")
' "$1" "$NLOG" &
	LISTENER=$!
	wait_for_file "$NLOG.ready"
}

wait_for_file() {
	for _i in $(seq 250); do
		[ -e "$1" ] && return 0
		sleep 0.02
	done
	return 1
}

stop_listener() {
	kill "$LISTENER" 2>/dev/null
	wait "$LISTENER" 2>/dev/null
	rm -f "$NLOG.ready"
}

for where in path abstract; do
	name=$TMP/notify
	[ $where = abstract ] && name=@berth-test-notify-$$
	listen "$name"
	rm -f "$TMP/once"
	: >"$CLOG"
	write_app "env >$TMP/env
[ -e $TMP/once ] || { touch $TMP/once; exit 3; }
exec $TEST_CHILD --log $CLOG start wait"
	NOTIFY_SOCKET=$name start_run host
	check "$where: the worker started after a restart" wait_for "$CLOG" '^START ' 10
	wpid=$(logged_pids START | head -n 1)
	check "$where: READY=1 with the worker's pid" \
		wait_for "$NLOG" "^STATUS=worker test running \\(process $wpid\\)\$" 10
	is "$(grep -c 'READY=1' "$NLOG")" 1 "$where: READY=1 once, at the first start"
	check "$where: READY=1 came with the first start" \
		grep -q '^READY=1|STATUS=worker test running (process [0-9]*)$' "$NLOG"
	check "$where: the restart was announced" \
		grep -q '^STATUS=worker exited, restarting in [0-9]* ms$' "$NLOG"
	check "$where: the worker has no NOTIFY_SOCKET" sh -c "! grep -q NOTIFY_SOCKET $TMP/env"
	kill -TERM "$BERTH_PID"
	wait_run 10
	is "$RUN_RC" 0 "$where: stopped, status 0"
	check "$where: STOPPING=1 on SIGTERM" \
		grep -q '^STOPPING=1|STATUS=stopping on SIGTERM' "$NLOG"
	is "$(tail -n 1 "$NLOG" | cut -c1-10)" "STOPPING=1" "$where: STOPPING=1 is the last message"
	stop_listener
done

# A malformed NOTIFY_SOCKET: a Type=notify unit would wait for READY=1 in
# vain; berth refuses to start instead, naming the variable (2).
write_app "exec $TEST_CHILD --log $CLOG start wait"
: >"$CLOG"
NOTIFY_SOCKET=relative/path start_run host
wait_run 10
is "$RUN_RC" 2 "a relative NOTIFY_SOCKET: a usage error (2)"
check "the error names NOTIFY_SOCKET" grep -q 'NOTIFY_SOCKET=relative/path' "$BLOG"
is "$(count_lines "$CLOG" '^START ')" 0 "the worker did not start"

# The journal's stream: berth's stderr is $BLOG, JOURNAL_STREAM names it.
for fmt in text json; do
	: >"$BLOG"
	stream=$(stat -c '%d:%i' "$BLOG")
	eval "exec env JOURNAL_STREAM=$stream BERTH_LOG_FORMAT=$fmt $(run_cmd)" \
		</dev/null >>"$BLOG" 2>>"$BLOG" &
	RUN_PID=$!
	BERTH_PID=$RUN_PID
	STARTED_PIDS="$STARTED_PIDS $RUN_PID"
	RUN_T0=$(now_ms)
	wait_for "$BLOG" 'started worker process' 10
	kill -TERM "$BERTH_PID"
	wait_run 10
	is "$RUN_RC" 0 "journal $fmt: stopped, status 0"
	if [ $fmt = text ]; then
		check "journal text: info lines as <6>worker: message" \
			grep -q '^<6>test: started worker process [0-9]* ' "$BLOG"
		check "journal text: no time and pid of berth's own" \
			sh -c "! grep -Eq '^[0-9]{4}-|berth\\[' $BLOG"
	else
		check "journal json: each line <N>{...}" \
			sh -c "grep -v '^<[3467]>{' $BLOG | { ! grep -q .; }"
	fi
done
done_testing
