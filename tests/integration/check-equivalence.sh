#!/bin/sh
# SPDX-License-Identifier: MIT
# `berth check` exists so that env, show, run, spec and hook never refuse a
# config it passed.  Over every case of tests/data/check/ (NAME.yaml, with
# NAME.services.yaml as services.yaml when present): when check says OK,
# env, show and spec of every worker exit 0, and berth hook
# createContainer, given spec's config.json, does not refuse the config
# (exit 2); when any of them refuses the config (exit 2), check refused
# it too.  Then the same for an app of .platform/applications.yaml chosen
# with --app (which the hook must learn from spec's annotations).
set -u
dir="$TOP_SRCDIR/tests/data/check"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (berth hook in namespaces)"
	[ "${BERTH_STRICT:-0}" = 1 ] && exit 1; exit 0; }
# berth keeps per-project state (generated secrets): never the machine's.
BERTH_STATE_DIR=$tmp/state
export BERTH_STATE_DIR
mkdir -p "$tmp/state"
total=$(ls "$dir"/*.expect | wc -l)
echo "1..$((total + 1))"
mkdir -p "$tmp/bundle/rootfs"
# spec WORKER GLOBAL_OPTIONS...: config.json for the worker into
# $tmp/bundle, exit status
spec() {
	_w=$1
	shift
	"$BERTH" "$@" spec --no-prepare --no-hooks --rootfs "$tmp/bundle/rootfs" \
		--storage-root "$tmp/storage" -o "$tmp/bundle/config.json" "$_w" \
		> /dev/null 2> "$tmp/cmd.err" < /dev/null
}
# hook: berth hook createContainer on $tmp/bundle, as a runtime calls it:
# in the container's pid and mount namespaces (a tmpfs on /run keeps its
# log off the host), from /, with no global option.  Exit status.
hook() {
	printf '{"ociVersion":"1.0.2","id":"eq","status":"creating","bundle":"%s","pid":1}' \
		"$tmp/bundle" | (cd / && unshare -pfm sh -c 'mount -t tmpfs none /run &&
			exec "$0" hook createContainer' "$BERTH") > /dev/null 2> "$tmp/cmd.err"
}
# verdict CMD RC: add to $bad what CMD exiting RC says against check
verdict() {
	if [ "$check" -eq 0 ] && [ "$2" -ne 0 ] && { [ "$1" != hook ] || [ "$2" -eq 2 ]; }; then
		bad="$bad check OK but $1 exits $2;"
	elif [ "$2" -eq 2 ] && [ "$check" -ne 2 ]; then
		bad="$bad $1 exits 2 but check $check;"
	fi
}
n=0
fail=0
for expect in "$dir"/*.expect; do
	name=$(basename "$expect" .expect)
	file="$dir/$name.yaml"
	svc="$dir/$name.services.yaml"
	n=$((n + 1))
	if [ -f "$svc" ]; then
		set -- -f "$file" --services "$svc"
	else
		set -- -f "$file"
	fi
	"$BERTH" "$@" check > /dev/null 2> "$tmp/check.err" < /dev/null
	check=$?
	"$BERTH" "$@" list > "$tmp/list" 2> /dev/null < /dev/null
	list=$?
	bad=
	if [ "$list" -ne 0 ]; then
		# list loads the config as check does: a refusal is a config one
		[ "$check" -eq 0 ] && bad="check OK but list exits $list"
	else
		for w in $(cut -d' ' -f1 "$tmp/list"); do
			for cmd in env show; do
				"$BERTH" "$@" "$cmd" "$w" > /dev/null 2> "$tmp/cmd.err" < /dev/null
				verdict "$cmd $w" $?
			done
			rm -f "$tmp/bundle/config.json"
			spec "$w" "$@"
			rc=$?
			verdict "spec $w" $rc
			# the hook (the check of the spec's storage aside, 125)
			if [ "$rc" -eq 0 ]; then
				hook
				verdict hook $?
			fi
		done
	fi
	if [ -n "$bad" ]; then
		echo "not ok $n - $name:$bad"
		sed 's/^/# /' "$tmp/check.err" "$tmp/cmd.err" 2> /dev/null
		fail=1
	else
		echo "ok $n - $name (check $check)"
	fi
done
# An app of .platform/applications.yaml chosen with --app (BERTH_APP): the
# hook, run with no global option, loads the app and the services.yaml
# that spec used, from its annotations.
n=$((n + 1))
proj=$tmp/proj
mkdir -p "$proj/.platform" "$proj/api" "$proj/web"
cat > "$proj/.platform/applications.yaml" <<'YAML'
api:
  type: python:3.11
  source: {root: api}
  relationships: {db: "db:mysql"}
  mounts:
    shared: {source: service, service: files}
  disk: 256
  workers:
    q: {commands: {start: sleep 1}}
web:
  type: nodejs:20
  source: {root: web}
  workers:
    w: {commands: {start: sleep 1}}
YAML
printf 'db:\n  type: mariadb:10.6\nfiles:\n  type: network-storage:2.0\n' > "$tmp/services.yaml"
# the project's default services.yaml is not the one given: it lacks files
printf 'db:\n  type: mariadb:10.6\n' > "$proj/.platform/services.yaml"
set -- --app api --services "$tmp/services.yaml"
check=$(cd "$proj" && "$BERTH" "$@" check > /dev/null 2> "$tmp/check.err"; echo $?)
bad=
rm -f "$tmp/bundle/config.json"
(cd "$proj" && spec q "$@")
verdict "spec q" $?
hook
verdict hook $?
if [ -n "$bad" ] || [ "$check" -ne 0 ]; then
	echo "not ok $n - applications.yaml --app api (check $check):$bad"
	sed 's/^/# /' "$tmp/check.err" "$tmp/cmd.err" 2> /dev/null
	fail=1
else
	echo "ok $n - applications.yaml --app api with its services.yaml (check $check)"
fi
exit $fail
