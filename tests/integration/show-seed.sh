#!/bin/sh
# SPDX-License-Identifier: MIT
# The two configurations of Platform.sh's "Work with workers" page (one
# relying on inheritance, one spelling every key out per worker) give
# byte-identical `berth show` output for both workers; `list` and `show`
# of the bundled example; usage errors exit 2.
set -u
seed="$TOP_SRCDIR/tests/data/seed"
# Under /tmp whatever TMPDIR says: the app-again case below needs it.
tmp=$(mktemp -d -p /tmp)
trap 'rm -rf "$tmp"' EXIT
BERTH_STATE_DIR="$tmp/state"
export BERTH_STATE_DIR
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; fail=1; }
echo "1..12"

for w in queue mail; do
	# Both files in one directory: the app root (in the mount plan) is the same.
	"$BERTH" -f "$seed/inherit.app.yaml" show "$w" > "$tmp/a" 2> "$tmp/err" &&
		"$BERTH" -f "$seed/explicit.app.yaml" show "$w" > "$tmp/b" 2>> "$tmp/err"
	if [ $? -eq 0 ] && cmp -s "$tmp/a" "$tmp/b" && [ -s "$tmp/a" ]; then
		ok "seed configurations give identical berth show for $w"
	else
		not_ok "seed configurations differ for $w"
		diff "$tmp/a" "$tmp/b" | sed 's/^/# /'
		sed 's/^/# /' "$tmp/err"
	fi
done

ex="$TOP_SRCDIR/contrib/examples"
out=$("$BERTH" -C "$ex" list)
want="queue  M     python3 queue-worker.py
mail   S     python3 mail-worker.py"
[ "$out" = "$want" ] && ok "berth list" || { not_ok "berth list"; echo "$out" | sed 's/^/# /'; }

"$BERTH" -C "$ex" show mail > "$tmp/mail.json"
if python3 - "$tmp/mail.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
assert w["name"] == "mail" and w["size"]["name"] == "S"
assert w["mounts"] == [] and w["disk"] == 256
assert [r["name"] for r in w["relationships"]] == ["emails"]
assert w["variables"] == {"env": {"type": "worker"}}
assert w["plan"]["stop"]["timeout_ms"] == 15000
assert "TYPE" in w["plan"]["environment"]
assert w["plan"]["argv"][:2] == ["/bin/sh", "-c"]
PY
then ok "berth show mail: inherited and overridden keys, plan"; else not_ok "berth show mail"; fi

BERTH_STOP_TIMEOUT=3s "$BERTH" -C "$ex" show mail | grep -q '"timeout_ms": 3000' &&
	ok "show follows BERTH_STOP_TIMEOUT" || not_ok "show ignores BERTH_STOP_TIMEOUT"

"$BERTH" -C "$ex" show nosuch > /dev/null 2> "$tmp/err"
[ $? -eq 2 ] && grep -q "no worker named 'nosuch' (workers: queue, mail)" "$tmp/err" &&
	ok "unknown worker: exit 2 and the list of workers" || not_ok "unknown worker"

# AUTO: no limit, unless the context (or --auto-size / BERTH_AUTO_SIZE) says
mkdir -p "$tmp/app"
printf 'name: app\ntype: php:8.3\nworkers:\n  w:\n    commands: {start: x}\n' > "$tmp/app/auto.yaml"
echo '{"auto_size": "L"}' > "$tmp/ctx.json"
mem() { python3 -c "import json,sys; print(json.load(sys.stdin)['plan']['cgroup']['v2']['memory.max'])"; }
[ "$("$BERTH" -f "$tmp/app/auto.yaml" show w 2>/dev/null | mem)" = max ] &&
	[ "$("$BERTH" -f "$tmp/app/auto.yaml" --context "$tmp/ctx.json" show w 2>/dev/null | mem)" = 268435456 ] &&
	ok "AUTO: no memory limit; the context's auto_size L gives 256 MiB" || not_ok "context auto_size"
[ "$(BERTH_AUTO_SIZE=S "$BERTH" -f "$tmp/app/auto.yaml" --context "$tmp/ctx.json" show w 2>/dev/null | mem)" = 134217728 ] &&
	ok "BERTH_AUTO_SIZE wins over the context" || not_ok "BERTH_AUTO_SIZE"

# An app under /tmp is bound again inside the worker's private /tmp: that
# operation is named in the plan like every other ("op" never missing).
ops() { python3 -c 'import json, sys
for o in json.load(sys.stdin)["plan"]["mounts"]["operations"]: print(o.get("op", "MISSING"))'; }
"$BERTH" -f "$tmp/app/auto.yaml" show w 2>/dev/null | ops > "$tmp/ops"
if grep -qx app-again "$tmp/ops" && ! grep -qx MISSING "$tmp/ops" && [ "$(tail -1 "$tmp/ops")" = pivot-root ]; then
	ok "app under /tmp: berth show names the app-again operation"
else
	not_ok "app under /tmp: an operation without its name"
	tr '\n' ' ' < "$tmp/ops" | sed 's/^/# /'
	echo
fi

[ "$("$BERTH" -C "$ex" env mail --format=json | python3 -c 'import json,sys; print(json.load(sys.stdin)["TYPE"])')" = worker ] &&
	ok "options may follow the worker name (env mail --format=json)" || not_ok "options after the worker name"

"$BERTH" --bogus > /dev/null 2>&1
[ $? -eq 2 ] && ok "unknown option: exit 2" || not_ok "unknown option"

"$BERTH" -C "$ex" run > /dev/null 2>&1
[ $? -eq 2 ] && ok "run without a worker: exit 2" || not_ok "run without a worker"
exit $fail
