#!/bin/sh
# SPDX-License-Identifier: MIT
# Every command's options and their environment twins: for each bad
# value the exit status and the first line berth prints; good values are
# accepted (the parse then stops at the missing worker); a command-line
# value wins over its twin; what show reports of the run twins; --help
# exits 0.  The transcript below is the contract: a changed message or
# exit status fails here.
. "$(dirname "$0")/lib.sh"

EX=$TOP_SRCDIR/contrib/examples
unset BERTH_STOP_TIMEOUT BERTH_STOP_SIGNAL BERTH_KILL_MODE BERTH_RESTART_MIN \
	BERTH_RESTART_MAX BERTH_RESTART_RESET BERTH_MAX_RESTARTS BERTH_RESTART_WINDOW \
	BERTH_LEFTOVER BERTH_MEMORY BERTH_CPUS BERTH_PIDS_MAX BERTH_AUTO_SIZE \
	BERTH_ALLOW_MISSING_CONTROLLERS BERTH_NO_CGROUP BERTH_CGROUP_PARENT BERTH_PASS_ENV \
	BERTH_STORAGE_ROOT BERTH_REQUIRE_DISK_QUOTA BERTH_TMP_SIZE BERTH_RO_BIND \
	BERTH_UNCONFINED BERTH_NETWORK BERTH_USER BERTH_SECCOMP BERTH_ALLOW_LOCAL_LISTEN \
	BERTH_LOG_FORMAT BERTH_LOG_LEVEL BERTH_APP_CONFIG BERTH_APP BERTH_SERVICES \
	BERTH_APP_DIR BERTH_CONTEXT 2>/dev/null

# t ARGS...: one transcript line, "status | first stderr line | first
# stdout line", for berth -C EX ARGS (VAR=value words first set the
# environment of that call only).
t() {
	_env=
	while [ $# -gt 0 ] && case $1 in [A-Z]*=*) true ;; *) false ;; esac; do
		_env="$_env $1"
		shift
	done
	# shellcheck disable=SC2086
	env $_env "$BERTH" -C "$EX" "$@" >"$TMP/o" 2>"$TMP/e" </dev/null
	echo "$? | $(head -n 1 "$TMP/e") | $(head -n 1 "$TMP/o")"
}
# show's value of a key of the run plan ("key": value lines).
shown() {
	_k=$1
	shift
	env "$@" "$BERTH" -C "$EX" show queue 2>/dev/null |
		sed -n "s/^ *\"$_k\": *\\(.*[^,]\\),\\{0,1\\}\$/$_k=\\1/p" | head -n 1
}

{
	# global options
	t --log-format xml list
	t BERTH_LOG_FORMAT=xml list
	t BERTH_LOG_LEVEL=loud list
	t --nope list
	t
	t frobnicate
	t -f
	t --help
	t -V
	t check extra
	t list -h
	# run: bad values on the command line
	t run --stop-timeout soon queue
	t run --stop-timeout 25h queue
	t run --restart-min 0 queue
	t run --restart-max x queue
	t run --restart-reset x queue
	t run --restart-window x queue
	t run --stop-signal KILL queue
	t run --stop-signal NOPE queue
	t run --kill-mode all queue
	t run --leftover keep queue
	t run --max-restarts 1001 queue
	t run --memory 1M queue
	t run --cpus 0 queue
	t run --pids-max 0 queue
	t run --auto-size AUTO queue
	t run --storage-root rel queue
	t run --tmp-size 1K queue
	t run --ro-bind rel queue
	t run --ro-bind /a/../b queue
	t run --network bogus queue
	t run --network netns: queue
	t run --user= queue
	t run --seccomp no queue
	t run --stop-timeout
	t run --nope queue
	t run -C x queue
	t run --restart-min 2s --restart-max 1s queue
	t run queue mail
	t run
	t run --help
	# run: bad values in the environment twins
	t BERTH_STOP_TIMEOUT=soon run queue
	t BERTH_STOP_SIGNAL=STOP run queue
	t BERTH_KILL_MODE=all run queue
	t BERTH_RESTART_MIN=0 run queue
	t BERTH_RESTART_MAX=x run queue
	t BERTH_RESTART_RESET=x run queue
	t BERTH_MAX_RESTARTS=x run queue
	t BERTH_RESTART_WINDOW=x run queue
	t BERTH_LEFTOVER=x run queue
	t BERTH_MEMORY=x run queue
	t BERTH_CPUS=x run queue
	t BERTH_PIDS_MAX=x run queue
	t BERTH_AUTO_SIZE=x run queue
	t BERTH_STORAGE_ROOT=rel run queue
	t BERTH_TMP_SIZE=x run queue
	t BERTH_RO_BIND=/a:rel run queue
	t BERTH_NETWORK=bogus run queue
	t BERTH_SECCOMP=no run queue
	t BERTH_RESTART_MIN=2s BERTH_RESTART_MAX=1s run queue
	# run: every option with a good value; twins the command line overrides
	t run --stop-timeout 300ms --stop-signal INT --kill-mode mixed --stop-on-quit \
		--restart-min 1s --restart-max 2m --restart-reset 10s --max-restarts 3 \
		--restart-window 0 --leftover restart --memory 1G --cpus 0.5 --pids-max max \
		--auto-size L --allow-missing-controllers --no-cgroup --cgroup-parent a/b \
		--pass-env A --pass-env B,C --storage-root /s --require-disk-quota --tmp-size 2G \
		--ro-bind /usr --ro-bind /etc --unconfined --network none --user 1000:1000 \
		--seccomp off --allow-local-listen
	t BERTH_STOP_TIMEOUT=x BERTH_KILL_MODE=x BERTH_NETWORK=x BERTH_SECCOMP=x \
		BERTH_RO_BIND=rel BERTH_MEMORY=x run --stop-timeout 1s --kill-mode process \
		--network none --seccomp on --ro-bind /usr --memory 1G
	t BERTH_USER= BERTH_NETWORK= BERTH_SECCOMP= BERTH_ALLOW_LOCAL_LISTEN=0 run
	t BERTH_PIDS_MAX=max BERTH_CPUS=2 BERTH_AUTO_SIZE=S run
	# exec
	t exec --storage-root rel queue -- true
	t exec --stop-timeout soon queue -- true
	t exec --stop-timeout 25h queue -- true
	t exec --tmp-size 1K queue -- true
	t exec --ro-bind rel queue -- true
	t exec --user
	t exec --nope queue -- true
	t BERTH_TMP_SIZE=1K exec queue -- true
	t BERTH_RO_BIND=rel exec queue -- true
	t BERTH_STOP_TIMEOUT=soon exec queue -- true
	t BERTH_STORAGE_ROOT=rel exec queue -- true
	t exec
	t exec queue
	t exec queue --
	t exec --help
	# spec
	t spec --hook rel queue
	t spec --storage-root rel queue
	t spec --seccomp no queue
	t BERTH_SECCOMP=no spec queue
	t BERTH_STORAGE_ROOT=rel spec queue
	t spec --rootfs
	t spec --nope queue
	t spec queue mail
	t spec
	t spec --help
	# env, show, hook
	t env --format xml queue
	t env --pass-env
	t env --nope queue
	t env queue mail
	t env
	t env --help
	t show -h
	t show queue mail
	t hook
	t hook nowhere
	t hook --help
} >"$TMP/got"

cat >"$TMP/want" <<'WANT'
2 | berth: --log-format must be 'text' or 'json', not 'xml' | 
2 | berth: --log-format must be 'text' or 'json', not 'xml' | 
2 | berth: BERTH_LOG_LEVEL must be debug, info, warning or error, not 'loud' | 
2 | berth: unknown option '--nope' | 
2 | Usage: berth [GLOBAL OPTIONS] COMMAND [ARGS] | 
2 | berth: unknown command 'frobnicate' | 
2 | berth: option '-f' needs a value | 
0 |  | Usage: berth [GLOBAL OPTIONS] COMMAND [ARGS]
0 |  | berth 0.1.0
2 | berth check: takes no arguments | 
0 |  | Usage: berth [GLOBAL OPTIONS] list
2 | berth run: --stop-timeout: 'soon' is not a duration (e.g. 15s, 300ms, 2m; at most 24h) | 
2 | berth run: --stop-timeout: '25h' is not a duration (e.g. 15s, 300ms, 2m; at most 24h) | 
2 | berth run: --restart-min: '0' is not a duration above 0 (e.g. 15s, 300ms, 2m; at most 24h) | 
2 | berth run: --restart-max: 'x' is not a duration (e.g. 15s, 300ms, 2m; at most 24h) | 
2 | berth run: --restart-reset: 'x' is not a duration (e.g. 15s, 300ms, 2m; at most 24h) | 
2 | berth run: --restart-window: 'x' is not a duration (e.g. 15s, 300ms, 2m; at most 24h) | 
2 | berth run: --stop-signal: 'KILL' is not a signal berth can send as a stop signal | 
2 | berth run: --stop-signal: 'NOPE' is not a signal berth can send as a stop signal | 
2 | berth run: --kill-mode must be control-group, mixed or process, not 'all' | 
2 | berth run: --leftover must be kill or restart, not 'keep' | 
2 | berth run: --max-restarts: '1001' is not a number from 0 to 1000 | 
2 | berth run: --memory: '1M' is not a size of at least 4M (e.g. 256M, 1G) | 
2 | berth run: --cpus: '0' is not a number of CPUs from 0.001 to 1024 | 
2 | berth run: --pids-max: '0' is not 'max' or a number from 1 to 4194304 | 
2 | berth run: --auto-size: 'AUTO' is not one of S, M, L, XL, 2XL, 4XL | 
2 | berth run: --storage-root must be an absolute path, not 'rel' | 
2 | berth run: --tmp-size: '1K' is not a size of at least 1M (e.g. 512M, 2G) | 
2 | berth run: --ro-bind: 'rel' is not an absolute path without . or .. components | 
2 | berth run: --ro-bind: '/a/../b' is not an absolute path without . or .. components | 
2 | berth run: --network: expected auto, current, private, none or netns:PATH | 
2 | berth run: --network: netns:PATH needs an absolute path | 
2 | berth run: --user: empty user | 
2 | berth run: --seccomp: expected on or off | 
2 | berth run: option '--stop-timeout' needs a value | 
2 | berth run: unknown option '--nope' | 
2 | berth run: '-C' is a global option: put it before the command: berth -C DIR run ... | 
2 | berth run: --restart-max must not be below --restart-min | 
2 | berth run: expected one worker name, got 2 | 
2 | berth run: expected a worker name | 
0 |  | Usage: berth [GLOBAL OPTIONS] run [OPTIONS] WORKER
2 | berth run: --stop-timeout: 'soon' is not a duration (e.g. 15s, 300ms, 2m; at most 24h) | 
2 | berth run: --stop-signal: 'STOP' is not a signal berth can send as a stop signal | 
2 | berth run: --kill-mode must be control-group, mixed or process, not 'all' | 
2 | berth run: --restart-min: '0' is not a duration above 0 (e.g. 15s, 300ms, 2m; at most 24h) | 
2 | berth run: --restart-max: 'x' is not a duration (e.g. 15s, 300ms, 2m; at most 24h) | 
2 | berth run: --restart-reset: 'x' is not a duration (e.g. 15s, 300ms, 2m; at most 24h) | 
2 | berth run: --max-restarts: 'x' is not a number from 0 to 1000 | 
2 | berth run: --restart-window: 'x' is not a duration (e.g. 15s, 300ms, 2m; at most 24h) | 
2 | berth run: --leftover must be kill or restart, not 'x' | 
2 | berth run: --memory: 'x' is not a size of at least 4M (e.g. 256M, 1G) | 
2 | berth run: --cpus: 'x' is not a number of CPUs from 0.001 to 1024 | 
2 | berth run: --pids-max: 'x' is not 'max' or a number from 1 to 4194304 | 
2 | berth run: --auto-size: 'x' is not one of S, M, L, XL, 2XL, 4XL | 
2 | berth run: --storage-root must be an absolute path, not 'rel' | 
2 | berth run: --tmp-size: 'x' is not a size of at least 1M (e.g. 512M, 2G) | 
2 | berth run: BERTH_RO_BIND: '/a:rel' is not a list of absolute paths (PATH:PATH) without . or .. components | 
2 | berth run: BERTH_NETWORK: expected auto, current, private, none or netns:PATH | 
2 | berth run: BERTH_SECCOMP: expected on or off | 
2 | berth run: --restart-max must not be below --restart-min | 
2 | berth run: expected a worker name | 
2 | berth run: expected a worker name | 
2 | berth run: expected a worker name | 
2 | berth run: expected a worker name | 
2 | berth exec: --storage-root must be an absolute path, not 'rel' | 
2 | berth exec: --stop-timeout: 'soon' is not a duration (e.g. 15s, 300ms, 2m; at most 24h) | 
2 | berth exec: --stop-timeout: '25h' is not a duration (e.g. 15s, 300ms, 2m; at most 24h) | 
2 | berth exec: --tmp-size: '1K' is not a size of at least 1M (e.g. 512M, 2G) | 
2 | berth exec: --ro-bind: 'rel' is not an absolute path without . or .. components | 
2 | berth exec: option '--user' needs a value | 
2 | berth exec: unknown option '--nope' | 
2 | berth exec: --tmp-size: '1K' is not a size of at least 1M (e.g. 512M, 2G) | 
2 | berth exec: BERTH_RO_BIND: 'rel' is not a list of absolute paths (PATH:PATH) without . or .. components | 
2 | berth exec: --stop-timeout: 'soon' is not a duration (e.g. 15s, 300ms, 2m; at most 24h) | 
2 | berth exec: --storage-root must be an absolute path, not 'rel' | 
2 | berth exec: expected a worker name and a command | 
2 | berth exec: expected a command after the worker name | 
2 | berth exec: expected a command after the worker name | 
0 |  | Usage: berth [GLOBAL OPTIONS] exec [OPTIONS] WORKER -- COMMAND...
2 | berth spec: --hook must be an absolute path | 
2 | berth spec: --storage-root must be an absolute path, not 'rel' | 
2 | berth spec: --seccomp: expected on or off | 
2 | berth spec: BERTH_SECCOMP: expected on or off | 
2 | berth spec: --storage-root must be an absolute path, not 'rel' | 
2 | berth spec: option '--rootfs' needs a value | 
2 | berth spec: unknown option '--nope' | 
2 | berth spec: expected one WORKER | 
2 | berth spec: expected one WORKER | 
0 |  | Usage: berth [GLOBAL OPTIONS] spec [OPTIONS] WORKER
2 | berth env: --format must be shell, json or null, not 'xml' | 
2 | berth env: option '--pass-env' needs a value | 
2 | berth env: unknown option '--nope' | 
2 | berth env: expected one worker name, got 2 | 
2 | berth env: expected a worker name | 
0 |  | Usage: berth [GLOBAL OPTIONS] env [OPTIONS] WORKER
0 |  | Usage: berth [GLOBAL OPTIONS] show WORKER
2 | berth show: expected one worker name, got 2 | 
2 | berth hook: expected a worker name | 
2 | berth hook: unknown stage 'nowhere' (createRuntime, createContainer, startContainer, poststart, poststop, prestart) | 
0 |  | Usage: berth [GLOBAL OPTIONS] hook STAGE
WANT

# shellcheck disable=SC2016
sed "s|$EX|EX|g" "$TMP/got" >"$TMP/got.ex"
n=0
while IFS= read -r want <&3 && IFS= read -r got <&4; do
	n=$((n + 1))
	is "$got" "$want" "transcript line $n"
done 3<"$TMP/want" 4<"$TMP/got.ex"
is "$(wc -l <"$TMP/got.ex")" "$(wc -l <"$TMP/want")" "as many lines as the transcript"

# What show reports of the run twins.
is "$(shown timeout_ms BERTH_STOP_TIMEOUT=3s)" "timeout_ms=3000" "BERTH_STOP_TIMEOUT in show"
is "$(shown kill_mode BERTH_KILL_MODE=mixed)" 'kill_mode="mixed"' "BERTH_KILL_MODE in show"
is "$(shown leftover BERTH_LEFTOVER=restart)" 'leftover="restart"' "BERTH_LEFTOVER in show"
is "$(shown min_ms BERTH_RESTART_MIN=2s)" "min_ms=2000" "BERTH_RESTART_MIN in show"
is "$(shown max_restarts BERTH_MAX_RESTARTS=4)" "max_restarts=4" "BERTH_MAX_RESTARTS in show"
is "$(shown mode BERTH_NETWORK=none)" 'mode="none"' "BERTH_NETWORK in show"
is "$(shown enabled BERTH_SECCOMP=off)" "enabled=false" "BERTH_SECCOMP in show"
is "$(shown tcp_bind BERTH_ALLOW_LOCAL_LISTEN=1)" 'tcp_bind="allowed"' \
	"BERTH_ALLOW_LOCAL_LISTEN in show"
is "$(shown tcp_bind BERTH_ALLOW_LOCAL_LISTEN=yes)" "$(shown tcp_bind)" \
	"BERTH_ALLOW_LOCAL_LISTEN other than 1 is ignored"
is "$(shown uid BERTH_USER=2:2)" "uid=2" "BERTH_USER in show"
is "$(shown memory.max BERTH_MEMORY=300M)" "memory.max=314572800" "BERTH_MEMORY in show"
is "$(shown pids.max BERTH_PIDS_MAX=77)" "pids.max=77" "BERTH_PIDS_MAX in show"
# exec and spec read the twins of the options they share with run.
# spec_has KEY VAR=value...: what python3 says of config.json's KEY.
spec_has() {
	_k=$1
	shift
	env "$@" "$BERTH" -C "$EX" spec --no-prepare queue 2>/dev/null |
		python3 -c 'import json, sys
c = json.load(sys.stdin)
k = sys.argv[1]
if k == "uid": print(c["process"]["user"]["uid"])
elif k == "seccomp": print("linux.seccomp" if "seccomp" in c["linux"] else "none")
elif k == "env": print(" ".join(e for e in c["process"]["env"] if e.startswith("BERTH_T_")))
elif k == "listen": print(sum(1 for s in c["linux"]["seccomp"]["syscalls"] for n in s["names"] if n == "listen"))' "$_k"
}
is "$(spec_has uid BERTH_USER=2:2)" "2" "BERTH_USER in spec"
is "$(spec_has seccomp BERTH_SECCOMP=off)" "none" "BERTH_SECCOMP=off in spec"
is "$(spec_has seccomp)" "linux.seccomp" "spec without BERTH_SECCOMP: linux.seccomp"
is "$(spec_has env BERTH_PASS_ENV=BERTH_T_A BERTH_T_A=1 BERTH_T_B=2)" "BERTH_T_A=1" \
	"BERTH_PASS_ENV in spec"
is "$(spec_has listen)" "1" "spec without BERTH_ALLOW_LOCAL_LISTEN: listen refused"
is "$(spec_has listen BERTH_ALLOW_LOCAL_LISTEN=1)" "0" "BERTH_ALLOW_LOCAL_LISTEN=1 in spec"
is "$(env BERTH_USER=2:2 "$BERTH" -C "$EX" spec --no-prepare --user 3:3 queue 2>/dev/null |
	sed -n 's/^ *"uid": *\([0-9]*\).*/\1/p')" "3" "spec: --user wins over BERTH_USER"
done_testing
