#!/bin/sh
# SPDX-License-Identifier: MIT
# What the worker cannot see of the host: a UNIX socket listening in the
# host's /run, berth's state (project.json) and /var/lib/berth, /etc/shadow
# even as uid 0; and a worker filling /tmp at each of many fast restarts
# leaves nothing in the storage root (/tmp is a tmpfs per start).  Every
# berth here has its own storage root and state directory.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
RUN_BOXED=1
PY=/usr/bin/python3
[ -x "$PY" ] || skip_all "needs $PY (for the socket listener)"

cat >"$APP/.platform.app.yaml" <<'EOF'
name: app
type: "python:3.11"
workers:
  test:
    commands:
      start: sleep 1000
EOF
STATE=$TMP/state
STORE=$TMP/storage
bexec() {
	"$BERTH" -f "$APP/.platform.app.yaml" --state-dir "$STATE" exec --storage-root "$STORE" \
		"$@" 2>>"$BLOG"
}

# A listener in the host's /run, reachable from the host.
SOCKDIR=/run/berth-test-$$
mkdir -p "$SOCKDIR"
"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
while True:
    c, _ = s.accept()
    c.sendall(b"hello\n")
    c.close()
' "$SOCKDIR/s" &
LISTENER=$!
STARTED_PIDS="$STARTED_PIDS $LISTENER"
for _i in $(seq 100); do [ -S "$SOCKDIR/s" ] && break; sleep 0.02; done
connect='
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
    print("CONNECTED", s.recv(16).decode().strip())
except OSError as e:
    print("REFUSED", e.errno)
'
is "$("$PY" -c "$connect" "$SOCKDIR/s")" "CONNECTED hello" "the host reaches its socket in /run"
out=$(bexec --user 0 test -- "$PY" -c "$connect" "$SOCKDIR/s")
is "$out" "REFUSED 2" "the worker cannot reach a socket in the host's /run (not there)"
out=$(bexec test -- sh -c "ls -A /run | wc -l")
is "$out" 0 "the worker's /run is its own, empty"
out=$(bexec --no-cgroup test -- sh -c 'grep -vc ":/$" /proc/self/cgroup
ls /sys/fs/cgroup/unified/cgroup.procs /sys/fs/cgroup/cgroup.procs 2>/dev/null | wc -l')
is "$(echo "$out" | tr '\n' ' ')" "0 1 " "--no-cgroup: still a cgroup namespace, with cgroup2"

# berth's state: the project.json berth keeps in the test's state dir, the
# machine's /var/lib/berth, and the rest of the host's tree
check "berth keeps a project.json in the state dir" test -s "$STATE/project.json"
out=$(bexec --user 0 test -- sh -c "for f in '$STATE/project.json' /var/lib/berth /var/lib /work /root /home; do ls -d \$f >/dev/null 2>&1 && echo \$f; done; echo end")
is "$(echo "$out" | tr '\n' ' ')" "end " \
	"--user 0: no state dir, /var/lib/berth, /var/lib, /work, /root or /home in the view"

# /etc/shadow, as uid 0 (no capabilities, but the owner)
check "the host's /etc/shadow is not empty" test -s /etc/shadow
out=$(bexec --user 0 test -- sh -c 'wc -c < /etc/shadow; cat /etc/gshadow | wc -c')
is "$(echo "$out" | tr '\n' ' ')" "0 0 " "--user 0: /etc/shadow and /etc/gshadow read empty"

kill -TERM "$LISTENER"
wait "$LISTENER" 2>/dev/null
rm -rf "$SOCKDIR"

# /tmp's bound: --tmp-size, else 1G or the memory limit when lower
out=$(bexec --tmp-size 8M test -- sh -c 'df -k /tmp | awk "NR == 2 { print \$2 }"')
is "$out" 8192 "exec --tmp-size 8M: /tmp is 8 MiB"
out=$(bexec test -- sh -c 'df -k /tmp | awk "NR == 2 { print \$2 }"')
is "$out" 1048576 "exec: /tmp is 1 GiB by default"
tmpsize() {
	"$BERTH" -f "$APP/.platform.app.yaml" --state-dir "$STATE" show test 2>/dev/null |
		"$PY" -c 'import json, sys
for o in json.load(sys.stdin)["plan"]["mounts"]["operations"]:
    if o["op"] == "tmp": print([f for f in o["flags"] if f.startswith("size=")][0])'
}
is "$(tmpsize)" size=1073741824 "show: /tmp is 1G by default"
is "$(BERTH_MEMORY=256M tmpsize)" size=268435456 "show: the memory limit when lower"
is "$(BERTH_MEMORY=256M BERTH_TMP_SIZE=2G tmpsize)" size=2147483648 "show: BERTH_TMP_SIZE wins"

# --ro-bind: shown read-only at its path; bad paths refused
ROB=/var/tmp/berth-view-host-$$
mkdir -p "$ROB" && echo yes >"$ROB/f"
: >"$BLOG"
out=$(bexec --user 0 --ro-bind "$ROB" test -- sh -c "cat $ROB/f; echo x > $ROB/g")
is "$out" yes "--ro-bind: the path is there"
check "--ro-bind: read-only, even for uid 0" grep -q "Read-only file system" "$BLOG"
out=$(BERTH_RO_BIND="$ROB:/etc" bexec test -- cat "$ROB/f")
is "$out" yes "BERTH_RO_BIND=PATH:PATH"
: >"$BLOG"
BERTH_RO_BIND="/nonexistent-$$:$ROB" bexec test -- cat "$ROB/f"
is "$?" 125 "BERTH_RO_BIND: a missing path stops the start (125)"
check "naming it" grep -q "open the --ro-bind path.*nonexistent-$$" "$BLOG"
rm -rf "$ROB"
bexec --ro-bind relative/path test -- true 2>/dev/null
is "$?" 2 "--ro-bind relative/path: usage error (2)"
bexec --ro-bind /srv/../etc test -- true 2>/dev/null
is "$?" 2 "--ro-bind with ..: usage error (2)"
: >"$BLOG"
bexec --ro-bind "$STORE" test -- true
is "$?" 125 "--ro-bind of the storage root: refused (125)"
check "and the message says why" grep -q "inside the storage root" "$BLOG"
bexec --tmp-size 10K test -- true 2>/dev/null
is "$?" 2 "--tmp-size below 1M: usage error (2)"

# A worker that fills /tmp (15 MB) and exits, restarted every 10 ms: its
# /tmp is a fresh tmpfs each time; nothing accumulates in the storage.
cat >"$APP/.platform.app.yaml" <<'EOF'
name: app
type: "python:3.11"
mounts:
  scratch: {source: tmp, source_path: s}
workers:
  test:
    commands:
      start: |
        test ! -e /tmp/fill && test ! -e scratch/f || echo NOT-EMPTY
        dd if=/dev/zero of=/tmp/fill bs=1M count=15 2>/dev/null && echo FILLED
        echo x > scratch/f
        exit 1
EOF
# (start_run takes run's options: the state dir and storage root go by
# their environment twins)
BERTH_STATE_DIR=$STATE BERTH_STORAGE_ROOT=$STORE start_run host --restart-min 10ms \
	--restart-max 10ms
N=20
for _i in $(seq 1500); do
	[ "$(grep -c '^FILLED' "$BLOG")" -ge $N ] && break
	sleep 0.02
done
filled=$(grep -c '^FILLED' "$BLOG")
check "the worker filled /tmp at $N starts (got $filled)" test "$filled" -ge $N
# while berth still runs, not only when it exits
used=$(du -sk "$STORE" | awk '{print $1}')
old=$(find "$STORE" -name 'tmp.old.*' | wc -l)
check "after $filled starts the storage root holds ${used} KiB (< 1 MiB)" test "$used" -lt 1024
is "$old" 0 "no tmp.old.* in the storage root"
is "$(find "$STORE" -name tmp -type d | wc -l)" 0 "no scratch directory in the storage root"
is "$(grep -c NOT-EMPTY "$BLOG")" 0 "/tmp is empty at each start"
kill -TERM "$BERTH_PID"
wait_run 30

# berth run --memory 128M: /tmp is bounded by the memory limit
cat >"$APP/.platform.app.yaml" <<'EOF'
name: app
type: "python:3.11"
workers:
  test:
    commands:
      start: |
        echo "TMPKB $(df -k /tmp | awk 'NR == 2 { print $2 }')"
EOF
BERTH_STATE_DIR=$STATE BERTH_STORAGE_ROOT=$STORE start_run host --memory 128M --max-restarts 0
wait_run 30
check "run --memory 128M: /tmp is 128 MiB" grep -q '^TMPKB 131072$' "$BLOG"
done_testing
