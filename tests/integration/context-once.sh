#!/bin/sh
# SPDX-License-Identifier: MIT
# Each command loads the worker's runtime context once: the app is a git
# tree, so with an empty tree id cache (cache/tree/ under the runtime
# directory) each load runs `git rev-parse` for PLATFORM_TREE_ID, and
# under strace every command (env, show, spec, exec, kube, run unconfined
# and boxed) executes git exactly once before its worker starts; with the
# cache warm (the same commit) it executes none.  The environment carries
# the tree id git found.  An app in no git tree runs no git.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
command -v strace >/dev/null || skip_all "needs strace"
[ -x /usr/bin/git ] || skip_all "needs /usr/bin/git (the context's tree id)"

write_app 'echo READY
exec sleep 1000'
git -C "$APP" init -q &&
	git -C "$APP" add .platform.app.yaml &&
	git -C "$APP" -c user.name=t -c user.email=t@t commit -qm app || skip_all "git commit failed"
tree=$(git -C "$APP" rev-parse HEAD:./)
TRACE=$TMP/trace
BERTH_RUNTIME_DIR=$TMP/run
export BERTH_RUNTIME_DIR
cold() { rm -rf "$BERTH_RUNTIME_DIR/cache"; }
B="$BERTH -f $APP/.platform.app.yaml"

# gits: how many times the last traced command executed git.
gits() { grep -c 'execve("/usr/bin/git"' "$TRACE"; }
# LeakSanitizer cannot run under ptrace: leaks are the other tests' to find.
traced() {
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -e trace=execve -o "$TRACE" "$@"
}

cold
traced $B env test >"$TMP/env.out" 2>"$BLOG"
is "$? $(gits)" "0 1" "env, cold cache: git runs once"
check "env: PLATFORM_TREE_ID is the app's tree" \
	grep -qx "export PLATFORM_TREE_ID='$tree'" "$TMP/env.out"
traced $B env test >"$TMP/env.out" 2>"$BLOG"
is "$? $(gits)" "0 0" "env, warm cache: git does not run"
check "env, warm cache: PLATFORM_TREE_ID is the app's tree" \
	grep -qx "export PLATFORM_TREE_ID='$tree'" "$TMP/env.out"
traced $B show test >/dev/null 2>"$BLOG"
is "$? $(gits)" "0 0" "show, warm cache: git does not run"
cold
traced $B show test >/dev/null 2>"$BLOG"
is "$? $(gits)" "0 1" "show, cold cache: git runs once"
for c in cold warm; do
	n=0 say="git does not run"
	[ $c = cold ] && cold && n=1 say="git runs once"
	traced $B spec --no-prepare -o "$TMP/config.json" test 2>"$BLOG"
	is "$? $(gits)" "0 $n" "spec, $c cache: $say"
	check "spec, $c cache: the config's environment has the tree id" \
		grep -q "PLATFORM_TREE_ID=$tree" "$TMP/config.json"
done
for c in cold warm; do
	n=0 say="git does not run"
	[ $c = cold ] && cold && n=1 say="git runs once"
	traced $B exec --storage-root "$TMP/storage" --user nobody test -- \
		sh -c 'echo "$PLATFORM_TREE_ID"' >"$TMP/exec.out" 2>"$BLOG"
	is "$? $(gits)" "0 $n" "exec, $c cache: $say"
	is "$(cat "$TMP/exec.out")" "$tree" "exec, $c cache: the command gets the tree id"
done
for c in cold warm; do
	n=0 say="git does not run"
	[ $c = cold ] && cold && n=1 say="git runs once"
	traced $B kube --image app:1 --auto-size S test >"$TMP/kube.yaml" 2>"$BLOG"
	is "$? $(gits)" "0 $n" "kube, $c cache: $say"
done

# An app directory with no .git (nor HEAD) in it or above it: git would
# fail, and is not run; the tree id is the default.
mkdir "$TMP/nogit" && cp "$APP/.platform.app.yaml" "$TMP/nogit/"
traced $BERTH -f "$TMP/nogit/.platform.app.yaml" env test >"$TMP/env2.out" 2>"$BLOG"
is "$? $(gits)" "0 0" "env, no git repository above the app: git does not run"
check "env, no git repository: PLATFORM_TREE_ID is 40 zeros" \
	grep -qx "export PLATFORM_TREE_ID='0000000000000000000000000000000000000000'" "$TMP/env2.out"

# berth_below PID: the berth process below PID (strace's child), by its
# executable, or nothing.
berth_below() {
	for _p in $(descendants "$1"); do
		[ "$(readlink "/proc/$_p/exe")" = "$(readlink -f "$BERTH")" ] && echo "$_p" && return
	done
}

# run_traced NAME GITS OPTIONS...: berth run under strace until the worker
# is up, then stopped (SIGTERM to berth by pid; lib.sh's cleanup stops it
# when the test fails before).
run_traced() {
	_name=$1
	_gits=$2
	shift 2
	: >"$BLOG"
	traced $B run "$@" --storage-root "$TMP/storage" test >>"$BLOG" 2>&1 </dev/null &
	RUN_PID=$!
	RUN_T0=$(now_ms)
	STARTED_PIDS="$STARTED_PIDS $RUN_PID"
	BERTH_PID=
	for _i in $(seq 250); do
		BERTH_PID=$(berth_below "$RUN_PID")
		[ -n "$BERTH_PID" ] && break
		sleep 0.02
	done
	STARTED_PIDS="$STARTED_PIDS $BERTH_PID"
	STARTED_BERTHS="$STARTED_BERTHS $BERTH_PID"
	if [ -n "$BERTH_PID" ] && wait_for "$BLOG" '^READY' 20; then
		kill -TERM "$BERTH_PID"
	else
		not_ok "$_name: the worker did not start"
		dump_logs
		[ -n "$BERTH_PID" ] && kill -TERM "$BERTH_PID"
	fi
	wait_run 30
	is "$(gits)" "$_gits" "$_name: git runs $_gits time(s) before the worker starts"
}
cold
run_traced "run --unconfined, cold cache" 1 --unconfined
run_traced "run --unconfined, warm cache" 0 --unconfined
cold
run_traced "run (boxed), cold cache" 1 --network none
run_traced "run (boxed), warm cache" 0 --network none
done_testing
