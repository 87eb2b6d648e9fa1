/* SPDX-License-Identifier: MIT */
/*
 * The worker's view in the real kernel, as root: storage.c prepares a
 * dedicated storage root under /var/tmp, mount.c's apply runs in a forked
 * child that then drops to nobody and probes what it can write; the
 * security.md rule 5 attacks (planted symlinks, a racing swapper over 1000
 * starts); the disk bound (ENOSPC); and the host's mount table unchanged.
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
#include <sys/mount.h>
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

/* paths here are short; the buffers are PATH_MAX */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define NOBODY 65534
#define S(x)   ((char *)(x))

static pid_t main_pid;
static char base[64], app[128], sroot[128], outside[128];
static char *mountinfo_before;
static struct mount mounts[4];
static struct worker w;
static struct mountplan_opts po;
static struct storage_opts so;

static char *slurp_file(const char *path)
{
	FILE *f = fopen(path, "re");
	struct strbuf sb = {0};
	char buf[4096];
	size_t n;

	if (!f)
		return xstrdup("");
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return sb.len ? strbuf_detach(&sb) : xstrdup("");
}

/* The lines of the host's mount table that concern this test: our
 * directory or a loop device (other tests may mount meanwhile). */
static char *our_mounts(void)
{
	char *all = slurp_file("/proc/self/mountinfo");
	struct strbuf sb = {0};

	for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n"))
		if (strstr(line, base) || strstr(line, "/dev/loop"))
			strbuf_printf(&sb, "%s\n", line);
	free(all);
	return sb.len ? strbuf_detach(&sb) : xstrdup("");
}

/* Is a loop device still backed by a file of ours? */
static bool loop_left(void)
{
	for (int i = 0; i < 64; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/sys/block/loop%d/loop/backing_file", i);
		char *s = slurp_file(p);
		bool ours = strstr(s, base) != NULL;
		free(s);
		if (ours)
			return true;
	}
	return false;
}

static void mkdirs(const char *path)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	ck_assert_int_eq(system(cmd), 0);
}

static void setup(void)
{
	log_setup(LOG_FMT_TEXT, LOG_LVL_ERROR, "test");
	snprintf(base, sizeof(base), "/var/tmp/berth-mnt-%d-XXXXXX", (int)main_pid);
	ck_assert_ptr_nonnull(mkdtemp(base));
	ck_assert_int_eq(chmod(base, 0755), 0);
	snprintf(app, sizeof(app), "%s/app", base);
	snprintf(sroot, sizeof(sroot), "%s/storage", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	mkdirs(app);
	mkdirs(outside);
	char p[256];
	snprintf(p, sizeof(p), "%s/web", app);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/sub", app);
	mkdirs(p);
	mountinfo_before = our_mounts();

	memset(&w, 0, sizeof(w));
	mounts[0] =
	    (struct mount){.path = S("cache"), .source = MOUNT_TMP, .source_path = S("cache")};
	mounts[1] =
	    (struct mount){.path = S("data"), .source = MOUNT_LOCAL, .source_path = S("data")};
	mounts[2] = (struct mount){.path = S("shared"),
				   .source = MOUNT_SERVICE,
				   .source_path = S(""),
				   .service = S("files")};
	mounts[3] = (struct mount){
	    .path = S("web/uploads"), .source = MOUNT_LOCAL, .source_path = S("uploads")};
	w.name = S("queue");
	w.app_name = S("app");
	w.app_dir = app;
	w.has_disk = true;
	w.disk_mb = 32;
	w.mounts = mounts;
	w.n_mounts = 4;
	memset(&po, 0, sizeof(po));
	po.storage_root = sroot;
	po.project = "p";
	po.environment = "e";
	memset(&so, 0, sizeof(so));
	so.uid = NOBODY;
	so.gid = NOBODY;
}

static void teardown(void)
{
	/* the loop device goes once the last worker namespace is gone */
	for (int i = 0; i < 100 && loop_left(); i++)
		usleep(20000);
	ck_assert_msg(!loop_left(), "a loop device is still attached to %s", base);
	char *after = our_mounts();
	ck_assert_str_eq(after, mountinfo_before);
	free(after);
	free(mountinfo_before);
	char *copy = xstrdup(base);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(storage_remove_tree(fd, basename(base)), 0);
	close(fd);
	free(copy);
}

struct env {
	struct mountplan plan;
	struct storage st;
	struct mount_ctx m;
};

static int open_env(struct env *e)
{
	char *err = NULL;
	int r = mountplan_build(&w, &po, &e->plan, &err);
	if (r < 0) {
		fprintf(stderr, "plan: %s\n", err);
		free(err);
		return r;
	}
	r = storage_open(&e->plan, &so, &e->st);
	if (r < 0) {
		mountplan_free(&e->plan);
		return r;
	}
	r = mount_ctx_init(&e->m, &e->plan, &e->st);
	if (r < 0) {
		storage_close(&e->st);
		mountplan_free(&e->plan);
	}
	return r;
}

static void close_env(struct env *e)
{
	mount_ctx_free(&e->m);
	storage_close(&e->st);
	mountplan_free(&e->plan);
}

typedef int (*body_fn)(void *arg);

/* In a child: apply, drop to nobody (unless as_root), run body; its exit
 * status.  200 + errno when apply failed. */
static bool quiet;

static int run_worker_body(struct env *e, body_fn body, void *arg, bool as_root)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int r = mount_apply(&e->m);
		if (r < 0) {
			if (!quiet)
				fprintf(stderr, "apply: %s: %s\n", e->m.errbuf, strerror(-r));
			_exit(r == -ELOOP ? 201 : r == -ENOTDIR ? 202 : r == -ENOENT ? 203 : 209);
		}
		if (!as_root && (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
				 setresuid(NOBODY, NOBODY, NOBODY) < 0))
			_exit(210);
		_exit(body ? body(arg) : 0);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool can_write(const char *dir, const char *name)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return false;
	bool ok = write(fd, "x", 1) == 1;
	close(fd);
	return ok;
}

static bool has(const char *dir, const char *name)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

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
	/* not writable: the app root, its submount, the host, the storage root */
	snprintf(p, sizeof(p), "%s/sub", app);
	if (can_write(app, "f") || can_write(p, "f"))
		bad |= 1 << 5;
	if (can_write("/var/tmp", "berth-test-must-not-exist") || can_write(base, "f"))
		bad |= 1 << 6;
	snprintf(p, sizeof(p), "%s/p/e/app/web", sroot);
	if (has(sroot, "p") || can_write(p, "f"))
		bad |= 1 << 7;
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
	ck_assert(!has("/var/tmp", "berth-test-must-not-exist"));
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

/* --- rule 5 and 6: attacks -------------------------------------------------- */

/* The local storage directory on the host (no disk image: plain directory). */
static void local_path(char *p, size_t n, const char *rel)
{
	snprintf(p, n, "%s/p/e/app/queue/local/%s", sroot, rel);
}

static bool outside_empty(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", outside);
	return system(cmd) == 0;
}

START_TEST(test_planted_storage_symlink)
{
	struct env e;
	char p[PATH_MAX];

	so.no_disk_bound = true;
	ck_assert_int_eq(open_env(&e), 0);
	/* the tenant replaces its storage directory with a link to /etc */
	local_path(p, sizeof(p), "data");
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(symlink("/etc", p), 0);
	ck_assert_int_eq(run_worker_body(&e, NULL, NULL, false), 201);
	ck_assert_str_eq(e.m.errbuf,
			 "mounts (open the source (a symlink, FIFO or device is refused) 'data')");
	close_env(&e);
	/* the next berth refuses it too, and leaves /etc alone */
	ck_assert_int_eq(open_env(&e), -ELOOP);
	/* a FIFO or a device in its place is refused as well */
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(mkfifo(p, 0644), 0);
	ck_assert_int_eq(open_env(&e), -ENOTDIR);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(mknod(p, S_IFCHR | 0644, makedev(1, 3)), 0);
	ck_assert_int_eq(open_env(&e), -ENOTDIR);
}
END_TEST

START_TEST(test_app_dir_symlink)
{
	struct env e;
	char p[PATH_MAX];

	/* web -> a directory outside the app tree */
	snprintf(p, sizeof(p), "%s/web", app);
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(symlink(outside, p), 0);
	ck_assert_int_eq(open_env(&e), -ELOOP);
	ck_assert(outside_empty());

	/* swapped in after berth checked it */
	ck_assert_int_eq(unlink(p), 0);
	mkdirs(p);
	so.no_disk_bound = true;
	ck_assert_int_eq(open_env(&e), 0);
	snprintf(p, sizeof(p), "%s/web/uploads", app);
	ck_assert_int_eq(rmdir(p), 0);
	snprintf(p, sizeof(p), "%s/web", app);
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(symlink(outside, p), 0);
	ck_assert_int_eq(run_worker_body(&e, NULL, NULL, false), 201);
	ck_assert(outside_empty());
	close_env(&e);
}
END_TEST

START_TEST(test_dangling_component)
{
	struct env e;
	char p[PATH_MAX], gone[PATH_MAX];

	snprintf(gone, sizeof(gone), "%s/gone", outside);
	snprintf(p, sizeof(p), "%s/web", app);
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(symlink(gone, p), 0);
	ck_assert_int_eq(open_env(&e), -ELOOP);
	ck_assert(outside_empty());
	/* in storage: a dangling link where a source's parent should be */
	ck_assert_int_eq(unlink(p), 0);
	mkdirs(p);
	so.no_disk_bound = true;
	mounts[3].source_path = S("deep/uploads");
	ck_assert_int_eq(open_env(&e), 0);
	close_env(&e);
	local_path(p, sizeof(p), "deep/uploads");
	ck_assert_int_eq(rmdir(p), 0);
	local_path(p, sizeof(p), "deep");
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(symlink(gone, p), 0);
	ck_assert_int_eq(open_env(&e), -ELOOP); /* berth refuses it */
	ck_assert(outside_empty());
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(open_env(&e), 0); /* and later the child does */
	local_path(p, sizeof(p), "deep/uploads");
	ck_assert_int_eq(rmdir(p), 0);
	local_path(p, sizeof(p), "deep");
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(symlink(gone, p), 0);
	ck_assert_int_eq(run_worker_body(&e, NULL, NULL, false), 201);
	ck_assert(outside_empty());
	close_env(&e);
}
END_TEST

START_TEST(test_instance_dir_symlink)
{
	struct env e;
	char p[PATH_MAX], target[PATH_MAX];
	struct stat before, after;

	/* rule 6: a link where berth would create the instance's directory */
	snprintf(p, sizeof(p), "%s/p/e/app", sroot);
	mkdirs(p);
	ck_assert_int_eq(chmod(sroot, 0700), 0);
	snprintf(p, sizeof(p), "%s/p/e/app/queue", sroot);
	ck_assert_int_eq(symlink(outside, p), 0);
	ck_assert_int_eq(stat(outside, &before), 0);
	ck_assert_int_eq(open_env(&e), -ELOOP);
	ck_assert_int_eq(stat(outside, &after), 0);
	ck_assert(outside_empty());
	ck_assert_uint_eq(before.st_mode, after.st_mode);
	ck_assert_uint_eq(before.st_uid, after.st_uid);
	snprintf(target, sizeof(target), "%s/local", outside);
	ck_assert(access(target, F_OK) < 0);
}
END_TEST

/* Check, inside the worker's namespace, that no mount comes from or lands
 * in the outside directory. */
static int body_no_outside(void *arg)
{
	(void)arg;
	char *mi = slurp_file("/proc/self/mountinfo");
	int r = strstr(mi, "/outside") ? 1 : 0;
	free(mi);
	return r;
}

static volatile sig_atomic_t stop_swap;

static void on_term(int sig)
{
	(void)sig;
	stop_swap = 1;
}

/* Swap a real directory and a link to outside, atomically, as fast as we can. */
static pid_t start_swapper(const char *dir, const char *name)
{
	char real[PATH_MAX], evil[PATH_MAX];
	snprintf(real, sizeof(real), "%s/%s", dir, name);
	snprintf(evil, sizeof(evil), "%s/%s.evil", dir, name);
	ck_assert_int_eq(symlink(outside, evil), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGTERM, on_term);
		while (!stop_swap)
			renameat2(AT_FDCWD, real, AT_FDCWD, evil, RENAME_EXCHANGE);
		_exit(0);
	}
	return pid;
}

START_TEST(test_race_1000)
{
	struct env e;
	char p[PATH_MAX];
	int ok = 0, refused = 0;

	so.no_disk_bound = true;
	ck_assert_int_eq(open_env(&e), 0);
	local_path(p, sizeof(p), "");
	p[strlen(p) - 1] = '\0';
	pid_t s1 = start_swapper(p, "data");
	pid_t s2 = start_swapper(app, "web");
	quiet = true;
	for (int i = 0; i < 1000; i++) {
		e.m.safepath_flags = i % 2 ? SAFEPATH_FALLBACK : 0;
		int r = run_worker_body(&e, body_no_outside, NULL, false);
		if (r == 0)
			ok++;
		else if (r >= 201 && r <= 203)
			refused++;
		else
			ck_abort_msg("start %d: status %d (%s)", i, r, e.m.errbuf);
	}
	kill(s1, SIGTERM);
	kill(s2, SIGTERM);
	waitpid(s1, NULL, 0);
	waitpid(s2, NULL, 0);
	fprintf(stderr, "race: %d starts succeeded, %d refused\n", ok, refused);
	ck_assert(outside_empty());
	ck_assert_int_eq(ok + refused, 1000);
	close_env(&e);
}
END_TEST

int main(void)
{
	bool strict = getenv("BERTH_STRICT") && strcmp(getenv("BERTH_STRICT"), "1") == 0;

	if (geteuid() != 0 || access("/dev/loop-control", W_OK) < 0 ||
	    access(STORAGE_MKFS, X_OK) < 0) {
		fprintf(stderr, "test-mount: needs root, loop devices and e2fsprogs%s\n",
			strict ? " (BERTH_STRICT=1: failing)" : "; skipped");
		return strict ? EXIT_FAILURE : 77;
	}
	main_pid = getpid();
	Suite *s = suite_create("mount");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_view);
	tcase_add_test(tc, test_flags_and_setuid);
	tcase_add_test(tc, test_persist_and_tmp);
	tcase_add_test(tc, test_two_instances);
	tcase_add_test(tc, test_disk_enospc);
	tcase_add_test(tc, test_no_bound);
	tcase_add_test(tc, test_planted_storage_symlink);
	tcase_add_test(tc, test_app_dir_symlink);
	tcase_add_test(tc, test_dangling_component);
	tcase_add_test(tc, test_instance_dir_symlink);
	tcase_add_test(tc, test_race_1000);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* what a failed test could not clean up (teardown does not run then) */
	char sweep[128];
	snprintf(sweep, sizeof(sweep), "rm -rf /var/tmp/berth-mnt-%d-*", (int)main_pid);
	if (system(sweep) != 0)
		failed++;
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
