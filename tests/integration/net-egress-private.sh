#!/bin/sh
# SPDX-License-Identifier: MIT
# Egress with --network private (slirp4netns), through the real `berth
# run`: the services listen on this machine at free ports and the context
# gives them at 127.0.0.1 (mysqldb, A, the worker's relationship;
# rabbitqueue, B, none).  The worker reaches the host's loopback through
# slirp4netns's gateway 10.0.2.2, where its hosts file puts
# database.internal: A's port answers, B's is refused at once, another port
# (no service, no firewall key) answers.  B and that other port listen on
# 0.0.0.0: slirp4netns reaches the host at each of its own addresses too,
# where the other port answers and B is refused all the same.  The
# worker's table read back has the output rules.
if [ -z "${BERTH_EGRESS_INNER:-}" ] && command -v unshare >/dev/null &&
	[ "$(id -u)" -eq 0 ]; then
	BERTH_EGRESS_INNER=1 exec unshare --mount --propagation private sh "$0" "$@"
fi
. "${TOP_SRCDIR:-.}/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/egress-lib.sh"
egress_setup
[ -x /usr/bin/slirp4netns ] || skip_all "needs /usr/bin/slirp4netns (slirp4netns)"

# three free ports: A on this machine's loopback, B and one of no service
# on every address
egress_listen "" "$TMP/host.ports" tcp,127.0.0.1,0 tcp,0.0.0.0,0 tcp,0.0.0.0,0
PA=$(awk 'NR == 1 { print $3 }' "$TMP/host.ports")
PB=$(awk 'NR == 2 { print $3 }' "$TMP/host.ports")
PC=$(awk 'NR == 3 { print $3 }' "$TMP/host.ports")
# this host's own IPv4 addresses but loopback (the worker has no IPv6 route)
HOST_ADDRS=$(ip -4 -o addr show | awk '$2 != "lo" { sub("/.*", "", $4); print $4 }')
[ -n "$HOST_ADDRS" ] || skip_all "no IPv4 address on this host but loopback"

mkdir -p "$APP/.platform"
printf 'mysqldb:\n  type: mariadb:10.6\nrabbitqueue:\n  type: rabbitmq:3.13\n' \
	>"$APP/.platform/services.yaml"
cat >"$TMP/context.json" <<JSON
{"services": {"mysqldb": {"ip": "127.0.0.1", "port": $PA},
              "rabbitqueue": {"ip": "127.0.0.1", "port": $PB}}}
JSON
BERTH_CONTEXT=$TMP/context.json
export BERTH_CONTEXT
{
	printf 'name: app\ntype: "python:3.11"\n'
	printf 'relationships:\n  database: "mysqldb:mysql"\n'
	printf 'workers:\n  test:\n    commands:\n      start: |\n'
	# B and the free port at the gateway's address: the one
	# database.internal names
	# and B and the free port at each of this host's IPv4 addresses
	probes connect database.internal "$PA" connect database.internal "$PB" \
		connect database.internal "$PC" $(for a in $HOST_ADDRS; do
			echo connect "$a" "$PB" connect "$a" "$PC"
		done) | sed 's/^/        /'
} >"$APP/.platform.app.yaml"

"$TEST_CHILD" connect 127.0.0.1 "$PA" connect 127.0.0.1 "$PB" connect 127.0.0.1 "$PC" \
	>"$TMP/preflight.out" 2>&1
check "preflight: the three listeners answer on 127.0.0.1 ($PA $PB $PC)" \
	sh -c "[ \$(grep -c ' connected ' '$TMP/preflight.out') = 3 ]"

run_probes host --network private
expect_probe ok CONNECT database.internal "$PA" "private: relationship A through slirp4netns's gateway"
expect_probe refused CONNECT database.internal "$PB" "private: service B at the same address refused fast"
expect_probe ok CONNECT database.internal "$PC" "private: another host port (no service) answers"
for a in $HOST_ADDRS; do
	expect_probe ok CONNECT "$a" "$PC" "private: this host's $a reached, another port answers"
	expect_probe refused CONNECT "$a" "$PB" "private: service B at this host's $a refused fast"
done
wpid=$(sed -n 's/.*started worker process \([0-9]*\).*/\1/p' "$BLOG" | head -n 1)
nft_list "/proc/$wpid/ns/net" "list table inet berth" >"$TMP/rules.txt"
check "private: the worker's table (pid $wpid) rejects B's port" \
	sh -c "[ -n '$wpid' ] && grep -q 'hook output' '$TMP/rules.txt' &&
	       grep -q reject '$TMP/rules.txt' && grep -q '\b$PB\b' '$TMP/rules.txt'"
stop_worker
is "$RUN_RC" 0 "private: stopped, status 0"
done_testing
