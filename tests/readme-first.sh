#!/bin/sh
# SPDX-License-Identifier: MIT
# The README's first command, as a newcomer types it: taken from the
# README itself (the first indented line after "On a fresh Debian 12
# machine"), run in this tree in a session of its own, and stopped like a
# Ctrl-C (SIGINT to its process group) once the example worker runs.
# Passes when the worker started and berth then exited 0.  .ci/run runs
# it before the second command (tests/run-all.sh), which must pass after
# whatever this one left in the tree.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
cmd=$(sed -n '/^On a fresh Debian 12 machine/,/^$/d; /^    /{s/^    //p;q}' README)
case $cmd in
*"berth -C contrib/examples run queue"*) ;;
*)
	echo "readme-first: cannot find the first command in README (got: $cmd)" >&2
	exit 1
	;;
esac
log=$(mktemp /tmp/berth-readme.XXXXXX)
trap 'rm -f "$log"' EXIT
echo "readme-first: $cmd"
setsid sh -c "$cmd" >"$log" 2>&1 &
pid=$!
i=0
while ! grep -q 'started worker process' "$log"; do
	i=$((i + 1))
	if [ $i -gt 3000 ] || ! kill -0 "$pid" 2>/dev/null; then # 10 min: the build
		tail -n 30 "$log" >&2
		echo "readme-first: the example worker did not start" >&2
		kill -KILL -"$pid" 2>/dev/null || true
		exit 1
	fi
	sleep 0.2
done
sleep 1
kill -INT -"$pid" # Ctrl-C: the whole foreground process group
rc=0
wait "$pid" || rc=$?
tail -n 5 "$log"
if [ "$rc" -ne 0 ]; then
	echo "readme-first: berth exited $rc after Ctrl-C, not 0" >&2
	exit 1
fi
echo "readme-first: the example worker ran and stopped on Ctrl-C (exit 0)"
