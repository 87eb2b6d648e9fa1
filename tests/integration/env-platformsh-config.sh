#!/bin/sh
# SPDX-License-Identifier: MIT
# The environment `berth env` gives the seed example's workers, read by the
# real platformsh-config 2.4.1 from the npm registry (installed once under
# the build directory) and decoded by Python's base64.b64decode + json.loads.
# Also: nothing of berth's own environment leaks in but --pass-env names,
# and the shell format evaluates back to the same environment.
set -u
example="$TOP_SRCDIR/contrib/examples/.platform.app.yaml"
cache="$TOP_BUILDDIR/tests/.cache/npm"
n=0
fail=0

skip() {
	echo "# $1"
	if [ "${BERTH_STRICT:-0}" = 1 ]; then
		echo "not ok 1 - $1 (BERTH_STRICT=1)"
		echo "1..1"
		exit 1
	fi
	echo "1..0 # SKIP $1"
	exit 0 # the TAP driver reads the plan; 77 would be an error
}

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	fail=1
}

# check DESC COMMAND...: one TAP line for a command's exit status.
check() {
	desc=$1
	shift
	if "$@" > "$tmp/check.out" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
		sed 's/^/# /' "$tmp/check.out"
	fi
}

NODE=$(command -v node) || skip "node is not installed"
NPM=$(command -v npm) || skip "npm is not installed"
PYTHON=$(command -v python3) || skip "python3 is not installed"
"$BERTH" env --help > /dev/null 2>&1 || skip "this berth has no env command"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
state="$tmp/state"

pkg="$cache/node_modules/platformsh-config"
if ! grep -q '"version": "2.4.1"' "$pkg/package.json" 2> /dev/null; then
	mkdir -p "$cache"
	"$NPM" install --prefix "$cache" --cache "$cache/.npm" --no-audit --no-fund --no-package-lock \
		platformsh-config@2.4.1 > "$tmp/npm.log" 2>&1 ||
		{ sed 's/^/# /' "$tmp/npm.log"; skip "npm install platformsh-config@2.4.1 failed"; }
fi

cat > "$tmp/ctx.json" << 'JSON'
{
  "project": "abcdefgh12345",
  "branch": "master",
  "environment_type": "production",
  "smtp_host": "smtp.internal",
  "variables": {"stuff:greeting": "hello", "stuff:list": [1, "two", {"b": true, "a": null}]},
  "services": {"mysqldb": {"ip": "10.0.0.2", "password": "s3cret"}},
  "routes": {"https://example.com/": {"primary": true, "id": null, "type": "upstream",
                                       "upstream": "app", "original_url": "https://{default}"}}
}
JSON

# berth_env OUT WORKER [COMMAND OPTIONS...]: `berth env` with a private
# state directory; $global holds extra global options (--context FILE).
global=
berth_env() {
	out=$1
	worker=$2
	shift 2
	# shellcheck disable=SC2086
	"$BERTH" -f "$example" --state-dir "$state" $global env "$@" "$worker" \
		> "$out" 2> "$tmp/err"
}

# node_check ENVFILE MODE: run check.js in exactly the environment of
# ENVFILE (NUL-separated NAME=VALUE records), one TAP line per check.
node_check() {
	printf '#!/bin/sh\nexec "%s" "%s" "%s" "%s"\n' "$NODE" "$tmp/check.js" "$pkg" "$2" \
		> "$tmp/node-$2"
	chmod +x "$tmp/node-$2"
	# shellcheck disable=SC2016
	xargs -0 -x -a "$1" sh -c 'exec env -i "$@" "$0"' "$tmp/node-$2" > "$tmp/node.out" 2>&1
	status=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
		*) echo "# $line" ;;
		esac
	done < "$tmp/node.out"
	[ "$status" -eq 0 ] || not_ok "$2: node exited with status $status"
}

cat > "$tmp/check.js" << 'JS'
// node check.js MODULE MODE, run in the environment berth built: ask
// platformsh-config about it.
const [modpath, mode] = process.argv.slice(2);
const psh = require(modpath);
let failed = false;
function t(desc, fn) {
	let ok = false, why = '';
	try { ok = fn() === true; } catch (e) { why = ' (' + e.name + ': ' + e.message + ')'; }
	console.log((ok ? 'ok' : 'not ok') + ' - ' + mode + ': ' + desc + why);
	if (!ok) failed = true;
}
let c;
t('config() constructs', () => { c = psh.config(); return true; });
t('isValidPlatform()', () => c.isValidPlatform());
t('inRuntime()', () => c.inRuntime());
t('inBuild() is false', () => c.inBuild() === false);
t('application() is the app config with both workers', () => {
	const a = c.application();
	return a.name === 'app' && a.type === 'python:3.7' &&
		typeof a.workers.queue === 'object' && typeof a.workers.mail === 'object';
});
t('applicationName, appDir, project, treeId, projectEntropy', () =>
	c.applicationName === 'app' && c.appDir.startsWith('/') &&
	/^[a-z0-9]+$/.test(c.project) && /^[0-9a-f]{40}$/.test(c.treeId) &&
	c.projectEntropy.length === 56);
t('branch, environment, documentRoot', () =>
	c.branch.length > 0 && c.environment.startsWith(c.branch + '-') &&
	c.documentRoot.startsWith('/'));
t('TYPE and type are "worker"', () =>
	process.env.TYPE === 'worker' && process.env.type === 'worker');
t('env: variables are not in PLATFORM_VARIABLES', () =>
	c.variable('env:type', 'absent') === 'absent');
if (mode === 'queue' || mode === 'queue+context') {
	t('hasRelationship(database)', () => c.hasRelationship('database'));
	t('credentials(database) is database.internal:3306', () => {
		const d = c.credentials('database');
		return d.host === 'database.internal' && d.port === 3306 && d.scheme === 'mysql' &&
			d.path === 'main' && d.rel === 'mysql' && d.type === 'mariadb:10.6';
	});
	t('credentials(messages) is amqp on 5672', () => {
		const m = c.credentials('messages');
		return m.host === 'messages.internal' && m.port === 5672 && m.scheme === 'amqp' &&
			m.username === 'guest';
	});
}
if (mode === 'queue') {
	t('no routes, no SMTP host', () => {
		let threw = false;
		try { c.smtpHost; } catch (e) { threw = true; }
		return JSON.stringify(c.routes()) === '{}' && threw;
	});
	t('variable() of an unset name gives the default', () => c.variable('stuff:x', 7) === 7);
}
if (mode === 'queue+context') {
	t('variable() reads a non-env: variable', () => c.variable('stuff:greeting') === 'hello');
	t('variable() keeps the JSON type', () => {
		const l = c.variable('stuff:list');
		return Array.isArray(l) && l[1] === 'two' && l[2].b === true;
	});
	t('the context: password, ip, project, branch, SMTP host', () => {
		const d = c.credentials('database');
		return d.password === 's3cret' && d.ip === '10.0.0.2' &&
			c.project === 'abcdefgh12345' && c.branch === 'master' &&
			c.onProduction() === true && c.smtpHost === 'smtp.internal';
	});
	t('routes and getPrimaryRoute()', () =>
		c.getPrimaryRoute().url === 'https://example.com/' &&
		Object.keys(c.getUpstreamRoutes('app')).length === 1);
}
if (mode === 'mail') {
	t('hasRelationship(database) is false', () => c.hasRelationship('database') === false);
	t('credentials(database) throws', () => {
		try { c.credentials('database'); } catch (e) { return e instanceof RangeError; }
		return false;
	});
	t('credentials(emails) is amqp on emails.internal:5672', () => {
		const m = c.credentials('emails');
		return m.host === 'emails.internal' && m.port === 5672 && m.service === 'rabbitqueue';
	});
}
process.exit(failed ? 1 : 0);
JS

cat > "$tmp/check.py" << 'PY'
# python3 check.py ENV.json: decode every base64 JSON variable the way the
# Python config reader does, and check the JSON is byte-identical to
# json.dumps(sort_keys=True) (the form berth promises).
import base64, json, sys
env = json.load(open(sys.argv[1]))
for name in ("PLATFORM_APPLICATION", "PLATFORM_RELATIONSHIPS", "PLATFORM_ROUTES",
             "PLATFORM_VARIABLES"):
    raw = base64.b64decode(env[name], validate=True)
    value = json.loads(raw)
    assert base64.b64encode(raw).decode() == env[name], name + ": not canonical base64"
    assert json.dumps(value, sort_keys=True).encode() == raw, name + ": not json.dumps form"
    assert isinstance(value, dict), name
rels = json.loads(base64.b64decode(env["PLATFORM_RELATIONSHIPS"]))
keys = {"username", "password", "scheme", "service", "fragment", "ip", "instance_ips",
        "hostname", "port", "cluster", "host", "rel", "path", "query", "type", "public",
        "host_mapped", "epoch"}
for rel, eps in rels.items():
    assert isinstance(eps, list) and len(eps) == 1, rel
    assert set(eps[0]) == keys, (rel, set(eps[0]) ^ keys)
    assert eps[0]["host"] == rel + ".internal", rel
for name, value in env.items():
    assert "\0" not in name + value and "=" not in name, name
PY

# 1. The queue worker with the defaults only.
if berth_env "$tmp/queue.env" queue --format=null; then
	ok "berth env queue --format=null"
else
	not_ok "berth env queue --format=null"
	sed 's/^/# /' "$tmp/err"
fi
node_check "$tmp/queue.env" queue

# 2. The same worker with a context file.
global="--context $tmp/ctx.json"
if berth_env "$tmp/queue-ctx.env" queue --format=null; then
	ok "berth env queue --context FILE"
else
	not_ok "berth env queue --context FILE"
	sed 's/^/# /' "$tmp/err"
fi
node_check "$tmp/queue-ctx.env" queue+context
global=

# 3. The mail worker: emails, no database.
berth_env "$tmp/mail.env" mail --format=null || { not_ok "berth env mail"; sed 's/^/# /' "$tmp/err"; }
node_check "$tmp/mail.env" mail

# 4. Python decodes the JSON format.
for w in queue mail; do
	if berth_env "$tmp/$w.json" "$w" --format=json; then
		check "python3 base64.b64decode + json.loads ($w)" "$PYTHON" "$tmp/check.py" "$tmp/$w.json"
	else
		not_ok "berth env $w --format=json"
		sed 's/^/# /' "$tmp/err"
	fi
done

# 5. Nothing leaks from berth's environment but --pass-env names.
if LD_PRELOAD=/nonexistent/berth-test.so SECRET=1 BERTH_TEST_PASS=passed \
	"$BERTH" -f "$example" --state-dir "$state" env --format=null --pass-env BERTH_TEST_PASS \
	queue > "$tmp/pass.env" 2> "$tmp/err"; then
	tr '\0' '\n' < "$tmp/pass.env" > "$tmp/pass.txt"
	check "SECRET and LD_PRELOAD do not leak" sh -c "! grep -E '^(SECRET|LD_PRELOAD)=' '$tmp/pass.txt'"
	check "--pass-env passes the name" grep -qx 'BERTH_TEST_PASS=passed' "$tmp/pass.txt"
else
	not_ok "berth env --pass-env"
	sed 's/^/# /' "$tmp/err"
fi

# 6. The shell format evaluates back to the same variables, byte for byte.
if berth_env "$tmp/queue.sh" queue --format=shell; then
	env -i /bin/sh -c ". '$tmp/queue.sh'; exec env -0" > "$tmp/eval.env"
	tr '\0' '\n' < "$tmp/queue.env" | cut -d= -f1 > "$tmp/names"
	check "shell format evals to the null format's values" "$PYTHON" -c '
import sys
want = [r for r in open(sys.argv[1], "rb").read().split(b"\0") if r]
got = set(r for r in open(sys.argv[2], "rb").read().split(b"\0") if r)
missing = [r.split(b"=")[0] for r in want if r not in got]
assert not missing, missing
' "$tmp/queue.env" "$tmp/eval.env"
else
	not_ok "berth env --format=shell"
fi

# 7. --decode shows the base64 variables as JSON.
if berth_env "$tmp/decoded.json" queue --format=json --decode; then
	check "--decode gives PLATFORM_RELATIONSHIPS as an object" "$PYTHON" -c '
import json, sys
e = json.load(open(sys.argv[1]))
assert e["PLATFORM_RELATIONSHIPS"]["database"][0]["port"] == 3306
assert e["PLATFORM_APPLICATION"]["name"] == "app"
assert e["PLATFORM_VARIABLES"] == {}
' "$tmp/decoded.json"
else
	not_ok "berth env --decode"
	sed 's/^/# /' "$tmp/err"
fi

echo "1..$n"
exit $fail
