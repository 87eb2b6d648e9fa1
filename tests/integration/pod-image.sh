# SPDX-License-Identifier: MIT
# An image for berth in pod mode, for pod-mode.sh and kube-play.sh, from
# a root filesystem made of the host's files, nothing pulled.  Sourced
# after podman-lib.sh.
#   pod_rootfs DIR APPLETS...  busybox-static with these applets, berth (at
#                    /usr/local/bin, on PATH) and the libraries it links,
#                    root and nobody (65534), a /tmp anyone may write
#   pod_image DIR IMAGE        podman import of DIR as IMAGE, with PATH
# Skips the test (skip_all) without a static busybox.
BUSYBOX=$(command -v busybox || echo /bin/busybox)
[ -x "$BUSYBOX" ] && ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic' ||
	skip_all "no static busybox (apt-get install busybox-static)"
pod_rootfs() {
	_r=$1
	shift
	mkdir -p "$_r/bin" "$_r/usr/local/bin" "$_r/etc" "$_r/proc" "$_r/sys" "$_r/dev" "$_r/tmp" \
		"$_r/run" "$_r/app" || return 1
	chmod 1777 "$_r/tmp" # writable for the worker without --read-only
	cp "$BUSYBOX" "$_r/bin/busybox" || return 1
	for _c in "$@"; do
		ln -s busybox "$_r/bin/$_c" || return 1
	done
	cp "$BERTH" "$_r/usr/local/bin/berth" || return 1
	ldd "$BERTH" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3; next }
		$1 ~ /^\// { print $1 }' | while read -r _l; do
		mkdir -p "$_r$(dirname "$_l")" && cp -L "$_l" "$_r$_l" || exit 1
	done || return 1
	printf 'root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n' >"$_r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$_r/etc/group"
}
pod_image() {
	tar -C "$1" -cf "$1.tar" . &&
		pm import --change 'ENV PATH=/usr/local/bin:/bin' "$1.tar" "$2" >/dev/null 2>"$BLOG"
}
