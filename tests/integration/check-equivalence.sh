#!/bin/sh
# SPDX-License-Identifier: MIT
# `berth check` exists so that env, show and run never refuse a config it
# passed.  Over every case of tests/data/check/ (NAME.yaml, with
# NAME.services.yaml as services.yaml when present): when check says OK,
# env and show of every worker exit 0; when env or show of a worker
# refuses the config (exit 2), check refused it too.
set -u
dir="$TOP_SRCDIR/tests/data/check"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# berth keeps per-project state (generated secrets): never the machine's.
BERTH_STATE_DIR=$tmp/state
export BERTH_STATE_DIR
mkdir -p "$tmp/state"
total=$(ls "$dir"/*.expect | wc -l)
echo "1..$total"
n=0
fail=0
for expect in "$dir"/*.expect; do
	name=$(basename "$expect" .expect)
	file="$dir/$name.yaml"
	svc="$dir/$name.services.yaml"
	n=$((n + 1))
	if [ -f "$svc" ]; then
		set -- -f "$file" --services "$svc"
	else
		set -- -f "$file"
	fi
	"$BERTH" "$@" check > /dev/null 2> "$tmp/check.err" < /dev/null
	check=$?
	"$BERTH" "$@" list > "$tmp/list" 2> /dev/null < /dev/null
	list=$?
	bad=
	if [ "$list" -ne 0 ]; then
		# list loads the config as check does: a refusal is a config one
		[ "$check" -eq 0 ] && bad="check OK but list exits $list"
	else
		for w in $(cut -d' ' -f1 "$tmp/list"); do
			for cmd in env show; do
				"$BERTH" "$@" "$cmd" "$w" > /dev/null 2> "$tmp/cmd.err" < /dev/null
				rc=$?
				if [ "$check" -eq 0 ] && [ "$rc" -ne 0 ]; then
					bad="$bad check OK but $cmd $w exits $rc;"
				elif [ "$rc" -eq 2 ] && [ "$check" -ne 2 ]; then
					bad="$bad $cmd $w exits 2 but check $check;"
				fi
			done
		done
	fi
	if [ -n "$bad" ]; then
		echo "not ok $n - $name:$bad"
		sed 's/^/# /' "$tmp/check.err" "$tmp/cmd.err" 2> /dev/null
		fail=1
	else
		echo "ok $n - $name (check $check)"
	fi
done
exit $fail
