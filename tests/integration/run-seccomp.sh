#!/bin/sh
# SPDX-License-Identifier: MIT
# The syscall filter of a worker started by the real `berth run`, by hand
# and as PID 1: the probe (tests/helpers/seccomp-probe, copied into the
# app) makes each call below with arguments the kernel rejects, and each
# must come back with the filter's errno.  The list and its errnos are
# written here, from doc/isolation.md, not taken from berth's own table, so
# a rule lost from the table is caught.  Control: the same probe, as nobody
# without the filter, gets another answer for every call of the list (a
# call whose unfiltered answer is EPERM anyway, such as reboot, proves
# nothing here and is not listed).
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
RUN_BOXED=1

# NAME ERRNO: 1 EPERM, 38 ENOSYS (where libc or a runtime falls back)
WANT='ptrace 1
process_vm_readv 1
process_vm_writev 1
process_madvise 1
kcmp 1
pidfd_getfd 1
bpf 1
perf_event_open 1
userfaultfd 1
keyctl 1
add_key 1
request_key 1
unshare 1
setns 1
mount 1
umount2 1
chroot 1
fsconfig 1
open_tree 1
mount_setattr 1
listen 1
accept 1
accept4 1
kexec_load 1
init_module 1
finit_module 1
delete_module 1
swapon 1
quotactl 1
io_uring_setup 38
io_uring_enter 38
io_uring_register 38
clone3 38'

sysnr() { printf '#include <sys/syscall.h>\nSYS_%s\n' "$1" | cc -E -P - | tail -n 1; }
SPECS=
for name in $(echo "$WANT" | awk '{print $1}'); do
	n=$(sysnr "$name")
	case $n in
	*[!0-9]* | '') skip_all "no syscall number for $name here" ;;
	esac
	SPECS="$SPECS $name=$n"
done
install -m 0755 "$TOP_BUILDDIR/tests/helpers/seccomp-probe" "$APP/seccomp-probe"

# answer FILE NAME: the errno the probe printed for NAME ("NAME=NR ERRNO").
answer() { sed -n "s/^\(PROBE \)\{0,1\}$2=[0-9]* \([0-9]*\)$/\2/p" "$1" | head -n 1; }

# control: unfiltered, as the worker's user
setpriv --reuid=65534 --regid=65534 --clear-groups "$APP/seccomp-probe" $SPECS >"$TMP/control" 2>&1
echo "$WANT" | while read -r name errno; do
	[ "$(answer "$TMP/control" "$name")" != "$errno" ] || echo "$name"
done >"$TMP/same"
is "$(tr '\n' ' ' <"$TMP/same")" "" "control: unfiltered, no listed call gets the filter's errno"

write_app "./seccomp-probe $SPECS | sed 's/^/PROBE /'
echo READY
exec sleep 1000"
for mode in host pid1; do
	start_run "$mode" --network none
	if ! wait_for "$BLOG" '^READY' 20; then
		not_ok "$mode: the worker did not start"
		dump_logs
	fi
	echo "$WANT" | while read -r name errno; do
		got=$(answer "$BLOG" "$name")
		if [ "$got" = "$errno" ]; then
			echo "ok - $mode: $name fails with errno $errno"
		else
			echo "not ok - $mode: $name fails with errno $errno (got '$got')"
		fi
	done >"$TMP/results"
	while read -r res; do
		case $res in
		ok*) ok "${res#ok - }" ;;
		*) not_ok "${res#not ok - }" ;;
		esac
	done <"$TMP/results"
	kill -TERM "$BERTH_PID"
	wait_run 30
	is "$RUN_RC" 0 "$mode: stopped, exit 0"
done
done_testing
