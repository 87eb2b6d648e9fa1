#!/bin/sh
# SPDX-License-Identifier: MIT
# Egress through the real `berth run`, boxed, in namespaces and a veth pair
# made here (egress-lib.sh): a worker with a relationship to mysqldb (A)
# and none to rabbitqueue (B), whose addresses the context file gives,
# reaches A's listener, by its relationship name and by address, and not
# B's (refused at once, not by a timeout); without a `firewall` key every
# other TCP destination is reachable but port 25, over IPv4 and IPv6; UDP
# reaches the nameserver of resolv.conf (a file of this test's bound over
# it) and loopback, and nothing else; the same with --network current and
# berth as PID 1 in that namespace, and with --network none the table
# holds the output rules too.  `table inet berth` read back in the
# worker's namespace has them; the machine's own namespace is unchanged.
if [ -z "${BERTH_EGRESS_INNER:-}" ] && command -v unshare >/dev/null &&
	[ "$(id -u)" -eq 0 ]; then
	BERTH_EGRESS_INNER=1 exec unshare --mount --propagation private sh "$0" "$@"
fi
. "${TOP_SRCDIR:-.}/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/egress-lib.sh"
egress_setup
tables_before=$(host_tables)
initial=$("$ND" --is-initial)
egress_netns

# P listens on every address; W's own loopback has a TCP and a UDP server.
egress_listen "$EP" "$TMP/peer.ports" tcp,0.0.0.0,13306 tcp,0.0.0.0,5672 \
	tcp,0.0.0.0,443 tcp,0.0.0.0,8443 tcp,0.0.0.0,25 tcp,0.0.0.0,53 \
	tcp,::,443 tcp,::,25 udp,10.231.0.53,53 udp,10.231.0.33,53 udp,10.231.0.33,5353
egress_listen "$EW" "$TMP/lo.ports" tcp,127.0.0.1,7000 udp,127.0.0.1,7001
PROBES="connect 10.231.0.2 13306 connect 10.231.0.3 5672 connect 10.231.0.33 443
connect 10.231.0.33 8443 connect fd42:231::33 443 connect 10.231.0.33 25
connect fd42:231::33 25 connect 127.0.0.1 7000 udp 127.0.0.1 7001 udp 10.231.0.53 53
connect 10.231.0.53 53 udp 10.231.0.33 5353 udp 10.231.0.33 53"
# shellcheck disable=SC2086
egress_preflight "$EW" $PROBES
printf 'nameserver 10.231.0.53\n' >"$TMP/resolv.conf"
egress_bind "$TMP/resolv.conf" /etc/resolv.conf

# A's port from the context, B's the type's default (5672)
egress_services

# write_rel_app START: worker "test" with relationship database (A) only
write_rel_app() {
	{
		printf 'name: app\ntype: "python:3.11"\n'
		printf 'relationships:\n  database: "mysqldb:mysql"\n'
		printf 'workers:\n  test:\n    commands:\n      start: |\n'
		printf '%s\n' "$1" | sed 's/^/        /'
	} >"$APP/.platform.app.yaml"
}

# the output chain of a listing on stdin, its rules only
output_rules() {
	awk '/chain output/ { on = 1; next } on && /^\t*}/ { on = 0 } on' |
		grep -v 'hook output'
}

# --- netns:PATH, no firewall key -------------------------------------------
# shellcheck disable=SC2086
write_rel_app "$(probes connect database.internal 13306 $PROBES)"
run_probes host --network "netns:/run/netns/$EW"
expect_probe ok CONNECT database.internal 13306 "netns: relationship A by its name (context port)"
expect_probe ok CONNECT 10.231.0.2 13306 "netns: relationship A by its address"
expect_probe refused CONNECT 10.231.0.3 5672 "netns: service B, no relationship, refused fast"
expect_probe ok CONNECT 10.231.0.33 443 "netns: no firewall key: any TCP destination"
expect_probe ok CONNECT 10.231.0.33 8443 "netns: no firewall key: any TCP port"
expect_probe ok CONNECT fd42:231::33 443 "netns: no firewall key: IPv6 TCP"
expect_probe refused CONNECT 10.231.0.33 25 "netns: port 25 refused fast"
expect_probe refused CONNECT fd42:231::33 25 "netns: port 25 refused fast over IPv6"
expect_probe ok CONNECT 127.0.0.1 7000 "netns: loopback TCP"
expect_probe ok UDP 127.0.0.1 7001 "netns: loopback UDP"
expect_probe ok UDP 10.231.0.53 53 "netns: DNS over UDP to resolv.conf's nameserver"
expect_probe ok CONNECT 10.231.0.53 53 "netns: DNS over TCP to resolv.conf's nameserver"
expect_probe noreply UDP 10.231.0.33 5353 "netns: UDP to another port gets no answer"
expect_probe noreply UDP 10.231.0.33 53 "netns: UDP 53 to a host not in resolv.conf gets no answer"

# the table read back while the worker runs
nft_list "/run/netns/$EW" "list table inet berth" >"$TMP/rules.txt"
output_rules <"$TMP/rules.txt" >"$TMP/output.txt"
check "netns: table inet berth has an output chain with rules" \
	sh -c "grep -q 'hook output' '$TMP/rules.txt' && grep -q . '$TMP/output.txt'"
check "netns: the table rejects, and names A's and B's addresses" \
	sh -c "grep -q reject '$TMP/rules.txt' && grep -q '10\.231\.0\.2\b' '$TMP/rules.txt' &&
	       grep -q '10\.231\.0\.3\b' '$TMP/rules.txt'"
grep -q 'hook output' "$TMP/rules.txt" || diag "$(cat "$TMP/rules.txt")"
check "netns: the ingress chain is in the same table" grep -q 'hook input' "$TMP/rules.txt"
stop_worker
is "$RUN_RC" 0 "netns: stopped, status 0"

# --- current, berth as PID 1 in W -------------------------------------------
: >"$BLOG"
write_rel_app "$(probes connect 10.231.0.2 13306 connect 10.231.0.3 5672 \
	connect 10.231.0.33 25 connect 10.231.0.33 443)"
RUN_WRAP="nsenter --net=/run/netns/$EW"
run_probes pid1 --network current
RUN_WRAP=
expect_probe ok CONNECT 10.231.0.2 13306 "current (PID 1): relationship A"
expect_probe refused CONNECT 10.231.0.3 5672 "current (PID 1): service B refused fast"
expect_probe refused CONNECT 10.231.0.33 25 "current (PID 1): port 25 refused fast"
expect_probe ok CONNECT 10.231.0.33 443 "current (PID 1): any other TCP"
nft_list "/run/netns/$EW" "list table inet berth" >"$TMP/rules.txt"
output_rules <"$TMP/rules.txt" >"$TMP/output.txt"
check "current (PID 1): the table in W has output rules that reject" \
	sh -c "grep -q . '$TMP/output.txt' && grep -q reject '$TMP/rules.txt'"
stop_worker
is "$RUN_RC" 0 "current (PID 1): stopped, status 0"

# --- none: loopback only, and the output rules all the same -------------------
write_rel_app "$(probes connect 127.0.0.1 1)"
run_probes host --network none
wpid=$(sed -n 's/.*started worker process \([0-9]*\).*/\1/p' "$BLOG" | head -n 1)
nft_list "/proc/$wpid/ns/net" "list table inet berth" >"$TMP/rules.txt"
output_rules <"$TMP/rules.txt" >"$TMP/output.txt"
check "none: the worker's table (pid $wpid) has output rules that reject" \
	sh -c "[ -n '$wpid' ] && grep -q . '$TMP/output.txt' && grep -q reject '$TMP/rules.txt'"
stop_worker
is "$RUN_RC" 0 "none: stopped, status 0"

tables_after=$(host_tables)
is "$tables_after" "$tables_before" "this test's own namespace (initial: $initial): tables unchanged"
check "this test's own namespace: listed before and after, no berth table" \
	sh -c "! echo '$tables_before $tables_after' | grep -q -e unreadable -e berth"
done_testing
