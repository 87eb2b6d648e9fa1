# SPDX-License-Identifier: MIT
# podman private to the test, for oci-podman.sh, container-image.sh and
# systemd-run.sh.  Sourced after lib.sh with:
#   RT        the OCI runtime (crun, podman's default, or runc)
#   CGPARENT  the containers' parent cgroup (podman makes it, and conmon's
#             beside the containers' in it, in every v1 hierarchy): the
#             test's, removed at exit
#   PM_ARGS   more global options of podman (words), if any
# Defines PM (the state directory, in $TMP), pm (podman with that state),
# pm_logged (until a line of a container's log matches), host_state
# (what podman would leave on the host if its state were not
# private), drop_blob_cache, our_mounts, podman_cleanup (the EXIT trap it
# sets: containers, images, cgroups, mounts beneath $TMP, then cleanup).
PM=$TMP/podman
mkdir -p "$PM/rt" "$PM/state" "$PM/tmp"

# podman runs its OCI runtime through a wrapper of that name (podman
# treats it by its name), which keeps the runtime's state in this test's
# directory (--root; not /run/crun) and runs it in a private mount
# namespace with the host's cgroup2 mount hidden, as oci-lib.sh's crunx()
# does: on a hybrid host (v1 controllers, a cgroup2 at
# /sys/fs/cgroup/unified, which carries hugetlb on the test VM) crun 1.8
# refuses every container ("cgroups in hybrid mode not supported, drop all
# controllers from cgroupv2"); hidden, it sees a v1 host.  podman itself,
# with cgroupfs, only uses the v1 hierarchies.  runc 1.1 handles the
# hybrid host itself and passes with or without the hiding
# (OCI_RUNTIME=runc).  Only the runtime's commands are wrapped: conmon and
# the container's cleanup stay in the host's namespace.
cat >"$PM/rt/$RT" <<EOF
#!/bin/sh
exec unshare -m sh -c '
	mount --make-rprivate /
	if mountpoint -q /sys/fs/cgroup/unified; then
		mount -t tmpfs none /sys/fs/cgroup/unified
	fi
	exec "$RT" --root "$PM/state" "\$@"' sh "\$@"
EOF
chmod +x "$PM/rt/$RT"
# podman's configuration, none of the host's: locks in files under its
# tmp_dir (not /dev/shm/libpod_lock), networks (CNI's lock) in $PM, no
# network at all (so no bridge, no firewall rule in the host's namespace),
# a private ipc namespace (no /dev/shm mount on the host), and rlimits any
# root may set (podman's defaults for root raise RLIMIT_NOFILE and
# RLIMIT_NPROC above the hard limits, which needs CAP_SYS_RESOURCE: crun
# fails with EPERM where root lacks it, as on the test VM).  The exit
# command conmon runs (podman container cleanup) gets CONTAINERS_CONF and
# the global flags.
cat >"$PM/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"
ipcns = "private"
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
lock_type = "file"
tmp_dir = "$PM/tmp"
static_dir = "$PM/static"
volume_path = "$PM/volumes"
[network]
network_config_dir = "$PM/net"
EOF
# TMPDIR: podman build's scratch directories (else in /var/tmp).
pm() {
	# shellcheck disable=SC2086 # PM_ARGS is words
	TMPDIR=$PM/tmp CONTAINERS_CONF=$PM/containers.conf podman --root "$PM/root" \
		--runroot "$PM/runroot" --storage-driver vfs --runtime "$PM/rt/$RT" ${PM_ARGS:-} "$@"
}
# What podman would leave on the host if its state were not private.
host_state() {
	for _f in /dev/shm/libpod_lock /run/libpod /run/containers /var/lib/containers \
		/etc/cni/net.d/cni.lock /var/lib/cni /sys/class/net/cni-podman0 /sys/class/net/podman0; do
		[ -e "$_f" ] && echo "$_f"
	done
}
host_state_before=$(host_state)
# podman build and import keep a blob cache at a fixed path when root,
# whatever --root says (/var/lib/containers/cache): created by the test
# when it was not there, so removed by it.
drop_blob_cache() {
	case $host_state_before in
	*/var/lib/containers*) ;;
	*) rm -rf /var/lib/containers ;;
	esac
}
# pm_logged CTR PATTERN [SECONDS]: until a line of CTR's log matches
# PATTERN (grep), at most SECONDS (default 10); the log in $OUT.  Fails,
# with the log's tail as a diag, when none does.
pm_logged() {
	_tries=$((${3:-10} * 5))
	_i=0
	while :; do
		pm logs "$1" >"$OUT" 2>&1
		grep -q "$2" "$OUT" && return 0
		_i=$((_i + 1))
		[ $_i -gt $_tries ] && { diag "$(tail -5 "$OUT")"; return 1; }
		sleep 0.2
	done
}
our_mounts() { grep -c " $TMP" /proc/self/mountinfo; }
podman_cleanup() {
	pm rm -a -f -t 0 >/dev/null 2>&1
	pm rmi -a -f >/dev/null 2>&1
	drop_blob_cache
	# podman's cgroups in each hierarchy: the containers' (gone with them)
	# and conmon's, beneath the test's parent.
	for _h in /sys/fs/cgroup/*/"$CGPARENT"; do
		[ -d "$_h" ] && find "$_h" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	# Nothing of the test may stay mounted beneath $TMP before it goes.
	grep " $TMP" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r _m; do
		umount -l "$_m"
	done
	cleanup
}
trap podman_cleanup EXIT
