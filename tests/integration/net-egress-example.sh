#!/bin/sh
# SPDX-License-Identifier: MIT
# The example app (contrib/examples): its `mail` worker, whose only
# relationship is the RabbitMQ service, cannot open a connection to the
# MySQL service that `queue` uses, while `queue` reaches both.  A copy of
# the app whose two start commands first probe the services (test-child,
# then the example's own script), run by the real `berth run` with
# --network netns:PATH in namespaces made here (egress-lib.sh); listeners
# in the peer namespace stand in for the services at the addresses the
# context gives (the types' ports: 3306, 5672).
if [ -z "${BERTH_EGRESS_INNER:-}" ] && command -v unshare >/dev/null &&
	[ "$(id -u)" -eq 0 ]; then
	BERTH_EGRESS_INNER=1 exec unshare --mount --propagation private sh "$0" "$@"
fi
. "${TOP_SRCDIR:-.}/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/egress-lib.sh"
egress_setup
egress_netns
egress_listen "$EP" "$TMP/peer.ports" tcp,0.0.0.0,3306 tcp,0.0.0.0,5672
egress_preflight "$EW" connect 10.231.0.2 3306 connect 10.231.0.3 5672

EX=$TMP/example
cp -a "$TOP_SRCDIR/contrib/examples" "$EX"
cp "$APP/test-child" "$EX/test-child"
# Before each worker's script: the probes and PROBED.
awk '/^ *python3 (queue|mail)-worker\.py$/ {
	ind = $0; sub(/[^ ].*/, "", ind)
	print ind "./test-child connect 10.231.0.2 3306 connect 10.231.0.3 5672"
	print ind "echo PROBED"
	$0 = ind "exec " substr($0, length(ind) + 1)
} { print }' "$TOP_SRCDIR/contrib/examples/.platform.app.yaml" >"$EX/.platform.app.yaml"
is "$(grep -c '^ *echo PROBED$' "$EX/.platform.app.yaml")" 2 \
	"the copy's queue and mail start commands probe first"
cat >"$TMP/context.json" <<'JSON'
{"services": {"mysqldb": {"ip": "10.231.0.2"}, "rabbitqueue": {"ip": "10.231.0.3"}}}
JSON

# run_example WORKER: berth run on the copy, until its probes are done
run_example() {
	: >"$BLOG"
	RUN_T0=$(now_ms)
	"$BERTH" -C "$EX" --context "$TMP/context.json" run \
		--network "netns:/run/netns/$EW" "$1" >"$BLOG" 2>&1 </dev/null &
	RUN_PID=$!
	BERTH_PID=$RUN_PID
	STARTED_PIDS="$STARTED_PIDS $RUN_PID"
	wait_for "$BLOG" '^PROBED' 60 || {
		diag "$1 did not report its probes"
		dump_logs
	}
}

run_example queue
expect_probe ok CONNECT 10.231.0.2 3306 "queue: reaches the database (relationship database)"
expect_probe ok CONNECT 10.231.0.3 5672 "queue: reaches RabbitMQ (relationship messages)"
check "queue: the example's script runs after the probes" \
	wait_for "$BLOG" "queue worker .*relationships=\['database', 'messages'\]" 20
stop_worker
is "$RUN_RC" 0 "queue: stopped, status 0"

run_example mail
expect_probe refused CONNECT 10.231.0.2 3306 "mail: no connection to the database queue uses (refused fast)"
expect_probe ok CONNECT 10.231.0.3 5672 "mail: reaches RabbitMQ (relationship emails)"
check "mail: the example's script runs after the probes" \
	wait_for "$BLOG" "mail worker .*relationships=\['emails'\]" 20
stop_worker
is "$RUN_RC" 0 "mail: stopped, status 0"
done_testing
