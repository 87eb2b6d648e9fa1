#!/bin/sh
# SPDX-License-Identifier: MIT
# The module graph of src/ is layered and has no circle, and HACKING.md's
# folder map is the one the includes draw.  Prints TAP.
#
# A module is one .c file of a folder under src/.  Module A uses module B
# when A's object file calls a function (or reads a variable) that B's
# object file defines (nm over the built objects: the calls the compiler
# saw, not a guess from the text), or when A's files include B's own
# header: foo.h whose functions are all foo.c's.  A header with no .c of
# its name (foo-internal.h, the types of model.h and cnode.h) or one that
# declares the functions of several files (net.h) is no single module's:
# including it makes no edge, the calls through it do.  Two checks:
#   1. no circle: no two modules each use the other, and no longer loop;
#   2. no upward use: a folder includes headers of and calls only its own
#      and lower folders, in the order of Makefile.am's include paths
#      (basic < config < env < cgroup < net < box < run < oci < kube < src;
#      kube/ is beside run/ and oci/ in the include paths, above them here),
#      and no other folder's foo-internal.h.
# The program in src/ itself is left out of check 1 (its commands are
# one layer); its circles are listed as notes.
# Usage: tests/include-graph.sh [BUILD_DIR]   (default $TOP_BUILDDIR)
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${TOP_BUILDDIR:-}}
echo "1..3"
if [ -z "$build" ] || ! ls "$build"/src/*/*.o > /dev/null 2>&1 || ! command -v nm > /dev/null ||
	! command -v python3 > /dev/null; then
	why="no built objects in '${build:-?}/src' (make first), nm or python3"
	if [ "${BERTH_STRICT:-0}" = 1 ]; then
		echo "not ok 1 - no circle ($why; BERTH_STRICT=1 forbids skipping)"
		echo "not ok 2 - no upward use ($why)"
		echo "not ok 3 - HACKING.md's folder map ($why)"
	else
		echo "ok 1 - no circle # SKIP $why"
		echo "ok 2 - no upward use # SKIP $why"
		echo "ok 3 - HACKING.md's folder map # SKIP $why"
	fi
	exit 0
fi
exec python3 - "$top" "$build" << 'PY'
import collections, glob, os, re, subprocess, sys

top, build = sys.argv[1], sys.argv[2]
FLOORS = ["basic", "config", "env", "cgroup", "net", "box", "run", "oci", "kube", ""]

def floor_of(path):  # path relative to src/
    d = os.path.dirname(path)
    return FLOORS.index(d) if d in FLOORS else None

sources = sorted(os.path.relpath(p, top + "/src") for p in
                 glob.glob(top + "/src/*.[ch]") + glob.glob(top + "/src/*/*.[ch]"))
stem = lambda p: os.path.splitext(p)[0]
modules = {stem(p) for p in sources if p.endswith(".c")}
header_at = {}  # "foo.h" -> "dir/foo.h"
for p in sources:
    if p.endswith(".h"):
        header_at.setdefault(os.path.basename(p), p)

uses = collections.defaultdict(dict)  # a -> {b: why}
upward = []
includes = []  # (including module or file stem, header, where)
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
for p in sources:
    with open(os.path.join(top, "src", p)) as f:
        for n, line in enumerate(f, 1):
            m = inc.match(line)
            if not m or m.group(1) not in header_at:
                continue
            h = header_at[m.group(1)]
            if floor_of(h) > floor_of(p):
                upward.append("src/%s:%d includes %s" % (p, n, "src/" + h))
            elif h.endswith("-internal.h") and os.path.dirname(h) != os.path.dirname(p):
                upward.append("src/%s:%d includes %s, internal to its folder" %
                              (p, n, "src/" + h))
            includes.append((stem(p), h, "src/%s:%d" % (p, n)))

defined, undefined = {}, collections.defaultdict(set)
for o in glob.glob(build + "/src/*.o") + glob.glob(build + "/src/*/*.o"):
    rel = os.path.relpath(o, build + "/src")
    base = re.sub(r"^lib\w+_a-", "", os.path.basename(o))
    m = stem(os.path.join(os.path.dirname(rel), base))
    if m not in modules:
        continue
    out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "TDBRGSC":
            defined[f[2]] = m
        elif len(f) == 2 and f[0] == "U":
            undefined[m].add(f[1])
for a, syms in undefined.items():
    for s in sorted(syms):
        b = defined.get(s)
        if b is None or b == a:
            continue
        if floor_of(b + ".c") > floor_of(a + ".c"):
            upward.append("src/%s.c calls %s() of src/%s.c" % (a, s, b))
        uses[a].setdefault(b, "calls %s()" % s)

# An include is a use of module B when the header is B's alone: it is
# named after B.c and every function it declares that some module
# defines, B.c defines.  A header that declares the functions of several
# files (net.h: net.c, net-rules.c, net-ns.c ...) is their family's
# interface: including it makes no edge, the calls through it do.
declared_in = {}
def own_header(h):
    if h not in declared_in:
        with open(os.path.join(top, "src", h)) as f:
            names = set(re.findall(r"\b([A-Za-z_]\w*)\s*\(", f.read()))
        owners = {defined[n] for n in names if n in defined}
        declared_in[h] = owners <= {stem(h)} and stem(h) in modules
    return declared_in[h]
for a, h, where in includes:
    b = stem(h)
    if a in modules and a != b and own_header(h):
        uses[a].setdefault(b, "includes %s (%s)" % (os.path.basename(h), where))

# Circles: strongly connected components of more than one module (Tarjan).
index, low, stack, on, sccs = {}, {}, [], set(), []
def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on.add(v)
    for w in sorted(uses.get(v, {})):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        c = []
        while True:
            w = stack.pop()
            on.discard(w)
            c.append(w)
            if w == v:
                break
        if len(c) > 1:
            sccs.append(sorted(c))
sys.setrecursionlimit(10000)
for v in sorted(modules):
    if v not in index:
        visit(v)

program = [c for c in sccs if all("/" not in m for m in c)]
sccs = [c for c in sccs if c not in program]
for c in sccs + program:
    for a in c:
        for b in sorted(uses[a]):
            if b in c:
                print("# %s: %s uses %s: %s" % ("note, program" if c in program else "circle",
                                                 a, b, uses[a][b]))
print("%s 1 - no circle between modules (%d modules%s)" % (
    "not ok" if sccs else "ok", len(modules),
    "; circles: " + ", ".join(" <-> ".join(c) for c in sccs) if sccs else ""))
for u in upward:
    print("# upward: " + u)
print("%s 2 - no include or call of a higher folder%s" % (
    "not ok" if upward else "ok", " (%d)" % len(upward) if upward else ""))

# 3. HACKING.md's folder map ("    box/     ─► net, cgroup, ...") is what
# the folders' files really include.
folder_uses = collections.defaultdict(set)
for a, h, where in includes:
    fa, fh = os.path.dirname(a), os.path.dirname(h)
    if fa and fh and fa != fh:
        folder_uses[fa].add(fh)
drawn = {}
with open(os.path.join(top, "HACKING.md")) as f:
    for line in f:
        m = re.match(r"^    (\w+)/\s+─►\s*(.*)$", line)
        if m:
            drawn[m.group(1)] = {x.strip() for x in m.group(2).split(",") if x.strip()}
        elif re.match(r"^    (\w+)/\s*$", line):
            drawn[line.strip().rstrip("/")] = set()
folders = sorted({os.path.dirname(p) for p in sources if os.path.dirname(p)})
wrong = []
for d in folders:
    if d not in drawn:
        wrong.append("%s/ is not in the map" % d)
    elif drawn[d] != folder_uses[d]:
        wrong.append("%s/ includes %s, the map says %s" % (
            d, ", ".join(sorted(folder_uses[d])) or "nothing",
            ", ".join(sorted(drawn[d])) or "nothing"))
for w in wrong:
    print("# map: " + w)
print("%s 3 - HACKING.md's folder map matches the includes (%d folders)" % (
    "not ok" if wrong else "ok", len(folders)))
PY
