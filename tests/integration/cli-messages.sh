#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage errors say what to do: a global option given after the command,
# too many worker names, an unknown BERTH_LOG_LEVEL.  exec and spec say
# they need root; a state directory a plain user may not use is exit 125
# for every command, naming it; show and check create no state, env
# creates the project a run will use; output that cannot be written is
# exit 1.
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

# show and check only read the state: none is created.
for c in "show queue" check; do
	rm -rf "$TMP/fresh"
	# shellcheck disable=SC2086
	BERTH_STATE_DIR=$TMP/fresh "$BERTH" -C "$EX" $c >/dev/null 2>"$TMP/err"
	rc=$?
	is "$rc $(test -e "$TMP/fresh" && echo created)" "0 " "$c creates no state directory"
	[ "$rc" -eq 0 ] || diag "$(cat "$TMP/err")"
done
mkdir "$TMP/empty"
BERTH_STATE_DIR=$TMP/empty "$BERTH" -C "$EX" show queue >/dev/null 2>&1
is "$(ls -A "$TMP/empty")" "" "show writes no project.json into an empty state directory"
# env prints what the worker gets: it makes the project a run then uses.
rm -rf "$TMP/envstate"
BERTH_STATE_DIR=$TMP/envstate "$BERTH" -C "$EX" env queue >"$TMP/out" 2>"$TMP/err"
proj=$(sed -n 's/.*"project": *"\([^"]*\)".*/\1/p' "$TMP/envstate/project.json" 2>/dev/null)
check "env creates the project a run uses ($proj)" \
	grep -q "^export PLATFORM_PROJECT='$proj'\$" "$TMP/out"
# ...and use the state once it is there (spec creates it, as root).
if [ "$(id -u)" -eq 0 ]; then
	BERTH_STATE_DIR=$TMP/empty "$BERTH" -C "$EX" spec --no-prepare -o "$TMP/config.json" \
		queue 2>"$TMP/err"
	proj=$(sed -n 's/.*"project": *"\([^"]*\)".*/\1/p' "$TMP/empty/project.json")
	BERTH_STATE_DIR=$TMP/empty "$BERTH" -C "$EX" env queue >"$TMP/out" 2>&1
	is "$(grep -c "^export PLATFORM_PROJECT='$proj'\$" "$TMP/out")" 1 \
		"env reads the project id of an existing state"
else
	skip "env reads the project id of an existing state" "needs root"
fi

# As a plain user.
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
	skip "plain-user messages" "needs root and setpriv"
	done_testing
fi
chmod 0755 "$TMP"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
nobody "$BERTH" -C "$EX" exec queue -- true >/dev/null 2>"$TMP/err"
is "$? $(grep -c 'exec builds the worker.s box as root.*run it as root' "$TMP/err")" "125 1" \
	"exec as a plain user: needs root, exit 125"
nobody "$BERTH" -C "$EX" spec -o /dev/null queue >/dev/null 2>"$TMP/err"
is "$? $(grep -c 'spec prepares the instance.s storage as root' "$TMP/err")" "125 1" \
	"spec as a plain user: needs root, exit 125"
# A state directory the user may not read (root's, 0700, with state).
mkdir -m 0700 "$TMP/locked"
BERTH_STATE_DIR=$TMP/locked "$BERTH" -C "$EX" spec --no-prepare -o /dev/null queue 2>/dev/null
for c in "show queue" "env queue" "run --unconfined queue"; do
	# shellcheck disable=SC2086
	BERTH_STATE_DIR=$TMP/locked nobody "$BERTH" -C "$EX" $c >/dev/null 2>"$TMP/err"
	rc=$?
	n=$(grep -c "$TMP/locked.*run as root or give --state-dir" "$TMP/err")
	is "$rc $n" "125 1" "$c: an unreadable state directory is 125, named, with the hint"
	[ "$n" -eq 1 ] || diag "$(cat "$TMP/err")"
done
# Output that cannot be written is a failure (exit 1, named), not a
# success: a small write (flushed at exit) and a large one (failing while
# the command writes), and --help.
for c in "show queue" "env queue" "list" "--help"; do
	# shellcheck disable=SC2086
	"$BERTH" -C "$EX" $c >/dev/full 2>"$TMP/err"
	rc=$?
	n=$(grep -Ec 'error: (standard output|write the environment): ' "$TMP/err")
	is "$rc $n" "1 1" "$c >/dev/full: exit 1, one line naming it"
done
"$BERTH" -C "$EX" list >/dev/null 2>"$TMP/err"
is "$? $(wc -c <"$TMP/err")" "0 0" "list to a writable stdout: 0, nothing on stderr"
done_testing
