#!/bin/sh
# SPDX-License-Identifier: MIT
# `berth run`: a plain start command (words only, no ./.environment) is
# executed without /bin/sh: the worker's main process is the program, with
# or without `exec`, boxed or not, with the environment the shell would
# have given it (PWD too); a readable ./.environment or a character the
# shell interprets takes the shell; a missing program is 127, one that
# cannot be executed 126, each with one line naming it, restarted as any
# exit; a script without "#!" still runs (by /bin/sh, as the shell would);
# `berth exec` takes the same way; `berth show` has the words.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
# -v: the line saying how the start command was executed
BERTH_LOG_LEVEL=debug
export BERTH_LOG_LEVEL

SH_EXE=$(readlink -f /bin/sh)
SLEEP_EXE=$(readlink -f "$(command -v sleep)")

# main_pid: the worker's process, as berth's last "started" line names it.
main_pid() {
	sed -n 's/.*started worker process \([0-9]*\) .*/\1/p' "$BLOG" | tail -n 1
}

# tree_exes PID: the program of PID and of each process below it.
tree_exes() {
	for _p in "$1" $(descendants "$1"); do
		readlink "/proc/$_p/exe" 2>/dev/null
	done
}

# way PID: how -v says the start command of PID was executed.
way() {
	sed -n "s/.* start command of process $1 executed //p" "$BLOG"
}

# run_once START_COMMAND [OPTIONS...]: berth run with the worker not
# restarted, to its end (RUN_RC).
run_once() {
	: >"$CLOG"
	write_app "$1"
	shift
	start_run host --max-restarts 0 "$@"
	wait_run 20
}

# --- the main process is the program ----------------------------------------
for box in 0 1; do
	for cmd in "exec sleep 7741" "sleep 7741"; do
		d="boxed=$box, '$cmd'"
		write_app "$cmd"
		RUN_BOXED=$box start_run host
		wait_for "$BLOG" 'started worker process' 10
		pid=$(main_pid)
		sleep 0.2
		is "$(readlink -f "/proc/$pid/exe")" "$SLEEP_EXE" "$d: the worker's main process is sleep"
		is "$(tree_exes "$pid" | grep -cx "$SH_EXE")" 0 "$d: no shell in the worker's tree"
		is "$(way "$pid")" directly "$d: -v says it was executed directly"
		kill -TERM "$BERTH_PID"
		wait_run 10
		is "$RUN_RC" 0 "$d: stopped, status 0"
	done
done

# --- berth show: the words, or null ----------------------------------------
# show_direct START_COMMAND: plan.direct_argv, as JSON.
show_direct() {
	write_app "$1"
	"$BERTH" -f "$APP/.platform.app.yaml" show test 2>/dev/null |
		python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["plan"]["direct_argv"]))'
}
is "$(show_direct "exec sleep 7741")" '["sleep", "7741"]' "show: direct_argv of 'exec sleep 7741'"
is "$(show_direct 'sleep $X')" null "show: no direct_argv for 'sleep \$X'"

# --- the environment is the shell's -----------------------------------------
# The same program, once directly and once through the shell (the "#"):
# the same variables (but PLATFORM_APPLICATION, which holds the command).
env_of() {
	awk '$1 == "ENV" && $2 !~ /^PLATFORM_APPLICATION=/ { print $2 }' "$CLOG" | sort
}
run_once "$TEST_CHILD --log $CLOG env exit 0"
env_direct=$(env_of)
is "$(way "$(main_pid)")" directly "env: the plain command was executed directly"
run_once "$TEST_CHILD --log $CLOG env exit 0 # through the shell"
env_shell=$(env_of)
is "$(way "$(main_pid)")" "by /bin/sh -c: a character the shell interprets" \
	"env: the command with a comment went through the shell"
is "$env_direct" "$env_shell" "the program's environment is the same either way"
check "PWD is the app root" sh -c "printf '%s\n' '$env_direct' | grep -qx 'PWD=$(cd "$APP" && pwd -P)'"

# --- ./.environment takes the shell -----------------------------------------
echo 'export DIRECT_EXEC_PROBE=from-environment' >"$APP/.environment"
run_once "$TEST_CHILD --log $CLOG env exit 0"
is "$(way "$(main_pid)")" "by /bin/sh -c: ./.environment is readable" \
	".environment: -v says the shell ran the command"
check ".environment: its variable reached the program" \
	grep -qx 'ENV DIRECT_EXEC_PROBE=from-environment' "$CLOG"
rm -f "$APP/.environment"

# --- what the shell interprets takes the shell ------------------------------
run_once "$TEST_CHILD --log $TMP/\$USER.log start exit 0"
check "\$USER: expanded by the shell" test -s "$TMP/$(id -un).log"
run_once "$TEST_CHILD --log $CLOG start exit 0; $TEST_CHILD --log $CLOG start exit 0"
is "$(count_lines "$CLOG" '^START ')" 2 "';': both commands ran"
run_once "$TEST_CHILD start exit 0 > $TMP/redirected"
check "'>': the output went to the file" grep -q '^START ' "$TMP/redirected"
is "$(way "$(main_pid)")" "by /bin/sh -c: a character the shell interprets" \
	"'>': -v says the shell ran the command"

# --- failures ---------------------------------------------------------------
run_once "nosuch-program-$$ arg"
is "$RUN_RC" 127 "a missing program: status 127"
is "$(grep -c "could not execute its start command nosuch-program-$$: No such file or directory" \
	"$BLOG")" 1 "a missing program: one line naming it"
printf 'x\n' >"$APP/not-executable"
chmod 644 "$APP/not-executable"
run_once "./not-executable"
is "$RUN_RC" 126 "a file that is not executable: status 126"
check "a file that is not executable: one line naming it" \
	grep -q "could not execute its start command ./not-executable: Permission denied" "$BLOG"
# restarted as any other exit of the start command
run_once "nosuch-program-$$" --max-restarts 1 --restart-min 10ms
is "$RUN_RC" 127 "a missing program, one restart allowed: status 127"
is "$(count_lines "$BLOG" 'exited with status 127')" 2 "a missing program: restarted once"

# --- berth exec takes the same way ------------------------------------------
# exec_way COMMAND...: berth exec's status, then how -v says it ran.
exec_way() {
	write_app "sleep 7741"
	"$BERTH" -f "$APP/.platform.app.yaml" exec test -- "$@" >"$BLOG" 2>&1
	echo "$? $(sed -n 's/.* start command of process [0-9]* executed //p' "$BLOG")"
}
is "$(exec_way sleep 0)" "0 directly" "exec: a plain command runs without the shell"
is "$(exec_way sh -c 'exit 3')" "3 by /bin/sh -c: a character the shell interprets" \
	"exec: a word that needs quoting takes the shell"
is "$(exec_way "nosuch-program-$$")" "127 directly" "exec: a missing program is 127"

printf 'echo "NOSHEBANG $0 $*" >>%s\n' "$CLOG" >"$APP/no-shebang"
chmod 755 "$APP/no-shebang"
run_once "./no-shebang a b"
is "$RUN_RC" 0 "a script without #!: status 0"
is "$(cat "$CLOG")" "NOSHEBANG ./no-shebang a b" "a script without #!: run by the shell"

done_testing
