#!/bin/sh
# SPDX-License-Identifier: MIT
# `berth exec` through the real binary: the command runs once in the
# worker's view (user, the new root with the app read-only even for root,
# local storage on its disk image, a private /tmp of its own), with
# berth's stdin, and berth exits with its status; the host's mount table is
# unchanged and no loop device is left.
. "$TOP_SRCDIR/tests/integration/lib.sh"

require_root
[ -w /dev/loop-control ] && [ -x /sbin/mkfs.ext4 ] ||
	skip_all "needs loop devices and e2fsprogs"

cat >"$APP/.platform.app.yaml" <<'EOF'
name: app
type: "python:3.11"
disk: 16
mounts:
  data: {source: local, source_path: d}
  var/cache: {source: tmp, source_path: c}
workers:
  test:
    commands:
      start: sleep 1000
EOF
STORE=$TMP/storage
ours() { grep -e "$TMP" -e /dev/loop /proc/self/mountinfo; }
loops() { grep -l "$TMP" /sys/block/loop*/loop/backing_file 2>/dev/null; }
before=$(ours)

bexec() {
	"$BERTH" -f "$APP/.platform.app.yaml" exec --storage-root "$STORE" --user nobody \
		test -- "$@" 2>"$BLOG"
}

out=$(bexec sh -c 'id -u; pwd; echo hi > data/f; cat data/f; echo t > /tmp/t; echo c > var/cache/x')
is "$?" 0 "exec: exit status 0"
is "$(echo "$out" | tr '\n' ' ')" "65534 $APP hi " "exec: as nobody, in the app root, storage writable"
check "exec: the missing mount point var/cache was made in the app tree" test -d "$APP/var/cache"

out=$(bexec sh -c 'cat data/f; ls -A /tmp; ls -A var/cache')
is "$(echo "$out" | tr '\n' ' ')" "hi $(basename "$TMP") c " \
	"exec: storage kept, /tmp and tmp mounts emptied"

# as root, so that only the mount can refuse: EROFS
bexec_root() {
	"$BERTH" -f "$APP/.platform.app.yaml" exec --storage-root "$STORE" --user 0 \
		test -- "$@" 2>"$BLOG"
}
for p in ./x /usr/x /etc/x /x; do
	bexec_root sh -c "echo x > $p"
	rc=$?
	check "exec --user 0: $p is read-only (status $rc)" grep -q "Read-only file system" "$BLOG"
done
check "exec: nothing written in the app root" test ! -e "$APP/x"
out=$(bexec_root sh -c 'echo y > /tmp/root-f && cat /tmp/root-f')
is "$out" y "exec --user 0: /tmp is writable"
out=$(bexec sh -c 'ls -A /tmp; ls -d /work /root /home /var/lib 2>/dev/null; ls /var')
is "$(echo "$out" | tr '\n' ' ')" "$(basename "$TMP") c tmp " \
	"exec: /tmp is the exec's own, the host's tree is not there"

bexec sh -c 'exit 7'
is "$?" 7 "exec: berth exits with the command's status"

out=$(echo abc | bexec cat)
is "$out" abc "exec: berth's stdin reaches the command"

bexec sh -c 'dd if=/dev/zero of=data/big bs=1M count=32'
rc=$?
check "exec: writes past disk fail (status $rc)" test "$rc" -ne 0
check "exec: ENOSPC reported" grep -q "No space left" "$BLOG"

"$BERTH" -f "$APP/.platform.app.yaml" exec --storage-root "$STORE" nosuch -- true 2>/dev/null
is "$?" 2 "exec: unknown worker: exit 2"

rm -rf "$APP/data" && ln -s /etc "$APP/data"
bexec true
rc=$?
check "exec: a mount point replaced by a symlink is refused (status $rc)" test "$rc" -ne 0
check "exec: it says so" grep -q "symlink" "$BLOG"

is "$(ours)" "$before" "the host's mount table is unchanged"
i=0
while [ -n "$(loops)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
is "$(loops)" "" "no loop device left"
done_testing
