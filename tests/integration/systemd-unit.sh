#!/bin/sh
# SPDX-License-Identifier: MIT
# The systemd template unit (contrib/systemd/berth@.service.in): the build
# substitutes berth's path; systemd-analyze verify accepts it without a
# single warning (it exits 0 on many problems, so its output must be
# empty); it is Type=notify (run-notify.sh proves berth's side), delegates
# the cgroup, signals berth alone and waits longer than berth's own stop
# deadline.
. "${TOP_SRCDIR:-.}/tests/integration/lib.sh"
command -v systemd-analyze >/dev/null || skip_all "systemd-analyze missing (package systemd)"

IN=$TOP_SRCDIR/contrib/systemd/berth@.service.in
BUILT=$TOP_BUILDDIR/contrib/systemd/berth@.service

check "the build made the unit" test -s "$BUILT"
check "the build substituted berth's path" sh -c "! grep -q '@bindir@' '$BUILT'"
check "ExecStart is an absolute path to berth" \
	grep -Eq '^ExecStart=/[^ ]*/berth run \$\{BERTH_WORKER\}$' "$BUILT"

# Verify against the berth that was just built, as an instance and as the
# template.
mkdir -p "$TMP/units"
sed "s|@bindir@|$(dirname "$BERTH")|g" "$IN" >"$TMP/units/berth@.service"
cp "$TMP/units/berth@.service" "$TMP/units/berth@app-queue.service"
for u in berth@.service berth@app-queue.service; do
	out=$(cd "$TMP/units" && systemd-analyze verify --man=no "./$u" 2>&1)
	rc=$?
	is "$rc" 0 "systemd-analyze verify $u: status 0"
	is "$out" "" "systemd-analyze verify $u: no warnings"
done
# The check has teeth: a broken unit does warn.
sed 's/^Type=notify$/Type=notfy/' "$TMP/units/berth@.service" >"$TMP/units/bad@x.service"
out=$(cd "$TMP/units" && systemd-analyze verify --man=no ./bad@x.service 2>&1)
check "a misspelt Type= is reported" test -n "$out"

key() { sed -n "s/^$1=//p" "$IN"; }
is "$(key Type)" notify "Type=notify"
is "$(key NotifyAccess)" main "NotifyAccess=main: only berth speaks for the service"
is "$(key Delegate)" yes "Delegate=yes: the worker's cgroup is berth's to make"
is "$(key KillMode)" mixed "KillMode=mixed: SIGTERM to berth alone, SIGKILL to all at the end"
# berth's deadline, from its help: "(default 15s; ...)" under --stop-timeout
deadline=$("$BERTH" run --help | sed -n '/--stop-timeout/,/--stop-signal/p' |
	sed -n 's/.*(default \([0-9]*\)s;.*/\1/p' | head -n 1)
stop=$(key TimeoutStopSec | sed 's/s$//')
check "berth's default stop deadline is known ($deadline s)" test -n "$deadline"
: "${deadline:=999}" # unknown: the next check fails too
check "TimeoutStopSec ($stop s) leaves berth's deadline ($deadline s) 10 s or more" \
	test "$stop" -ge $((deadline + 10))
done_testing
