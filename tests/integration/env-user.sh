#!/bin/sh
# SPDX-License-Identifier: MIT
# USER is the name of the user the worker runs as: env prints the user
# run would choose (BERTH_USER, else web, else nobody), and in the worker
# $USER equals `id -un`, boxed (the default user) and --unconfined (berth's
# own user).
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
plan 5

write_app 'echo "WHO USER=$USER ID=$(id -un)"
echo READY
exec sleep 1000'
env_user() {
	"$BERTH" -f "$APP/.platform.app.yaml" env --format shell test 2>/dev/null |
		sed -n "s/^export USER='\{0,1\}\([^']*\)'\{0,1\}\$/\1/p"
}

want=nobody
getent passwd web >/dev/null && want=web
is "$(env_user)" "$want" "env: USER is the default worker user ($want)"
is "$(BERTH_USER=daemon env_user)" daemon "env: USER follows BERTH_USER"
uid=4242
while getent passwd $uid >/dev/null; do uid=$((uid + 1)); done
is "$(BERTH_USER=$uid env_user)" "$uid" "env: a uid without a passwd entry is its number"

for mode in boxed unconfined; do
	RUN_BOXED=0
	[ $mode = boxed ] && RUN_BOXED=1
	start_run host
	if wait_for "$BLOG" '^READY' 20; then
		line=$(grep '^WHO ' "$BLOG")
		u=${line#WHO USER=}
		u=${u%% ID=*}
		id=${line##* ID=}
		if [ -n "$u" ] && [ "$u" = "$id" ]; then
			ok "$mode run: \$USER is the worker's user ($id)"
		else
			not_ok "$mode run: $line"
			dump_logs
		fi
	else
		not_ok "$mode run: the worker did not start"
		dump_logs
	fi
	kill -TERM "$BERTH_PID" 2>/dev/null
	wait_run 30
done
done_testing
