/* SPDX-License-Identifier: MIT */
/*
 * The worker's view in the real kernel, as root: storage.c prepares a
 * dedicated storage root under /var/tmp, mount.c's apply runs in a forked
 * child that then drops to nobody (or stays root) and probes what it can
 * see and write: the new root without the host's tree, read-only even for
 * root, secrets and kernel files masked, /dev's entries, the bounded /tmp,
 * --ro-bind; setuid in storage, persistence, tmp emptied, two instances,
 * the disk bound (ENOSPC).  The attacks are in test-mount-attacks.c.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "mount.h"
#include "mountplan.h"
#include "safepath.h"
#include "storage.h"
#include "util.h"

#include "mnttest.h"

/* --- the view ------------------------------------------------------------- */

static int body_view(void *arg)
{
	(void)arg;
	char p[PATH_MAX];
	int bad = 0;

	/* writable: storage mounts and /tmp */
	const char *yes[] = {"data", "web/uploads", "cache", "shared"};
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		snprintf(p, sizeof(p), "%s/%s", app, yes[i]);
		if (!can_write(p, "f"))
			bad |= 1 << i;
	}
	if (!can_write("/tmp", "f"))
		bad |= 1 << 4;
	/* not writable: the app root, its submount */
	snprintf(p, sizeof(p), "%s/sub", app);
	if (can_write(app, "f") || can_write(p, "f"))
		bad |= 1 << 5;
	/* the host's tree is not there: only the OS, the app and what berth made */
	const char *gone[] = {"/work", "/root",	   "/home",	 "/srv",  "/mnt", "/media",
			      "/boot", "/var/lib", "/var/cache", outside, sroot};
	for (size_t i = 0; i < ARRAY_SIZE(gone); i++)
		if (access(gone[i], F_OK) == 0 || errno != ENOENT) {
			fprintf(stderr, "view: %s is there\n", gone[i]);
			bad |= 1 << 6;
		}
	/* a write to /var/tmp lands in the view (or nowhere), never on the
	 * host's (test_view looks there, and removes it) */
	(void)can_write("/var/tmp", "berth-test-must-not-exist");
	/* cwd is the read-only app root */
	if (!getcwd(p, sizeof(p)) || strcmp(p, app) != 0)
		bad |= 1 << 8;
	/* the cgroup tree is read-only */
	if (can_write("/sys/fs/cgroup", "x") || access("/sys/fs/cgroup", W_OK) == 0)
		bad |= 1 << 9;
	if (bad)
		fprintf(stderr, "view: failed checks 0x%x\n", bad);
	return bad ? 1 : 0;
}

/* A write as root (no permission check stands in the way) must fail with
 * EROFS. */
static int erofs(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	int e = fd < 0 ? errno : 0;

	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	if (e != EROFS)
		fprintf(stderr, "view: writing %s as root: %s\n", path,
			e ? strerror(e) : "it worked");
	return e == EROFS ? 0 : 1;
}

/* Every name in dir, sorted, space-separated. */
static char *names(const char *dir)
{
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | sort | tr '\\n' ' '", dir);
	FILE *f = popen(cmd, "r");
	char buf[1024] = "";
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		pclose(f);
	}
	return xstrdup(buf);
}

static int body_root(void *arg)
{
	(void)arg;
	char p[PATH_MAX];
	struct stat st;
	int bad = 0;

	/* read-only even for root: the new root, the OS, the app, /sys, /proc/sys */
	snprintf(p, sizeof(p), "%s/berth-x", app);
	const char *ro[] = {"/berth-x", "/usr/berth-x", "/etc/berth-x",
			    p,		"/sys/berth-x", "/proc/sys/kernel/hostname"};
	for (size_t i = 0; i < ARRAY_SIZE(ro); i++)
		bad |= erofs(ro[i]) << i;
	if (mkdir("/var/berth-x", 0755) == 0 || errno != EROFS)
		bad |= 1 << 6;
	/* host secrets masked: uid 0 reads nothing */
	char *shadow = slurp_file("/etc/shadow");
	if (*shadow || stat("/etc/shadow", &st) < 0 || !S_ISCHR(st.st_mode))
		bad |= 1 << 7;
	free(shadow);
	/* /proc: the masked files are /dev/null (where this kernel has them),
	 * the masked directories empty */
	const char *pf[] = {"/proc/kcore",	 "/proc/keys",		"/proc/timer_list",
			    "/proc/sched_debug", "/proc/latency_stats", "/proc/timer_stats",
			    "/proc/interrupts"};
	for (size_t i = 0; i < ARRAY_SIZE(pf); i++)
		if (stat(pf[i], &st) == 0 &&
		    (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))) {
			fprintf(stderr, "view: %s is not masked\n", pf[i]);
			bad |= 1 << 8;
		}
	char *fw = names("/sys/firmware"), *acpi = names("/proc/acpi");
	if (*fw || (access("/proc/acpi", F_OK) == 0 && *acpi))
		bad |= 1 << 9;
	free(fw);
	free(acpi);
	/* /dev: exactly these */
	char *dev = names("/dev");
	if (strcmp(dev, "fd full mqueue null ptmx pts random shm stderr stdin stdout tty "
			"urandom zero ") != 0) {
		fprintf(stderr, "view: /dev has %s\n", dev);
		bad |= 1 << 10;
	}
	free(dev);
	/* a fresh proc of this process */
	snprintf(p, sizeof(p), "/proc/%d", (int)getpid());
	if (access(p, F_OK) < 0 || access("/proc/self/fd/0", F_OK) < 0)
		bad |= 1 << 11;
	if (bad)
		fprintf(stderr, "view as root: failed checks 0x%x\n", bad);
	return bad ? 1 : 0;
}

START_TEST(test_view_as_root)
{
	struct env e;
	char *shadow = slurp_file("/etc/shadow");
	ck_assert_msg(*shadow, "the host's /etc/shadow is empty: nothing to hide");
	free(shadow);
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert_int_eq(run_worker_body(&e, body_root, NULL, true), 0);
	close_env(&e);
}
END_TEST

/* /tmp: a tmpfs of the plan's size, refusing writes past it. */
static int body_tmp_bound(void *arg)
{
	uint64_t want = *(uint64_t *)arg;
	struct statfs sf;
	char buf[65536];
	long total = 0;
	int err = 0;

	if (statfs("/tmp", &sf) < 0 || sf.f_type != TMPFS_MAGIC ||
	    (uint64_t)sf.f_blocks * sf.f_bsize != want) {
		fprintf(stderr, "/tmp: type %lx, %llu bytes\n", (unsigned long)sf.f_type,
			(unsigned long long)sf.f_blocks * sf.f_bsize);
		return 1;
	}
	memset(buf, 'x', sizeof(buf));
	int fd = open("/tmp/fill", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return 2;
	for (;;) {
		ssize_t n = write(fd, buf, sizeof(buf));
		if (n <= 0) {
			err = n < 0 ? errno : 0;
			break;
		}
		total += n;
		if ((uint64_t)total > 4 * want)
			break;
	}
	close(fd);
	if (err != ENOSPC || (uint64_t)total > want) {
		fprintf(stderr, "/tmp: wrote %ld bytes (%s)\n", total, strerror(err));
		return 3;
	}
	return 0;
}

START_TEST(test_tmp_bound)
{
	struct env e;
	uint64_t size = 4 << 20;

	po.tmp_size = size;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert_int_eq(run_worker_body(&e, body_tmp_bound, &size, false), 0);
	/* the next start's /tmp is empty again (body_read checks too) */
	ck_assert_int_eq(run_worker_body(&e, body_tmp_bound, &size, false), 0);
	close_env(&e);
	/* nothing of /tmp went to the storage */
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/p/e/app/queue", sroot);
	char *inst = names(p);
	ck_assert_str_eq(inst, "disk.img local ");
	free(inst);
}
END_TEST

/* Pure cgroup v2's layout (cgroup2 on /sys/fs/cgroup itself): mounted
 * fresh, read-only, in the child's cgroup namespace. */
static int body_cgroup2(void *arg)
{
	(void)arg;
	struct statfs sf;
	char want[32];
	int bad = 0;

	if (statfs("/sys/fs/cgroup", &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC)
		bad |= 1;
	if (mkdir("/sys/fs/cgroup/berth-x", 0755) == 0 || errno != EROFS)
		bad |= 2;
	char *procs = slurp_file("/sys/fs/cgroup/cgroup.procs");
	snprintf(want, sizeof(want), "%d\n", (int)getpid());
	if (!strstr(procs, want))
		bad |= 4;
	free(procs);
	char *self = slurp_file("/proc/self/cgroup");
	if (!strstr(self, "0::/\n"))
		bad |= 8;
	free(self);
	if (bad)
		fprintf(stderr, "cgroup2 view: failed checks 0x%x\n", bad);
	return bad;
}

START_TEST(test_cgroup2)
{
	const struct mountplan_cgroup v2[] = {{"cgroup2", "/sys/fs/cgroup", ""}};
	struct env e;

	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) < 0 &&
	    access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) < 0)
		ck_abort_msg("no cgroup2 hierarchy on this host");
	po.cgroups = v2;
	po.n_cgroups = 1;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert_int_eq(run_worker_body(&e, body_cgroup2, NULL, true), 0);
	close_env(&e);
}
END_TEST

static int body_ro_bind(void *arg)
{
	(void)arg;
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/seen", outside);
	char *s = slurp_file(p);
	int r = strcmp(s, "yes\n") == 0 ? 0 : 1;
	free(s);
	/* the storage root is not there */
	return r | erofs(p) << 1 | has(base, "storage") << 2;
}

START_TEST(test_ro_bind)
{
	struct env e;
	char p[PATH_MAX];
	const char *binds[] = {outside, NULL};

	snprintf(p, sizeof(p), "echo yes > '%s/seen'", outside);
	ck_assert_int_eq(system(p), 0);
	po.ro_binds = binds;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert_int_eq(run_worker_body(&e, body_ro_bind, NULL, true), 0);
	close_env(&e);
	/* without it, outside is not there (body_view) */
	po.ro_binds = NULL;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert_int_eq(run_worker_body(&e, body_view, NULL, false), 0);
	close_env(&e);
	/* the storage root or a path holding it is refused */
	const char *bad[] = {sroot, base, NULL};
	for (size_t i = 0; bad[i]; i++) {
		const char *one[] = {bad[i], NULL};
		po.ro_binds = one;
		ck_assert_int_eq(open_env(&e), -EINVAL);
	}
}
END_TEST

/* Before apply: a writable tmpfs submount of the app tree (in a namespace
 * of the child's own, so the host never sees it). */
static int submount_then_view(void *arg)
{
	(void)arg;
	return body_view(NULL);
}

START_TEST(test_view)
{
	struct env e;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert(e.st.bounded);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char sub[256];
		snprintf(sub, sizeof(sub), "%s/sub", app);
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", sub, "tmpfs", 0, "mode=0777") < 0)
			_exit(99);
		_exit(run_worker_body(&e, submount_then_view, NULL, false));
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* removed before the assertion: a failure leaves nothing behind */
	bool leaked = has("/var/tmp", "berth-test-must-not-exist");
	unlink("/var/tmp/berth-test-must-not-exist");
	ck_assert(!leaked);
	/* fallback resolution (no openat2) gives the same view */
	e.m.safepath_flags = SAFEPATH_FALLBACK;
	ck_assert_int_eq(run_worker_body(&e, body_view, NULL, false), 0);
	close_env(&e);
}
END_TEST

static int body_mountinfo(void *arg)
{
	(void)arg;
	char *mi = slurp_file("/proc/self/mountinfo");
	char want[PATH_MAX];
	int bad = 0;
	snprintf(want, sizeof(want), " %s/data rw,nosuid,nodev", app);
	if (!strstr(mi, want))
		bad |= 1;
	snprintf(want, sizeof(want), " %s ro,nosuid,nodev", app);
	if (!strstr(mi, want))
		bad |= 2;
	if (bad)
		fprintf(stderr, "mountinfo (0x%x):\n%s", bad, mi);
	free(mi);
	return bad;
}

START_TEST(test_flags_and_setuid)
{
	struct env e;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert_int_eq(run_worker_body(&e, body_mountinfo, NULL, false), 0);

	/* As root inside the view: a setuid-root id in storage; then as nobody. */
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (mount_apply(&e.m) < 0)
			_exit(90);
		char id[PATH_MAX], cmd[PATH_MAX + 64];
		snprintf(id, sizeof(id), "%s/data/id", app);
		snprintf(cmd, sizeof(cmd), "cp /usr/bin/id '%s' && chmod 4755 '%s'", id, id);
		if (system(cmd) != 0)
			_exit(91);
		if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0)
			_exit(92);
		snprintf(cmd, sizeof(cmd), "test \"$('%s' -u)\" = %d", id, NOBODY);
		_exit(system(cmd) == 0 ? 0 : 93);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	close_env(&e);
}
END_TEST

/* --- persistence, tmp, instances ------------------------------------------ */

static int body_write(void *arg)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/data", app);
	int fd = open(strcat(p, "/who"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, arg, strlen(arg)) != (ssize_t)strlen(arg))
		return 1;
	close(fd);
	snprintf(p, sizeof(p), "%s/cache", app);
	return can_write(p, "scratch") && can_write("/tmp", "scratch") ? 0 : 2;
}

static int body_read(void *arg)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/data/who", app);
	char *s = slurp_file(p);
	int r = strcmp(s, arg) == 0 ? 0 : 1;
	if (r)
		fprintf(stderr, "read '%s', want '%s'\n", s, (char *)arg);
	free(s);
	snprintf(p, sizeof(p), "%s/cache", app);
	if (has(p, "scratch") || has("/tmp", "scratch"))
		r |= 2; /* tmp is emptied on each start */
	return r;
}

START_TEST(test_persist_and_tmp)
{
	struct env e;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert_int_eq(run_worker_body(&e, body_write, S("queue"), false), 0);
	/* a restart of the worker */
	ck_assert_int_eq(run_worker_body(&e, body_read, S("queue"), false), 0);
	close_env(&e);
	/* a restart of berth, with the disk grown */
	w.disk_mb = 48;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert_uint_eq(e.st.image_bytes, storage_image_bytes(48));
	ck_assert_int_eq(run_worker_body(&e, body_read, S("queue"), false), 0);
	close_env(&e);
}
END_TEST

START_TEST(test_two_instances)
{
	struct env a, b;
	ck_assert_int_eq(open_env(&a), 0);
	po.instance = "web";
	ck_assert_int_eq(open_env(&b), 0);
	ck_assert_int_eq(run_worker_body(&a, body_write, S("queue"), false), 0);
	ck_assert_int_eq(run_worker_body(&b, body_write, S("web"), false), 0);
	ck_assert_int_eq(run_worker_body(&a, body_read, S("queue"), false), 0);
	ck_assert_int_eq(run_worker_body(&b, body_read, S("web"), false), 0);
	/* a second berth for one instance is refused */
	struct env c;
	ck_assert_int_eq(open_env(&c), -EWOULDBLOCK);
	close_env(&a);
	close_env(&b);
}
END_TEST

/* --- disk ------------------------------------------------------------------ */

static int body_fill(void *arg)
{
	(void)arg;
	char p[PATH_MAX], buf[65536];
	long total = 0;
	int err = 0;

	memset(buf, 'x', sizeof(buf));
	snprintf(p, sizeof(p), "%s/data/fill", app);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return 1;
	for (;;) {
		ssize_t n = write(fd, buf, sizeof(buf));
		if (n <= 0) {
			err = n < 0 ? errno : 0;
			break;
		}
		total += n;
		if (total > 100L * 1000000)
			break;
	}
	if (fsync(fd) < 0 && !err)
		err = errno;
	close(fd);
	fprintf(stderr, "wrote %ld bytes of a 32 MB disk (%s)\n", total, strerror(err));
	if (err != ENOSPC)
		return 2;
	if (total > 32L * 1000000 || total < 24L * 1000000)
		return 3;
	/* the rest of the worker's world is unaffected */
	return can_write("/tmp", "after") ? 0 : 4;
}

START_TEST(test_disk_enospc)
{
	struct env e;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert(e.st.bounded);
	ck_assert_int_eq(run_worker_body(&e, body_fill, NULL, false), 0);
	close_env(&e);
}
END_TEST

START_TEST(test_no_bound)
{
	struct env e;
	so.no_disk_bound = true;
	so.require_quota = true;
	ck_assert_int_eq(open_env(&e), -EOPNOTSUPP);
	so.require_quota = false;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert(!e.st.bounded);
	ck_assert_int_eq(run_worker_body(&e, body_view, NULL, false), 0);
	close_env(&e);
}
END_TEST

int main(void)
{
	main_pid = getpid();
	Suite *s = suite_create("mount");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_view);
	tcase_add_test(tc, test_view_as_root);
	tcase_add_test(tc, test_tmp_bound);
	tcase_add_test(tc, test_ro_bind);
	tcase_add_test(tc, test_cgroup2);
	tcase_add_test(tc, test_flags_and_setuid);
	tcase_add_test(tc, test_persist_and_tmp);
	tcase_add_test(tc, test_two_instances);
	tcase_add_test(tc, test_disk_enospc);
	tcase_add_test(tc, test_no_bound);
	suite_add_tcase(s, tc);
	return mnttest_main(s, "test-mount");
}
