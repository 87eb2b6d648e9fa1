#!/bin/sh
# SPDX-License-Identifier: MIT
# The cgroup tests on a pure cgroup v2 kernel.  Fetches Debian's kernel
# (linux-image-amd64, `apt-get download`, never installed) into a cache
# under the build directory, builds an initramfs of busybox, the built berth
# and test programs with the libraries they link, and tests/vm/init; boots
# it under KVM with cgroup_no_v1=all; prints the TAP the VM writes on its
# serial console.  Exit status: 0 all passed, 1 a failure (reported as
# TAP), 77 cannot run here (no qemu, no kernel package, ...: the reason on
# stdout).
#   TOP_BUILDDIR     the build directory (default: the source tree)
#   BERTH_VM_CACHE   the kernel cache (default: $TOP_BUILDDIR/tests/.cache/vm)
#   BERTH_VM_TIMEOUT seconds the VM may run (default: 240)
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${TOP_BUILDDIR:=$(cd "$here/../.." && pwd)}"
cache=${BERTH_VM_CACHE:-$TOP_BUILDDIR/tests/.cache/vm}
vm_timeout=${BERTH_VM_TIMEOUT:-240}
work=$cache/run
t_start=$(date +%s)

say() { echo "vm: $*" >&2; }
cannot() {
	echo "$*"
	say "cannot run: $*"
	exit 77
}
# A failure before the VM reported anything: one failing TAP line.
broken() {
	echo "1..1"
	echo "not ok 1 - cgroup v2 VM: $1"
	[ -n "${2:-}" ] && [ -f "$2" ] && tail -n 60 "$2" | tr -d '\r' | sed 's/^/# /'
	exit 1
}

# --- what it needs --------------------------------------------------------
for t in qemu-system-x86_64 apt-get apt-cache dpkg-deb python3 ldd timeout; do
	command -v $t >/dev/null 2>&1 || cannot "$t is missing (Debian packages: qemu-system-x86, busybox-static)"
done
# KVM needs /dev/kvm and hardware virtualisation.  A /dev/kvm backed by PVM
# (kvm_pvm, as in some cloud sandboxes) only runs kernels built as PVM
# guests: Debian's hangs at boot.  Without KVM, qemu's TCG emulator runs the
# same kernel, fast enough for these tests.  BERTH_VM_ACCEL=kvm|tcg overrides.
accel=${BERTH_VM_ACCEL:-}
if [ -z "$accel" ]; then
	if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
		grep -qwE 'vmx|svm' /proc/cpuinfo && [ ! -d /sys/module/kvm_pvm ]; then
		accel=kvm
	else
		accel=tcg
		say "no usable /dev/kvm with hardware virtualisation: using TCG"
	fi
fi
# TCG runs a host thread per CPU: one, not to slow the tests running beside.
[ "$accel" = kvm ] && smp=2 || smp=1
busybox=$(command -v busybox) || busybox=/bin/busybox
[ -x "$busybox" ] || cannot "busybox is missing (Debian package busybox-static)"
B=$TOP_BUILDDIR
progs="src/berth tests/helpers/test-child tests/helpers/run-driver tests/privileged/test-cgroup
	tests/privileged/test-cgroup-limits tests/privileged/test-spawn tests/privileged/test-stopguard
	tests/privileged/test-nsinit"
for p in $progs; do
	[ -x "$B/$p" ] || cannot "$B/$p is not built (make check builds it; Check is needed)"
done

# --- the kernel: Debian's, cached by package and version -------------------
mkdir -p "$cache" || broken "cannot create $cache"
resolve() {
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
	ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | awk '$1 == "Version:" { print $2; exit }')
}
resolve
if [ -z "$pkg" ] || [ -z "$ver" ]; then
	say "linux-image-amd64 unknown to apt: apt-get update"
	apt-get update -qq >&2
	resolve
fi
[ -n "$pkg" ] && [ -n "$ver" ] || cannot "apt cannot resolve linux-image-amd64 (apt-get update?)"
kernel=$cache/vmlinuz-$pkg-$ver
if [ ! -s "$kernel" ]; then
	say "fetching $pkg $ver"
	rm -rf "$cache/dl" && mkdir -p "$cache/dl/x" || broken "cannot create $cache/dl"
	if ! (cd "$cache/dl" && apt-get download -q "$pkg=$ver" >&2); then
		say "download failed: apt-get update, then once more"
		apt-get update -qq >&2
		resolve
		kernel=$cache/vmlinuz-$pkg-$ver
		(cd "$cache/dl" && apt-get download -q "$pkg=$ver" >&2) ||
			cannot "apt-get download $pkg=$ver failed"
	fi
	dpkg-deb --fsys-tarfile "$cache/dl/${pkg}_"*.deb |
		tar -x -C "$cache/dl/x" --wildcards './boot/vmlinuz-*' './boot/config-*' ||
		broken "cannot unpack ${pkg}.deb"
	grep -q '^CONFIG_SERIAL_8250_CONSOLE=y' "$cache/dl/x/boot/config-"* &&
		grep -q '^CONFIG_BLK_DEV_INITRD=y' "$cache/dl/x/boot/config-"* &&
		grep -q '^CONFIG_MEMCG=y' "$cache/dl/x/boot/config-"* ||
		broken "$pkg: the serial console, initramfs or memcg is not built in"
	rm -f "$cache"/vmlinuz-*
	mv "$cache/dl/x/boot/vmlinuz-"* "$kernel" || broken "no vmlinuz in $pkg"
	rm -rf "$cache/dl"
fi
say "kernel $pkg $ver ($(($(date +%s) - t_start)) s)"

# --- the initramfs ----------------------------------------------------------
rm -rf "$work" && mkdir -p "$work/root/berth" "$work/root/bin" || broken "cannot create $work"
root=$work/root
copy_libs() { # BINARY: the libraries it links and the loader, at their paths
	ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3; next }
		$1 ~ /^\// { print $1 }' | while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib" || exit 1
	done
}
cp "$busybox" "$root/bin/busybox" && copy_libs "$busybox" || broken "cannot copy busybox"
# The worker's /bin/sh as on a Debian host: dash (busybox's sh exports SHLVL).
dash=$(command -v dash) || cannot "dash is missing (Debian package dash)"
cp "$dash" "$root/bin/dash" && copy_libs "$dash" || broken "cannot copy dash"
for p in $progs; do
	cp "$B/$p" "$root/berth/" && copy_libs "$B/$p" || broken "cannot copy $p and its libraries"
done
cp "$here/init" "$root/init" && chmod 755 "$root/init" &&
	cp "$here/stop.sh" "$here/limits.sh" "$here/dead.sh" "$root/berth/" ||
	broken "cannot copy tests/vm/init"
# Check run in one process (CK_FORK=no) leaks a little of its own memory
# (allocated by its emalloc): not berth's, so not LeakSanitizer's business.
echo "leak:emalloc" >"$root/berth/lsan.supp"
LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=/berth/lsan.supp"
{
	echo "export BERTH_VM=1"
	for v in BERTH_STRICT ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
		eval "val=\${$v-}"
		[ -n "$val" ] && printf "export %s='%s'\n" "$v" "$val"
	done
} >"$root/berth/env"
python3 "$here/mkcpio.py" "$root" "$work/initramfs.cpio" || broken "cannot write the initramfs"
say "initramfs $(($(wc -c <"$work/initramfs.cpio") / 1048576)) MiB ($(($(date +%s) - t_start)) s)"

# --- boot -------------------------------------------------------------------
console=$work/console.log
t_boot=$(date +%s)
timeout -k 5 "$vm_timeout" qemu-system-x86_64 -accel "$accel" -smp "$smp" -m 512 \
	-nodefaults -no-user-config -display none -monitor none -serial "file:$console" \
	-kernel "$kernel" -initrd "$work/initramfs.cpio" -no-reboot \
	-append "console=ttyS0 cgroup_no_v1=all quiet panic=-1 oops=panic" >&2
qrc=$?
say "VM ($accel) ran $(($(date +%s) - t_boot)) s (qemu exit status $qrc), $(($(date +%s) - t_start)) s in all"
[ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ] && timed_out=1 || timed_out=0

tr -d '\r' <"$console" >"$work/console.txt"
if ! grep -qx 'BERTH-VM-TAP-BEGIN' "$work/console.txt"; then
	[ "$timed_out" = 1 ] && broken "the VM did not report within ${vm_timeout}s" "$work/console.txt"
	broken "the VM did not boot or run its tests (qemu exit status $qrc)" "$work/console.txt"
fi
sed -n '/^BERTH-VM-TAP-BEGIN$/,/^BERTH-VM-TAP-END$/p' "$work/console.txt" | sed '1d;/^BERTH-VM-TAP-END$/d' >"$work/tap"
if ! grep -qx 'BERTH-VM-TAP-END' "$work/console.txt"; then
	# Cut short: what ran is reported, then one failure and no plan yet.
	n=$(grep -Ec '^(not )?ok ' "$work/tap")
	grep -v '^1\.\.' "$work/tap"
	echo "not ok $((n + 1)) - cgroup v2 VM: $([ "$timed_out" = 1 ] && echo "timed out after ${vm_timeout}s" ||
		echo "stopped before the end (qemu exit status $qrc)")"
	sed -n '/^BERTH-VM-TAP-BEGIN$/,$p' "$work/console.txt" | grep -Ev '^(not )?ok |^1\.\.' |
		tail -n 40 | sed 's/^/# /'
	echo "1..$((n + 1))"
	exit 1
fi
echo "# cgroup v2 VM: $pkg $ver, $accel, $(($(date +%s) - t_start)) s in all"
cat "$work/tap"
# Every "not ok" fails, a TODO one too (nothing here is expected to fail).
grep -q '^not ok ' "$work/tap" && exit 1
exit 0
