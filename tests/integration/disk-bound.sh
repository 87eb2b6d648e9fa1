#!/bin/sh
# SPDX-License-Identifier: MIT
# `disk` through the real binary (berth exec): a shrinking disk keeps the
# data when it fits (the image and the file system shrink) and refuses to
# start when it does not (the data untouched); where the disk cannot be
# bounded (no loop devices: a mount namespace of the test's own with
# /dev/loop-control read-only) berth warns and runs, but refuses with
# --require-disk-quota, BERTH_REQUIRE_DISK_QUOTA=1 (exec and run) and
# writes berth.require-disk-quota for `berth spec --require-disk-quota`.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
[ -w /dev/loop-control ] && [ -x /sbin/mkfs.ext4 ] ||
	skip_all "needs loop devices and e2fsprogs"

STORE=$TMP/storage
app_with_disk() { # MB
	cat >"$APP/.platform.app.yaml" <<EOF
name: app
type: "python:3.11"
disk: $1
mounts:
  data: {source: local, source_path: d}
workers:
  test:
    commands:
      start: sleep 1000
EOF
}
bexec() {
	"$BERTH" -f "$APP/.platform.app.yaml" exec --storage-root "$STORE" --user 0 \
		test -- "$@" 2>"$BLOG"
}
img() { find "$STORE" -name disk.img | head -n 1; }
img_bytes() { stat -c %s "$(img)"; }
loops() { grep -l "$TMP" /sys/block/loop*/loop/backing_file 2>/dev/null; }

# --- shrinking ---------------------------------------------------------------
app_with_disk 64
bexec sh -c 'dd if=/dev/zero of=data/big bs=1M count=30 2>/dev/null && sync && echo kept > data/small'
is "$?" 0 "64 MB: 30 MB written"
big=$(img_bytes)
app_with_disk 16
bexec true
rc=$?
check "shrunk to 16 MB with 30 MB of data: refused (status $rc)" test "$rc" -ne 0
check "it says the data does not fit" grep -q 'cannot shrink the disk to .*does the data fit' "$BLOG"
is "$(img_bytes)" "$big" "the image keeps its size"
app_with_disk 64
is "$(bexec cat data/small)" kept "the data is untouched (64 MB again)"
bexec rm data/big
app_with_disk 16
out=$(bexec sh -c 'cat data/small; stat -f -c "%b %S" data')
rc=$?
is "$rc" 0 "shrunk to 16 MB once the data fits: runs"
blocks=$(echo "$out" | sed -n 2p)
kb=$(($(echo "$blocks" | awk '{ print $1 * $2 }') / 1024))
check "its file system is about 16 MB ($kb KiB)" test "$kb" -gt 8000 -a "$kb" -le 16000
is "$(echo "$out" | head -n 1)" kept "and the data is kept"
check "the image shrank to 16 MB or less ($(img_bytes) bytes)" test "$(img_bytes)" -le 16000000
check "the resize was logged" grep -q 'disk image resized from' "$BLOG"

# --- no loop devices: the bound cannot be enforced ---------------------------
# In a mount namespace of its own, /dev/loop-control is a read-only empty
# file: this namespace has no usable loop devices, the host is untouched.
: >"$TMP/no-loop"
noloop() {
	unshare --mount --propagation private sh -c '
		mount --bind "$1" /dev/loop-control && mount -o remount,bind,ro /dev/loop-control &&
		shift && exec "$@"' sh "$TMP/no-loop" "$@"
}
STORE=$TMP/storage2
app_with_disk 16
noloop "$BERTH" -f "$APP/.platform.app.yaml" exec --storage-root "$STORE" --user 0 test -- \
	sh -c 'echo ran' >"$TMP/out" 2>"$BLOG"
rc=$?
check "no loop devices: exec runs (status $rc) without the bound" \
	sh -c "[ $rc = 0 ] && grep -qx ran '$TMP/out'"
check "and warns that the disk is not bounded" \
	grep -q 'disk: cannot bound local storage to 16 MB (no loop devices' "$BLOG"
noloop "$BERTH" -f "$APP/.platform.app.yaml" exec --storage-root "$STORE" --user 0 \
	--require-disk-quota test -- sh -c 'echo ran' >"$TMP/out" 2>"$BLOG"
rc=$?
check "exec --require-disk-quota: refused (status $rc), nothing run" \
	sh -c "[ $rc -ne 0 ] && ! grep -q ran '$TMP/out'"
check "exec --require-disk-quota: says why" \
	grep -q 'cannot bound local storage to 16 MB (no loop devices.*--require-disk-quota is set' "$BLOG"
BERTH_REQUIRE_DISK_QUOTA=1 noloop "$BERTH" -f "$APP/.platform.app.yaml" exec \
	--storage-root "$STORE" --user 0 test -- sh -c 'echo ran' >"$TMP/out" 2>"$BLOG"
rc=$?
check "exec, BERTH_REQUIRE_DISK_QUOTA=1: refused (status $rc), nothing run" \
	sh -c "[ $rc -ne 0 ] && ! grep -q ran '$TMP/out'"
for how in option env; do
	: >"$CLOG"
	write_app "$TEST_CHILD --log $CLOG start exit 0"
	app_with_disk 16
	sed -i "s|start: sleep 1000|start: $TEST_CHILD --log $CLOG start exit 0|" \
		"$APP/.platform.app.yaml"
	if [ $how = option ]; then
		noloop "$BERTH" -f "$APP/.platform.app.yaml" run --storage-root "$STORE" \
			--require-disk-quota --max-restarts 0 test >"$BLOG" 2>&1 </dev/null
	else
		BERTH_REQUIRE_DISK_QUOTA=1 noloop "$BERTH" -f "$APP/.platform.app.yaml" run \
			--storage-root "$STORE" --max-restarts 0 test >"$BLOG" 2>&1 </dev/null
	fi
	rc=$?
	is "$rc" 125 "run, require the quota ($how): a setup failure (125)"
	check "run ($how): says why, started nothing" sh -c \
		"grep -q -- '--require-disk-quota is set' '$BLOG' && ! grep -q '^START' '$CLOG'"
done

# berth spec: the requirement goes to the hook, as an annotation
"$BERTH" -q -f "$APP/.platform.app.yaml" spec test --rootfs "$TMP" --storage-root "$STORE" \
	--require-disk-quota --no-prepare -o "$TMP/config.json" 2>"$BLOG"
check "spec --require-disk-quota: berth.require-disk-quota is 1 in config.json" python3 -c '
import json, sys
assert json.load(open(sys.argv[1]))["annotations"]["berth.require-disk-quota"] == "1"' \
	"$TMP/config.json"
"$BERTH" -q -f "$APP/.platform.app.yaml" spec test --rootfs "$TMP" --storage-root "$STORE" \
	--no-prepare -o "$TMP/config2.json" 2>"$BLOG"
check "spec without it: no such annotation" python3 -c '
import json, sys
assert "berth.require-disk-quota" not in json.load(open(sys.argv[1]))["annotations"]' \
	"$TMP/config2.json"

i=0
while [ -n "$(loops)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
is "$(loops)" "" "no loop device left"
done_testing
