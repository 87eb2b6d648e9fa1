#!/bin/sh
# SPDX-License-Identifier: MIT
# commands.pre_start through the real binary, in the whole box: it runs
# once before the first start and never at a restart, as the worker runs
# (user, environment, hostname, PID namespace, cgroup, mounts: it writes
# to a mount that the start command reads), its output goes where the
# worker's goes; its failure is one line and exit 91 without a start; a
# SIGTERM during it stops it like the worker (deadline, SIGKILL); what it
# leaves behind (a setsid daemon) is gone before the worker starts.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
RUN_BOXED=1

# write_prestart PRE_START START: worker "test", a disk and a local mount
# "var" that both commands see.
write_prestart() {
	{
		printf 'name: app\ntype: "python:3.11"\ndisk: 128\n'
		printf 'mounts:\n  var: {source: local}\n'
		printf 'variables:\n  env:\n    PRE_PROBE: "probe-value"\n'
		printf 'workers:\n  test:\n    commands:\n      pre_start: |\n'
		printf '%s\n' "$1" | sed 's/^/        /'
		printf '      start: |\n'
		printf '%s\n' "$2" | sed 's/^/        /'
	} >"$APP/.platform.app.yaml"
}

# What a command of the worker sees of itself, one "key value" a line.
# Its cgroups as its cgroup namespace shows them, not the namespace's
# inode: each process of the box unshares one of its own once in its
# cgroups, and two such namespaces share an inode number only when the
# first was gone before the second was made (which a busy machine breaks).
PROBE='echo "uid $(id -u)"; echo "gid $(id -g)"; echo "env $PRE_PROBE"
echo "host $(hostname)"; echo "pidns $(readlink /proc/self/ns/pid)"
echo cgroups $(cat /proc/self/cgroup)'

# A process whose command line is "sleep N", if any (host-wide; N is
# chosen to be this test's alone).
sleeper() {
	for _p in /proc/[0-9]*; do
		[ "$(cat "$_p/cmdline" 2>/dev/null | tr '\0' ' ')" = "sleep $1 " ] &&
			echo "${_p#/proc/}"
	done
}

# --- once before the first start, never at a restart; the same box ------
# The start command reads what pre_start wrote to the mount, at each start
# (the first one exits 1: the second start is a restart).
write_prestart "echo PRE-STDOUT; echo PRE-STDERR >&2
echo ran >>var/prestart-count
{ $PROBE; } >var/pre" "sed 's/^/PRE /' var/pre; { $PROBE; } | sed 's/^/START /'
echo \"COUNT \$(grep -c ran var/prestart-count) at start \$(cat var/starts 2>/dev/null)\"
echo x >>var/starts
[ \"\$(grep -c x var/starts)\" -ge 2 ] && exec sleep 1000
exit 1"
start_run host --network none
for _i in $(seq 1000); do
	[ "$(count_lines "$BLOG" '^COUNT ')" -ge 2 ] && break
	sleep 0.02
done
sleep 0.1
kill -TERM "$BERTH_PID"
wait_run 20
is "$RUN_RC" 0 "stopped after the restart: exit 0"
is "$(count_lines "$BLOG" 'started worker process')" 2 "the worker started twice"
is "$(count_lines "$BLOG" 'started pre_start process')" 1 "pre_start started once"
is "$(grep '^COUNT ' "$BLOG" | cut -d' ' -f2 | tr '\n' ' ')" "1 1 " \
	"the start command saw one pre_start run at each start"
pre=$(sed -n 's/^PRE //p' "$BLOG" | head -n 20 | sort -u)
start=$(sed -n 's/^START //p' "$BLOG" | sort -u)
check "pre_start wrote to the mount; the start command read it" test -n "$pre"
for key in uid gid env host pidns cgroups; do
	a=$(echo "$pre" | sed -n "s/^$key //p")
	b=$(echo "$start" | sed -n "s/^$key //p")
	if [ -n "$a" ] && [ "$a" = "$b" ]; then
		ok "pre_start and the start command see the same $key ($a)"
	else
		not_ok "pre_start and the start command see the same $key ('$a' vs '$b')"
		dump_logs
	fi
done
check "its cgroups are the roots of its cgroup namespace" sh -c \
	"echo '$(echo "$pre" | sed -n 's/^cgroups //p')' | grep -Eqx '([0-9]+:[^ ]*:/ ?)+'"
check "its uid is the worker's (not root)" test "$(echo "$pre" | sed -n 's/^uid //p')" != 0
check "its env has the app's variables" test "$(echo "$pre" | sed -n 's/^env //p')" = probe-value
check "its stdout and stderr go to berth's" \
	sh -c "grep -q '^PRE-STDOUT$' '$BLOG' && grep -q '^PRE-STDERR$' '$BLOG'"
order=$(grep -nE 'started pre_start process|commands.pre_start exited with status 0|started worker process' "$BLOG" |
	head -n 3 | sed 's/:.*started pre_start.*/:pre/; s/:.*commands.pre_start.*/:done/; s/:.*started worker.*/:start/' |
	cut -d: -f2 | tr '\n' ' ')
is "$order" "pre done start " "pre_start, its end, then the start"

# --- failure: one line, exit 91, the worker not started -------------------
write_prestart "echo PRE-FAIL; exit 3" "echo START-RAN; sleep 1000"
start_run host --network none
wait_run 20
is "$RUN_RC" 91 "pre_start exit 3: berth exits 91"
is "$(count_lines "$BLOG" 'commands.pre_start exited with status 3 .*the worker is not started')" 1 \
	"one line names the step and its status"
is "$(count_lines "$BLOG" '^START-RAN$|started worker process')" 0 "the worker did not start"

write_prestart 'kill -KILL $$' "echo START-RAN; sleep 1000"
start_run host --network none
wait_run 20
is "$RUN_RC" 91 "pre_start killed by SIGKILL: berth exits 91"
is "$(count_lines "$BLOG" 'commands.pre_start killed by SIGKILL')" 1 "the line names the signal"

# --- SIGTERM during a long pre_start: stopped as the worker is -----------
write_prestart "sleep 7771" "echo START-RAN; sleep 1000"
start_run host --network none --stop-timeout 2s
wait_for "$BLOG" 'started pre_start process' 20
for _i in $(seq 100); do [ -n "$(sleeper 7771)" ] && break; sleep 0.02; done
# on the host: in the worker's cgroup (berth-WORKER-PID), as the worker is
cg=$(sed -n 's/^0:://p' "/proc/$(sleeper 7771)/cgroup" 2>/dev/null)
check "pre_start runs in the worker's cgroup ($cg)" \
	sh -c "echo '$cg' | grep -q '/berth-test-$BERTH_PID\$'"
t0=$(now_ms)
kill -TERM "$BERTH_PID"
wait_run 20
took=$(($(now_ms) - t0))
is "$RUN_RC" 0 "SIGTERM during pre_start: exit 0 as for a stop"
check "within the deadline (${took} ms < 2000)" test "$took" -lt 2000
is "$(sleeper 7771)" "" "its process is gone"
is "$(count_lines "$BLOG" '^START-RAN$|started worker process')" 0 "the worker did not start"

write_prestart "trap '' TERM; sleep 7772" "echo START-RAN; sleep 1000"
start_run host --network none --stop-timeout 1s
wait_for "$BLOG" 'started pre_start process' 20
for _i in $(seq 100); do [ -n "$(sleeper 7772)" ] && break; sleep 0.02; done
sleep 0.1
t0=$(now_ms)
kill -TERM "$BERTH_PID"
wait_run 20
took=$(($(now_ms) - t0))
is "$RUN_RC" 137 "a pre_start that ignores SIGTERM: SIGKILL at the deadline, exit 137"
check "at the deadline (1000 <= ${took} ms < 3000)" test "$took" -ge 1000 -a "$took" -lt 3000
is "$(sleeper 7772)" "" "its processes are gone"
is "$(count_lines "$BLOG" '^START-RAN$|started worker process')" 0 "the worker did not start"

# --- a pre_start that forks away is cleaned up before the start -----------
write_prestart "setsid sleep 7773 &
sleep 7774 &
echo forked" "echo START-RAN; exec sleep 1000"
start_run host --network none --stop-timeout 2s
wait_for "$BLOG" '^START-RAN$' 20
left3=$(sleeper 7773)
left4=$(sleeper 7774)
check "its leftovers were reported" grep -q 'left behind by commands.pre_start' "$BLOG"
is "$left3$left4" "" "its setsid daemon and background child are gone when the worker runs"
kill -TERM "$BERTH_PID"
wait_run 20
is "$RUN_RC" 0 "then the worker runs and stops as usual"

# --- berth show says whether pre_start runs --------------------------------
"$BERTH" -f "$APP/.platform.app.yaml" show test 2>/dev/null >"$TMP/show.json"
check "show: plan.pre_start has its argv" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["plan"]["pre_start"]
sys.exit(not (p and p["argv"][:2] == ["/bin/sh", "-c"] and "sleep 7773" in p["argv"][2]))' \
	"$TMP/show.json"
write_app "sleep 1"
"$BERTH" -f "$APP/.platform.app.yaml" show test 2>/dev/null >"$TMP/show.json"
check "show: plan.pre_start is null without one" python3 -c '
import json, sys
sys.exit(json.load(open(sys.argv[1]))["plan"]["pre_start"] is not None)' "$TMP/show.json"

done_testing
