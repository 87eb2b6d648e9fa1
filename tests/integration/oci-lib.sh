# SPDX-License-Identifier: MIT
# Helpers of the OCI runtime tests (oci-crun.sh, oci-runc.sh, oci-podman.sh),
# sourced after lib.sh: process and cgroup probes, nftables through
# libnftables, and what a test may leave behind (loop devices, mounts).

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
