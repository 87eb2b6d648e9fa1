#!/bin/sh
# SPDX-License-Identifier: MIT
# Every file of tests/data/check/ through `berth check`: NAME.yaml is the
# app config, NAME.expect its expected exit status (first line) and the
# exact lines berth prints on stderr (FILE stands for the config's path,
# SVC for NAME.services.yaml's: when that file exists it is the
# services.yaml, passed with --services).
set -u
dir="$TOP_SRCDIR/tests/data/check"
n=0
fail=0
realdir=$(cd "$dir" && pwd -P)
total=$(ls "$dir"/*.expect | wc -l)
echo "1..$((total + 5))"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for expect in "$dir"/*.expect; do
	name=$(basename "$expect" .expect)
	file="$dir/$name.yaml"
	n=$((n + 1))
	want_status=$(head -n 1 "$expect")
	svc="$dir/$name.services.yaml"
	tail -n +2 "$expect" | sed "s|SVC|$svc|g; s|FILE|$file|g; s|DIR|$realdir|g" > "$tmp/want"
	if [ -f "$svc" ]; then
		set -- --services "$svc"
	else
		set --
	fi
	"$BERTH" -f "$file" "$@" check > "$tmp/out" 2> "$tmp/err" < /dev/null
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
# Files that cannot live in git: made here.
check_made() { # NAME FILE EXPECTED-LINE
	n=$((n + 1))
	out=$("$BERTH" -f "$2" check 2>&1 < /dev/null)
	status=$?
	if [ "$status" -eq 2 ] && [ "$out" = "$3" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1: status $status"
		echo "$out" | sed 's/^/# /'
		fail=1
	fi
}
printf 'name: app\ntype: python:3.11\nx: "' > "$tmp/big.yaml"
head -c 1100000 /dev/zero | tr '\0' a >> "$tmp/big.yaml"
echo '"' >> "$tmp/big.yaml"
check_made too-big "$tmp/big.yaml" "$tmp/big.yaml: file is larger than 1048576 bytes"
mkfifo "$tmp/fifo.yaml"
check_made fifo "$tmp/fifo.yaml" "$tmp/fifo.yaml: not a regular file (a FIFO)"
ln -s /dev/zero "$tmp/link.yaml"
check_made symlink "$tmp/link.yaml" "$tmp/link.yaml: is a symbolic link (not followed)"
check_made missing "$tmp/none.yaml" "$tmp/none.yaml: cannot open: No such file or directory"
# applications.yaml's map form with an app that sets 'name': an error,
# exit 2, and never "configuration OK".
mkdir -p "$tmp/multi/.platform"
printf 'api:\n  name: other\n  type: nodejs:20\n  workers:\n    q:\n      commands: {start: x}\n' \
	> "$tmp/multi/.platform/applications.yaml"
n=$((n + 1))
"$BERTH" -C "$tmp/multi" check > "$tmp/out" 2> "$tmp/err" < /dev/null
status=$?
if [ "$status" -eq 2 ] && ! grep -q "configuration OK" "$tmp/out" &&
	grep -q "api: an app keyed by name must not set 'name'" "$tmp/err"; then
	echo "ok $n - applications.yaml map form with name"
else
	echo "not ok $n - applications.yaml map form with name: status $status"
	sed 's/^/# /' "$tmp/out" "$tmp/err"
	fail=1
fi

exit $fail
