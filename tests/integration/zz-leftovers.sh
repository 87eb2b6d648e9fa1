#!/bin/sh
# SPDX-License-Identifier: MIT
# The suite's last test (Makefile.am runs it after every other test of the
# run): nothing the suite created is left.  No berth-* cgroup on any
# hierarchy (v2, hybrid, v1), no mount whose point names berth, no loop
# device backed by a berth or /tmp file, no /tmp/berth-* or
# /var/tmp/berth-* entry, no process started by this suite.
#
#   zz-leftovers.sh --snapshot   what exists before the suite (Makefile.am
#                                writes it to tests/suite-start.list)
#
# What existed before the suite is not the suite's.  On a machine shared
# with another run (another build directory) what belongs to it is left
# out: a process is this suite's when it or an ancestor has this run's
# TOP_BUILDDIR in its environment, another's when another TOP_BUILDDIR; a
# lib.sh test directory says whose it is in its .suite file.  What goes
# away within 20 s was still being removed, not left.
set -u
LC_ALL=C
export LC_ALL
: "${TOP_BUILDDIR:=$(pwd)}"
START=${BERTH_SUITE_START:-$TOP_BUILDDIR/tests/suite-start.list}

cgroup_mounts() {
	awk '{ for (i = 7; $i != "-"; i++) ; if ($(i + 1) ~ /^cgroup2?$/) print $5 }' \
		/proc/self/mountinfo
}

# One line per thing: KIND PATH.
inventory() {
	for m in $(cgroup_mounts); do
		find "$m" -maxdepth 6 -type d -name 'berth-*' 2>/dev/null | sed 's/^/cgroup /'
	done
	for d in /tmp/berth-* /var/tmp/berth-*; do
		[ -e "$d" ] || [ -L "$d" ] && echo "tmp $d"
	done
	awk '$5 ~ /berth/ { print "mount " $5 }' /proc/self/mountinfo
	for f in /sys/block/loop*/loop/backing_file; do
		[ -r "$f" ] || continue
		b=$(cat "$f" 2>/dev/null)
		case $b in *berth* | /tmp/*) echo "loop ${f%/loop/backing_file} $b" ;; esac
	done
	sort -u
}

if [ "${1:-}" = --snapshot ]; then
	inventory | sort -u
	exit 0
fi

# owner PID: "ours", "other" or "" (no ancestor says), from the
# TOP_BUILDDIR in the environment of PID or its ancestors.
owner() {
	_p=$1
	_n=0
	while [ -n "$_p" ] && [ "$_p" -gt 1 ] && [ $_n -lt 12 ]; do
		_b=$(env_builddir "$_p")
		if [ -n "$_b" ]; then
			[ "$_b" = "$TOP_BUILDDIR" ] && echo ours || echo other
			return
		fi
		_p=$(ppid_of "$_p")
		_n=$((_n + 1))
	done
}

env_builddir() { # PID: the TOP_BUILDDIR in its environment
	{ tr '\0' '\n' <"/proc/$1/environ"; } 2>/dev/null | sed -n 's/^TOP_BUILDDIR=//p'
}
ppid_of() { awk '{ print $4 }' "/proc/$1/stat" 2>/dev/null; }

# The harness running this test: the outermost ancestor with this run's
# TOP_BUILDDIR (make's recipe shell).  It, its ancestors and everything
# below it (the TAP driver, this script's subshells) are not left over.
harness=$$
_p=$$
while [ -n "$_p" ] && [ "$_p" -gt 1 ]; do
	[ "$(env_builddir "$_p")" = "$TOP_BUILDDIR" ] && harness=$_p
	_p=$(ppid_of "$_p")
done
below_harness() { # PID
	_p=$1
	while [ -n "$_p" ] && [ "$_p" -gt 1 ]; do
		[ "$_p" = "$harness" ] && return 0
		_p=$(ppid_of "$_p")
	done
	return 1
}

# The /tmp/berth-* directories another run's live processes work in (its
# lib.sh BERTH_STATE_DIR, their working directories).
foreign_dirs() {
	for d in /proc/[0-9]*; do
		_b=$(env_builddir "${d#/proc/}")
		[ -n "$_b" ] && [ "$_b" != "$TOP_BUILDDIR" ] || continue
		{
			tr '\0' '\n' <"$d/environ" | sed -n 's/^BERTH_STATE_DIR=//p'
			readlink "$d/cwd"
		} 2>/dev/null | grep -o '^/\(var/\)\{0,1\}tmp/berth-[^/]*'
	done | sort -u
}

# not_other LINE: the thing is not provably another run's.
not_other() {
	set -- $1
	case $1 in
	cgroup)
		for p in $(cat "$2/cgroup.procs" "$2/tasks" 2>/dev/null | sort -u); do
			[ "$(owner "$p")" = other ] && return 1
		done
		# berth-WORKER-PID / berth-test-PID-...: a live process of another run
		for p in $(basename "$2" | tr -c '0-9\n' ' '); do
			[ -d "/proc/$p" ] && [ "$(owner "$p")" = other ] && return 1
		done
		;;
	tmp | mount | loop)
		# in a directory another run's lib.sh marked, or works in
		for d in $(echo "$2 ${3:-}" | grep -o '/\(var/\)\{0,1\}tmp/berth-[^/ ]*'); do
			[ -f "$d/.suite" ] && [ "$(cat "$d/.suite")" != "$TOP_BUILDDIR" ] && return 1
			case " $FOREIGN " in *" $d "*) return 1 ;; esac
		done
		;;
	esac
	return 0
}

# the suite's processes still running
our_procs() {
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		[ "$(env_builddir "$p")" = "$TOP_BUILDDIR" ] || continue
		below_harness "$p" && continue
		echo "process $p $({ tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null | cut -c1-80)"
	done
}

left() {
	FOREIGN=$(foreign_dirs | tr '\n' ' ')
	if [ -r "$START" ]; then
		inventory | sort -u | comm -13 "$START" -
	else
		inventory
	fi | while read -r l; do not_other "$l" && echo "$l"; done
	our_procs
}

echo "1..1"
if [ ! -r "$START" ]; then
	echo "# no $START (the suite's start): everything berth-* counts"
fi
i=0
found=$(left)
while [ -n "$found" ] && [ $i -lt 20 ]; do
	sleep 1
	found=$(left)
	i=$((i + 1))
done
if [ -z "$found" ]; then
	echo "ok 1 - the suite left no berth-* cgroup, mount, loop device, /tmp entry or process"
	exit 0
fi
echo "not ok 1 - the suite left behind:"
echo "$found" | sed 's/^/#   /'
exit 1
