#!/bin/sh
# SPDX-License-Identifier: MIT
# `firewall.outbound` through the real `berth run --network netns:PATH`, in
# namespaces and a veth pair made here (egress-lib.sh).  The app's rules
# (a CIDR pair, IPv4 and IPv6, with ports 443 and 25; a domain with port
# 8443) are inherited by a worker without its own: it reaches exactly what
# they name, its relationship and DNS to resolv.conf's nameserver, and is
# refused at once elsewhere: another port of the CIDR, an address outside
# it, port 25 though a rule names it, the domain's address at another
# port, a service it has no relationship to, UDP.  The domain is resolved
# by berth when the worker starts, through a hosts file of this test's
# bound over /etc/hosts in its own mount namespace.  A worker with a
# `firewall` of its own gets its rules only, and still not the service it
# has no relationship to though its rules cover that address and port.
if [ -z "${BERTH_EGRESS_INNER:-}" ] && command -v unshare >/dev/null &&
	[ "$(id -u)" -eq 0 ]; then
	BERTH_EGRESS_INNER=1 exec unshare --mount --propagation private sh "$0" "$@"
fi
. "${TOP_SRCDIR:-.}/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/egress-lib.sh"
egress_setup
egress_netns
egress_listen "$EP" "$TMP/peer.ports" tcp,0.0.0.0,13306 tcp,0.0.0.0,5672 \
	tcp,0.0.0.0,443 tcp,0.0.0.0,8443 tcp,0.0.0.0,25 tcp,::,443 tcp,::,8443 \
	udp,10.231.0.53,53 udp,10.231.0.17,5353
egress_listen "$EW" "$TMP/lo.ports" tcp,127.0.0.1,7000
printf 'nameserver 10.231.0.53\n' >"$TMP/resolv.conf"
egress_bind "$TMP/resolv.conf" /etc/resolv.conf
# The test resolver for `domains`: this mount namespace's /etc/hosts.
{
	cat /etc/hosts
	printf '10.231.0.40 api.egress.test\n'
} >"$TMP/hosts"
egress_bind "$TMP/hosts" /etc/hosts

egress_services

# write_fw_app START [WORKER_FIREWALL]: the app's firewall, relationship
# database (A) only, worker "test" (with the firewall given, its own)
write_fw_app() {
	cat >"$APP/.platform.app.yaml" <<EOF
name: app
type: "python:3.11"
relationships:
  database: "mysqldb:mysql"
firewall:
  outbound:
    - protocol: tcp
      ips: ["10.231.0.16/28", "fd42:231::10/124"]
      ports: [443, 25]
    - protocol: tcp
      domains: ["api.egress.test"]
      ports: [8443]
workers:
  test:
    commands:
      start: |
$(printf '%s\n' "$1" | sed 's/^/        /')
EOF
	[ -z "${2:-}" ] || printf '    firewall: %s\n' "$2" >>"$APP/.platform.app.yaml"
}

PROBES="connect 10.231.0.17 443 connect 10.231.0.17 8443 connect 10.231.0.33 443
connect 10.231.0.17 25 connect 10.231.0.40 8443 connect 10.231.0.40 443
connect fd42:231::17 443 connect fd42:231::33 443 connect fd42:231::17 8443
connect 10.231.0.2 13306 connect 10.231.0.3 5672 connect 10.231.0.33 8443
udp 10.231.0.53 53 udp 10.231.0.17 5353 connect 127.0.0.1 7000"
# shellcheck disable=SC2086
egress_preflight "$EW" $PROBES

# --- the app's firewall, inherited ------------------------------------------
# shellcheck disable=SC2086
write_fw_app "$(probes connect database.internal 13306 $PROBES)"
run_probes host --network "netns:/run/netns/$EW"
expect_probe ok CONNECT 10.231.0.17 443 "inherited: an allowed CIDR and port"
expect_probe refused CONNECT 10.231.0.17 8443 "inherited: the same CIDR, another port, refused fast"
expect_probe refused CONNECT 10.231.0.33 443 "inherited: an address outside the CIDRs refused fast"
expect_probe refused CONNECT 10.231.0.17 25 "inherited: port 25 refused fast though a rule allows it"
expect_probe ok CONNECT 10.231.0.40 8443 "inherited: the domain's address (resolved by berth) and port"
expect_probe refused CONNECT 10.231.0.40 443 "inherited: the domain's address, another port, refused fast"
expect_probe ok CONNECT fd42:231::17 443 "inherited: an allowed IPv6 CIDR and port"
expect_probe refused CONNECT fd42:231::33 443 "inherited: an IPv6 address outside the CIDR refused fast"
expect_probe refused CONNECT fd42:231::17 8443 "inherited: the IPv6 CIDR, another port, refused fast"
expect_probe ok CONNECT 10.231.0.2 13306 "inherited: the relationship, though no rule names it"
expect_probe ok CONNECT database.internal 13306 "inherited: the relationship by its name"
expect_probe refused CONNECT 10.231.0.3 5672 "inherited: service B (no relationship) refused fast"
expect_probe ok UDP 10.231.0.53 53 "inherited: DNS to resolv.conf's nameserver"
expect_probe noreply UDP 10.231.0.17 5353 "inherited: other UDP gets no answer, even to an allowed CIDR"
expect_probe ok CONNECT 127.0.0.1 7000 "inherited: loopback"
nft_list "/run/netns/$EW" "list table inet berth" >"$TMP/rules.txt"
check "inherited: the table read back names the CIDRs and the domain's address" \
	sh -c "grep -q '10\.231\.0\.16/28' '$TMP/rules.txt' &&
	       grep -q 'fd42:231::10/124' '$TMP/rules.txt' &&
	       grep -q '10\.231\.0\.40\b' '$TMP/rules.txt'"
stop_worker
is "$RUN_RC" 0 "inherited: stopped, status 0"

# --- a firewall of the worker's own replaces the app's whole ----------------
# shellcheck disable=SC2086
write_fw_app "$(probes $PROBES)" \
	'{outbound: [{protocol: tcp, ips: ["10.231.0.0/26"], ports: [5672, 8443, 25]}]}'
run_probes host --network "netns:/run/netns/$EW"
expect_probe ok CONNECT 10.231.0.33 8443 "own: its own rule allows"
expect_probe refused CONNECT 10.231.0.17 443 "own: the app's IPv4 rule is not inherited"
expect_probe refused CONNECT fd42:231::17 443 "own: the app's IPv6 rule is not inherited"
expect_probe refused CONNECT 10.231.0.3 5672 "own: service B refused though its rule covers it"
expect_probe ok CONNECT 10.231.0.2 13306 "own: the relationship still"
expect_probe refused CONNECT 10.231.0.17 25 "own: port 25 refused fast though its rule names it"
stop_worker
is "$RUN_RC" 0 "own: stopped, status 0"
done_testing
