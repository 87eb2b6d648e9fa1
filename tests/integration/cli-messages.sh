#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage errors say what to do: a global option given after the command,
# too many worker names, an unknown BERTH_LOG_LEVEL.
. "$(dirname "$0")/lib.sh"

EX=$TOP_SRCDIR/contrib/examples

# usage_is DESC WANT_LINE CMD...: exit 2 and WANT_LINE as the first line.
usage_is() {
	_d=$1 _w=$2
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"
	_rc=$?
	is "$_rc $(head -n 1 "$TMP/err")" "2 $_w" "$_d"
}
usage_is "list -C: a global option goes before the command" \
	"berth list: '-C' is a global option: put it before the command: berth -C DIR list ..." \
	"$BERTH" list -C "$EX"
usage_is "run --app-dir=DIR: the same" \
	"berth run: '--app-dir' is a global option: put it before the command: berth --app-dir DIR run ..." \
	"$BERTH" -C "$EX" run --app-dir="$EX" queue
usage_is "env --verbose: the same" \
	"berth env: '--verbose' is a global option: put it before the command: berth --verbose env ..." \
	"$BERTH" -C "$EX" env --verbose queue
usage_is "an unknown option is still unknown" \
	"berth show: unknown option '--nope'" "$BERTH" -C "$EX" show --nope queue
for c in show env run; do
	usage_is "$c with two worker names" \
		"berth $c: expected one worker name, got 2" "$BERTH" -C "$EX" "$c" queue mail
done
usage_is "show without a worker" "berth show: expected a worker name" "$BERTH" -C "$EX" show

BERTH_LOG_LEVEL=verbose "$BERTH" -C "$EX" list >"$TMP/out" 2>"$TMP/err"
is "$? $(cat "$TMP/err" | head -n 1) $(wc -c <"$TMP/out")" \
	"2 berth: BERTH_LOG_LEVEL must be debug, info, warning or error, not 'verbose' 0" \
	"BERTH_LOG_LEVEL=verbose is refused"
for l in debug info warning error; do
	BERTH_LOG_LEVEL=$l "$BERTH" -C "$EX" list >/dev/null 2>"$TMP/err"
	is "$?" 0 "BERTH_LOG_LEVEL=$l is accepted"
done
done_testing
