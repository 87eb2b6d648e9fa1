#!/bin/sh
# SPDX-License-Identifier: MIT
# `berth run` when nobody reads its stderr: berth's stderr is a FIFO whose
# reader reads nothing and the worker (TERM ignored) fills it.  The stop
# deadline still holds: SIGTERM, SIGKILL 2 s later, exit 137, the worker
# gone; berth never waits in write(2).  Then with a reader that starts
# draining during the stop: the lines berth could not write are reported
# ("N log lines dropped (stderr was full)", JSON event dropped-logs) before
# the next one, and no line is cut.
. "${TOP_SRCDIR:-.}/tests/integration/lib.sh"
require_root

FIFO=$TMP/stderr.fifo
OUT=$TMP/stderr.out
READER=

# start_full OPTIONS...: berth with stderr (and stdout) into $FIFO.
start_full() {
	_cmd=$(run_cmd "$@")
	RUN_T0=$(now_ms)
	export START_CMD
	eval "exec $_cmd" 2>"$FIFO" >/dev/null </dev/null &
	RUN_PID=$!
	BERTH_PID=$RUN_PID
	STARTED_PIDS="$STARTED_PIDS $RUN_PID"
}

# in_pipe_write PID: it sleeps in a pipe write (pipe_write, anon_pipe_write).
in_pipe_write() {
	case $(cat "/proc/$1/wchan" 2>/dev/null) in
	*pipe_write) return 0 ;;
	*) return 1 ;;
	esac
}

stop_reader() {
	[ -n "$READER" ] && kill -KILL "$READER" 2>/dev/null
	[ -n "$READER" ] && wait "$READER" 2>/dev/null
	READER=
}
trap 'stop_reader; cleanup' EXIT

# --- the deadline holds with stderr full ----------------------------------
mkfifo "$FIFO"
# the reader holds the FIFO open and reads nothing
sleep 1000 <"$FIFO" &
READER=$!
write_app "exec $TEST_CHILD --log $CLOG start ignore-term spew 1024 wait"
start_full --stop-timeout 2s
check "full: worker started" wait_for "$CLOG" '^START ' 10
child=$(logged_pids START)
# the worker is stuck in its write: the pipe is full
i=0
while ! in_pipe_write "$child" && [ $i -lt 250 ]; do
	sleep 0.02
	i=$((i + 1))
done
check "full: the worker waits in write(2), stderr is full" in_pipe_write "$child"
t0=$(now_ms)
kill -TERM "$BERTH_PID"
wait_run 8
el=$(($(now_ms) - t0))
is "$RUN_RC" 137 "full: exit status 137 after the SIGKILL at the deadline"
check "full: berth exited at the deadline (${el} ms in [2000, 3000))" \
	test "$el" -ge 2000 -a "$el" -lt 3000
check "full: the worker is gone" all_gone $child
stop_reader
rm -f "$FIFO"

# --- the dropped lines are reported once stderr drains ---------------------
for fmt in text json; do
	mkfifo "$FIFO"
	: >"$CLOG"
	# the reader drains from the moment $TMP/go exists
	rm -f "$TMP/go"
	sh -c 'while [ ! -e "$1" ]; do sleep 0.02; done; exec cat' sh "$TMP/go" \
		<"$FIFO" >"$OUT" &
	READER=$!
	write_app "exec $TEST_CHILD --log $CLOG start ignore-term spew 256 wait"
	BERTH_LOG_FORMAT=$fmt
	export BERTH_LOG_FORMAT
	start_full --stop-timeout 2s
	unset BERTH_LOG_FORMAT
	wait_for "$CLOG" '^START ' 10
	child=$(logged_pids START)
	i=0
	while ! in_pipe_write "$child" && [ $i -lt 250 ]; do
		sleep 0.02
		i=$((i + 1))
	done
	t0=$(now_ms)
	kill -TERM "$BERTH_PID" # its "stopping" line cannot be written
	sleep 0.5
	touch "$TMP/go"
	wait_run 8
	el=$(($(now_ms) - t0))
	wait "$READER"
	READER=
	is "$RUN_RC" 137 "$fmt: exit status 137"
	check "$fmt: berth exited at the deadline (${el} ms < 3000)" test "$el" -lt 3000
	check "$fmt: the worker finished writing once stderr drained" grep -q '^SPEWED ' "$CLOG"
	berth_lines=$(grep -v '^sss' "$OUT")
	diag "$berth_lines"
	if [ "$fmt" = text ]; then
		drop=$(grep -n 'warning: [0-9][0-9]* log lines dropped (stderr was full)$' "$OUT" |
			head -n 1 | cut -d: -f1)
		kill_line=$(grep -n 'stop timeout .* reached: killed' "$OUT" | head -n 1 | cut -d: -f1)
	else
		drop=$(grep -n '"event":"dropped-logs"' "$OUT" | grep '"count":[1-9]' |
			head -n 1 | cut -d: -f1)
		kill_line=$(grep -n '"event":"killed"' "$OUT" | head -n 1 | cut -d: -f1)
	fi
	check "$fmt: the dropped lines are reported (line ${drop:-none})" test -n "$drop"
	check "$fmt: before the next line berth wrote (line ${kill_line:-none})" \
		test -n "$drop" -a -n "$kill_line" && test "${drop:-0}" -lt "${kill_line:-0}"
	check "$fmt: the stopping line was dropped, not written late or cut" \
		sh -c "! grep -q 'received: stopping' '$OUT'"
	check "$fmt: every line berth wrote is whole" \
		sh -c "grep -v '^sss' '$OUT' | grep -v '^s*\$' | grep -Evq '^(20[0-9-]*T|\\{\"time\")' && exit 1; exit 0"
	if [ "$fmt" = json ]; then
		check "json: every berth line parses" sh -c "grep -v '^sss' '$OUT' | grep -v '^s*\$' |
			python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]'"
	fi
	rm -f "$FIFO"
done

done_testing
