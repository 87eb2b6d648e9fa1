/* SPDX-License-Identifier: MIT */
/* The fixture and helpers shared by the privileged mount tests (mnttest.h). */
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

#include "looptest.h"
#include "mnttest.h"

pid_t main_pid;
char base[64], app[128], sroot[128], outside[128];
static char *mountinfo_before;
struct mount mounts[4];
struct worker w;
struct mountplan_opts po;
struct storage_opts so;

char *slurp_file(const char *path)
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

void mkdirs(const char *path)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	ck_assert_int_eq(system(cmd), 0);
}

void setup(void)
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

void teardown(void)
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

int open_env(struct env *e)
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

void close_env(struct env *e)
{
	mount_ctx_free(&e->m);
	storage_close(&e->st);
	mountplan_free(&e->plan);
}

/* In a child: apply, drop to nobody (unless as_root), run body; its exit
 * status.  200 + errno when apply failed. */
bool quiet;

int run_worker_body(struct env *e, body_fn body, void *arg, bool as_root)
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

bool can_write(const char *dir, const char *name)
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

bool has(const char *dir, const char *name)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

int mnttest_main(Suite *s, const char *name)
{
	char sweep[64];

	snprintf(sweep, sizeof(sweep), "/var/tmp/berth-mnt-%d-*", (int)main_pid);
	return looptest_main(s, name, sweep);
}
