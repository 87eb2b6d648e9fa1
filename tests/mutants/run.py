#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make check-mutants: build each mutant of tests/mutants/*.mut and run the
tests that claim its feature, tier by tier; fail if one survives a tier.

    run.py --srcdir DIR --builddir DIR [-j N] [--list] [--every] [NAME...]

The sources are copied to BUILDDIR/mutants/src (only changed files are
copied again) and built once in BUILDDIR/mutants/build.  Then:

  1. every hunk of every mutant must match its file exactly once, or the
     run stops before building ("mutant NAME no longer applies");
  2. the unmutated copy runs every test any mutant names: all must PASS,
     or "killed" would mean nothing;
  3. per mutant: apply its hunks, rebuild (incremental), snapshot the
     build, restore the files; from the snapshot, each claimed tier's
     tests run in order until one fails (killed), while the next mutant
     builds.  With --every, every claimed test runs (to see which kill it).
Steps 2 and 3 share one pool of -j tests at a time.

Each test runs as make check would run it (the same drivers, BERTH_STRICT=1)
but in a private mount namespace with its own /tmp and under a subreaper
that kills what is left of its tree (ISOLATE, reaper()): a mutant that
breaks the PID namespace or the stop leaves nothing behind.

A tier is killed when one of its tests FAILs or ERRORs (a hang past the
timeout counts, the test cannot pass); a SKIP is an error of the run.
Exit status: 0 every mutant killed in every claimed tier; 1 one survived
or the unmutated tree failed; 2 a mutant file is wrong or no longer
applies, or the build failed.
"""
import argparse
import concurrent.futures
import filecmp
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

TIERS = ("unit", "privileged", "integration")
TEST_TIMEOUT = 600
# Each test (unmutated or not) runs in a private mount namespace with its
# own /tmp (the directory ISOLATE's first argument names), under this
# script's --reaper: what a mutant makes a test leave behind (a worker its
# PID namespace did not take along, mounts, /tmp/berth-* entries) goes
# when the test ends.  Not a PID namespace: tests name global things (crun
# containers, cgroups) after $$, and berth's stop guard needs the initial one.
# What the sources, the build and this script have under /tmp (a clone
# there, as a CI checkout may be) is bound into the private /tmp at the
# same path ($BERTH_MUTANT_KEEP: the names of /tmp's entries), or it would
# vanish beneath it.
ISOLATE = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
           'for k in $BERTH_MUTANT_KEEP; do mkdir -p "$0/$k" && '
           'mount --bind "/tmp/$k" "$0/$k" || exit 125; done; '
           'mount --rbind "$0" /tmp && exec "$@"', None, sys.executable,
           os.path.abspath(__file__), "--reaper"]


def tmp_entries(*paths):
    """The entries of /tmp that hold these paths ("ci-clone" for
    /tmp/ci-clone/build), space-separated."""
    keep = set()
    for p in paths:
        parts = os.path.realpath(p).split("/")
        if len(parts) > 2 and parts[1] == "tmp":
            keep.add(parts[2])
    return " ".join(sorted(keep))


def reaper(cmd):
    """Run cmd as a child subreaper; when it ends, SIGKILL (by pid) and
    reap every process of its tree still there.  Its exit status."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        print("check-mutants: --reaper: prctl: " + os.strerror(ctypes.get_errno()),
              file=sys.stderr)
        return 125
    p = subprocess.Popen(cmd)
    # the timeout's SIGTERM: end the test, then sweep its tree below
    signal.signal(signal.SIGTERM, lambda *_: p.kill())
    rc = p.wait()
    # Reap whatever ends first: a dying PID namespace's init waits until
    # the rest of its namespace (reparented here) has been reaped.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        kids = set()
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/children") as f:
                    kids |= {int(x) for x in f.read().split()}
            except OSError:
                pass
        if not kids:
            break
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            break
        time.sleep(0.05)
    return rc if rc >= 0 else 128 - rc


class MutantError(Exception):
    pass


class Hunk:
    def __init__(self, path, find, replace, line):
        self.path, self.find, self.replace, self.line = path, find, replace, line


class Mutant:
    def __init__(self, name, path):
        self.name, self.path = name, path
        self.feature = ""
        self.tests = {t: [] for t in TIERS}
        self.hunks = []


def parse(path):
    """One NAME.mut file: header lines, then hunks (HACKING.md, "Mutants")."""
    name = os.path.basename(path)[:-4]
    m = Mutant(name, path)
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    i = 0

    def err(n, msg):
        raise MutantError(f"{path}:{n}: {msg}")

    while i < len(lines) and not lines[i].startswith("@@ "):
        ln = lines[i]
        i += 1
        if not ln.strip() or ln.startswith("#"):
            continue
        key, sep, val = ln.partition(":")
        if not sep:
            err(i, f"expected 'key: value', got '{ln}'")
        key, val = key.strip(), val.strip()
        if key == "feature":
            m.feature = val
        elif key in TIERS:
            m.tests[key] += val.split()
        else:
            err(i, f"unknown key '{key}' (feature, {', '.join(TIERS)})")
    while i < len(lines):
        ln = lines[i]
        i += 1
        if not ln.strip():
            continue
        if not ln.startswith("@@ "):
            err(i, f"expected '@@ FILE', got '{ln}'")
        file, start = ln[3:].strip(), i
        if i >= len(lines) or lines[i] != "<<<<":
            err(i + 1, "expected '<<<<' after '@@ FILE'")
        try:
            mid = lines.index("====", i + 1)
            end = lines.index(">>>>", mid + 1)
        except ValueError:
            err(start, "a hunk needs '<<<<', '====' and '>>>>' lines")
        find = "\n".join(lines[i + 1:mid]) + "\n"
        replace = "\n".join(lines[mid + 1:end]) + "\n" if end > mid + 1 else ""
        if find == "\n":
            err(start, "empty '<<<<' part")
        m.hunks.append(Hunk(file, find, replace, start))
        i = end + 1
    if not m.feature:
        err(1, "no 'feature:' line")
    if not m.hunks:
        err(1, "no hunk ('@@ FILE')")
    if not any(m.tests.values()):
        err(1, "no tier names a test")
    return m


def mutated_texts(m, srcdir):
    """{path: mutated text}; raises MutantError when a hunk no longer applies."""
    out = {}
    for h in m.hunks:
        p = os.path.join(srcdir, h.path)
        if h.path not in out:
            try:
                with open(p, encoding="utf-8") as f:
                    out[h.path] = f.read()
            except OSError as e:
                raise MutantError(f"mutant {m.name} no longer applies: {h.path}: {e.strerror}")
        n = out[h.path].count(h.find)
        if n != 1:
            first = h.find.split("\n")[0].strip()
            raise MutantError(
                f"mutant {m.name} no longer applies: {m.path}:{h.line}: the snippet "
                f"('{first}' ...) is found {n} times in {h.path}, not once")
        out[h.path] = out[h.path].replace(h.find, h.replace)
    return out


def test_exists(srcdir, t):
    if t.endswith(".sh"):
        return os.path.isfile(os.path.join(srcdir, t))
    return os.path.isfile(os.path.join(srcdir, t + ".c"))


# --- the private copy of the sources ----------------------------------------
def sync_tree(src, dst, skip):
    """Copy src to dst, only files whose content differs (times kept, so
    that make rebuilds what changed); delete what src no longer has."""
    os.makedirs(dst, exist_ok=True)
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        dirs[:] = [d for d in dirs if os.path.normpath(os.path.join(rel, d)) not in skip
                   and not os.path.exists(os.path.join(root, d, "config.status"))]
        droot = os.path.join(dst, rel)
        os.makedirs(droot, exist_ok=True)
        keep = set(dirs) | set(files)
        for e in os.listdir(droot):
            if e not in keep:
                pe = os.path.join(droot, e)
                if os.path.isdir(pe) and not os.path.islink(pe):
                    shutil.rmtree(pe)
                else:
                    os.unlink(pe)
        for fn in files:
            s, d = os.path.join(root, fn), os.path.join(droot, fn)
            if os.path.islink(s):
                if not (os.path.islink(d) and os.readlink(d) == os.readlink(s)):
                    if os.path.lexists(d):
                        os.unlink(d)
                    os.symlink(os.readlink(s), d)
            elif not (os.path.isfile(d) and not os.path.islink(d)
                      and filecmp.cmp(s, d, shallow=False)):
                if os.path.lexists(d):
                    os.unlink(d)
                shutil.copy2(s, d)


def sh(cmd, cwd, log):
    with open(log, "a") as f:
        return subprocess.call(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT)


def build(work, jobs, targets, log):
    b = os.path.join(work, "build")
    # two runs: "all" recurses, and a second make beside it would write
    # src/libberth.a at the same time
    return (sh(["make", "-s", f"-j{jobs}", "all"], b, log) == 0
            and sh(["make", "-s", f"-j{jobs}"] + targets, b, log) == 0)


# --- running one test as make check does ------------------------------------
def run_test(src, b, t, logdir):
    """PASS, FAIL, ERROR, SKIP, ... (the driver's global result) and seconds.
    src: the sources (test scripts, drivers); b: the build to test."""
    base = os.path.join(logdir, t.replace("/", "_"))
    env = dict(os.environ)
    env.update(BERTH=f"{b}/src/berth", TEST_CHILD=f"{b}/tests/helpers/test-child",
               RUN_DRIVER=f"{b}/tests/helpers/run-driver", TOP_SRCDIR=src, TOP_BUILDDIR=b,
               CK_DEFAULT_TIMEOUT="60", BERTH_STRICT="1", srcdir=src, AM_TAP_AWK="awk",
               BERTH_MUTANT_KEEP=tmp_entries(src, b, logdir, __file__))
    common = ["--test-name", t, "--log-file", base + ".log", "--trs-file", base + ".trs",
              "--color-tests", "no", "--enable-hard-errors", "yes", "--expect-failure", "no"]
    if t.endswith(".sh"):
        cmd = ["sh", f"{src}/build-aux/tap-driver.sh"] + common + ["--", "sh", f"{src}/{t}"]
    else:
        cmd = ["sh", f"{src}/build-aux/test-driver"] + common + ["--", f"./{t}"]
    for f in (base + ".log", base + ".trs"):
        if os.path.exists(f):
            os.unlink(f)
    tmp = tempfile.mkdtemp(prefix="tmp.", dir=os.path.dirname(os.path.dirname(b)))
    os.chmod(tmp, 0o1777)
    t0 = time.monotonic()
    try:
        iso = [tmp if x is None else x for x in ISOLATE]
        subprocess.run(["timeout", "-k", "10", str(TEST_TIMEOUT)] + iso + ["--"] + cmd,
                       cwd=b, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
    except OSError:
        return "ERROR", 0.0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    dt = time.monotonic() - t0
    res = "ERROR"
    try:
        with open(base + ".trs") as f:
            for ln in f:
                if ln.startswith(":global-test-result:"):
                    res = ln.split(":", 2)[2].strip()
    except OSError:
        res = "ERROR"  # the driver was killed by the timeout
    return res, dt


def run_tier(src, b, tests, logdir, stop_at_kill):
    """[(test, result, seconds)], in order; stops after a failure if asked."""
    out = []
    for t in tests:
        res, dt = run_test(src, b, t, logdir)
        out.append((t, res, dt))
        if stop_at_kill and res in ("FAIL", "ERROR"):
            break
    return out


def lanes_of(m):
    """Integration in one lane, unit + privileged (fast) in the other."""
    lanes = [[("integration", m.tests["integration"])] if m.tests["integration"] else [],
             [(t, m.tests[t]) for t in ("unit", "privileged") if m.tests[t]]]
    return [ln for ln in lanes if ln]


class Snapshot:
    """A copy of the build as it is now: its tests run while the next
    mutant is built.  Removed when the last lane on it is done."""

    def __init__(self, b, path):
        if os.path.exists(path):
            shutil.rmtree(path)
        shutil.copytree(b, path, symlinks=True)
        self.path, self.users = path, 0
        self.lock = threading.Lock()

    def hold(self, n):
        self.users += n

    def release(self):
        with self.lock:
            self.users -= 1
            if self.users == 0:
                shutil.rmtree(self.path, ignore_errors=True)


def submit_lanes(pool, src, snap, m, logdir, every):
    def lane(tiers):
        try:
            return [(tier, run_tier(src, snap.path, ts, logdir, not every))
                    for tier, ts in tiers]
        finally:
            snap.release()

    lanes = lanes_of(m)
    snap.hold(len(lanes))
    return [pool.submit(lane, ln) for ln in lanes]


def submit_baseline(pool, src, snap, mutants, logdir):
    tests = []
    for tier in ("integration", "privileged", "unit"):  # the slow ones first
        for m in mutants:
            tests += [t for t in m.tests[tier] if t not in tests]

    def one(t):
        try:
            return run_test(src, snap.path, t, logdir)
        finally:
            snap.release()

    snap.hold(len(tests))
    return {t: pool.submit(one, t) for t in tests}


def fmt_tests(r):
    return " ".join(os.path.basename(t) + ("" if res == "PASS" else f"={res}")
                    for t, res, _ in r)


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--reaper" and sys.argv[2] == "--":
        return reaper(sys.argv[3:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--srcdir", required=True)
    ap.add_argument("--builddir", required=True)
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--list", action="store_true", help="list the mutants and their tests")
    ap.add_argument("--every", action="store_true",
                    help="run every claimed test, not only up to the first failure")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    srcdir, builddir = os.path.abspath(a.srcdir), os.path.abspath(a.builddir)
    mdir = os.path.join(srcdir, "tests", "mutants")
    t_start = time.monotonic()

    # 1. parse and check every mutant against the sources, before building
    try:
        names = sorted(f[:-4] for f in os.listdir(mdir) if f.endswith(".mut"))
        for n in a.names:
            if n not in names:
                raise MutantError(f"no mutant {n} ({mdir}/{n}.mut)")
        mutants = [parse(os.path.join(mdir, n + ".mut")) for n in (a.names or names)]
        for m in mutants:
            mutated_texts(m, srcdir)
            for tier in TIERS:
                for t in m.tests[tier]:
                    if not test_exists(srcdir, t):
                        raise MutantError(f"{m.path}: {tier}: no test {t}")
                    want = "integration" if t.endswith(".sh") else t.split("/")[1]
                    if not t.startswith("tests/") or want != tier:
                        raise MutantError(f"{m.path}: {t} is not a {tier} test")
    except MutantError as e:
        print(f"check-mutants: {e}", file=sys.stderr)
        return 2
    if a.list:
        for m in mutants:
            print(f"{m.name}: {m.feature}")
            for tier in TIERS:
                if m.tests[tier]:
                    print(f"  {tier}: {' '.join(m.tests[tier])}")
        return 0

    if os.geteuid() != 0:
        print("check-mutants: must run as root (the privileged and integration tiers, "
              "the namespaces of each test)", file=sys.stderr)
        return 2
    # 2. the private copy, configured once, built incrementally
    work = os.path.join(builddir, "mutants")
    src, b = os.path.join(work, "src"), os.path.join(work, "build")
    logdir = os.path.join(work, "logs")
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir)
    blog = os.path.join(logdir, "build.log")
    open(blog, "w").close()
    skip = {".git", os.path.join("tests", ".cache"), "autom4te.cache"}
    rel = os.path.relpath(builddir, srcdir)
    if not rel.startswith(".."):
        skip.add(os.path.normpath(rel))
    if os.path.exists(os.path.join(srcdir, "config.status")):
        print("check-mutants: the source tree is configured in place (make distclean)",
              file=sys.stderr)
        return 2
    sync_tree(srcdir, src, skip)
    # a file a killed run left mutated was just copied back with its old time:
    # make it newer than its object, so the next build compiles it again
    now = time.time()
    for m in mutants:
        for h in m.hunks:
            os.utime(os.path.join(src, h.path), (now, now))
    os.makedirs(b, exist_ok=True)
    if not os.path.exists(os.path.join(b, "config.status")):
        if sh([os.path.join(src, "configure"), "-q"], b, blog) != 0:
            print(f"check-mutants: configure failed, see {blog}", file=sys.stderr)
            return 2
    # the claimed check programs, and the helpers the tests run (make
    # check builds those, through check_DATA; make alone does not)
    progs = sorted({t for m in mutants for tier in ("unit", "privileged") for t in m.tests[tier]})
    progs += ["tests/helpers/test-child", "tests/helpers/seccomp-probe",
              "tests/helpers/net-driver", "tests/helpers/run-driver"]
    if not build(work, a.jobs, progs, blog):
        print(f"check-mutants: the unmutated copy does not build, see {blog}", file=sys.stderr)
        return 2
    print(f"check-mutants: the unmutated copy built ({time.monotonic() - t_start:.0f} s)",
          flush=True)

    # 3. the unmutated tree (a snapshot of its build) runs every claimed
    # test, and each mutant's tiers run on a snapshot of its build, all in
    # one pool of a.jobs tests at a time while the next mutant builds
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs))
    snaps = os.path.join(work, "snapshots")
    shutil.rmtree(snaps, ignore_errors=True)  # an interrupted run's
    os.makedirs(snaps)
    bdir = os.path.join(logdir, "unmutated")
    os.makedirs(bdir, exist_ok=True)
    base = submit_baseline(pool, src, Snapshot(b, os.path.join(snaps, "unmutated")), mutants,
                           bdir)
    status, pending = 0, []
    for m in mutants:
        texts = mutated_texts(m, srcdir)
        mlog = os.path.join(logdir, m.name)
        os.makedirs(mlog, exist_ok=True)
        try:
            for path, text in texts.items():
                with open(os.path.join(src, path), "w", encoding="utf-8") as f:
                    f.write(text)
            built = build(work, a.jobs, progs, os.path.join(mlog, "build.log"))
            if built:
                snap = Snapshot(b, os.path.join(snaps, m.name))
        finally:
            for path in texts:  # a new time: the next build compiles it again
                shutil.copyfile(os.path.join(srcdir, path), os.path.join(src, path))
        if not built:
            print(f"check-mutants: mutant {m.name} does not build, see {mlog}/build.log",
                  file=sys.stderr)
            status = 2
            continue
        print(f"check-mutants: {m.name}: built ({time.monotonic() - t_start:.0f} s)",
              flush=True)
        pending.append((m, submit_lanes(pool, src, snap, m, mlog, a.every)))
    # restore the unmutated objects, so that a later `make` here is clean
    build(work, a.jobs, progs, blog)

    bad = [(t, f.result()[0]) for t, f in base.items()]
    bad = [(t, r) for t, r in bad if r != "PASS"]
    print(f"check-mutants: unmutated tree: {len(base) - len(bad)}/{len(base)} claimed tests "
          "pass")
    for t, r in bad:
        print(f"check-mutants: unmutated tree: {t}: {r} (see {bdir})", file=sys.stderr)
    rows, failed = [], []
    for m, futs in pending:
        res = {}
        for f in futs:
            for tier, r in f.result():
                res[tier] = r
        for tier in TIERS:
            if not m.tests[tier]:
                continue
            r = res[tier]
            verdicts = {x[1] for x in r}
            if bad:
                v = "(unmutated fails)"
            elif verdicts & {"FAIL", "ERROR"}:
                v = "killed"
            elif verdicts == {"PASS"}:
                v = "SURVIVED"
                failed.append(f"{m.name} ({tier})")
            else:
                v = "error:" + ",".join(sorted(verdicts - {"PASS"}))
                failed.append(f"{m.name} ({tier})")
            rows.append((m.name, tier, fmt_tests(r), v, f"{sum(x[2] for x in r):.1f}"))
    pool.shutdown()

    hdr = ("mutant", "tier", "tests run" + ("" if a.every else " (up to the first failure)"),
           "result", "s")
    w = [max(len(r[i]) for r in rows + [hdr]) for i in range(5)]
    line = "  ".join(f"{{:{n}}}" for n in w[:-1]) + "  {:>%d}" % w[-1]
    print(line.format(*hdr))
    for r in rows:
        print(line.format(*r))
    total = time.monotonic() - t_start
    print(f"check-mutants: {len(mutants)} mutants, {total:.0f} s in all")
    if bad:
        print("check-mutants: the unmutated tree fails claimed tests: no verdict",
              file=sys.stderr)
        return 1
    if failed:
        print("check-mutants: survived or not run cleanly: " + ", ".join(failed),
              file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
