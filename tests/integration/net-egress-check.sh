#!/bin/sh
# SPDX-License-Identifier: MIT
# `berth check` validates `firewall`: `ips` and `domains` in one rule, a
# bad CIDR (IPv4 and IPv6), a port outside 1-65535, a protocol other than
# tcp and an unknown key are each refused with exit status 2 and one line
# naming the file and the key (in the app's firewall and in a worker's);
# a good firewall passes; `berth run` refuses a bad one before it starts
# anything.  The wording is the implementation's: these match the exit
# status, the file, the key path and the key, not the whole line.
. "$TOP_SRCDIR/tests/integration/lib.sh"

# write_fw FILE FIREWALL [WORKER_FIREWALL]
write_fw() {
	{
		printf 'name: app\ntype: "python:3.11"\n'
		printf 'firewall: %s\n' "$2"
		printf 'workers:\n  w:\n    commands:\n      start: exit 7\n'
		[ -z "${3:-}" ] || printf '    firewall: %s\n' "$3"
	} >"$1"
}

GOOD='{outbound: [{protocol: tcp, ips: ["10.0.0.0/8"], ports: [443]}]}'

# refused NAME PATH KEY FIREWALL [WORKER_FIREWALL]: exit 2, one line on
# stderr naming the file, the key path PATH and KEY (an extended regex)
refused() {
	_f=$TMP/$1.yaml
	write_fw "$_f" "$4" "${5:-}"
	"$BERTH" -f "$_f" check >"$TMP/out" 2>"$TMP/err" </dev/null
	_rc=$?
	_line=$(head -n 1 "$TMP/err")
	if [ "$_rc" = 2 ] && [ "$(wc -l <"$TMP/err")" = 1 ] &&
		echo "$_line" | grep -qF "$_f" && echo "$_line" | grep -qF "$2" &&
		echo "$_line" | grep -qE "$3"; then
		ok "$1: exit 2, one line naming the file, $2 and $3"
	else
		not_ok "$1: want exit 2 and one line naming the file, $2 and $3 (exit $_rc)"
		diag "$(cat "$TMP/err" "$TMP/out")"
	fi
}

refused ips-and-domains firewall.outbound 'ips|domains' \
	'{outbound: [{protocol: tcp, ips: ["10.0.0.0/8"], domains: ["api.example.com"], ports: [443]}]}'
refused cidr-prefix firewall.outbound ips \
	'{outbound: [{protocol: tcp, ips: ["10.0.0.0/33"], ports: [443]}]}'
refused cidr-octet firewall.outbound ips \
	'{outbound: [{protocol: tcp, ips: ["10.0.0.300/8"], ports: [443]}]}'
refused cidr-name firewall.outbound ips \
	'{outbound: [{protocol: tcp, ips: ["api.example.com"], ports: [443]}]}'
refused cidr-v6-prefix firewall.outbound ips \
	'{outbound: [{protocol: tcp, ips: ["fd00::/129"], ports: [443]}]}'
refused port-zero firewall.outbound ports \
	'{outbound: [{protocol: tcp, ips: ["10.0.0.0/8"], ports: [0]}]}'
refused port-65536 firewall.outbound ports \
	'{outbound: [{protocol: tcp, ips: ["10.0.0.0/8"], ports: [65536]}]}'
refused protocol-udp firewall.outbound protocol \
	'{outbound: [{protocol: udp, ips: ["10.0.0.0/8"], ports: [53]}]}'
refused unknown-rule-key firewall.outbound bogus \
	'{outbound: [{protocol: tcp, ips: ["10.0.0.0/8"], ports: [443], bogus: 1}]}'
refused unknown-firewall-key firewall inbound \
	'{outbound: [{protocol: tcp, ips: ["10.0.0.0/8"], ports: [443]}], inbound: []}'
refused worker-port workers.w.firewall.outbound ports "$GOOD" \
	'{outbound: [{protocol: tcp, ips: ["10.0.0.0/8"], ports: [70000]}]}'
refused worker-ips-and-domains workers.w.firewall.outbound 'ips|domains' "$GOOD" \
	'{outbound: [{protocol: tcp, ips: ["fd00::/8"], domains: ["a.example.com"], ports: [443]}]}'

write_fw "$TMP/good.yaml" '{outbound: [
    {protocol: tcp, ips: ["10.0.0.0/8", "192.0.2.1/32", "fd00::/8"], ports: [1, 443, 65535]},
    {protocol: tcp, domains: ["api.example.com", "example.org"], ports: [443]}]}' "$GOOD"
out=$("$BERTH" -f "$TMP/good.yaml" check 2>&1)
rc=$?
is "$rc $out" "0 configuration OK" "good: CIDRs v4 and v6, domains, ports 1 and 65535 pass"

# `berth run` on a bad one: exit 2 before anything starts (the start
# command would exit 7, and berth give up with 7)
if [ "$(id -u)" -eq 0 ]; then
	mkdir "$TMP/runapp"
	write_fw "$TMP/runapp/.platform.app.yaml" \
		'{outbound: [{protocol: tcp, ips: ["10.0.0.0/33"], ports: [443]}]}'
	timeout 30 "$BERTH" -C "$TMP/runapp" run --network none --max-restarts 0 w \
		>"$TMP/run.out" 2>&1 </dev/null
	rc=$?
	check "run: a bad CIDR is refused before the start (exit $rc)" \
		sh -c "[ $rc = 2 ] && grep -qF '$TMP/runapp/.platform.app.yaml' '$TMP/run.out'"
	[ "$rc" = 2 ] || diag "$(tail -n 5 "$TMP/run.out")"
else
	skip "run: a bad CIDR is refused before the start" "needs root"
fi
done_testing
