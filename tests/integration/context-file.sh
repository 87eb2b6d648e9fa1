#!/bin/sh
# SPDX-License-Identifier: MIT
# --context FILE: only a regular file is read.  A FIFO is refused at once
# (it blocked berth forever), as are a directory and /dev/null: exit 2 and
# one line naming the file; a symlink to a regular file (an orchestrator's
# mounted secret) is read; a key given twice is refused.  Under timeout(1): a hang fails, never stalls.
. "${TOP_SRCDIR:-.}/tests/integration/lib.sh"

write_app "exit 0"
printf '{"project": "abcdef1234567", "entropy": "x", "branch": "ctxbranch"}\n' >"$TMP/ctx.json"
ln -s "$TMP/ctx.json" "$TMP/link.json"
mkfifo "$TMP/fifo"
mkdir "$TMP/dir"

# refused FILE KIND: berth run and berth env both refuse it.
refused() {
	for cmd in "run --unconfined" env; do
		# shellcheck disable=SC2086
		timeout 10 "$BERTH" -f "$APP/.platform.app.yaml" --context "$1" $cmd test \
			>"$TMP/out" 2>"$TMP/err" </dev/null
		rc=$?
		is "$rc" 2 "${cmd%% *}: --context $2: exit 2 (124: it hung)"
		check "${cmd%% *}: --context $2: one line naming the file ($(head -c 200 "$TMP/err"))" \
			sh -c "[ \$(grep -c . '$TMP/err') -eq 1 ] &&
				grep -qF 'context $1: not a regular file' '$TMP/err'"
	done
}

refused "$TMP/fifo" "a FIFO"
check "the FIFO's error says it is one" grep -q '(a FIFO)' "$TMP/err"
refused "$TMP/dir" "a directory"
refused /dev/null "/dev/null"

timeout 10 "$BERTH" -f "$APP/.platform.app.yaml" --context "$TMP/link.json" env test \
	>"$TMP/out" 2>"$TMP/err" </dev/null
is "$?" 0 "--context a symlink to a regular file: read"
check "its values are used" grep -q 'PLATFORM_BRANCH=.*ctxbranch' "$TMP/out"

# A key given twice: refused (jansson would keep the last one silently),
# by run and env, naming the file, line, column and key.
printf '{"branch": "a", "project": "abcdef1234567",\n "branch": "b"}\n' >"$TMP/dup.json"
for cmd in "run --unconfined" env; do
	# shellcheck disable=SC2086
	timeout 10 "$BERTH" -f "$APP/.platform.app.yaml" --context "$TMP/dup.json" $cmd test \
		>"$TMP/out" 2>"$TMP/err" </dev/null
	is "$?" 2 "${cmd%% *}: a duplicate key in the context file: exit 2"
	check "${cmd%% *}: one line naming the file, line and key ($(head -c 200 "$TMP/err"))" \
		sh -c "[ \$(grep -c . '$TMP/err') -eq 1 ] &&
			grep -qF 'context $TMP/dup.json:2:' '$TMP/err' && grep -q 'duplicate object key.*branch' '$TMP/err'"
done

done_testing
