#!/bin/sh
# SPDX-License-Identifier: MIT
# Build the libFuzzer target tests/fuzz/fuzz-config.c (clang, ASan+UBSan)
# with the library sources listed in Makefile.am's src_*_a_SOURCES lists,
# and run it for SECONDS (default 60) over a seed corpus of the YAML files
# under tests/data.  Exits non-zero on any crash, leak, UB or timeout.
#
#   tests/fuzz/run.sh [SECONDS]
#
# Works from any directory: the sources are found next to this script;
# config.h is taken from $BUILD_DIR, else the current directory, else the
# source tree (configure must have run).  Work files go to $FUZZ_WORKDIR
# (default BUILD_DIR/fuzz-work); a crash leaves its input there.
# FUZZ_SOURCES (space-separated, relative to the source tree) overrides the
# source list; FUZZ_CC the compiler.
set -eu

secs=${1:-60}
case $secs in
'' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-}
if [ -z "$build" ]; then
	if [ -f ./config.h ]; then build=$(pwd); else build=$src; fi
fi
if [ ! -f "$build/config.h" ]; then
	echo "$0: no config.h in $build: run configure first, or set BUILD_DIR" >&2
	exit 2
fi
CC=${FUZZ_CC:-clang}
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "$0: $CC not found (the fuzz target needs clang with libFuzzer)" >&2
	exit 2
fi
work=${FUZZ_WORKDIR:-$build/fuzz-work}

# The library C sources, from every `src_*_a_SOURCES =`/`+=` block.
sources=${FUZZ_SOURCES:-}
[ -n "$sources" ] || sources=$(awk '
	/^src_[a-z_]*_a_SOURCES[ \t]*\+?=/ { on = 1; sub(/^[^=]*=/, "") }
	on {
		line = $0
		more = (line ~ /\\[ \t]*$/)
		gsub(/\\/, " ", line)
		n = split(line, w, /[ \t]+/)
		for (i = 1; i <= n; i++)
			if (w[i] ~ /\.c$/) print w[i]
		if (!more) on = 0
	}' "$src/Makefile.am")
if [ -z "$sources" ]; then
	echo "$0: no sources found in $src/Makefile.am" >&2
	exit 2
fi

defs="-DFUZZ_INCLUDE_DIR=\"$src/tests/data/yaml/include\""
if echo "$sources" | tr ' ' '\n' | grep -qx 'src/config/app.c' && grep -q 'app_load_buffer' "$src/src/config/app.h"; then
	defs="$defs -DFUZZ_APP"
	echo "fuzz: yamltree + app_load_buffer/app_resolve"
else
	echo "fuzz: yamltree only (src/config/app.c has no app_load_buffer)"
fi

deps=$(pkg-config --cflags yaml-0.1 jansson libseccomp libcap libnftables)
libs=$(pkg-config --libs yaml-0.1 jansson libseccomp libcap libnftables)
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
incs=$(for d in "$src"/src/*/; do printf ' -I%s' "${d%/}"; done)
cflags="-std=gnu11 -g -O1 $san -I$build -I$src/src $incs $deps"

rm -rf "$work/obj"
mkdir -p "$work/obj" "$work/corpus" "$work/seeds"
for f in $sources; do
	o=$work/obj/$(echo "$f" | tr '/' '_').o
	# shellcheck disable=SC2086
	$CC $cflags -fsanitize=fuzzer-no-link -c "$src/$f" -o "$o"
done
ar rcs "$work/libfuzz.a" "$work"/obj/*.o
# shellcheck disable=SC2086
$CC $cflags $defs -fsanitize=fuzzer "$src/tests/fuzz/fuzz-config.c" "$work/libfuzz.a" $libs \
	-o "$work/fuzz-config"

# Seeds: every YAML file of the test data (fresh copy each run).
rm -rf "$work/seeds"
mkdir -p "$work/seeds"
find "$src/tests/data" -type f \( -name '*.yaml' -o -name '*.yml' \) | while read -r f; do
	cp "$f" "$work/seeds/$(echo "${f#"$src"/tests/data/}" | tr '/' '_')"
done

cd "$work"
echo "fuzz: running for $secs s (corpus $work/corpus, seeds $(ls seeds | wc -l))"
exec ./fuzz-config -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-dict="$src/tests/fuzz/yaml.dict" -artifact_prefix="$work/" corpus seeds
