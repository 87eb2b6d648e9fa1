#!/bin/sh
# SPDX-License-Identifier: MIT
# commands.pre_start in a container written by `berth spec` and run by
# crun (busybox root filesystem): the init script runs it before the start
# command, as the worker's user with its environment, in the same /tmp;
# what it leaves behind (a setsid daemon) is gone before the start; its
# failure ends the container with 91 and one line; a stop during it ends
# the container without starting the worker.  A plain start command
# without `exec` is the init's child itself, so the signals the init
# relays reach it.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/oci-lib.sh"
require_root
oci_require
command -v python3 >/dev/null || skip_all "python3 is needed to read config.json"

CRUNROOT=$TMP/crun
ROOTFS=$TMP/rootfs
OUT=$TMP/out.log
IDS=
mkdir -p "$CRUNROOT"
oci_rootfs "$ROOTFS" sh cat echo id sed setsid sleep
trap crun_cleanup EXIT

cat >"$APP/.platform.app.yaml" <<'YAML'
name: app
type: "python:3.11"
variables:
  env:
    GREETING: hello
workers:
  ok:
    commands:
      pre_start: |
        echo "PRE uid $(id -u) $GREETING"
        echo "written by pre_start as $(id -u)" > /tmp/pre
        setsid sleep 7781 &
      start: |
        echo START-RAN
        sed 's/^/SAW /' /tmp/pre
        echo READY
        exec sleep 1000
  fail:
    commands:
      pre_start: echo PRE-FAIL; exit 3
      start: echo START-RAN
  long:
    commands:
      pre_start: echo PRE-LONG; sleep 7782
      start: echo START-RAN; exec sleep 1000
  plain:
    commands:
      start: sleep 7783
YAML

alive() { _s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null); [ -n "$_s" ] && [ "$_s" != Z ]; }
state_pid() { crunx state "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["pid"])'; }
# host pids whose command line is "sleep N" (N is this test's alone)
sleeper() {
	for _p in /proc/[0-9]*; do
		[ "$(cat "$_p/cmdline" 2>/dev/null | tr '\0' ' ')" = "sleep $1 " ] &&
			echo "${_p#/proc/}"
	done
}
# bundle WORKER: $TMP/WORKER/config.json from berth spec
bundle() {
	mkdir -p "$TMP/$1"
	"$BERTH" -q -C "$APP" spec "$1" --rootfs "$ROOTFS" --no-hooks \
		--storage-root "$TMP/storage" -o "$TMP/$1/config.json" 2>"$BLOG"
}

# ---- the spec: the init script gets the pre-start script as $2 ----
bundle ok
check "berth spec: process.args carries the pre-start script" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["process"]["args"]
assert a[:2] == ["/bin/sh", "-c"] and a[3] == "berth-init", a
assert len(a) == 6 and a[5].endswith("setsid sleep 7781 &\n"), a' "$TMP/ok/config.json"
bundle fail
check "berth spec: the failing worker's pre-start script too" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["process"]["args"]
assert len(a) == 6 and "exit 3" in a[5], a' "$TMP/fail/config.json"

# ---- it runs before the start, as the worker, and its leftovers go ----
id=berth-pre-$$-ok
IDS="$IDS $id"
: >"$OUT"
if crunx run -d -b "$TMP/ok" "$id" >"$OUT" 2>"$BLOG" && wait_for "$OUT" '^READY' 20; then
	ok "$RT run: the worker started"
	first=$(grep -E '^(PRE|START-RAN)' "$OUT" | head -n 2 | cut -c1-5 | tr '\n' ' ')
	is "$first" "PRE u START " "pre_start ran before the start command"
	check "pre_start ran as the worker's user with its environment" \
		grep -q '^PRE uid 65534 hello$' "$OUT"
	check "the start command read what pre_start wrote to /tmp" \
		grep -q '^SAW written by pre_start as 65534$' "$OUT"
	is "$(sleeper 7781)" "" "the daemon pre_start left is gone once the worker runs"
	pid=$(state_pid "$id")
	crunx kill "$id" TERM
	i=0
	while alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	check "$RT kill TERM stops the worker" sh -c "! alive $pid"
else
	not_ok "$RT run: the worker started"
	diag "$(cat "$OUT" "$BLOG")"
fi
crunx delete -f "$id" >/dev/null 2>&1

# ---- its failure: exit 91, one line, no start ----
id=berth-pre-$$-fail
IDS="$IDS $id"
crunx run -b "$TMP/fail" "$id" >"$OUT" 2>&1 </dev/null
is "$?" 91 "a failing pre_start ends the container with 91"
check "one line names it and its status" \
	grep -q 'berth-init: commands.pre_start exited with status 3: the worker is not started' "$OUT"
is "$(grep -c START-RAN "$OUT")" 0 "the start command did not run"
crunx delete -f "$id" >/dev/null 2>&1

# ---- a stop during it: the worker never starts ----
bundle long
id=berth-pre-$$-long
IDS="$IDS $id"
: >"$OUT"
if crunx run -d -b "$TMP/long" "$id" >"$OUT" 2>"$BLOG" && wait_for "$OUT" '^PRE-LONG' 20; then
	pid=$(state_pid "$id")
	for _i in $(seq 100); do [ -n "$(sleeper 7782)" ] && break; sleep 0.02; done
	t0=$(now_ms)
	crunx kill "$id" TERM
	i=0
	while alive "$pid" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	took=$(($(now_ms) - t0))
	check "$RT kill TERM during pre_start ends the container (${took} ms)" \
		sh -c "! alive $pid && [ $took -lt 3000 ]"
	is "$(sleeper 7782)" "" "pre_start's process is gone"
	sleep 0.2
	is "$(grep -c START-RAN "$OUT")" 0 "the start command did not run"
else
	not_ok "$RT run: pre_start started"
	diag "$(cat "$OUT" "$BLOG")"
fi
crunx delete -f "$id" >/dev/null 2>&1

# ---- a plain start command without exec gets the relayed signals ----
# The init script relays HUP to its child's pid alone: the start command
# must be that process, not a shell that traps HUP and keeps it.
bundle plain
id=berth-pre-$$-plain
IDS="$IDS $id"
if crunx run -d -b "$TMP/plain" "$id" >"$OUT" 2>"$BLOG"; then
	pid=$(state_pid "$id")
	for _i in $(seq 100); do [ -n "$(sleeper 7783)" ] && break; sleep 0.02; done
	crunx kill "$id" HUP
	i=0
	while [ -n "$(sleeper 7783)" ] && [ $i -lt 60 ]; do sleep 0.05; i=$((i + 1)); done
	is "$(sleeper 7783)" "" "start 'sleep N' (no exec): HUP relayed by the init reaches sleep"
	i=0
	while alive "$pid" && [ $i -lt 60 ]; do sleep 0.05; i=$((i + 1)); done
	check "and the container ends with it" sh -c "! alive $pid"
else
	not_ok "$RT run: the plain worker started"
	diag "$(cat "$OUT" "$BLOG")"
fi
crunx delete -f "$id" >/dev/null 2>&1

done_testing
