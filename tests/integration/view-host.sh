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
# while berth still runs (it used to sweep only when it exited)
used=$(du -sk "$STORE" | awk '{print $1}')
old=$(find "$STORE" -name 'tmp.old.*' | wc -l)
check "after $filled starts the storage root holds ${used} KiB (< 1 MiB)" test "$used" -lt 1024
is "$old" 0 "no tmp.old.* in the storage root"
is "$(find "$STORE" -name tmp -type d | wc -l)" 0 "no scratch directory in the storage root"
is "$(grep -c NOT-EMPTY "$BLOG")" 0 "/tmp is empty at each start"
kill -TERM "$BERTH_PID"
wait_run 30
done_testing
