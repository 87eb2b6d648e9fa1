#!/bin/sh
# SPDX-License-Identifier: MIT
# The C sources match .clang-format: every .c and .h under src/ and tests/,
# checked with clang-format 14 (another version breaks some lines
# differently).  Prints TAP.  To fix the tree: `make format`.
top=$(cd "$(dirname "$0")/.." && pwd)
cf=
for c in clang-format-14 clang-format; do
	if command -v "$c" > /dev/null 2>&1 &&
		"$c" --version | grep -q 'version 14\.'; then
		cf=$c
		break
	fi
done
echo "1..1"
if [ -z "$cf" ]; then
	if [ "${BERTH_STRICT:-0}" = 1 ]; then
		echo "not ok 1 - format (no clang-format 14; BERTH_STRICT=1 forbids skipping)"
	else
		echo "ok 1 - format # SKIP no clang-format 14"
	fi
	exit 0
fi
files=$(find "$top/src" "$top/tests" -name '*.[ch]' | sort)
# shellcheck disable=SC2086
out=$("$cf" --style="file:$top/.clang-format" --dry-run $files 2>&1 |
	grep 'warning: code should be clang-formatted' | sed 's/:[0-9]*:[0-9]*: .*//' | sort -u)
if [ -n "$out" ]; then
	echo "$out" | sed "s|^$top/|# not formatted: |"
	echo "not ok 1 - format: $(echo "$out" | wc -l) files differ from .clang-format (make format)"
else
	echo "ok 1 - format: $(echo "$files" | wc -l) files match .clang-format"
fi
