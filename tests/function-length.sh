#!/bin/sh
# SPDX-License-Identifier: MIT
# No function of src/ (the program, src/*.c, and the modules, src/*/*.c)
# is longer than 60 lines between its braces, unless a comment just above
# it says why (a line holding "lines:" in the comment before the
# function, e.g. "70 lines: one table").  Prints TAP; the
# tree is clang-formatted, so a body opens with '{' and ends with '}' in
# column 0.
top=$(cd "$(dirname "$0")/.." && pwd)
max=${FUNCTION_MAX_LINES:-60}
echo "1..1"
out=$(for f in "$top"/src/*.c "$top"/src/*/*.c; do
	awk -v f="${f#"$top"/}" -v max="$max" '
		/^\/\*/ { why = 0 }
		/^(\/\*| \*).*lines:/ { why = 1 }
		/^[a-z_].*\(/ { name = $0; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name) }
		/^\{/ { start = NR }
		/^\}/ && start {
			n = NR - start - 1
			if (n > max && !why)
				printf "%s:%d %s() is %d lines\n", f, start, name, n
			start = 0; why = 0
		}' "$f"
done)
if [ -n "$out" ]; then
	echo "$out" | sed 's/^/# /'
	echo "not ok 1 - functions of src/ over $max lines: $(echo "$out" | wc -l)"
else
	echo "ok 1 - no function of src/ over $max lines"
fi
