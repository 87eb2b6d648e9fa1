/* SPDX-License-Identifier: MIT */
/*
 * The instance record (see instance.h): its directories and lock, its
 * text, and the removal of what a dead berth left (its cgroups through
 * cgroup_remove_stale(), then the wait for its disk's loop device).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "instance.h"
#include "log.h"
#include "mountplan.h"
#include "proctree.h"
#include "storage.h"
#include "util.h"

#define RECORD_MAX 16384

char *instance_runtime_dir(void)
{
	const char *e = getenv("BERTH_RUNTIME_DIR");
	struct stat st;

	if (e && e[0] == '/')
		return xstrdup(e);
	if (geteuid() == 0)
		return xstrdup(INSTANCE_RUNTIME_DIR);
	/* another user's (an environment kept across setpriv or su) is none */
	e = getenv("XDG_RUNTIME_DIR");
	return e && e[0] == '/' && stat(e, &st) == 0 && st.st_uid == geteuid()
		       ? xasprintf("%s/berth", e)
		       : NULL;
}

/* --- the text --------------------------------------------------------------- */

void instance_rec_free(struct instance_rec *rec)
{
	strv_free(rec->cgroups);
	free(rec->loop);
	memset(rec, 0, sizeof(*rec));
}

char *instance_format(const struct instance_rec *rec)
{
	struct strbuf sb = {0};

	strbuf_printf(&sb, "pid %d\nstart %llu\n", (int)rec->pid, rec->start);
	for (size_t i = 0; rec->cgroups && rec->cgroups[i]; i++)
		strbuf_printf(&sb, "cgroup %s\n", rec->cgroups[i]);
	if (rec->loop)
		strbuf_printf(&sb, "loop %s %" PRIu64 " %" PRIu64 "\n", rec->loop,
			      (uint64_t)rec->img_dev, (uint64_t)rec->img_ino);
	return strbuf_detach(&sb);
}

static bool clean_abs_path(const char *p)
{
	if (p[0] != '/' || strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../"))
		return false;
	size_t n = strlen(p);
	if (n < 2 || p[n - 1] == '/' || (n >= 2 && strcmp(p + n - 2, "/.") == 0) ||
	    (n >= 3 && strcmp(p + n - 3, "/..") == 0))
		return false;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static int parse_loop(char *v, struct instance_rec *rec)
{
	char *dev = strtok(v, " "), *d = strtok(NULL, " "), *i = strtok(NULL, " ");
	uint64_t a, b;

	if (!dev || !d || !i || strtok(NULL, " ") || !str_has_prefix(dev, "/dev/loop") || !dev[9] ||
	    strspn(dev + 9, "0123456789") != strlen(dev + 9) || strlen(dev) > 20 ||
	    parse_u64(d, UINT64_MAX, &a) < 0 || parse_u64(i, UINT64_MAX, &b) < 0)
		return -EINVAL;
	free(rec->loop);
	rec->loop = xstrdup(dev);
	rec->img_dev = (dev_t)a;
	rec->img_ino = (ino_t)b;
	return 0;
}

static int parse_line(char *line, struct instance_rec *rec, size_t *n, size_t *cap)
{
	char *v = strchr(line, ' ');
	uint64_t u;

	if (!v)
		return -EINVAL;
	*v++ = '\0';
	if (strcmp(line, "pid") == 0 && parse_u64(v, 4194304, &u) == 0 && u > 0) {
		rec->pid = (pid_t)u;
		return 0;
	}
	if (strcmp(line, "start") == 0 && parse_u64(v, UINT64_MAX, &u) == 0) {
		rec->start = u;
		return 0;
	}
	if (strcmp(line, "cgroup") == 0 && clean_abs_path(v) && *n < 64) {
		xgrow(&rec->cgroups, cap, *n + 2, sizeof(*rec->cgroups));
		rec->cgroups[(*n)++] = xstrdup(v);
		rec->cgroups[*n] = NULL;
		return 0;
	}
	if (strcmp(line, "loop") == 0)
		return parse_loop(v, rec);
	return -EINVAL;
}

int instance_parse(const char *text, struct instance_rec *rec)
{
	_cleanup_free_ char *copy = xstrdup(text);
	size_t n = 0, cap = 0;
	char *save = NULL;

	memset(rec, 0, sizeof(*rec));
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (parse_line(line, rec, &n, &cap) < 0) {
			instance_rec_free(rec);
			return -EINVAL;
		}
	if (rec->pid == 0) {
		instance_rec_free(rec);
		return -EINVAL;
	}
	return 0;
}

/* --- the file ----------------------------------------------------------------- */

/* Field 22 of /proc/PID/stat: 0 or -errno (-ENOENT: no such process). */
static int start_time(pid_t pid, unsigned long long *out)
{
	return proctree_stat(pid, 22, out, 1);
}

/* mkdirat + open, never following a link, owned by us and writable by
 * no one else. */
static int step_dir(int dfd, const char *name, const char *path)
{
	struct stat st;

	if (mkdirat(dfd, name, 0700) < 0 && errno != EEXIST)
		return errno == EROFS ? -EROFS : log_errno(-errno, "create %s", path);
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return -ENOENT; /* removed meanwhile (by hand, say): again */
	if (fd < 0)
		return log_errno(-errno, "open %s (a link is refused)", path);
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		log_error("%s must belong to uid %u and be writable only by it", path,
			  (unsigned)geteuid());
		return -EPERM;
	}
	return fd;
}

/* The directory of the record, created as needed. */
static int open_dirs(const char *rd, const struct instance_key *k)
{
	_cleanup_free_ char *parent = xstrdup(rd), *path = NULL;
	char *slash = strrchr(parent, '/');
	const char *names[] = {slash + 1, INSTANCE_SUBDIR, k->project, k->environment, k->app};
	int fd;

	*slash = '\0';
	if (mkdir(*parent ? parent : "/", 0755) < 0 && errno != EEXIST)
		return errno == EROFS ? -EROFS : log_errno(-errno, "create %s", parent);
	fd = open(*parent ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return log_errno(-errno, "open %s", parent);
	path = xstrdup(parent);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char *next = xasprintf("%s/%s", path, names[i]);
		int q = step_dir(fd, names[i], next);

		free(path);
		path = next;
		close(fd);
		if (q < 0)
			return q;
		fd = q;
	}
	return fd;
}

static int record_write(struct instance *in)
{
	_cleanup_free_ char *text = NULL;
	size_t n;

	if (in->fd < 0)
		return 0;
	text = instance_format(&in->rec);
	n = strlen(text);
	/* Written over, then cut to its length, never truncated to 0 first:
	 * ext4 (auto_da_alloc) writes a file truncated to 0 and rewritten
	 * out at its close, and the close after the unlink then waited for
	 * that write and freed the new block (with `discard`, a synchronous
	 * discard): 0.4-0.5 ms of the stop on a disk-backed runtime
	 * directory.  The text only grows, and the lock keeps readers out
	 * but holder()'s, which needs the first line only. */
	if (pwrite(in->fd, text, n, 0) != (ssize_t)n || ftruncate(in->fd, (off_t)n) < 0)
		return log_errno(-errno, "write the instance record %s", in->path);
	return 0;
}

static int record_read(struct instance *in, struct instance_rec *old)
{
	char *buf = xmalloc(RECORD_MAX);
	ssize_t n = pread(in->fd, buf, RECORD_MAX - 1, 0);
	int r = 0;

	memset(old, 0, sizeof(*old));
	if (n < 0)
		r = log_errno(-errno, "read the instance record %s", in->path);
	else if (n > 0) {
		buf[n] = '\0';
		if (instance_parse(buf, old) < 0) {
			log_warn("the instance record %s is not one berth wrote: ignored",
				 in->path);
			memset(old, 0, sizeof(*old));
		}
	}
	free(buf);
	return r;
}

/* The pid a locked record names, for the refusal (0: unknown). */
static pid_t holder(struct instance *in)
{
	struct instance_rec rec;
	pid_t pid = 0;

	if (record_read(in, &rec) == 0)
		pid = rec.pid;
	instance_rec_free(&rec);
	return pid;
}

/* --- a dead berth's leftovers ------------------------------------------------ */

/* Wait until loop is no longer backed by the image (autoclear detaches it
 * once the dead worker's mount namespace, its last user, is gone): 0 at
 * once, 1 after a wait, 2 still attached at the deadline (someone else
 * mounts it, a berth exec that joined the dead berth: storage_open then
 * refuses the disk, saying so). */
static int wait_loop(const struct instance_rec *old)
{
	uint64_t deadline = monotonic_ms() + INSTANCE_WAIT_MS;
	struct loop_info64 li;

	for (int waited = 0;; waited = 1) {
		/* opened anew each time: an open device does not autoclear */
		int fd = open(old->loop, O_RDONLY | O_CLOEXEC);
		int r = fd < 0 ? -errno : ioctl(fd, LOOP_GET_STATUS64, &li) < 0 ? -errno : 0;

		if (fd >= 0)
			close(fd);
		if (r < 0 || li.lo_device != old->img_dev || li.lo_inode != old->img_ino)
			return waited; /* detached (ENXIO), gone, or another file's now */
		if (monotonic_ms() >= deadline)
			return 2;
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
}

static int clean_dead(const struct instance_rec *old)
{
	static const char *const disk[] = {"", ", waited for its disk ", ", its disk "};
	static const char *const disk_end[] = {"", " to detach",
					       " is still attached (in use "
					       "elsewhere)"};
	size_t killed = 0, removed = 0;
	int w = 0;

	for (size_t i = 0; old->cgroups && old->cgroups[i]; i++) {
		size_t k = 0;
		int q = cgroup_remove_stale(old->cgroups[i], INSTANCE_WAIT_MS, &k);

		killed += k;
		if (q < 0)
			return q; /* logged, naming the cgroup */
		removed += q == 1;
	}
	if (old->loop)
		w = wait_loop(old);
	if (!killed && !removed && !w)
		return 0;
	log_msg(LOG_LVL_WARN, "dead-berth-cleaned",
		"cleaned up after a dead berth (pid %d): killed %zu process%s, removed %zu "
		"cgroup%s%s%s%s",
		(int)old->pid, killed, killed == 1 ? "" : "es", removed, removed == 1 ? "" : "s",
		disk[w], w ? old->loop : "", disk_end[w]);
	return 0;
}

/* The record is ours now: act on what it says, if its berth is dead. */
static int take_over(struct instance *in)
{
	struct instance_rec old;
	unsigned long long t = 0;
	int r = record_read(in, &old);

	if (r == 0 && old.pid > 0) {
		int q = start_time(old.pid, &t);

		if (q == 0 && t == old.start) {
			log_error("the instance record %s names berth pid %d, which is running but "
				  "does not hold it: remove the record if that is not berth",
				  in->path, (int)old.pid);
			r = -EBUSY;
		} else {
			r = clean_dead(&old);
		}
	}
	instance_rec_free(&old);
	return r;
}

/* Open and lock the record: 0, or -EWOULDBLOCK (another berth holds
 * it), or -errno (logged).  A record the berth before unlinked between
 * our open and our lock is opened again. */
static int open_locked(struct instance *in)
{
	for (int tries = 0; tries < 8; tries++) {
		struct stat st, now;

		in->fd = openat(in->dir_fd, in->name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
				0600);
		if (in->fd < 0 && (errno == EROFS || errno == ENOENT))
			return -errno; /* ENOENT: its directory was removed meanwhile */
		if (in->fd < 0 || fstat(in->fd, &st) < 0)
			return log_errno(-errno, "open the instance record %s", in->path);
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
			log_error("the instance record %s is not a plain file of uid %u", in->path,
				  (unsigned)geteuid());
			return -EPERM;
		}
		if (flock(in->fd, LOCK_EX | LOCK_NB) < 0)
			return errno == EWOULDBLOCK
				       ? -EWOULDBLOCK
				       : log_errno(-errno, "lock the instance record %s", in->path);
		if (fstatat(in->dir_fd, in->name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
		    now.st_dev == st.st_dev && now.st_ino == st.st_ino)
			return 0;
		close(in->fd);
		in->fd = -1;
	}
	log_error("the instance record %s keeps being replaced", in->path);
	return -EAGAIN;
}

/* Each key names a directory: a storage key not starting with a dot;
 * the runtime directory is clean and absolute. */
static int check_keys(const char *rd, const struct instance_key *k)
{
	const char *keys[] = {k->project, k->environment, k->app, k->instance};

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!keys[i] || !mountplan_key_ok(keys[i]) || keys[i][0] == '.') {
			log_error("'%s' cannot name an instance record", keys[i] ? keys[i] : "");
			return -EINVAL;
		}
	if (!clean_abs_path(rd)) {
		log_error("the runtime directory '%s' is not a clean absolute path", rd);
		return -EINVAL;
	}
	return 0;
}

/* Opens the record's directories and locks the record, again when they
 * were removed meanwhile (by hand, or by a berth of an earlier version). */
static int open_record(const char *rd, const struct instance_key *k, struct instance *in)
{
	int r = -ENOENT;

	/* a berth that finds one gone under it makes them again */
	for (int tries = 0; tries < 8; tries++) {
		r = in->dir_fd = open_dirs(rd, k);
		if (r >= 0)
			r = open_locked(in);
		if (r != -ENOENT)
			break;
		if (in->dir_fd >= 0)
			close(in->dir_fd);
		in->dir_fd = -1;
	}
	if (r == -ENOENT)
		log_error("the directory of the instance record %s keeps being removed", in->path);
	return r;
}

int instance_open(const char *rd, const struct instance_key *k, bool join, struct instance *in)
{
	int r;

	memset(in, 0, sizeof(*in));
	in->dir_fd = in->fd = -1;
	r = check_keys(rd, k);
	if (r < 0)
		return r;
	in->path = xasprintf("%s/%s/%s/%s/%s/%s", rd, INSTANCE_SUBDIR, k->project, k->environment,
			     k->app, k->instance);
	in->name = xstrdup(k->instance);
	r = open_record(rd, k, in);
	if (r == -EWOULDBLOCK && join) {
		r = 1; /* berth exec joins the berth run that holds it */
		goto fail;
	}
	if (r == -EWOULDBLOCK) {
		log_error("instance %s/%s/%s/%s is already run by another berth (pid %d)",
			  k->project, k->environment, k->app, k->instance, (int)holder(in));
		r = -EBUSY;
	}
	if (r >= 0)
		r = take_over(in);
	if (r >= 0) {
		in->rec.pid = getpid();
		r = start_time(in->rec.pid, &in->rec.start);
		if (r < 0)
			log_errno(r, "read berth's start time");
	}
	if (r >= 0)
		r = record_write(in);
	if (r >= 0)
		return 0;
fail:
	/* never removed here: it is another berth's, or names leftovers */
	if (in->fd >= 0)
		close(in->fd);
	in->fd = -1;
	instance_close(in);
	return r;
}

int instance_set_cgroups(struct instance *in, char *const *paths)
{
	if (in->fd < 0)
		return 0;
	strv_free(in->rec.cgroups);
	in->rec.cgroups = NULL;
	size_t n = 0;
	while (paths && paths[n])
		n++;
	if (n) {
		in->rec.cgroups = xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			in->rec.cgroups[i] = xstrdup(paths[i]);
	}
	/* None left: instance_close() removes the record next; until then a
	 * record naming removed cgroups costs the next berth nothing, and the
	 * stop is spared two system calls. */
	return n ? record_write(in) : 0;
}

int instance_cgroups_hook(void *data, char *const *paths)
{
	return instance_set_cgroups(data, paths);
}

/* Record the disk's loop device and the image it is backed by. */
static int instance_set_disk(struct instance *in, const char *loop_dev, dev_t img_dev,
			     ino_t img_ino)
{
	if (in->fd < 0)
		return 0;
	free(in->rec.loop);
	in->rec.loop = xstrdup(loop_dev);
	in->rec.img_dev = img_dev;
	in->rec.img_ino = img_ino;
	return record_write(in);
}

int instance_record_disk(struct instance *in, const struct storage *st)
{
	struct stat img;

	if (in->fd < 0 || st->attached || st->loop_fd < 0 || st->img_fd < 0)
		return 0;
	if (fstat(st->img_fd, &img) < 0)
		return log_errno(-errno, "stat the disk image");
	return instance_set_disk(in, st->loop_dev, img.st_dev, img.st_ino);
}

void instance_close(struct instance *in)
{
	/* The directories stay: each one removed frees a block, and on a
	 * disk-backed runtime directory mounted with `discard` (/run on the
	 * bench VM) each free is a synchronous discard, 0.1-0.25 ms of the
	 * stop apiece.  They are the instance's keys, empty, and go with the
	 * runtime directory at the next boot. */
	if (in->fd >= 0 && !in->rec.cgroups && unlinkat(in->dir_fd, in->name, 0) < 0 &&
	    errno != ENOENT)
		log_errno(-errno, "remove the instance record %s", in->path);
	if (in->fd >= 0)
		close(in->fd); /* unlocks */
	if (in->dir_fd >= 0)
		close(in->dir_fd);
	free(in->name);
	free(in->path);
	instance_rec_free(&in->rec);
	in->fd = in->dir_fd = -1;
	in->name = in->path = NULL;
}
