#!/bin/sh
# SPDX-License-Identifier: MIT
# --network=none (and private) starts its rules helper right after the
# command line, before the config, context and user are loaded (the
# network is the long pole).  Every way out before the box takes it over cancels it: berth
# itself SIGKILLs and reaps the helper (its namespace dies with it) before
# it exits, with the exit status and message it had without the early
# start.  Checked under strace for a config error, an unknown worker
# (none and private) and a locked instance: berth forked the helper first, and killed and waited
# for it itself; nothing of it is left.  Then a worker runs.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
command -v strace >/dev/null || skip_all "needs strace"
RUN_BOXED=1
TRACE="$TMP/trace"

# traced_fail WHAT WANT_RC MESSAGE ARGS...: berth ARGS under strace fails
# with WANT_RC and MESSAGE, after it cancelled the early helper.
traced_fail() {
	_what=$1 _want=$2 _msg=$3
	shift 3
	: >"$TRACE"
	# (LeakSanitizer cannot run under ptrace: a sanitizer build's leak
	# check is off here)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -e trace=clone,clone3,fork,unshare,kill,wait4 -o "$TRACE" \
		"$BERTH" "$@" >"$TMP/out" 2>&1
	is "$?" "$_want" "$_what: exit status $_want"
	check "$_what: says why" grep -q -- "$_msg" "$TMP/out"
	_main=$(awk 'NR == 1 { print $1 }' "$TRACE")
	# the helper is berth's first child (it may not have reached its
	# unshare when berth fails as fast as on a config error)
	# (a clone strace shows in two parts ends in "clone resumed> ... = PID")
	_helper=$(awk -v m="$_main" '$1 == m && /clone/ && $NF ~ /^[0-9]+$/ { print $NF; exit }' \
		"$TRACE")
	if [ -z "$_helper" ]; then
		not_ok "$_what: berth forked no early helper"
		cat "$TRACE" "$TMP/out" | sed 's/^/# /'
		return
	fi
	check "$_what: berth SIGKILLed the helper" \
		grep -Eq "^$_main +kill\\($_helper, SIGKILL\\)" "$TRACE"
	check "$_what: and reaped it itself" \
		grep -Eq "^$_main +(wait4\\($_helper, |<\\.\\.\\. wait4 resumed>).*= $_helper\$" "$TRACE"
	check "$_what: nothing of it is left" sh -c "! kill -0 $_helper 2>/dev/null"
}

write_app "echo WORKER-RAN
exec sleep 1000"
cfg="$APP/.platform.app.yaml"

traced_fail "an unknown worker" 2 "nosuch" -f "$cfg" run --network=none nosuch
traced_fail "private, an unknown worker" 2 "nosuch" -f "$cfg" run --network=private nosuch
cp "$cfg" "$TMP/good.yaml"
printf 'workers: [\n' >>"$cfg"
traced_fail "a config error" 2 ".platform.app.yaml" -f "$cfg" run --network=none test
cp "$TMP/good.yaml" "$cfg"

# a second berth of a running instance
start_run host --network none
check "the first berth's worker runs" wait_for "$BLOG" '^WORKER-RAN' 20
traced_fail "a locked instance" 125 "already" -f "$cfg" run --network=none test
kill -TERM "$BERTH_PID"
wait_run 20
is "$RUN_RC" 0 "the first berth stopped, status 0"

done_testing
