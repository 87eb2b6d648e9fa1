#!/bin/sh
# SPDX-License-Identifier: MIT
# No ingress, egress kept, as root, in network namespaces and a
# veth pair made here (worker W, peer P), driven by tests/helpers/net-driver
# (net_prepare + spawn_worker with the child's steps).  The worker binds TCP
# and UDP on 0.0.0.0 and [::] (filter and bind denial off) and receives nothing from P,
# while its own TCP connections to P work over IPv4 and IPv6 (neighbour
# discovery included) and its UDP requests (not DNS) get no answer; with the filter on listen() fails
# with EPERM; the ruleset read back matches and a tampered one does not;
# private reaches a server outside, none reaches nothing; the hosts file
# resolves database.internal; the worker's ids and capabilities; no rules
# are ever left in this test's own namespace.
set -u

D=${TOP_BUILDDIR:?run through make check}/tests/helpers/net-driver
PY=/usr/bin/python3
STRICT=${BERTH_STRICT:-0}
N=0
FAILED=0
ok() { N=$((N + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $*"; }
check() { _d=$1; shift; if "$@"; then ok "$_d"; else not_ok "$_d"; fi; }
skip() {
	N=$((N + 1))
	if [ "$STRICT" = 1 ]; then
		FAILED=$((FAILED + 1))
		echo "not ok $N - $1 (cannot run: $2; BERTH_STRICT=1)"
	else
		echo "ok $N - $1 # SKIP $2"
	fi
}
skip_all() {
	if [ "$STRICT" = 1 ]; then echo "Bail out! $1 (BERTH_STRICT=1)"; exit 1; fi
	echo "1..0 # SKIP $1"
	exit 0
}

[ "$(id -u)" = 0 ] || skip_all "needs root"
# In a mount namespace of its own: the namespaces `ip netns add` pins under
# /run/netns then never appear in the host's mount table (other tests,
# running in parallel, compare it).
if [ -z "${BERTH_NET_INGRESS_INNER:-}" ]; then
	command -v unshare >/dev/null || skip_all "needs unshare (util-linux)"
	BERTH_NET_INGRESS_INNER=1 exec unshare --mount --propagation private sh "$0" "$@"
fi
command -v ip >/dev/null || skip_all "needs ip (iproute2)"
[ -x "$PY" ] || skip_all "needs $PY"
[ -x "$D" ] || skip_all "needs $D"

ID=$$
W=berth-t$ID-w
P=berth-t$ID-p
TMP=$(mktemp -d /tmp/berth-net.XXXXXX)
chmod 755 "$TMP"
# the worker runs as nobody (the default): its files go here
RW=$TMP/rw
mkdir "$RW" && chmod 1777 "$RW"
PORT=$((20000 + ID % 20000))
PIDS=

cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	ip netns del "$W" 2>/dev/null
	ip netns del "$P" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Before anything: this namespace holds no berth table.
before=$("$D" --present 2>/dev/null)

ip netns add "$W" && ip netns add "$P" || skip_all "cannot create network namespaces"
ip -n "$W" link add bw0 type veth peer name bp0 netns "$P" || skip_all "no veth"
ip -n "$W" addr add 10.231.0.1/24 dev bw0
ip -n "$W" addr add fd42:231::1/64 dev bw0 nodad
ip -n "$P" addr add 10.231.0.2/24 dev bp0
ip -n "$P" addr add fd42:231::2/64 dev bp0 nodad
for ns in "$W" "$P"; do
	ip -n "$ns" link set lo up
done
ip -n "$W" link set bw0 up
ip -n "$P" link set bp0 up

cat >"$TMP/listen.py" <<'EOF'
# Bind TCP and UDP on 0.0.0.0 and [::]; count what arrives until $1/done.
import os, select, socket, sys
d, port = sys.argv[1], int(sys.argv[2])
socks = []
for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(fam, typ)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        if typ == socket.SOCK_STREAM:
            s.listen(8)
        socks.append(s)
open(d + "/ready", "w").close()
got = 0
while not os.path.exists(d + "/done"):
    r, _, _ = select.select(socks, [], [], 0.05)
    for s in r:
        if s.type == socket.SOCK_STREAM:
            s.accept()[0].close()
        else:
            s.recvfrom(100)
        got += 1
print("received", got)
EOF

cat >"$TMP/peer-send.py" <<'EOF'
# From the peer: TCP connects and UDP datagrams to the worker; none may land.
import socket, sys
port, landed = int(sys.argv[1]), 0
for fam, addr in ((socket.AF_INET, "10.231.0.1"), (socket.AF_INET6, "fd42:231::1")):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(1.5)
    try:
        s.connect((addr, port))
        landed += 1
        print("tcp connect landed on", addr)
    except OSError as e:
        print("tcp", addr, e)
    s.close()
    u = socket.socket(fam, socket.SOCK_DGRAM)
    for _ in range(3):
        u.sendto(b"x", (addr, port))
    u.close()
print("landed", landed)
sys.exit(1 if landed else 0)
EOF

cat >"$TMP/echo-server.py" <<'EOF'
# The peer's TCP and UDP echo server on v4 and v6 (and 127.0.0.1 for private).
import os, select, socket, sys
port, addrs = int(sys.argv[1]), sys.argv[2:]
socks = []
for a in addrs:
    fam = socket.AF_INET6 if ":" in a else socket.AF_INET
    for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(fam, typ)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a, port))
        if typ == socket.SOCK_STREAM:
            s.listen(8)
        socks.append(s)
print("ready", flush=True)
while True:
    for s in select.select(socks, [], [])[0]:
        if s.type == socket.SOCK_STREAM:
            c = s.accept()[0]
            c.settimeout(2)
            try:
                c.sendall(b"echo:" + c.recv(100))
            except OSError:
                pass
            c.close()
        else:
            data, peer = s.recvfrom(100)
            s.sendto(b"echo:" + data, peer)
EOF

cat >"$TMP/client.py" <<'EOF'
# The worker's outbound TCP connection and UDP request/response; with
# --udp-refused, UDP must get no answer (the egress plan rejects it).
import socket, sys
args = sys.argv[1:]
refused = args[0] == "--udp-refused"
if refused:
    args = args[1:]
port, failed = int(args[0]), 0
for a in args[1:]:
    fam = socket.AF_INET6 if ":" in a else socket.AF_INET
    try:
        s = socket.create_connection((a, port), timeout=3)
        s.sendall(b"tcp")
        ok = s.recv(100) == b"echo:tcp"
        s.close()
    except OSError as e:
        print("tcp", a, e); ok = False
    print("tcp", a, "ok" if ok else "FAILED"); failed += not ok
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.settimeout(3)
    u.settimeout(1 if refused else 3)
    try:
        u.sendto(b"udp", (a, port))
        ok = u.recvfrom(100)[0] == b"echo:udp"
    except OSError as e:
        print("udp", a, e); ok = False
    if refused:
        ok = not ok
    print("udp", a, "ok" if ok else "FAILED"); failed += not ok
sys.exit(1 if failed else 0)
EOF

cat >"$TMP/listen-errno.py" <<'EOF'
# listen() on an unbound socket (autobind: Landlock does not see it)
import errno, socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    s.listen(1)
    print("listen succeeded")
except OSError as e:
    print("listen errno", errno.errorcode[e.errno])
EOF

cat >"$TMP/bind-errno.py" <<'EOF'
import errno, socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    s.bind(("0.0.0.0", 0))
    print("bind succeeded")
except OSError as e:
    print("bind errno", errno.errorcode[e.errno])
EOF

wait_file() {
	_i=0
	while [ ! -e "$1" ] && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
	[ -e "$1" ]
}

# --- 1. ingress dropped, TCP and UDP, v4 and v6 (filter layer off, and
# Landlock's TCP bind denial: the ruleset alone) ---------------------------
"$D" --network "netns:/run/netns/$W" --seccomp off --allow-local-listen \
	"$PY $TMP/listen.py $RW $PORT" >"$TMP/listen.out" 2>"$TMP/listen.err" &
LPID=$!
PIDS="$PIDS $LPID"
if wait_file "$RW/ready"; then
	"$D" --nft "/run/netns/$W" "list table inet berth" >"$TMP/ingress-rules.txt" 2>&1
	ip netns exec "$P" "$PY" "$TMP/peer-send.py" "$PORT" >"$TMP/peer.out" 2>&1
	prc=$?
	sleep 0.3 # datagrams in flight
	touch "$RW/done"
	wait "$LPID"
	lrc=$?
	check "ingress: no TCP connection from the peer completes (v4, v6)" [ "$prc" = 0 ]
	check "ingress: the worker's sockets received nothing (TCP and UDP, v4 and v6)" \
		grep -qx "received 0" "$TMP/listen.out"
	check "ingress: the worker ran, its namespace's input policy drop" \
		sh -c "[ '$lrc' = 0 ] && grep -q 'hook input priority filter; policy drop;' '$TMP/ingress-rules.txt'"
else
	wait "$LPID"
	not_ok "ingress: the listener never became ready: $(cat "$TMP/listen.err")"
	not_ok "ingress: (not run)"
	not_ok "ingress: (not run)"
fi

# --- 2. egress kept ---------------------------------------------------------
ip netns exec "$P" "$PY" -u "$TMP/echo-server.py" "$PORT" 10.231.0.2 fd42:231::2 \
	>"$TMP/echo.out" 2>&1 &
EPID=$!
PIDS="$PIDS $EPID"
wait_file "$TMP/echo.out" && sleep 0.2
"$D" --network "netns:/run/netns/$W" --user nobody \
	"$PY $TMP/client.py --udp-refused $PORT 10.231.0.2 fd42:231::2" >"$TMP/client.out" 2>&1
check "egress: outbound TCP works and UDP (not DNS) is refused, v4 and v6 (filter on, as nobody)" \
	[ $? = 0 ]
check "egress: IPv6 neighbour discovery resolved the peer" \
	sh -c "ip -n '$W' -6 neigh show fd42:231::2 | grep -q lladdr"

# --- 3. the filter layer ----------------------------------------------------
out=$("$D" --network "netns:/run/netns/$W" "$PY $TMP/listen-errno.py" 2>/dev/null)
check "filter: listen() fails with EPERM ($out)" [ "$out" = "listen errno EPERM" ]
out=$("$D" --network "netns:/run/netns/$W" --allow-local-listen "$PY $TMP/listen-errno.py" \
	2>/dev/null)
check "filter: --allow-local-listen lets listen() through ($out)" [ "$out" = "listen succeeded" ]
if [ "$("$D" --landlock-abi 2>/dev/null)" -ge 4 ]; then
	out=$("$D" --network "netns:/run/netns/$W" "$PY $TMP/bind-errno.py" 2>/dev/null)
	check "landlock: an explicit TCP bind fails with EACCES ($out)" [ "$out" = "bind errno EACCES" ]
	out=$("$D" --network "netns:/run/netns/$W" --allow-local-listen "$PY $TMP/bind-errno.py" \
		2>/dev/null)
	check "landlock: not with --allow-local-listen ($out)" [ "$out" = "bind succeeded" ]
else
	skip "landlock: an explicit TCP bind fails with EACCES" "no Landlock ABI 4 here"
	skip "landlock: not with --allow-local-listen" "no Landlock ABI 4 here"
fi

# --- 4. the ruleset read back, while a worker runs (berth removes the
# table from a namespace it was given when it exits) --------------------
# run_bg NAME: the driver in W with a worker that waits for $RW/NAME.stop
run_bg() {
	rm -f "$RW/$1.up" "$RW/$1.stop"
	"$D" --network "netns:/run/netns/$W" \
		"touch $RW/$1.up; while [ ! -e $RW/$1.stop ]; do sleep 0.05; done" \
		>"$TMP/$1.out" 2>"$TMP/$1.err" &
	BG=$!
	PIDS="$PIDS $BG"
	wait_file "$RW/$1.up"
}
stop_bg() { # NAME
	touch "$RW/$1.stop"
	wait "$BG"
}
no_table() { ! "$D" --nft "/run/netns/$W" "list tables" 2>/dev/null | grep -q 'inet berth'; }

run_bg verify
check "rules: the read-back matches" "$D" --verify "/run/netns/$W"
"$D" --nft "/run/netns/$W" "list table inet berth" >"$TMP/rules.txt" 2>&1
check "rules: input policy drop, forward policy drop" \
	sh -c "grep -q 'hook input priority filter; policy drop;' '$TMP/rules.txt' &&
	       grep -q 'hook forward priority filter; policy drop;' '$TMP/rules.txt'"
"$D" --nft "/run/netns/$W" "add rule inet berth input tcp dport 22 accept"
check "rules: an extra rule is a difference" sh -c "! '$D' --verify /run/netns/$W 2>/dev/null"
stop_bg verify
check "rules: removed from the given namespace at exit, though changed" no_table
check "rules: the change is reported at the removal" \
	sh -c "grep -q 'was changed while berth ran' '$TMP/verify.err' &&
	       grep -q 'removed from the namespace' '$TMP/verify.err'"
"$D" --nft "/run/netns/$W" "add table inet berth"
"$D" --nft "/run/netns/$W" "add chain inet berth sneaky"
run_bg replace
check "rules: a tampered table is replaced whole at the next start" "$D" --verify "/run/netns/$W"
stop_bg replace
rc=$?
check "rules: the replacement exited 0 ($rc), the table removed, unchanged" \
	sh -c "[ $rc = 0 ] && ! grep -q 'was changed' '$TMP/replace.err'"
check "rules: no table left after the replacement" no_table

# --- 5. none: loopback only -------------------------------------------------
out=$("$D" --network none "ip -o link show | wc -l; $PY $TMP/client.py $PORT 10.231.0.2" \
	2>/dev/null)
rc=$?
check "none: only loopback, the peer unreachable" \
	sh -c "[ '$rc' != 0 ] && [ \"\$(echo '$out' | head -1)\" = 1 ]"

# --- 6. private: egress through slirp4netns ----------------------------------
if [ ! -x /usr/bin/slirp4netns ]; then
	skip "private: reaches a server outside the worker's namespace" "no /usr/bin/slirp4netns"
	skip "private: a relationship at 127.0.0.1 reaches this host's loopback" "no slirp4netns"
else
	"$PY" -u "$TMP/echo-server.py" "$((PORT + 1))" 127.0.0.1 >"$TMP/host-echo.out" 2>&1 &
	HPID=$!
	PIDS="$PIDS $HPID"
	wait_file "$TMP/host-echo.out" && sleep 0.2
	"$D" --network private --user nobody \
		"gw=\$(ip route show default | awk '{print \$3; exit}'); $PY $TMP/client.py --udp-refused $((PORT + 1)) \$gw" \
		>"$TMP/private.out" 2>&1
	check "private: reaches a server outside the worker's namespace" [ $? = 0 ]
	printf '{"database": [{"host": "database.internal", "ip": "127.0.0.1"}]}\n' \
		>"$TMP/rels-lo.json"
	"$D" --network private --hosts "$TMP/rels-lo.json" \
		"$PY $TMP/client.py --udp-refused $((PORT + 1)) database.internal" >"$TMP/private-hosts.out" 2>&1
	check "private: a relationship at 127.0.0.1 reaches this host's loopback by its name" \
		[ $? = 0 ]
	# where clone3 fails with ENOSYS (a seccomp profile), slirp4netns is
	# forked into berth's PID namespace instead of a new one, and still
	# serves
	"$D" --no-clone3 --network private --hosts "$TMP/rels-lo.json" \
		"$PY $TMP/client.py --udp-refused $((PORT + 1)) database.internal" >"$TMP/private-noclone3.out" 2>&1
	rc=$?
	check "private, clone3 filtered: slirp4netns is forked and serves" \
		sh -c "[ '$rc' = 0 ] && grep -q \"slirp4netns shares berth's PID namespace\" '$TMP/private-noclone3.out'"
	# slirp4netns adds no way in: while a private worker runs, it has no
	# listening socket on the host (no port forwarded, no API socket)
	rm -f "$RW/priv.up" "$RW/priv.stop"
	"$D" --network private \
		"touch $RW/priv.up; while [ ! -e $RW/priv.stop ]; do sleep 0.05; done" \
		>"$TMP/private-bg.out" 2>&1 &
	BG=$!
	PIDS="$PIDS $BG"
	wait_file "$RW/priv.up"
	sp=$(sed -n 's/.*slirp4netns \([0-9][0-9]*\) serves.*/\1/p' "$TMP/private-bg.out" | head -n 1)
	ss -Hlnptuxw 2>/dev/null | grep "pid=$sp," >"$TMP/slirp-listen.txt"
	check "private: slirp4netns ($sp) listens nowhere on the host" \
		sh -c "[ -n '$sp' ] && [ -e /proc/$sp ] && [ ! -s '$TMP/slirp-listen.txt' ]"
	touch "$RW/priv.stop"
	wait "$BG"
	kill "$HPID"
	slirp=$(sed -n 's/.*slirp4netns \([0-9][0-9]*\) serves.*/\1/p' "$TMP/private.out" | head -n 1)
	# SIGKILLed at the driver's end, which does not wait for the kernel to
	# tear down its tap device: dead within 2 s, if not yet reaped (init
	# or the test's shell is its parent then)
	slirp_dead() {
		[ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
	}
	for _i in $(seq 100); do
		[ -z "$slirp" ] || slirp_dead "$slirp" && break
		sleep 0.02
	done
	# slirp4netns's sandbox (pivot_root, the old root detached) must not
	# unmount the test's `ip netns` names: it runs in a private mount
	# namespace of its own
	check "private: the namespaces named in /run/netns are still there" \
		sh -c "ip netns exec '$W' true && ip netns exec '$P' true"
	check "private: slirp4netns ($slirp) ended with the driver" \
		sh -c "[ -n '$slirp' ] && { [ ! -e /proc/$slirp ] ||
			[ \"\$(awk '{print \$3}' /proc/$slirp/stat 2>/dev/null)\" = Z ]; }"
fi

# --- 7. hosts file ----------------------------------------------------------
cat >"$TMP/rels.json" <<'EOF'
{"database": [{"host": "database.internal", "ip": "10.231.0.2", "port": 3306}]}
EOF
out=$("$D" --network "netns:/run/netns/$W" --hosts "$TMP/rels.json" --user nobody \
	"getent hosts database.internal; $PY $TMP/client.py --udp-refused $PORT database.internal >/dev/null && echo reached" \
	2>/dev/null)
check "hosts: database.internal resolves to the context's address ($(echo $out))" \
	sh -c "echo '$out' | grep -q '^10.231.0.2 *database.internal' && echo '$out' | grep -qx reached"
check "hosts: the test's own /etc/hosts is untouched" sh -c "! grep -q database.internal /etc/hosts"

# --- 8. the worker's process --------------------------------------------------
"$D" --network "netns:/run/netns/$W" --user nobody "cat /proc/self/status" >"$TMP/status" 2>/dev/null
check "worker: ids, empty capability sets, NoNewPrivs 1, Seccomp 2" \
	sh -c "grep -q '^Uid:.65534.65534.65534.65534' '$TMP/status' &&
	       ! grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' '$TMP/status' | grep -vq ':.0000000000000000$' &&
	       grep -q '^NoNewPrivs:.1' '$TMP/status' && grep -q '^Seccomp:.2' '$TMP/status'"

cat >"$TMP/poke.py" <<'EOF'
# From the worker: berth (the driver, our parent's parent is not needed:
# the shell's parent is berth) must be out of reach.
import ctypes, os, sys
berth = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
reached = []
if libc.ptrace(16, berth, None, None) == 0:  # PTRACE_ATTACH
    reached.append("ptrace")
for f in ("environ", "mem", "maps", "fd", "cwd", "exe", "root"):
    try:
        p = "/proc/%d/%s" % (berth, f)
        if f == "fd":
            # a uid-0 worker may list the numbers (the directory is
            # root's); what they point to stays out of reach
            for n in os.listdir(p):
                try:
                    os.readlink(p + "/" + n)
                    reached.append("fd/" + n)
                except OSError:
                    pass
            continue
        if f in ("cwd", "root"):
            os.listdir(p)
        elif f == "exe":
            os.readlink(p)
        else:
            open(p, "rb").read(1)
        reached.append(f)
    except OSError:
        pass
print("reached:", " ".join(reached) or "nothing")
EOF
for u in nobody 0; do
	out=$("$D" --network none --user $u "$PY $TMP/poke.py \$PPID" 2>/dev/null)
	check "worker (--user $u) cannot ptrace berth or open its /proc files ($out)" \
		[ "$out" = "reached: nothing" ]
done

# --- 9. the host's namespace --------------------------------------------------
if [ "$("$D" --is-initial 2>/dev/null)" = 1 ]; then
	"$D" --network current true 2>"$TMP/current.err"
	rc=$?
	check "current: refused in the host's initial namespace (rc $rc), naming the option" \
		sh -c "[ '$rc' = 125 ] && grep -q -- '--network=private' '$TMP/current.err'"
	"$D" --network "netns:/proc/1/ns/net" true 2>/dev/null
	check "netns:PATH: the host's namespace refused too" [ $? = 125 ]
else
	skip "current: refused in the host's initial namespace" "this test is not in it"
	skip "netns:PATH: the host's namespace refused too" "this test is not in it"
fi
# The worker waits until the test has read the ruleset in W.
rm -f "$RW/cur.up" "$RW/cur.stop"
ip netns exec "$W" "$D" --network current \
	"touch $RW/cur.up; while [ ! -e $RW/cur.stop ]; do sleep 0.05; done; echo in-w" \
	>"$TMP/current-w.out" 2>"$TMP/current-w.err" &
BG=$!
PIDS="$PIDS $BG"
wait_file "$RW/cur.up"
"$D" --nft "/run/netns/$W" "list table inet berth" >"$TMP/current-rules.txt" 2>&1
touch "$RW/cur.stop"
wait "$BG"
check "current: in a namespace of its own, installs there (input policy drop while it runs)" \
	sh -c "grep -q 'hook input priority filter; policy drop;' '$TMP/current-rules.txt' &&
	       grep -qx in-w '$TMP/current-w.out'"
check "current: and removes the table there when it exits" \
	grep -q 'removed from the namespace' "$TMP/current-w.err"
check "current: no table left in that namespace" no_table
check "no rules in the test's own namespace, before or after" \
	sh -c "[ '$before' = 0 ] && [ \"\$('$D' --present 2>/dev/null)\" = 0 ]"

echo "1..$N"
[ "$FAILED" = 0 ]
