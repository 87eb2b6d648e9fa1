# SPDX-License-Identifier: MIT
# Helpers of the OCI runtime tests (oci-crun.sh, oci-runc.sh,
# oci-prestart.sh, oci-podman.sh), sourced after lib.sh: the runtime and a
# busybox root filesystem, the runtime run by hand, process and cgroup
# probes, nftables through libnftables, and what a test may leave behind
# (loop devices, mounts).

# RT, the runtime ($OCI_RUNTIME, else crun), and BUSYBOX, a static
# busybox for the containers' root filesystems; else the test is skipped.
oci_require() {
	RT=${OCI_RUNTIME:-crun}
	command -v "$RT" >/dev/null || skip_all "$RT is not installed (apt-get install $RT)"
	BUSYBOX=$(command -v busybox || true)
	if [ -z "$BUSYBOX" ] || ! file -L "$BUSYBOX" 2>/dev/null | grep -q static; then
		[ -x /bin/busybox ] && ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' &&
			BUSYBOX=/bin/busybox || skip_all "no static busybox (apt-get install busybox-static)"
	fi
}
oci_rootfs() { # DIR CMD...: a root filesystem of busybox, each CMD a link to it
	_root=$1
	shift
	mkdir -p "$_root/bin" "$_root/proc" "$_root/dev" "$_root/sys" "$_root/tmp"
	cp "$BUSYBOX" "$_root/bin/busybox"
	for _c in "$@"; do
		ln -sf busybox "$_root/bin/$_c"
	done
}
# crunx ARGS...: $RT --root $CRUNROOT ARGS....  crun 1.8 refuses a hybrid
# host whose cgroup2 mount carries controllers: each runtime command runs
# in a private mount namespace with that mount hidden (runc is run the
# same way, so both see a v1 host).
crunx() {
	unshare -m sh -c '
		mount --make-rprivate /
		if mountpoint -q /sys/fs/cgroup/unified; then
			mount -t tmpfs none /sys/fs/cgroup/unified
		fi
		rt=$1 r=$2; shift 2; exec "$rt" --root "$r" "$@"' sh "$RT" "$CRUNROOT" "$@"
}
crun_cleanup() { # the containers in $IDS killed and deleted, then lib.sh's cleanup
	for id in $IDS; do
		crunx kill "$id" KILL >/dev/null 2>&1
		crunx delete -f "$id" >/dev/null 2>&1
	done
	cleanup
}

# Running (a zombie is gone: the host's init reaps the container's init late).
alive() { _s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null); [ -n "$_s" ] && [ "$_s" != Z ]; }
cg_file() { # PID CONTROLLER FILE: the value in its v1 hierarchy, else v2
	_p=$(grep -E "^[0-9]+:([^:]*,)?$2(,[^:]*)?:" "/proc/$1/cgroup" | cut -d: -f3)
	if [ -n "$_p" ] && [ -r "/sys/fs/cgroup/$2$_p/$3" ]; then
		cat "/sys/fs/cgroup/$2$_p/$3"
	else
		cat "/sys/fs/cgroup$(grep '^0::' "/proc/$1/cgroup" | cut -d: -f3)/$4"
	fi
}
# nft through libnftables (tests/helpers/net-driver): no nft binary needed.
NETD=${TOP_BUILDDIR:?run through make check}/tests/helpers/net-driver
nftx() { "$NETD" --nft "$1" "$2"; }
# Loop devices backed by a file of this test, and this test's mounts in the
# host's mount table (the containers' namespaces are gone: none may be left).
our_loops() { grep -l "$TMP" /sys/block/loop*/loop/backing_file 2>/dev/null | wc -l; }
our_mounts() { grep -c "$TMP" /proc/self/mountinfo; }
nothing_left() { # DESC: within 5 s, no loop device and no mount of ours
	_i=0
	while { [ "$(our_loops)" != 0 ] || [ "$(our_mounts)" != 0 ]; } && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	is "$(our_loops) loop(s), $(our_mounts) mount(s)" "0 loop(s), 0 mount(s)" "$1"
}
# The worker's storage as it printed it: ext4 on a loop device, about `disk`
# (64 MB) large, ENOSPC past it.
check_bound() { # PREFIX OUTPUT
	check "$1: the storage is ext4 on a loop device" grep -Eq '^MOUNT .* - ext4 /dev/loop[0-9]+ ' "$2"
	_b=$(sed -n 's/^STATFS \([0-9][0-9]*\) \([0-9][0-9]*\)$/\1 * \2/p' "$2" | head -1)
	[ -n "$_b" ] && _b=$(($_b))
	if [ -n "$_b" ] && [ "$_b" -gt 50000000 ] && [ "$_b" -le 64000000 ]; then
		ok "$1: its size is the disk's 64 MB ($_b bytes)"
	else
		not_ok "$1: its size is the disk's 64 MB (${_b:-?} bytes)"
		diag "$(grep -E '^(MOUNT|STATFS)' "$2")"
	fi
	check "$1: writing 80 MB fails with ENOSPC" grep -q '^FILL .*No space left on device' "$2"
}
