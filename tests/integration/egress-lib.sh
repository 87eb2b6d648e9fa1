# SPDX-License-Identifier: MIT
# Shared by the net-egress*.sh tests; source it after lib.sh.  The script
# runs in a mount namespace of its own (its first lines re-execute it
# under `unshare --mount`), so that the namespaces `ip netns add` pins and
# the files bound over /etc/hosts and /etc/resolv.conf are its own.
#
#   egress_setup         requirements, test-child in the app, the listener
#   egress_netns         namespaces W (the worker's) and P (the peer's) and
#                        a veth pair between them, with the addresses below
#   egress_listen NS OUT SPEC...  the listener (in namespace NS, "" for
#                        this one); SPEC is tcp,ADDR,PORT or udp,ADDR,PORT
#                        (PORT 0: a free one); OUT gets "PROTO ADDR PORT"
#                        per socket.  TCP accepts and closes, UDP echoes
#                        (bind UDP to one address: the answer must come
#                        from the address asked)
#   egress_preflight NS PROBE...  one TAP line: the probes, run by
#                        test-child in namespace NS without berth, all
#                        connect or get their answer (the listeners are
#                        there: a refusal under berth is berth's doing)
#   egress_bind FILE TARGET  bind FILE over TARGET (/etc/resolv.conf,
#                        /etc/hosts): berth and its worker see it, the
#                        machine does not
#   probes PROBE...      the worker's start command: ./test-child with the
#                        probes (connect HOST PORT, udp HOST PORT), then
#                        PROBED and a long sleep
#   run_probes MODE OPTIONS...  start berth on worker "test" and wait for
#                        PROBED; berth is left running (stop_worker)
#   expect_probe WANT TAG HOST PORT DESC   one TAP line: WANT is "ok"
#                        (connected / reply), "refused" (TCP: ECONNREFUSED
#                        in under a second) or "noreply" (UDP: anything but
#                        a reply)
#   nft_list NSFILE CMD  an nft command in namespace file NSFILE (the
#                        build's net-driver: the suite needs no nft binary)
#   host_tables          the tables of this test's own network namespace
#                        (the machine's: the script only unshares mounts),
#                        or "unreadable"
#
# The addresses: W has 10.231.0.1/24 and fd42:231::1/64; P has .2 .3 .17
# .33 .40 .53 and fd42:231::2 ::17 ::33, and listens on all of them.
: "${TOP_BUILDDIR:?run through make check}"
ND=$TOP_BUILDDIR/tests/helpers/net-driver
PY=/usr/bin/python3
EW=berth-e$$-w
EP=berth-e$$-p
E_PIDS=
E_NETNS=

egress_cleanup() {
	for _p in $E_PIDS; do kill -KILL "$_p" 2>/dev/null; done
	for _p in $E_PIDS; do wait "$_p" 2>/dev/null; done
	for _n in $E_NETNS; do ip netns del "$_n" 2>/dev/null; done
}
trap 'cleanup; egress_cleanup' EXIT

# The app's services.yaml (mysqldb, rabbitqueue) and a context giving
# their addresses in the peer namespace: mysqldb 10.231.0.2 port 13306,
# rabbitqueue 10.231.0.3 on its type's default port (BERTH_CONTEXT).
egress_services() {
	mkdir -p "$APP/.platform"
	printf 'mysqldb:\n  type: mariadb:10.6\nrabbitqueue:\n  type: rabbitmq:3.13\n' \
		>"$APP/.platform/services.yaml"
	cat >"$TMP/context.json" <<'JSON'
{"services": {"mysqldb": {"ip": "10.231.0.2", "port": 13306},
              "rabbitqueue": {"ip": "10.231.0.3"}}}
JSON
	BERTH_CONTEXT=$TMP/context.json
	export BERTH_CONTEXT
}

egress_setup() {
	require_root
	[ -n "${BERTH_EGRESS_INNER:-}" ] || skip_all "needs unshare (util-linux)"
	command -v ip >/dev/null || skip_all "needs ip (iproute2)"
	[ -x "$PY" ] || skip_all "needs $PY"
	[ -x "$ND" ] || skip_all "needs $ND"
	# shellcheck disable=SC2034 # lib.sh's
	RUN_BOXED=1
	# The box shows the worker the OS and its app: test-child goes into
	# the app (the view binds it again at the same path).
	cp "$TEST_CHILD" "$APP/test-child"
	chmod 0755 "$APP/test-child"
	cat >"$TMP/listen.py" <<'EOF'
import os, select, socket, sys
out, socks = sys.argv[1], []
for spec in sys.argv[2:]:
    proto, addr, port = spec.split(",")
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, int(port)))
    if proto == "tcp":
        s.listen(64)
    socks.append(s)
with open(out + ".tmp", "w") as f:
    for s in socks:
        kind = "tcp" if s.type == socket.SOCK_STREAM else "udp"
        f.write("%s %s %d\n" % (kind, s.getsockname()[0], s.getsockname()[1]))
os.rename(out + ".tmp", out)
while True:
    for s in select.select(socks, [], [])[0]:
        if s.type == socket.SOCK_STREAM:
            s.accept()[0].close()
        else:
            data, peer = s.recvfrom(100)
            s.sendto(b"echo:" + data, peer)
EOF
}

egress_netns() {
	ip netns add "$EW" || skip_all "cannot create network namespaces"
	E_NETNS="$E_NETNS $EW"
	ip netns add "$EP" || skip_all "cannot create network namespaces"
	E_NETNS="$E_NETNS $EP"
	ip -n "$EW" link add bw0 type veth peer name bp0 netns "$EP" || skip_all "no veth"
	ip -n "$EW" addr add 10.231.0.1/24 dev bw0
	ip -n "$EW" addr add fd42:231::1/64 dev bw0 nodad
	for _a in 2 3 17 33 40 53; do
		ip -n "$EP" addr add "10.231.0.$_a/24" dev bp0
	done
	for _a in 2 17 33; do
		ip -n "$EP" addr add "fd42:231::$_a/64" dev bp0 nodad
	done
	for _ns in "$EW" "$EP"; do
		ip -n "$_ns" link set lo up
	done
	ip -n "$EW" link set bw0 up
	ip -n "$EP" link set bp0 up
}

egress_listen() {
	_ns=$1 _out=$2
	shift 2
	rm -f "$_out"
	if [ -n "$_ns" ]; then
		ip netns exec "$_ns" "$PY" "$TMP/listen.py" "$_out" "$@" >"$_out.err" 2>&1 &
	else
		"$PY" "$TMP/listen.py" "$_out" "$@" >"$_out.err" 2>&1 &
	fi
	E_PIDS="$E_PIDS $!"
	wait_for "$_out" . 10 || skip_all "the listener did not start: $(cat "$_out.err")"
}

egress_preflight() {
	_ns=$1
	shift
	ip netns exec "$_ns" "$TEST_CHILD" "$@" >"$TMP/preflight.out" 2>&1
	if ! grep -Ev ' (connected|reply) [0-9]+$' "$TMP/preflight.out" | grep -q .; then
		ok "preflight: every target answers in $_ns without berth"
	else
		not_ok "preflight: every target answers in $_ns without berth"
		diag "$(cat "$TMP/preflight.out")"
	fi
}

egress_bind() {
	mount --bind "$1" "$2" || skip_all "cannot bind $1 over $2"
}

probes() {
	echo "./test-child $*"
	echo "echo PROBED"
	echo "exec sleep 1000"
}

run_probes() {
	start_run "$@"
	wait_for "$BLOG" '^PROBED' 90 || {
		diag "the worker did not report its probes"
		dump_logs
	}
}

stop_worker() {
	[ -n "$BERTH_PID" ] && kill -TERM "$BERTH_PID" 2>/dev/null
	wait_run 30
}

# probe_line TAG HOST PORT: "OUTCOME MS" of that probe in berth's log
probe_line() {
	awk -v t="$1" -v h="$2" -v p="$3" '$1 == t && $2 == h && $3 == p { print $4, $5; exit }' \
		"$BLOG"
}

# probe_is WANT OUTCOME MS
probe_is() {
	case $1 in
	ok) [ "$2" = connected ] || [ "$2" = reply ] ;;
	refused) [ "$2" = ECONNREFUSED ] && [ "${3:-99999}" -lt 1000 ] ;;
	noreply) [ -n "$2" ] && [ "$2" != reply ] ;;
	*) false ;;
	esac
}

expect_probe() {
	_want=$1 _tag=$2 _host=$3 _port=$4 _desc=$5
	_got=$(probe_line "$_tag" "$_host" "$_port")
	if probe_is "$_want" "${_got% *}" "${_got#* }"; then
		ok "$_desc ($_tag $_host $_port: $_got)"
	else
		not_ok "$_desc ($_tag $_host $_port: got '${_got:-nothing}', want $_want)"
	fi
}

nft_list() {
	"$ND" --nft "$1" "$2" 2>&1
}

host_tables() {
	"$ND" --nft /proc/self/ns/net "list tables" 2>&1 || echo unreadable
}
