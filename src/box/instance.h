/* SPDX-License-Identifier: MIT */
/*
 * The instance record: what a `berth run` (or a `berth exec` alone on the
 * instance) created in the kernel, so that the next berth of the same
 * instance can remove what a berth killed with SIGKILL left behind.  A
 * small file <runtime dir>/instances/<project>/<environment>/<app>/
 * <instance> (the runtime directory does not survive a reboot; neither do
 * cgroups or loop devices), holding berth's pid and start time and every
 * cgroup directory and the loop device it created; flock()ed by berth for
 * its whole life, so a second berth of the instance is refused and a
 * record found unlocked is one a dead berth left.
 */
#ifndef BERTH_INSTANCE_H
#define BERTH_INSTANCE_H

#include <stdbool.h>
#include <sys/types.h>

#define INSTANCE_RUNTIME_DIR "/run/berth" /* root's; see instance_runtime_dir() */
#define INSTANCE_SUBDIR	     "instances"
#define INSTANCE_WAIT_MS     5000 /* for a dead berth's cgroup to empty, its loop to go */

/* Storage keys (mountplan_key_ok); the instance is the worker's name. */
struct instance_key {
	const char *project;
	const char *environment;
	const char *app;
	const char *instance;
};

/* What a record says (instance_parse / instance_format). */
struct instance_rec {
	pid_t pid;
	unsigned long long start; /* /proc/PID/stat field 22: a reused pid differs */
	char **cgroups;		  /* absolute paths, NULL-terminated, or NULL */
	char *loop;		  /* "/dev/loopN" backed by the disk image, or NULL */
	dev_t img_dev;		  /* the image's identity, with loop */
	ino_t img_ino;
};

struct instance {
	int dir_fd;		 /* the record's directory, or -1 */
	int fd;			 /* the record, flock()ed exclusively, or -1 (not taken) */
	char *name;		 /* its name in dir_fd */
	char *path;		 /* its path, for messages */
	struct instance_rec rec; /* what it says now */
};

/* Where records live: $BERTH_RUNTIME_DIR (absolute), else /run/berth for
 * root, else $XDG_RUNTIME_DIR/berth; NULL when there is none (berth then
 * keeps no record).  Freshly allocated. */
char *instance_runtime_dir(void);

/*
 * Take the instance: create the record's directories (0700, owned by
 * berth's user, checked, never following links), open the record
 * (O_NOFOLLOW, 0600) and flock() it for berth's life.  Held by another
 * berth: with join, 1 and in is left untaken (berth exec joins a running
 * berth run); else -EBUSY, logged in one line naming the other berth.  A
 * record a dead berth left (its pid gone, or reused: another start time)
 * is acted on first: every cgroup it names is emptied with SIGKILL and
 * removed (bounded), the loop device of its disk is waited for until it
 * has detached (bounded), and one line says what was done.  Then the
 * record names this berth.  0, 1, or -errno (logged; not -EROFS: a
 * runtime directory on a read-only filesystem, which the caller reports).
 */
int instance_open(const char *runtime_dir, const struct instance_key *k, bool join,
		  struct instance *in);

/* Record the cgroup directories berth created, and rewrite the record;
 * NULL: none is left (the record is then removed at instance_close(), not
 * rewritten).  No-op when in was not taken.  0 or -errno (logged). */
int instance_set_cgroups(struct instance *in, char *const *paths);
/* instance_set_cgroups for run_opts.cgroups_hook (data: the instance). */
int instance_cgroups_hook(void *data, char *const *paths);
/* instance_set_disk for st's disk, when st attached a loop device of its
 * own (not joined). */
struct storage;
int instance_record_disk(struct instance *in, const struct storage *st);
/* Remove the record unless it still names cgroups (a later berth removes
 * them then), unlock, close; its directories stay.  Idempotent. */
void instance_close(struct instance *in);

/* The record's text; parse it back: 0 or -EINVAL (a path that is not
 * absolute and clean, a loop device not /dev/loopN, an unknown line). */
char *instance_format(const struct instance_rec *rec);
int instance_parse(const char *text, struct instance_rec *rec);
void instance_rec_free(struct instance_rec *rec);

#endif
