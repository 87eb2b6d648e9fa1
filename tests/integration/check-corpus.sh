#!/bin/sh
# SPDX-License-Identifier: MIT
# Every file of tests/data/check/ through `berth check`: NAME.yaml is the
# app config, NAME.expect its expected exit status (first line) and the
# exact lines berth prints on stderr (FILE stands for the config's path).
set -u
dir="$TOP_SRCDIR/tests/data/check"
n=0
fail=0
total=$(ls "$dir"/*.expect | wc -l)
echo "1..$total"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for expect in "$dir"/*.expect; do
	name=$(basename "$expect" .expect)
	file="$dir/$name.yaml"
	n=$((n + 1))
	want_status=$(head -n 1 "$expect")
	tail -n +2 "$expect" | sed "s|FILE|$file|g" > "$tmp/want"
	"$BERTH" -f "$file" check > "$tmp/out" 2> "$tmp/err" < /dev/null
	status=$?
	if [ "$status" -ne "$want_status" ]; then
		echo "not ok $n - $name: exit status $status, expected $want_status"
		sed 's/^/# /' "$tmp/err"
		fail=1
	elif ! cmp -s "$tmp/want" "$tmp/err"; then
		echo "not ok $n - $name: unexpected messages"
		diff "$tmp/want" "$tmp/err" | sed 's/^/# /'
		fail=1
	elif [ "$status" -eq 0 ] && [ "$(cat "$tmp/out")" != "configuration OK" ]; then
		echo "not ok $n - $name: no 'configuration OK'"
		fail=1
	else
		echo "ok $n - $name"
	fi
done
exit $fail
