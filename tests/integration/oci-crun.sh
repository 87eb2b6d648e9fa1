#!/bin/sh
# SPDX-License-Identifier: MIT
# berth with a real OCI runtime (crun, or $OCI_RUNTIME: oci-runc.sh runs
# this with runc) and a busybox root filesystem:
# `berth spec` + `crun run` gives the worker its box (user, no capabilities,
# no_new_privs, seccomp, environment, limits in the container's cgroup,
# storage persistent and bounded by `disk` (an ext4 image on a loop device,
# ENOSPC past it, locked while mounted, nothing attached or mounted on the
# host afterwards), ingress rules in its network namespace, listen refused),
# SIGTERM through `crun kill` stops it and a TERM-ignoring worker is
# SIGKILLed at the 15-second deadline; a plain bundle with `berth hook` in
# config.json gets the limits, rules and bounded storage from the hook
# (createRuntime; createContainer checks it is there), a config.json that
# would bypass the bound is refused, and the stop from the hook's stop
# guard (SIGTERM relayed past an init that drops it, SIGKILL at 15 s, off
# by annotation); the hook refuses bad state JSON with a clear error and
# leaves nothing behind.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/oci-lib.sh"
require_root
oci_require
command -v python3 >/dev/null || skip_all "python3 is needed to read config.json"

CRUNROOT=$TMP/crun
BUNDLE=$TMP/bundle
STORAGE=$TMP/storage
OUT=$TMP/out.log
IDS=
mkdir -p "$CRUNROOT" "$APP/data"
oci_rootfs "$BUNDLE/rootfs" sh env sort cat grep touch sleep echo nc date stat dd rm sed tr head
trap crun_cleanup EXIT

cat >"$APP/.platform.app.yaml" <<'YAML'
name: app
type: "python:3.11"
disk: 64
mounts:
  data: {source: local, source_path: data}
workers:
  test:
    size: S
    variables:
      env:
        GREETING: hello
    commands:
      start: |
        grep -E '^(Uid|CapEff|NoNewPrivs|Seccomp):' /proc/self/status | tr '\t' ' ' | sed 's/^/STATUS /'
        env | sort | sed 's/^/ENV /'
        [ -f data/persist ] && echo PERSIST found || echo PERSIST none
        date > data/persist && echo WRITE data yes || echo WRITE data no
        grep " $PWD/data " /proc/self/mountinfo | sed 's/^/MOUNT /'
        stat -f -c 'STATFS %b %S' data
        dd if=/dev/zero of=data/fill bs=1M count=80 2>&1 | grep -i 'space' | sed 's/^/FILL /'
        rm -f data/fill
        touch ./app-file 2>/dev/null && echo WRITE app yes || echo WRITE app no
        nc -l -p 8080 2>&1 | head -1 | sed 's/^/LISTEN /' &
        trap 'echo GOT TERM; exit 0' TERM
        echo READY
        while :; do sleep 0.1; done
  stubborn:
    size: S
    commands:
      start: |
        trap '' TERM
        echo READY
        while :; do sleep 0.1; done
YAML
sed -i 's/^        trap/        trap/' "$APP/.platform.app.yaml"

state_pid() { crunx state "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["pid"])'; }
tables_before=$(nftx /proc/self/ns/net "list tables" 2>/dev/null | grep -c berth)
# berth's hook log is the machine's and never truncated: only what was
# written to it after this point counts.
HOOKLOG=${BERTH_RUNTIME_DIR:-/run/berth}/hook.log
HOOKLOG0=$(wc -c <"$HOOKLOG" 2>/dev/null || echo 0)
hooklog() { tail -c +$((HOOKLOG0 + 1)) "$HOOKLOG" 2>/dev/null; }
hooklog_has() { hooklog | grep -q -- "$1"; }
# The app root belongs to the worker's user (nobody): only the read-only
# mount can refuse its write there.
chown 65534:65534 "$APP"
# While a container mounts the image, its shared lock is held (by the loop
# device): berth exec of the instance is refused, nothing may mkfs or resize.
check_locked() { # PREFIX
	_img=$(find "$STORAGE" -path '*/test/disk.img' | head -1)
	check "$1: the disk image is locked while the container runs" sh -c "[ -n '$_img' ] && ! flock -n -x '$_img' true"
	if "$BERTH" -C "$APP" exec --storage-root "$STORAGE" test -- true >"$TMP/exec.out" 2>&1; then
		not_ok "$1: berth exec of the instance is refused meanwhile"
	else
		check "$1: berth exec of the instance is refused meanwhile" grep -q 'still in use' "$TMP/exec.out"
	fi
}

# ---- berth spec + $RT run ----
cd "$BUNDLE" || exit 1
if "$BERTH" -q -C "$APP" spec test --rootfs "$BUNDLE/rootfs" --storage-root "$STORAGE" \
	-o "$BUNDLE/config.json" 2>"$BLOG"; then
	ok "berth spec writes config.json"
else
	not_ok "berth spec writes config.json"
	dump_logs
fi
check "config.json is JSON with the hooks" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["hooks"]["createRuntime"][0]["args"] == ["berth", "hook", "createRuntime"]
assert d["root"]["readonly"] and d["process"]["noNewPrivileges"]' "$BUNDLE/config.json"
check "with a disk, config.json binds no storage directory and registers createContainer" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert not [m for m in d["mounts"] if m["source"].startswith(sys.argv[2])], d["mounts"]
assert d["hooks"]["createContainer"][0]["args"] == ["berth", "hook", "createContainer"]' \
	"$BUNDLE/config.json" "$STORAGE"

for round in 1 2; do
	: >"$OUT"
	IDS="$IDS berth-it-$$-$round"
	if ! crunx run -d -b "$BUNDLE" "berth-it-$$-$round" >"$OUT" 2>"$BLOG" ||
		! wait_for "$OUT" '^READY' 20; then
		not_ok "round $round: $RT run starts the worker"
		diag "$(cat "$OUT" "$BLOG")"
		continue
	fi
	ok "round $round: $RT run starts the worker"
	pid=$(state_pid "berth-it-$$-$round")
	if [ "$round" = 1 ]; then
		check "runs as nobody" grep -q '^STATUS Uid: 65534 65534 65534 65534' "$OUT"
		check "no capabilities, no_new_privs, seccomp" sh -c "grep -q '^STATUS CapEff: 0000000000000000' '$OUT' && grep -q '^STATUS NoNewPrivs: 1' '$OUT' && grep -q '^STATUS Seccomp: 2' '$OUT'"
		check "the app root is read-only" grep -q '^WRITE app no' "$OUT"
		check "the worker's environment" sh -c "grep -q '^ENV PLATFORM_APP_DIR=$APP\$' '$OUT' && grep -q '^ENV GREETING=hello\$' '$OUT' && grep -q '^ENV PLATFORM_APPLICATION_NAME=app\$' '$OUT' && grep -q '^ENV PLATFORM_PROJECT=' '$OUT'"
		want=$("$BERTH" -C "$APP" env test 2>"$TMP/env.err" | sed -n 's/^export \([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' | sort | tr '\n' ' ')
		got=$(sed -n 's/^ENV \([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' "$OUT" | grep -vx -e PWD -e SHLVL | sort | tr '\n' ' ')
		is "$got" "$want" "the same variable names as berth env"
		[ -s "$TMP/env.err" ] && diag "$(cat "$TMP/env.err")"
		is "$(cg_file "$pid" memory memory.limit_in_bytes memory.max)" 134217728 "memory limit of size S"
		is "$(cg_file "$pid" pids pids.max pids.max)" 4096 "pids limit"
		is "$(cg_file "$pid" cpu cpu.cfs_quota_us cpu.max | cut -d' ' -f1)" 40000 "CPU quota of size S"
		check "ingress rules in the container's network namespace" sh -c "'$NETD' --nft /proc/$pid/ns/net 'list table inet berth' | grep -q 'policy drop'"
		check "listen is refused" sh -c "sleep 0.3; grep -q '^LISTEN .*ermission denied\\|^LISTEN .*not permitted' '$OUT'"
		check "first run finds no file in storage" grep -q '^PERSIST none' "$OUT"
		check "the storage mount is writable" grep -q '^WRITE data yes' "$OUT"
		check_bound "spec" "$OUT"
		check_locked "spec"
	else
		check "storage persists across containers" grep -q '^PERSIST found' "$OUT"
	fi
	t0=$(now_ms)
	crunx kill "berth-it-$$-$round" TERM
	i=0
	while alive "$pid" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if ! alive "$pid" && grep -q '^GOT TERM' "$OUT"; then
		ok "round $round: $RT kill TERM stops the worker ($(($(now_ms) - t0)) ms)"
	else
		not_ok "round $round: $RT kill TERM stops the worker"
	fi
	crunx delete -f "berth-it-$$-$round" 2>/dev/null
done
nothing_left "spec: once the containers are gone, no loop device or mount is left"
# ---- the 15-second rule: a TERM-ignoring worker is gone at the deadline ----
# term_ignored ID SURVIVES GONE: crun kill TERM; the init ($pid) is still
# there a second later and gone 15 s after the signal.
term_ignored() {
	pid=$(state_pid "$1")
	crunx kill "$1" TERM
	t0=$(now_ms)
	sleep 1
	check "$2" alive "$pid"
	i=0
	while alive "$pid" && [ $i -lt 250 ]; do sleep 0.1; i=$((i + 1)); done
	ms=$(($(now_ms) - t0))
	if ! alive "$pid" && [ "$ms" -ge 14500 ] && [ "$ms" -le 16000 ]; then
		ok "$3 ($ms ms)"
	else
		not_ok "$3 ($ms ms)"
	fi
}
mkdir -p "$TMP/stubborn"
"$BERTH" -q -C "$APP" spec stubborn --rootfs "$BUNDLE/rootfs" --storage-root "$STORAGE" \
	-o "$TMP/stubborn/config.json" 2>"$BLOG"
: >"$OUT"
IDS="$IDS berth-it-$$-stubborn"
if crunx run -d -b "$TMP/stubborn" berth-it-$$-stubborn >"$OUT" 2>"$BLOG" && wait_for "$OUT" '^READY' 20; then
	term_ignored berth-it-$$-stubborn "a TERM-ignoring worker survives the stop signal" \
		"a TERM-ignoring worker is gone at the 15 s deadline"
	crunx delete -f berth-it-$$-stubborn 2>/dev/null
else
	not_ok "the stubborn worker runs"
	diag "$(cat "$OUT" "$BLOG")"
fi
check "poststop ran and logged" hooklog_has "container berth-it-$$-2: poststop"
# crun gives hooks /dev/null as stderr: the hook log is stderr then, and
# still gets each stage's summary line.
check "each stage's summary is logged" hooklog_has "berth hook createRuntime container=berth-it-$$-2: ok (exit 0)"

# ---- a plain bundle with berth hook registered in config.json ----
python3 - "$BUNDLE/config.json" "$TMP/plain.json" "$BERTH" "$APP" "$STORAGE" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d.pop("linux", None)
d["linux"] = {"namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")]}
d["mounts"] = [m for m in d["mounts"] if m["type"] != "bind"]
d["process"]["args"] = ["/bin/sh", "-c",
    "data=%s/data; grep \" $data \" /proc/self/mountinfo | sed 's/^/MOUNT /'; "
    "stat -f -c 'STATFS %%b %%S' $data; "
    "dd if=/dev/zero of=$data/fill bs=1M count=80 2>&1 | grep -i space | sed 's/^/FILL /'; "
    "rm -f $data/fill; echo READY; exec sleep 1000" % sys.argv[4]]
d["process"]["cwd"] = "/"
d["annotations"] = {"berth.worker": "test", "berth.app-config": sys.argv[4] + "/.platform.app.yaml",
                    "berth.storage-root": sys.argv[5]}
d["hooks"] = {s: [{"path": sys.argv[3], "args": ["berth", "hook", s], "timeout": 10}]
              for s in ("createRuntime", "createContainer", "poststop")}
json.dump(d, open(sys.argv[2], "w"))
PY
mkdir -p "$TMP/plain"
cp "$TMP/plain.json" "$TMP/plain/config.json"
cp -a "$BUNDLE/rootfs" "$TMP/plain/rootfs" # runc refuses a symlinked root
sed -i "s|\"$BUNDLE/rootfs\"|\"rootfs\"|" "$TMP/plain/config.json"
: >"$OUT"
IDS="$IDS berth-it-$$-plain"
if crunx run -d -b "$TMP/plain" berth-it-$$-plain >"$OUT" 2>"$BLOG" && wait_for "$OUT" '^READY' 20; then
	pid=$(state_pid berth-it-$$-plain)
	is "$(cg_file "$pid" memory memory.limit_in_bytes memory.max)" 134217728 "hook: the memory limit written by the hook"
	is "$(cg_file "$pid" pids pids.max pids.max)" 4096 "hook: the pids limit written by the hook"
	check "hook: ingress rules in the container's namespace" sh -c "'$NETD' --nft /proc/$pid/ns/net 'list table inet berth' | grep -q 'policy drop'"
	"$NETD" --nft /proc/$pid/ns/net 'list chain inet berth output' >"$TMP/hook-output.txt" 2>&1
	check "hook: the worker's egress plan in the same table (port 25 refused, all TCP, the rest rejected)" \
		sh -c "grep -q 'tcp dport 25 reject with tcp reset' '$TMP/hook-output.txt' &&
		       grep -q 'meta l4proto tcp accept' '$TMP/hook-output.txt' &&
		       grep -q 'reject with icmpx admin-prohibited' '$TMP/hook-output.txt'"
	check "hook: the instance's storage is mounted, with the spec's data" sh -c "nsenter -t $pid -m -r cat '$APP/data/persist' >/dev/null"
	check "hook: the storage is nosuid,nodev in the container" sh -c "grep ' $APP/data ' /proc/$pid/mountinfo | grep -q 'nosuid,nodev'"
	check_bound "hook" "$OUT"
	check_locked "hook"
	crunx kill berth-it-$$-plain KILL
	crunx delete -f berth-it-$$-plain
else
	not_ok "hook: the plain bundle runs"
	diag "$(cat "$OUT" "$BLOG"; tail -5 /run/berth/hook.log)"
fi
nothing_left "hook: once the container is gone, no loop device or mount is left"

# ---- the stop guard: a plain bundle gets berth run's stop ----
guard_bundle() { # NAME ARGS-JSON ANNOTATIONS-JSON: $TMP/NAME from the plain bundle
	mkdir -p "$TMP/$1"
	[ -d "$TMP/$1/rootfs" ] || cp -a "$BUNDLE/rootfs" "$TMP/$1/rootfs"
	python3 - "$TMP/plain.json" "$TMP/$1/config.json" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["root"]["path"] = "rootfs"
d["process"]["args"] = json.loads(sys.argv[3])
d["annotations"].update(json.loads(sys.argv[4]))
json.dump(d, open(sys.argv[2], "w"))
PY
}
hook_log_has() { hooklog | grep "container $1: " | grep -q "$2"; }
guard_pid() { hooklog | grep "container $1: stop guard (pid" | tail -1 |
	sed 's/.*stop guard (pid \([0-9]*\)).*/\1/'; }
# The init, PID 1 of its pid namespace, has no TERM handler: the kernel
# drops the engine's SIGTERM.  Its child traps TERM; the guard relays it.
guard_bundle grelay '["/bin/sh", "-c", "sh -c '\''trap \"echo CHILD TERM; exit 0\" TERM; echo READY; while :; do sleep 0.1; done'\'' & wait; echo INIT DONE"]' '{}'
: >"$OUT"
IDS="$IDS berth-it-$$-grelay"
if crunx run -d -b "$TMP/grelay" berth-it-$$-grelay >"$OUT" 2>"$BLOG" && wait_for "$OUT" '^READY' 20; then
	pid=$(state_pid berth-it-$$-grelay)
	gpid=$(guard_pid berth-it-$$-grelay)
	check "guard: started for the plain bundle, outside the container" sh -c "[ -n '$gpid' ] && [ \"\$(readlink /proc/$gpid/ns/pid)\" = \"\$(readlink /proc/self/ns/pid)\" ]"
	t0=$(now_ms)
	crunx kill berth-it-$$-grelay TERM
	i=0
	while alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	if ! alive "$pid" && grep -q '^CHILD TERM' "$OUT" && grep -q '^INIT DONE' "$OUT"; then
		ok "guard: SIGTERM reaches the process behind the init, which ends ($(($(now_ms) - t0)) ms)"
	else
		not_ok "guard: SIGTERM reaches the process behind the init, which ends"
		diag "$(cat "$OUT"; tail -5 /run/berth/hook.log)"
	fi
	check "guard: the stop is logged" hook_log_has berth-it-$$-grelay "stopped in"
	i=0
	while [ -n "$gpid" ] && alive "$gpid" && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
	check "guard: it ends with the container" sh -c "! [ -d /proc/$gpid ] || [ \"\$(awk '{print \$3}' /proc/$gpid/stat)\" = Z ]"
	crunx delete -f berth-it-$$-grelay 2>/dev/null
else
	not_ok "guard: the relay bundle runs"
	diag "$(cat "$OUT" "$BLOG"; tail -5 /run/berth/hook.log)"
fi
# `exec sleep`: the init itself ignores SIGTERM; SIGKILL at 15 s.
guard_bundle gstub '["/bin/sh", "-c", "echo READY; exec sleep 1000"]' '{}'
: >"$OUT"
IDS="$IDS berth-it-$$-gstub"
if crunx run -d -b "$TMP/gstub" berth-it-$$-gstub >"$OUT" 2>"$BLOG" && wait_for "$OUT" '^READY' 20; then
	term_ignored berth-it-$$-gstub "guard: a TERM-ignoring init survives the stop signal" \
		"guard: a TERM-ignoring plain bundle is gone at the 15 s deadline"
	check "guard: the kill at the deadline is logged" hook_log_has berth-it-$$-gstub "stop timeout (15000 ms) reached: killed 1 processes: $pid (sleep)"
	crunx delete -f berth-it-$$-gstub 2>/dev/null
else
	not_ok "guard: the stubborn plain bundle runs"
	diag "$(cat "$OUT" "$BLOG"; tail -5 /run/berth/hook.log)"
fi
# The annotations berth.stop-signal, berth.stop-timeout, berth.kill-mode:
# the engine's SIGTERM is relayed as SIGUSR1 to the process behind the
# init (which ignores TERM); a TERM-ignoring init is SIGKILLed at 2 s, not
# 15, and with kill-mode process nothing is relayed to the others.
guard_bundle gsig '["/bin/sh", "-c", "sh -c '\''trap \"\" TERM; trap \"echo CHILD USR1; exit 0\" USR1; echo READY; while :; do sleep 0.1; done'\'' & wait; echo INIT DONE"]' '{"berth.stop-signal": "USR1"}'
: >"$OUT"
IDS="$IDS berth-it-$$-gsig"
if crunx run -d -b "$TMP/gsig" berth-it-$$-gsig >"$OUT" 2>"$BLOG" && wait_for "$OUT" '^READY' 20; then
	pid=$(state_pid berth-it-$$-gsig)
	crunx kill berth-it-$$-gsig TERM
	i=0
	while alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	check "guard: berth.stop-signal USR1 is what the process behind the init gets" \
		sh -c "{ ! kill -0 $pid 2>/dev/null || [ \"\$(awk '{print \$3}' /proc/$pid/stat)\" = Z ]; } && grep -q '^CHILD USR1' '$OUT'"
	check "guard: and the log names it" hook_log_has berth-it-$$-gsig "stopping (SIGUSR1 to "
	crunx delete -f berth-it-$$-gsig 2>/dev/null
else
	not_ok "guard: the berth.stop-signal bundle runs"
	diag "$(cat "$OUT" "$BLOG"; tail -5 /run/berth/hook.log)"
fi
guard_bundle gtime '["/bin/sh", "-c", "sleep 1000 & echo READY; exec sleep 1000"]' \
	'{"berth.stop-timeout": "2s", "berth.kill-mode": "process"}'
: >"$OUT"
IDS="$IDS berth-it-$$-gtime"
if crunx run -d -b "$TMP/gtime" berth-it-$$-gtime >"$OUT" 2>"$BLOG" && wait_for "$OUT" '^READY' 20; then
	pid=$(state_pid berth-it-$$-gtime)
	crunx kill berth-it-$$-gtime TERM
	t0=$(now_ms)
	i=0
	while alive "$pid" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	ms=$(($(now_ms) - t0))
	check "guard: berth.stop-timeout 2s: SIGKILL at 2 s ($ms ms in [1900, 6000))" \
		sh -c "{ ! kill -0 $pid 2>/dev/null || [ \"\$(awk '{print \$3}' /proc/$pid/stat)\" = Z ]; } && [ $ms -ge 1900 ] && [ $ms -lt 6000 ]"
	check "guard: the 2 s deadline is logged" hook_log_has berth-it-$$-gtime "stop timeout (2000 ms) reached"
	check "guard: berth.kill-mode process: nothing relayed to the other process" \
		hook_log_has berth-it-$$-gtime "stopping (nothing to"
	crunx delete -f berth-it-$$-gtime 2>/dev/null
else
	not_ok "guard: the berth.stop-timeout bundle runs"
	diag "$(cat "$OUT" "$BLOG"; tail -5 /run/berth/hook.log)"
fi
nothing_left "guard: once the containers are gone, no loop device or mount is left"
# berth.stop-guard=off leaves the stop to the engine; a bad value is refused.
guard_bundle goff '["/bin/sh", "-c", "echo READY; exec sleep 1000"]' '{"berth.stop-guard": "off"}'
: >"$OUT"
IDS="$IDS berth-it-$$-goff"
if crunx run -d -b "$TMP/goff" berth-it-$$-goff >"$OUT" 2>"$BLOG" && wait_for "$OUT" '^READY' 20; then
	pid=$(state_pid berth-it-$$-goff)
	check "guard: off is logged" hook_log_has berth-it-$$-goff "berth.stop-guard is off"
	crunx kill berth-it-$$-goff TERM
	sleep 1
	check "guard: off, nothing acts on the stop signal" alive "$pid"
	crunx kill berth-it-$$-goff KILL
	crunx delete -f berth-it-$$-goff 2>/dev/null
else
	not_ok "guard: the bundle with the guard off runs"
	diag "$(cat "$OUT" "$BLOG"; tail -5 /run/berth/hook.log)"
fi
# refused BUNDLE NAME DESC PATTERN: the runtime refuses to run the bundle
# (as container berth-it-$$-NAME), and berth's hook log says why (crun
# drops hook output, so berth writes the reason there too).
refused() {
	IDS="$IDS berth-it-$$-$2"
	if crunx run -d -b "$TMP/$1" "berth-it-$$-$2" >"$OUT" 2>"$BLOG"; then
		not_ok "$3"
	else
		check "$3" hooklog_has "$4"
	fi
	crunx delete -f "berth-it-$$-$2" >/dev/null 2>&1
}
guard_bundle gbad '["/bin/sh", "-c", "echo READY; exec sleep 1000"]' '{"berth.stop-guard": "maybe"}'
refused gbad gbad "guard: a bad berth.stop-guard is refused" \
	"annotation berth.stop-guard: 'maybe' is neither on nor off"
nothing_left "guard: after the refusal, no loop device or mount is left"

# createContainer alone mounts nothing (it runs in the container's device
# cgroup): it refuses a container whose storage is not mounted.
python3 - "$TMP/plain/config.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["hooks"] = {"createContainer": d["hooks"]["createContainer"]}
json.dump(d, open(sys.argv[1], "w"))
PY
refused plain nohook "hook: createContainer refuses a container without its storage" \
	"nothing is mounted at $(echo "$APP" | cut -c2-)/data"
# A config.json that binds the storage directory itself would bypass the
# bound: createRuntime refuses it.
if "$BERTH" -C "$APP" spec test --rootfs "$BUNDLE/rootfs" --storage-root "$STORAGE" \
	--no-hooks -o "$TMP/plain/config.json" 2>"$BLOG" &&
	grep -q 'disk: cannot bound local storage to 64 MB (--no-hooks' "$BLOG"; then
	ok "spec --no-hooks: plain binds, with a warning that the disk is not bounded"
else
	not_ok "spec --no-hooks: plain binds, with a warning that the disk is not bounded"
	diag "$(cat "$BLOG")"
fi
python3 - "$TMP/plain/config.json" "$BERTH" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["hooks"] = {"createRuntime": [{"path": sys.argv[2], "args": ["berth", "hook", "createRuntime"]}]}
json.dump(d, open(sys.argv[1], "w"))
PY
refused plain bypass \
	"hook: a config.json binding the storage itself is refused (it would bypass the bound)" \
	"mounts $APP/data itself, which would bypass the disk bound"
nothing_left "hook: after the refusals, no loop device or mount is left"

# ---- the hook refuses bad state JSON ----
hook_rejects() { # DESC EXPECTED-MESSAGE STATE
	printf '%s' "$3" | "$BERTH" -C "$APP" hook createRuntime >"$TMP/hook.out" 2>&1
	_rc=$?
	if [ $_rc -ne 0 ] && grep -q "$2" "$TMP/hook.out"; then ok "hook rejects $1 (exit $_rc)"; else
		not_ok "hook rejects $1 (exit $_rc)"
		diag "$(cat "$TMP/hook.out")"
	fi
}
st() { printf '{"ociVersion":"1.0.0","id":"berth-it-%s-bad","status":"creating","bundle":"%s/plain"%s}' $$ "$TMP" "$1"; }
sh -c 'exit 0' &
dead=$!
wait $dead
unshare -p -f sleep 100 &
foreign_launcher=$!
STARTED_PIDS="$STARTED_PIDS $foreign_launcher"
sleep 0.2
# PID 1 of the new pid namespace: the launcher's descendant whose NSpid ends in 1.
foreign=
for c in $(cat /proc/"$foreign_launcher"/task/*/children 2>/dev/null); do
	for g in $c $(cat /proc/"$c"/task/*/children 2>/dev/null); do
		grep -Eq '^NSpid:.*[[:space:]]1$' "/proc/$g/status" 2>/dev/null && foreign=$g
	done
done
[ -n "$foreign" ] || diag "no PID 1 of a new pid namespace found under $foreign_launcher"
hook_rejects "malformed JSON" "malformed" '{"ociVersion": "1.0.0", "id":'
hook_rejects "a missing pid" "needs the container's pid" "$(st '')"
hook_rejects "a pid of the wrong type" "pid is not an integer" "$(st ',"pid":"12"')"
hook_rejects "a dead pid" "cannot open it" "$(st ",\"pid\":$dead")"
hook_rejects "a host process" "not the container's init" "$(st ",\"pid\":$$")"
hook_rejects "PID 1 of another pid namespace" "shares berth's net namespace" "$(st ",\"pid\":${foreign:-1}")"
kill "$foreign_launcher" 2>/dev/null
# A path annotation relative to somewhere else: the hook runs in the
# bundle, and refuses it even where it would resolve (-C "$APP").
mkdir -p "$TMP/relb"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d["annotations"]["berth.app-config"] = "./.platform.app.yaml"
json.dump(d, open(sys.argv[2], "w"))' "$TMP/plain.json" "$TMP/relb/config.json"
hook_rejects "a relative berth.app-config" "berth.app-config: './.platform.app.yaml' is not an absolute path" \
	"$(printf '{"ociVersion":"1.0.0","id":"berth-it-%s-bad","status":"creating","bundle":"%s/relb","pid":%s}' $$ "$TMP" $$)"
# berth spec run in the app's directory with -f ./.platform.app.yaml and a
# relative state dir: every path it writes is absolute.
if (cd "$APP" && BERTH_STATE_DIR=./rel-state "$BERTH" -q -f ./.platform.app.yaml spec test \
	--rootfs "$BUNDLE/rootfs" --storage-root "$STORAGE" --no-prepare -o "$TMP/rel.json") \
	2>"$BLOG"; then
	check "spec from the app's directory: the app config, state dir and app root absolute" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
a = d["annotations"]
assert a["berth.app-config"] == sys.argv[2] + "/.platform.app.yaml", a
assert a["berth.state-dir"] == sys.argv[2] + "/rel-state", a
assert all(a[k].startswith("/") for k in a if k in ("berth.context", "berth.storage-root")), a
assert all(m["source"].startswith("/") for m in d["mounts"] if m["type"] == "bind"), d["mounts"]' \
		"$TMP/rel.json" "$(cd "$APP" && pwd -P)"
else
	not_ok "spec from the app's directory with a relative -f"
	diag "$(cat "$BLOG")"
fi
is "$(nftx /proc/self/ns/net "list tables" 2>/dev/null | grep -c berth)" "$tables_before" "no firewall table left in the host's namespace"
check "the rejections are logged for the operator" hooklog_has "container=berth-it-$$-bad: failed"
check "contrib/oci-hooks.d registers createRuntime and poststop for berth.worker" python3 -c '
import json, re, sys
for f, stage in ((sys.argv[1], "createRuntime"), (sys.argv[2], "poststop")):
    d = json.load(open(f))
    assert d["version"] == "1.0.0" and d["stages"] == [stage], f
    assert d["hook"]["args"] == ["berth", "hook", stage] and d["hook"]["path"].startswith("/")
    assert d["hook"]["timeout"] > 0
    [(k, v)] = d["when"]["annotations"].items()
    assert re.search(k, "berth.worker") and not re.search(k, "xberth.worker")
    assert re.search(v, "queue") and not re.search(v, "")' \
	"$TOP_SRCDIR/contrib/oci-hooks.d/berth.json" "$TOP_SRCDIR/contrib/oci-hooks.d/berth-poststop.json"
check "no container left" sh -c "[ -z \"\$(crunx list -q 2>/dev/null | grep berth-it)\" ]"
done_testing
