#!/bin/sh
# SPDX-License-Identifier: MIT
# The worker's user and groups come from the box's /etc/passwd and
# /etc/group (the files the worker sees), not from the host's NSS: a user
# that only nss-systemd knows (a userdb record in /run/userdb) is refused
# by run and env with the usual "no such user"; a user of /etc/passwd runs
# with its supplementary groups of /etc/group.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
RUN_BOXED=1

name=bzt$$
made_dir=
rec=/run/userdb/$name.user
trap 'rm -f "$rec"; [ -z "$made_dir" ] || rmdir /run/userdb 2>/dev/null; cleanup' EXIT
[ -d /run/userdb ] || { mkdir /run/userdb && made_dir=1; }
printf '{"userName":"%s","uid":61234,"gid":61234,"homeDirectory":"/","shell":"/bin/sh"}\n' \
	"$name" >"$rec"
check "NSS knows the userdb-only user (the contrast this test needs)" \
	getent passwd "$name"

write_app 'echo "WHO $(id -un) GROUPS $(id -G)"
echo READY
exec sleep 1000'
cfg="$APP/.platform.app.yaml"

BERTH_USER=$name "$BERTH" -f "$cfg" env --format shell test >"$TMP/out" 2>&1
is "$?" 2 "env: a user only NSS knows is refused (exit 2)"
check "env: no such user" grep -q "user $name: no such user" "$TMP/out"
timeout -s TERM 20 "$BERTH" -f "$cfg" run --network=none --user "$name" test >"$TMP/out" 2>&1
is "$?" 2 "run: a user only NSS knows is refused (exit 2)"
check "run: no such user" grep -q "user $name: no such user" "$TMP/out"
check "run: the worker never started" sh -c "! grep -q '^WHO' '$TMP/out'"

# a user of /etc/passwd that /etc/group lists in a group
set -- $(awk -F: 'NR == FNR { u[$1] = 1; next }
	$4 != "" { n = split($4, m, ","); for (i = 1; i <= n; i++)
		if (m[i] in u && m[i] != "root") { print m[i], $3; exit } }' /etc/passwd /etc/group)
user=${1:-daemon} gid=${2:-}
start_run host --network none --user "$user"
if wait_for "$BLOG" '^READY' 20; then
	line=$(grep '^WHO ' "$BLOG")
	is "$(echo "$line" | awk '{ print $2 }')" "$user" "run: the worker is $user (/etc/passwd)"
	if [ -n "$gid" ]; then
		check "run: with its group $gid of /etc/group" \
			sh -c "echo '$line' | grep -Eq ' GROUPS (.* )?$gid( |\$)'"
	fi
else
	not_ok "run --user $user: the worker did not start"
	dump_logs
fi
kill -TERM "$BERTH_PID" 2>/dev/null
wait_run 20
is "$RUN_RC" 0 "stopped, status 0"

done_testing
