#!/bin/sh
# SPDX-License-Identifier: MIT
# doc/berth.1 and the --help texts agree: every long option a command's
# --help names is documented in the man page (as `Fl -name`), every
# option of a command's part of the man page is in its --help, and the
# OCI annotations berth hook reads, its --help and the man page name are
# one set.  Every --help has the same layout, and lists only the exit
# statuses its command can return.
. "$(dirname "$0")/lib.sh"

MAN=$TOP_SRCDIR/doc/berth.1
cmds="check list show env run exec spec hook kube"

# The long options a help text names: the first column of "  --name"
# and "  -x, --name" lines.
help_opts() {
	sed -n 's/^ \{2,6\}\(-[A-Za-z], \)\{0,1\}--\([a-z][a-z0-9-]*\).*/\2/p;
		s/^  --[a-z][a-z0-9-]*[^,]*, --\([a-z][a-z0-9-]*\).*/\1/p' |
		grep -vx help | sort -u
}
# The long options mdoc text names: the `-name` words after a `Fl`.
man_opts() {
	awk '{ fl = 0
	       for (i = 1; i <= NF; i++) {
		       if ($i == "Fl" || $i == ".Fl") { fl = 1; continue }
		       if (fl && $i ~ /^-[a-z][a-z0-9-]*$/) print substr($i, 2)
		       else if ($i ~ /^[A-Z][a-z][a-z]?$/ && $i != "Fl") fl = 0
	       } }' | grep -vx help | sort -u
}
# The man page's part for a command: RUN OPTIONS for run, GLOBAL OPTIONS
# for the global ones, else the command's item under COMMANDS.
man_part() {
	case $1 in
	run) awk '/^\.Sh /{p = ($0 == ".Sh RUN OPTIONS")} p' "$MAN" ;;
	global) awk '/^\.Sh /{p = ($0 == ".Sh GLOBAL OPTIONS")} p' "$MAN" ;;
	*) awk -v c="$1" '/^\.Sh /{s = ($0 == ".Sh COMMANDS")}
		s && /^\.It /{p = ($2 == "Cm" && $3 == c)} s && p' "$MAN" ;;
	esac
}
"$BERTH" --help | help_opts >"$TMP/gopts"

for c in global $cmds; do
	if [ "$c" = global ]; then
		"$BERTH" --help >"$TMP/help" 2>&1
		awk '/^Global options:/{p = 1; next} /^$/{p = 0} p' "$TMP/help" >"$TMP/h"
	else
		"$BERTH" "$c" --help >"$TMP/help" 2>&1
		cp "$TMP/help" "$TMP/h"
	fi
	help_opts <"$TMP/h" >"$TMP/hopts"
	man_part "$c" | man_opts >"$TMP/mopts"
	miss=
	for o in $(cat "$TMP/hopts"); do
		grep -qx -- "$o" "$TMP/mopts" || miss="$miss --$o"
	done
	is "$miss" "" "$c: every option of its --help is in its part of berth.1"
	extra=
	for o in $(cat "$TMP/mopts"); do
		# a command's part may mention the global options
		grep -qx -- "$o" "$TMP/hopts" || grep -qx -- "$o" "$TMP/gopts" ||
			extra="$extra --$o"
	done
	is "$extra" "" "$c: every option of its part of berth.1 is in its --help"
done
# The man page's parts are not empty (the extraction works).
is "$(man_part run | man_opts | grep -cx network)" 1 "berth.1 RUN OPTIONS has --network"

# The annotations: the OCISPEC_ANN_ names cmd-hook.c reads.
for n in $(grep -o 'OCISPEC_ANN_[A-Z_]*' "$TOP_SRCDIR/src/cmd-hook.c" | sort -u); do
	sed -n "s/^#define $n[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" "$TOP_SRCDIR/src/ocispec.h"
done | sort -u >"$TMP/ann-src"
"$BERTH" hook --help | grep -o 'berth\.[a-z][a-z-]*[a-z]' | sort -u >"$TMP/ann-help"
grep -o 'berth\.[a-z][a-z-]*[a-z]' "$MAN" | sort -u >"$TMP/ann-man"
is "$(wc -l <"$TMP/ann-src")" 12 "cmd-hook.c reads 12 annotations"
is "$(diff "$TMP/ann-src" "$TMP/ann-help" | grep '^[<>]' | tr '\n' ' ')" "" \
	"berth hook --help names every annotation the hook reads, no other"
is "$(diff "$TMP/ann-src" "$TMP/ann-man" | grep '^[<>]' | tr '\n' ' ')" "" \
	"berth.1 names every annotation the hook reads, no other"

# One layout: Usage, summary, [description,] "Options:" with option lines
# only, then "Exit status:".
for c in $cmds; do
	"$BERTH" "$c" --help >"$TMP/help" 2>&1
	is "$(grep -c '^Options:$' "$TMP/help")" 1 "$c --help has one Options: header"
	bad=$(awk '/^Options:$/{p = 1; next} /^$/{p = 0} p' "$TMP/help" |
		grep -v '^  -' | grep -v '^                 ' | head -n 1)
	is "$bad" "" "$c --help: only options under Options:"
done
# Exit statuses: only run and exec can end on SIGKILL at the deadline, a spent
# crash budget or an OOM give-up; check and list set nothing up.
for c in $cmds; do
	"$BERTH" "$c" --help >"$TMP/help" 2>&1
	awk '/^Exit status:$/{p = 1; next} p' "$TMP/help" >"$TMP/exits"
	got=$(grep -cE '^  (137|90|N, 128\+S) ' "$TMP/exits")
	case $c in run | exec) want=3 ;; *) want=0 ;; esac
	is "$got" "$want" "$c --help lists only its exit statuses (run-only: $want)"
	case $c in check | list) want=0 ;; *) want=1 ;; esac
	is "$(grep -c '^  125 ' "$TMP/exits")" "$want" "$c --help: 125 listed iff it can set up"
done
done_testing
