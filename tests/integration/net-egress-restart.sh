#!/bin/sh
# SPDX-License-Identifier: MIT
# The egress plan through the real binary, as root, in network namespaces
# and a veth pair made here (the worker's W, a peer P with listeners on
# 10.78.0.2 and 10.78.0.3), `berth run --network netns:PATH`:
#   - the example app (contrib/examples) with a context that puts its
#     services on P: `mail` (relationship to rabbitqueue only) cannot open
#     a connection to the database `queue` uses, and is refused at once;
#     `queue` reaches both; port 25 is refused to both;
#   - firewall.outbound domains, resolved through a private /etc/hosts
#     (bound over the host's in this test's own mount namespace, with
#     nsswitch "hosts: files"): the domain's address reached, another
#     refused; the name moved while berth runs is followed at the next
#     restart; a name that does not resolve is warned about and allows
#     nothing, and the worker still starts;
#   - berth show prints the plan: the relationship allowed, the other
#     service blocked, the firewall rule, port 25.
# Nothing is installed in this test's own namespace.
if [ -z "${BERTH_NET_EGRESS_RESTART_INNER:-}" ] && command -v unshare >/dev/null &&
	[ "$(id -u)" -eq 0 ]; then
	BERTH_NET_EGRESS_RESTART_INNER=1 exec unshare --mount --propagation private sh "$0" "$@"
fi
. "${TOP_SRCDIR:-.}/tests/integration/lib.sh"
require_root
[ -n "${BERTH_NET_EGRESS_RESTART_INNER:-}" ] || skip_all "needs unshare (util-linux)"
command -v ip >/dev/null || skip_all "needs ip (iproute2)"
[ -x /usr/bin/python3 ] || skip_all "needs python3"
D=${TOP_BUILDDIR:?run through make check}/tests/helpers/net-driver
RUN_BOXED=1
ID=$$
W=berth-te$ID-w
P=berth-te$ID-p
SPID=
ip netns add "$W" && ip netns add "$P" || skip_all "cannot create network namespaces"
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; ip netns del "$W" 2>/dev/null;
	ip netns del "$P" 2>/dev/null; cleanup' EXIT
before=$("$D" --present 2>/dev/null)
ip link add "bte$ID-w" netns "$W" type veth peer name "bte$ID-p" netns "$P"
ip -n "$W" link set lo up
ip -n "$W" link set "bte$ID-w" up
ip -n "$W" addr add 10.78.0.1/24 dev "bte$ID-w"
ip -n "$P" link set lo up
ip -n "$P" link set "bte$ID-p" up
ip -n "$P" addr add 10.78.0.2/24 dev "bte$ID-p"
ip -n "$P" addr add 10.78.0.3/24 dev "bte$ID-p"

# P's listeners: accept and close, on every port the tests name
cat >"$TMP/server.py" <<'PY'
import select, socket
socks = []
for a in ("10.78.0.2", "10.78.0.3"):
    for port in (25, 3306, 5672, 8443):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a, port))
        s.listen(16)
        socks.append(s)
print("ready", flush=True)
while True:
    for s in select.select(socks, [], [])[0]:
        s.accept()[0].close()
PY
ip netns exec "$P" python3 -u "$TMP/server.py" >"$TMP/server.out" 2>&1 &
SPID=$!
wait_for "$TMP/server.out" '^ready' 10 || skip_all "the peer's listeners did not start"

# the probe a worker runs: each target reached, refused (at once: a TCP
# reset), or what else happened; then it waits (EXIT=N: exits N after 1 s)
PROBE='import os, socket, sys, time
def probe(a, p):
    s = socket.socket(); s.settimeout(3); t = time.monotonic()
    try:
        s.connect((a, p)); return "reached"
    except ConnectionRefusedError:
        return "refused" if time.monotonic() - t < 1 else "refused-slowly"
    except OSError as e:
        return "error(%s)" % e
out = [sys.argv[1]] + ["%s=%s" % (t, probe(t.split(":")[0], int(t.split(":")[1]))) for t in sys.argv[2:]]
print("PROBE " + " ".join(out), flush=True)
if os.environ.get("EXIT"):
    time.sleep(1); sys.exit(int(os.environ["EXIT"]))
time.sleep(1000)'

# --- the example app: mail cannot reach the database queue uses ----------------
EX=$TMP/example
cp -r "$TOP_SRCDIR/contrib/examples" "$EX"
printf '%s\n' "$PROBE" >"$EX/probe.py"
sed -i "s|python3 mail-worker.py|python3 probe.py mail 10.78.0.2:3306 10.78.0.2:5672 10.78.0.3:3306 10.78.0.3:25|;
	s|python3 queue-worker.py|python3 probe.py queue 10.78.0.2:3306 10.78.0.2:5672 10.78.0.3:25|" \
	"$EX/.platform.app.yaml"
cat >"$TMP/context.json" <<'JSON'
{"services": {"mysqldb": {"ip": "10.78.0.2"}, "rabbitqueue": {"ip": "10.78.0.2"}}}
JSON
# run_example WORKER: its probe line
run_example() {
	: >"$BLOG"
	"$BERTH" -f "$EX/.platform.app.yaml" --context "$TMP/context.json" run \
		--network "netns:/run/netns/$W" "$1" >>"$BLOG" 2>&1 </dev/null &
	RUN_PID=$!
	BERTH_PID=$RUN_PID
	STARTED_PIDS="$STARTED_PIDS $RUN_PID"
	wait_for "$BLOG" "^PROBE $1 " 30
	grep "^PROBE $1 " "$BLOG" | head -n 1
	kill -TERM "$BERTH_PID"
	wait_run 30
}
out=$(run_example mail)
is "$out" "PROBE mail 10.78.0.2:3306=refused 10.78.0.2:5672=reached 10.78.0.3:3306=reached 10.78.0.3:25=refused" \
	"example: mail reaches its rabbitqueue, not queue's database (refused at once), nor port 25"
out=$(run_example queue)
is "$out" "PROBE queue 10.78.0.2:3306=reached 10.78.0.2:5672=reached 10.78.0.3:25=refused" \
	"example: queue reaches its database and rabbitqueue, not port 25"
"$BERTH" -f "$EX/.platform.app.yaml" --context "$TMP/context.json" show mail 2>/dev/null |
	python3 -c 'import json, sys
e = json.load(sys.stdin)["plan"]["sandbox"]["network"]["egress"]
print(" ".join(["allow %s %s:%d" % (r["name"], r["address"], r["port"]) for r in e["relationships"]] +
               ["block %s %s:%d" % (r["name"], r["address"], r["port"]) for r in e["blocked"]] +
               [e["firewall"], e["port_25"].split()[0]]))' >"$TMP/show.out" 2>&1
is "$(cat "$TMP/show.out")" \
	"allow emails 10.78.0.2:5672 block mysqldb 10.78.0.2:3306 all TCP (no firewall.outbound) rejected" \
	"show: mail's egress plan"

# --- domains, resolved through /etc/hosts; followed at a restart ---------------
printf 'hosts: files\n' >"$TMP/nsswitch.conf"
printf '127.0.0.1 localhost\n10.78.0.2 svc.egress.test\n' >"$TMP/hosts"
mount --bind "$TMP/nsswitch.conf" /etc/nsswitch.conf &&
	mount --bind "$TMP/hosts" /etc/hosts || skip_all "cannot bind a private /etc/hosts"
{
	printf 'name: app\ntype: "python:3.11"\n'
	printf 'firewall:\n  outbound:\n    - {domains: [svc.egress.test, nowhere.egress.test], ports: [8443]}\n'
	printf 'workers:\n  test:\n    commands:\n      start: EXIT=1 python3 probe.py t 10.78.0.2:8443 10.78.0.3:8443 10.78.0.2:3306\n'
} >"$APP/.platform.app.yaml"
printf '%s\n' "$PROBE" >"$APP/probe.py"
start_run host --network "netns:/run/netns/$W"
check "domains: the worker starts" wait_for "$BLOG" '^PROBE t ' 30
is "$(grep '^PROBE t ' "$BLOG" | head -n 1)" \
	"PROBE t 10.78.0.2:8443=reached 10.78.0.3:8443=refused 10.78.0.2:3306=refused" \
	"domains: the name's address and port reached, another address or port refused"
check "domains: a name that does not resolve is warned about" \
	grep -q 'firewall domain nowhere.egress.test does not resolve' "$BLOG"
# the name moves (same inode: the bind stays)
printf '127.0.0.1 localhost\n10.78.0.3 svc.egress.test\n' >"$TMP/hosts"
check "domains: the next restart follows the new address" \
	wait_for "$BLOG" '^PROBE t 10.78.0.2:8443=refused 10.78.0.3:8443=reached ' 30
kill -TERM "$BERTH_PID"
wait_run 30
is "$RUN_RC" 0 "domains: stopped, status 0"
check "domains: no table left in the given namespace" \
	sh -c "! '$D' --nft /run/netns/$W 'list tables' 2>/dev/null | grep -q 'inet berth'"

is "$("$D" --present 2>/dev/null)" "$before" "no table in this test's own namespace"
done_testing
