#!/bin/sh
# SPDX-License-Identifier: MIT
# `berth kube`: the example app's workers and tests/data/kube's as
# Kubernetes YAML, byte for byte the same twice; every document valid
# against the Kubernetes API schema (the npm package kubernetes-models,
# under node; installed once under the build directory), and a corrupted
# one refused by the same check; the pod's context gives the environment
# `berth env` gives; the bad inputs refused with one line and exit 2.
. "$(dirname "$0")/lib.sh"

EX=$TOP_SRCDIR/contrib/examples
FX=$TOP_SRCDIR/tests/data/kube
VALIDATE=$TOP_SRCDIR/tests/integration/kube-validate.cjs
cache=$TOP_BUILDDIR/tests/.cache/npm-kube
MODELS=kubernetes-models@4.5.1
YAMLPKG=yaml@2.8.1

# kube OUT ERR ARGS...: berth ARGS into OUT and ERR; sets RC.
kube() {
	_o=$1 _e=$2
	shift 2
	"$BERTH" "$@" >"$_o" 2>"$_e"
	RC=$?
}
# bad DESC KEY ARGS...: exit 2, nothing on stdout, KEY in the first line of
# stderr, and that line the only one (a usage error adds its "Try" line).
bad() {
	_d=$1 _k=$2
	shift 2
	kube "$TMP/bad.out" "$TMP/bad.err" "$@"
	_lines=$(grep -cv "^Try 'berth kube --help'.$" "$TMP/bad.err")
	if [ "$RC" = 2 ] && [ ! -s "$TMP/bad.out" ] && [ "$_lines" = 1 ] &&
		head -n 1 "$TMP/bad.err" | grep -qF -- "$_k"; then
		ok "$_d: exit 2, one line naming $_k"
	else
		not_ok "$_d: exit $RC, $_lines line(s), want 2 and one naming $_k"
		diag "$(cat "$TMP/bad.err")"
	fi
}

# --- the example app: same bytes, stable order, one worker at a time ----
kube "$TMP/all.yaml" "$TMP/all.err" -C "$EX" kube --image registry.example/app:1
is "$RC" 0 "kube of the example app exits 0"
is "$(cat "$TMP/all.err")" "" "and says nothing on stderr"
kube "$TMP/again.yaml" "$TMP/again.err" -C "$EX" kube --image registry.example/app:1
check "the same bytes twice" cmp -s "$TMP/all.yaml" "$TMP/again.yaml"
"$BERTH" -C "$EX" kube --image registry.example/app:1 queue >"$TMP/queue.yaml"
"$BERTH" -C "$EX" kube --image registry.example/app:1 mail >"$TMP/mail.yaml"
cat "$TMP/queue.yaml" "$TMP/mail.yaml" >"$TMP/both.yaml"
check "kube queue, then kube mail, is kube of all workers" cmp -s "$TMP/all.yaml" "$TMP/both.yaml"
is "$(grep '^kind:' "$TMP/all.yaml" | tr '\n' ' ')" \
	"kind: Secret kind: Service kind: NetworkPolicy kind: StatefulSet kind: Secret kind: Service kind: NetworkPolicy kind: StatefulSet " \
	"per worker, in config order: Secret, Service, NetworkPolicy, StatefulSet"
is "$(grep -c '^---$' "$TMP/all.yaml")" 8 "eight documents, each opened by ---"

# --- bad input -------------------------------------------------------------
bad "an unknown worker" "'nope'" -C "$EX" kube --image x queue nope
bad "no --image" "--image" -C "$EX" kube queue
bad "AUTO without a meaning" "workers.cron_auto.size" -C "$FX" kube --image x
mkdir -p "$TMP/small"
cat >"$TMP/small/.platform.app.yaml" <<'EOF'
name: small
type: 'python:3.11'
workers:
  w:
    size: S
    disk: 64
    mounts:
      data: {source: local, source_path: data}
    commands: {start: sleep 1}
EOF
bad "a disk too small for its mounts" "workers.w.disk" -C "$TMP/small" kube --image x
bad "a worker named twice" "'queue'" -C "$EX" kube --image x queue queue
bad "--auto-size AUTO" "--auto-size" -C "$FX" kube --image x --auto-size AUTO
kube "$TMP/fx.yaml" "$TMP/fx.err" -C "$FX" kube --image x --auto-size S
is "$RC" 0 "AUTO with --auto-size S: exit 0"

# --- schema validation, and what the tests below read ---------------------
NODE=$(command -v node) || NODE=
NPM=$(command -v npm) || NPM=
if [ -n "$NODE" ] && [ -n "$NPM" ] && ! grep -qs '"version": "4.5.1"' \
	"$cache/node_modules/kubernetes-models/package.json"; then
	mkdir -p "$cache"
	"$NPM" install --prefix "$cache" --cache "$cache/.npm" --no-audit --no-fund \
		--no-package-lock "$MODELS" "$YAMLPKG" >"$TMP/npm.log" 2>&1 ||
		{ diag "$(cat "$TMP/npm.log")"; NODE=; }
fi
if [ -z "$NODE" ]; then
	skip "schema validation and the objects' fields" "no node/npm, or npm install failed"
	done_testing
fi
validate() { NODE_PATH=$cache/node_modules "$NODE" "$VALIDATE" "$@"; }
get() { validate --get "$@"; }

validate "$TMP/all.yaml" >"$TMP/v.out" 2>&1
vr=$?
is "$vr:$(grep -c '^valid ' "$TMP/v.out")" "0:8" \
	"the example app's 8 documents are valid Kubernetes objects (kubernetes-models)"
grep -v '^valid ' "$TMP/v.out" | while read -r l; do diag "$l"; done
validate "$TMP/fx.yaml" >"$TMP/v.out" 2>&1
vr=$?
is "$vr:$(grep -c '^valid ' "$TMP/v.out") $(grep -c '^valid PersistentVolumeClaim files$' "$TMP/v.out")" \
	"0:13 1" "the fixture's 13 documents (a shared claim among them) are valid"
grep -v '^valid ' "$TMP/v.out" | while read -r l; do diag "$l"; done
# The check refuses what the API server would: a count that is a string,
# a variable's value that is a number (an unquoted "1").
sed '0,/^  replicas: 1$/s//  replicas: "one"/' "$TMP/all.yaml" >"$TMP/corrupt.yaml"
validate "$TMP/corrupt.yaml" >"$TMP/v.out" 2>&1
vr=$?
is "$vr:$(grep -c '^INVALID apps/v1/StatefulSet app-queue: .*replicas' "$TMP/v.out")" "1:1" \
	"a corrupted replicas is refused by the schema check"
sed '0,/^          value: "1"$/s//          value: 1/' "$TMP/all.yaml" >"$TMP/corrupt.yaml"
validate "$TMP/corrupt.yaml" >"$TMP/v.out" 2>&1
vr=$?
is "$vr:$(grep -c '^INVALID apps/v1/StatefulSet app-queue: .*value' "$TMP/v.out")" "1:1" \
	"an unquoted number as an env value is refused by the schema check"

# --- the resources are the cgroup values berth run writes (berth show) ----
C=spec/template/spec/containers/0
"$BERTH" -C "$EX" show queue >"$TMP/show.json" 2>/dev/null
want=$(python3 -c 'import json, sys
v2 = json.load(open(sys.argv[1]))["plan"]["cgroup"]["v2"]
q, p = v2["cpu.max"].split()
print("%dm %dMi" % (int(q) * 1000 // int(p), v2["memory.max"] >> 20))' "$TMP/show.json")
got="$(get "$TMP/all.yaml" StatefulSet app-queue $C/resources/limits/cpu) $(get "$TMP/all.yaml" StatefulSet app-queue $C/resources/limits/memory)"
is "$got" "$want" "queue's limits are the memory.max and cpu.max berth show plans"
is "$(get "$TMP/all.yaml" StatefulSet app-queue $C/resources/requests)" \
	"$(get "$TMP/all.yaml" StatefulSet app-queue $C/resources/limits)" "requests = limits"
is "$(get "$TMP/fx.yaml" StatefulSet shop-cron-auto $C/resources/limits)" \
	'{"cpu":"400m","memory":"128Mi"}' "--auto-size S gives AUTO the S limits"
is "$(get "$TMP/all.yaml" StatefulSet app-queue spec/template/spec/terminationGracePeriodSeconds)" \
	30 "the grace period: berth's 15 s deadline and 15 s for the rest"
is "$(get "$TMP/all.yaml" StatefulSet app-queue $C/args)" \
	'["-C","/app","--context","/run/berth/context/context.json","run","--pod","--stop-timeout","15s","queue"]' \
	"berth runs the worker in pod mode, with the deadline the grace period counts on"
is "$(get "$TMP/all.yaml" StatefulSet app-queue $C/securityContext)" \
	'{"runAsNonRoot":true,"runAsUser":65534,"runAsGroup":65534,"allowPrivilegeEscalation":false,"privileged":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]},"seccompProfile":{"type":"RuntimeDefault"}}' \
	"the container's securityContext: berth's box"
is "$(get "$TMP/all.yaml" NetworkPolicy app-mail-deny-ingress spec)" \
	'{"podSelector":{"matchLabels":{"app.kubernetes.io/name":"mail","app.kubernetes.io/instance":"app-mail"}},"policyTypes":["Ingress"]}' \
	"the NetworkPolicy selects mail's pods and allows no ingress, egress left alone"
is "$(get "$TMP/all.yaml" StatefulSet app-queue spec/volumeClaimTemplates/0/spec/resources/requests/storage) $(get "$TMP/all.yaml" StatefulSet app-queue $C/volumeMounts/3)" \
	'512M {"name":"storage","mountPath":"/app/scratch","subPath":"scratch"}' \
	"queue's scratch mount: its directory of the instance's 512 MB claim"

# --- the pod's context: the environment berth env gives -------------------
get "$TMP/all.yaml" Secret app-queue-context data/context.json | base64 -d >"$TMP/ctx.json"
"$BERTH" -C "$EX" --context "$TMP/ctx.json" env queue >"$TMP/env.host" 2>/dev/null
# the pod: no state directory of this host, no git checkout
mkdir -p "$TMP/pod-state" "$TMP/pod"
cp -R "$EX/." "$TMP/pod/"
"$BERTH" -C "$TMP/pod" --state-dir "$TMP/pod-state" --context "$TMP/ctx.json" env queue \
	>"$TMP/env.pod" 2>/dev/null
check "the Secret's context gives the same environment without this host's state or git" \
	cmp -s "$TMP/env.host" "$TMP/env.pod"
is "$(ls -A "$TMP/pod-state")" "" "and the pod's berth writes no state"
"$BERTH" -C "$EX" env queue >"$TMP/env.plain" 2>/dev/null
for v in PLATFORM_PROJECT PLATFORM_PROJECT_ENTROPY PLATFORM_TREE_ID PLATFORM_ENVIRONMENT; do
	is "$(grep "^export $v=" "$TMP/env.pod")" "$(grep "^export $v=" "$TMP/env.plain")" \
		"$v in the pod is berth env's on this host"
done
rels() {
	sed -n "s/^export PLATFORM_RELATIONSHIPS='\(.*\)'$/\1/p" "$1" | base64 -d |
		python3 -c 'import json, sys
r = json.load(sys.stdin)
print(" ".join("%s=%s/%s" % (k, v[0]["host"], v[0]["hostname"]) for k, v in sorted(r.items())))'
}
is "$(rels "$TMP/env.pod")" \
	"database=mysqldb.default.svc/mysqldb.default.svc messages=rabbitqueue.default.svc/rabbitqueue.default.svc" \
	"relationship hosts are the services' cluster DNS names"
"$BERTH" -C "$EX" kube --image x --namespace prod queue >"$TMP/prod.yaml"
get "$TMP/prod.yaml" Secret app-queue-context data/context.json | base64 -d >"$TMP/ctx.json"
"$BERTH" -C "$EX" --context "$TMP/ctx.json" env queue >"$TMP/env.prod" 2>/dev/null
is "$(rels "$TMP/env.prod" | cut -d' ' -f1)" "database=mysqldb.prod.svc/mysqldb.prod.svc" \
	"--namespace prod: mysqldb.prod.svc"
is "$(get "$TMP/prod.yaml" StatefulSet app-queue metadata/namespace)" prod \
	"--namespace prod: the objects' namespace"
done_testing
