#!/bin/sh
# SPDX-License-Identifier: MIT
# The generated manifests on a real engine: `berth kube` of the example
# app (contrib/examples, both workers) with an image imported from a
# local root filesystem (busybox-static, berth and what it links, the
# app; nothing pulled), played with `podman kube play` (podman 4.3,
# --network none, podman's state private to the test in $TMP):
#   - berth is PID 1 of each worker's container, in pod mode, and its one
#     line finds every guarantee the manifest asks of the engine;
#   - the worker's environment is byte for byte `berth env` for the same
#     app config and the context of the generated Secret (and the PWD
#     a shell would have added: the start command runs without one);
#   - the size's memory and CPU limit (as `berth show` gives them) are in
#     the container's cgroup;
#   - a `local` mount keeps its data across a restart of the workload
#     (the pod removed and played again, its claim kept);
#   - stopping a worker that ignores SIGTERM ends at berth's 15 s
#     deadline (137), not at podman's 10 s.
# What podman 4.3 cannot play is translated by the test, and said here:
#   - StatefulSet: not a kind kube play knows; its pod template becomes
#     the Pod NAME-0 and each volumeClaimTemplate the claim
#     CLAIM-NAME-0, as the StatefulSet controller names them (with
#     podman's volume.podman.io/uid and gid, which stand for fsGroup);
#   - Secret: kube play stores it, but a pod with a secret volume makes
#     4.3 panic (VolumeFromSecret): the same data as a ConfigMap;
#   - Service and NetworkPolicy: not kinds kube play knows; dropped.
# Every generated object, these included, is validated against the
# Kubernetes API schema by the schema test of `berth kube`.
# Nothing is left: no pod, volume, cgroup, mount, podman state, network
# device or iptables rule.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
command -v podman >/dev/null || skip_all "podman is not installed (apt-get install podman)"
command -v crun >/dev/null || skip_all "crun is not installed (apt-get install crun)"
python3 -c 'import yaml' 2>/dev/null || skip_all "no PyYAML (apt-get install python3-yaml)"

EXAMPLES=$TOP_SRCDIR/contrib/examples
ROOTFS=$TMP/rootfs
CGPARENT=berth-kubeplay-$$
IMAGE=localhost/berth-test-kube-$$
OUT=$TMP/out.log
RT=crun
. "$TOP_SRCDIR/tests/integration/podman-lib.sh"
. "$TOP_SRCDIR/tests/integration/pod-image.sh"
links_before=$(ip -br link | awk '{print $1}' | sort)
# kube play has no --cgroup-parent: with cgroupfs its pods go beneath
# libpod_parent in each hierarchy, removed at the end when the test made it.
pods_parent_before=$(ls -d /sys/fs/cgroup/*/libpod_parent 2>/dev/null)
drop_pods_parent() {
	[ -n "$pods_parent_before" ] && return
	for _h in /sys/fs/cgroup/*/libpod_parent; do
		[ -d "$_h" ] && find "$_h" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
}
ipt_before=$(iptables -S 2>&1)
# kube play makes pods and volumes, which podman_cleanup does not remove.
kube_cleanup() {
	pm pod rm -a -f -t 0 >/dev/null 2>&1
	pm volume rm -a -f >/dev/null 2>&1
	podman_cleanup
}
trap kube_cleanup EXIT

# --- the image: berth, the example app, a python3 that is a shell ------------
pod_rootfs "$ROOTFS" sh cat env sleep tr id || skip_all "cannot copy berth and its libraries"
cp -R "$EXAMPLES/." "$ROOTFS/app/"
# The `local` mount's directory, which a berth run of the example on this
# host leaves in the app (the README's first command does), stays out of
# the image: podman copies an image directory's owner (root) up into the
# empty volume mounted over it, where a cluster applies fsGroup instead.
rm -rf "$ROOTFS/app/scratch"
# The image's python3 runs the example's workers as shell: it says where
# it runs, counts its starts in the `local` mount when it has one, and
# ignores SIGTERM.
cat >"$ROOTFS/usr/local/bin/python3" <<'EOF'
#!/bin/sh
echo "WORKER $1 uid=$(id -u) pid=$$ init=$(cat /proc/1/comm)"
if [ -d /app/scratch ]; then
	n=$(cat /app/scratch/starts 2>/dev/null || echo 0)
	echo $((n + 1)) >/app/scratch/starts && echo "STARTS $((n + 1))"
fi
trap "" TERM
while :; do sleep 1; done
EOF
chmod 755 "$ROOTFS/usr/local/bin/python3"
if pod_image "$ROOTFS" "$IMAGE"; then
	ok "podman import: the image from a local root filesystem"
else
	not_ok "podman import: the image from a local root filesystem"
	diag "$(cat "$BLOG")"
fi

# --- the manifests ------------------------------------------------------------
if "$BERTH" -C "$EXAMPLES" kube --image "$IMAGE" >"$TMP/kube.yaml" 2>"$BLOG"; then
	ok "berth kube: the manifests of the example app"
else
	not_ok "berth kube: the manifests of the example app"
	diag "$(cat "$BLOG")"
fi
# translate WORKER: the worker's objects as podman 4.3 can play them (see
# above) in $TMP/WORKER.yaml, its context in $TMP/WORKER.context.json,
# the dropped kinds on stdout.
translate() {
	python3 - "$TMP/kube.yaml" "$1" "$TMP" <<'EOF'
import base64, sys, yaml

src, worker, tmp = sys.argv[1:]
docs = [d for d in yaml.safe_load_all(open(src)) if d]
mine = [d for d in docs
        if d["metadata"].get("labels", {}).get("app.kubernetes.io/name") == worker]
out, dropped = [], set()
for d in mine:
    kind, name = d["kind"], d["metadata"]["name"]
    if kind == "Secret":
        data = {k: base64.b64decode(v).decode() for k, v in d.get("data", {}).items()}
        data.update(d.get("stringData", {}))
        for k, v in data.items():
            open(f"{tmp}/{worker}.{k}", "w").write(v)
        out.append({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": name}, "data": data})
    elif kind == "StatefulSet":
        tmpl = d["spec"]["template"]
        spec = tmpl["spec"]
        ctr = spec["containers"][0]["securityContext"]
        for v in spec.get("volumes", []):
            if "secret" in v:
                s = v.pop("secret")
                v["configMap"] = {"name": s["secretName"]}
                if "defaultMode" in s:
                    v["configMap"]["defaultMode"] = s["defaultMode"]
        for t in d["spec"].get("volumeClaimTemplates", []):
            claim = f'{t["metadata"]["name"]}-{name}-0'
            ann = {"volume.podman.io/uid": str(ctr.get("runAsUser", 0)),
                   "volume.podman.io/gid": str(spec.get("securityContext", {}).get("fsGroup", 0))}
            out.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                        "metadata": {"name": claim, "annotations": ann},
                        "spec": t["spec"]})
            spec.setdefault("volumes", []).append(
                {"name": t["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim}})
        out.append({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": f"{name}-0", "labels": tmpl["metadata"]["labels"]},
                    "spec": spec})
    elif kind == "PersistentVolumeClaim":
        out.append(d)
    else:
        dropped.add(kind)
yaml.safe_dump_all(out, open(f"{tmp}/{worker}.yaml", "w"), sort_keys=False)
print(" ".join(sorted(dropped)))
EOF
}
kinds=$(python3 -c 'import sys, yaml; print(" ".join(sorted({d["kind"] for d in yaml.safe_load_all(open(sys.argv[1])) if d})))' "$TMP/kube.yaml" 2>&1)
is "$kinds" "NetworkPolicy Secret Service StatefulSet" "the kinds: StatefulSet, Secret, Service, NetworkPolicy"

# The container of WORKER's pod: CTR, PID (its init, seen from the host).
find_ctr() {
	CTR=$(pm ps -a --filter "pod=app-$1-0" --format '{{.Names}}' | grep -v -- '-infra$' | head -1)
	PID=$(pm inspect -f '{{.State.Pid}}' "$CTR" 2>/dev/null)
}
# until LOGLINE in CTR's log (20 s); the log in $OUT.
logged() { pm_logged "$1" "$2" 20; }
# The cgroup v1 file FILE (memory.limit_in_bytes...) of pid's CTL hierarchy,
# or cgroup2's where the host is pure v2.
cg_value() {
	_line=$(grep -E "^[0-9]+:([^:]*,)?$2(,[^:]*)?:" "/proc/$1/cgroup" | head -1)
	[ -n "$_line" ] || _line=$(grep '^0::' "/proc/$1/cgroup")
	cat "$(cgroup_dir "$_line")/$3" 2>&1
}

for w in queue mail; do
	dropped=$(translate "$w")
	is "$dropped" "NetworkPolicy Service" "$w: podman 4.3 cannot play Service and NetworkPolicy (dropped)"
	if pm kube play --network none "$TMP/$w.yaml" >"$BLOG" 2>&1; then
		ok "$w: podman kube play"
	else
		not_ok "$w: podman kube play"
		diag "$(tail -5 "$BLOG")"
	fi
	find_ctr "$w"
	if logged "$CTR" "^WORKER $w-worker.py"; then
		ok "$w: the worker starts"
	else
		not_ok "$w: the worker starts"
	fi
	is "$(cat "/proc/$PID/comm" 2>&1)" berth "$w: the container's PID 1 is berth"
	check "$w: berth runs in pod mode" sh -c "tr '\\0' ' ' </proc/$PID/cmdline | grep -q ' run --pod '"
	check "$w: the worker sees berth as its PID 1, runs as 65534" grep -q "^WORKER $w-worker.py uid=65534 .* init=berth$" "$OUT"
	check "$w: every guarantee asked of the engine is there" grep -Eq \
		'pod mode: engine: caps none, no_new_privs, seccomp, uid 65534, ro root, memory [0-9]+[GMk], cpu [0-9.]+; berth: env, restart, stop 15s, reap$' "$OUT"
	# The worker's environment: the environ of berth's child, against
	# berth env with the pod's context and user.  The start command
	# (`python3 W-worker.py`) runs without the shell: berth's child is
	# python3, with the PWD dash would have given it last.
	child=$(cat "/proc/$PID/task/$PID/children" 2>/dev/null | awk '{print $1}')
	cat "/proc/$child/environ" >"$TMP/$w.environ" 2>/dev/null
	BERTH_USER=nobody "$BERTH" -C "$EXAMPLES" --context "$TMP/$w.context.json" env --format=null "$w" \
		>"$TMP/$w.env" 2>"$BLOG"
	[ -s "$TMP/$w.env" ] && printf 'PWD=/app\0' >>"$TMP/$w.env"
	if [ -s "$TMP/$w.env" ] && cmp -s "$TMP/$w.environ" "$TMP/$w.env"; then
		ok "$w: the worker's environment is byte for byte berth env's ($(tr -cd '\0' <"$TMP/$w.env" | wc -c) variables)"
	else
		not_ok "$w: the worker's environment is byte for byte berth env's"
		diag "$(diff "$(tr '\0' '\n' <"$TMP/$w.environ" >"$TMP/a"; echo "$TMP/a")" \
			"$(tr '\0' '\n' <"$TMP/$w.env" >"$TMP/b"; echo "$TMP/b")" | cut -c1-120 | head -10)"
	fi
	# The size's limits, as berth show gives them for its own cgroups.
	"$BERTH" -C "$EXAMPLES" --context "$TMP/$w.context.json" show "$w" >"$TMP/$w.show" 2>"$BLOG"
	want=$(python3 -c 'import json, sys; c = json.load(open(sys.argv[1]))["plan"]["cgroup"]["v1"]
print(c["memory.limit_in_bytes"], c["cpu.cfs_quota_us"], c["cpu.cfs_period_us"])' "$TMP/$w.show" 2>&1)
	if grep -q '^0::' "/proc/$PID/cgroup" && ! grep -q ':memory:' "/proc/$PID/cgroup"; then
		got="$(cg_value "$PID" memory memory.max) $(cg_value "$PID" cpu cpu.max)"
	else
		got="$(cg_value "$PID" memory memory.limit_in_bytes) $(cg_value "$PID" cpu cpu.cfs_quota_us) $(cg_value "$PID" cpu cpu.cfs_period_us)"
	fi
	is "$got" "$want" "$w: the size's memory and CPU limit are the container's cgroup's"
done

# --- a local mount across a restart of the workload --------------------------
# The pod is removed and played again, as the StatefulSet controller
# recreates it; its claim stays (a podman volume), so the replay is of
# the pod alone: podman 4.3 refuses a claim whose volume exists.
find_ctr queue
logged "$CTR" '^STARTS'
check "queue: the first start counts 1 in its local mount" grep -q '^STARTS 1$' "$OUT"
python3 -c 'import sys, yaml
yaml.safe_dump_all([d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] != "PersistentVolumeClaim"],
                   open(sys.argv[2], "w"), sort_keys=False)' "$TMP/queue.yaml" "$TMP/queue-again.yaml"
pm pod rm -f -t 0 app-queue-0 >/dev/null 2>&1
if pm kube play --network none "$TMP/queue-again.yaml" >"$BLOG" 2>&1 && find_ctr queue &&
	logged "$CTR" '^STARTS'; then
	check "queue: played again, its local mount kept the count (2)" grep -q '^STARTS 2$' "$OUT"
else
	not_ok "queue: played again, its local mount kept the count (2)"
	diag "$(tail -5 "$BLOG")"
fi

# --- the stop: berth's deadline, not podman's ---------------------------------
# podman 4.3's kube play does not map terminationGracePeriodSeconds to the
# container's stop timeout (podman does from 4.8): `podman pod stop` would
# SIGKILL at its own 10 s.  The grace period is given to it with -t.
grace=$(python3 -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "Pod": print(d["spec"]["terminationGracePeriodSeconds"])' "$TMP/queue.yaml")
st=$(pm inspect -f '{{.Config.StopTimeout}}' "$CTR")
case $st in
"$grace") topt= ;;
*) topt="-t $grace" ;;
esac
diag "terminationGracePeriodSeconds $grace, the container's stop timeout $st: podman pod stop ${topt:-(no -t)}"
check "the grace period ($grace s) is above berth's 15 s deadline" test "$grace" -gt 15
t0=$(now_ms)
# shellcheck disable=SC2086 # topt is words
pm pod stop $topt app-queue-0 >/dev/null 2>>"$BLOG"
ms=$(($(now_ms) - t0))
ex=$(pm inspect -f '{{.State.ExitCode}}' "$CTR")
pm logs "$CTR" >"$OUT" 2>&1
if [ "$ex" = 137 ] && [ "$ms" -ge 14500 ] && [ "$ms" -lt 20000 ] &&
	grep -q 'stop timeout (15000 ms) reached: killed' "$OUT"; then
	ok "stopping a worker that ignores SIGTERM ends at berth's 15 s deadline, 137 ($ms ms)"
else
	not_ok "stopping a worker that ignores SIGTERM ends at berth's 15 s deadline, 137 ($ms ms, exit $ex)"
	diag "$(tail -4 "$OUT")"
fi

# --- nothing left ---------------------------------------------------------------
for w in queue mail; do
	pm pod rm -f -t 0 "app-$w-0" >/dev/null 2>&1
done
pm volume rm -a -f >/dev/null 2>&1
is "$(pm ps -a -q | wc -l) $(pm volume ls -q | wc -l)" "0 0" "no container or volume left"
pm rmi -f "$IMAGE" >/dev/null 2>&1
drop_pods_parent
is "$(ls -d /sys/fs/cgroup/*/libpod_parent 2>/dev/null)" "$pods_parent_before" "the pods' cgroups are gone"
is "$(our_mounts)" 0 "no mount of the test left"
drop_blob_cache
is "$(host_state)" "$host_state_before" "no podman state or network device outside the test's directory"
is "$(ip -br link | awk '{print $1}' | sort)" "$links_before" "no network device left"
is "$(iptables -S 2>&1)" "$ipt_before" "the host's iptables rules are unchanged"
done_testing
