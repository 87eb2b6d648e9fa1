/* SPDX-License-Identifier: MIT */
/* Helpers shared by the privileged cgroup tests (cgtest.c). */
#ifndef BERTH_CGTEST_H
#define BERTH_CGTEST_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"

enum behaviour {
	B_PAUSE,  /* just wait */
	B_SETSID, /* a grandchild in a new session; SIGTERM kills both */
	B_TREE,	  /* ignores SIGTERM; a setsid daemon and a process forking in a loop */
	B_FORKS,  /* fork 40 sleepers, exit with the number that succeeded */
	B_MEMHOG, /* touch 256 MiB */
	B_SPIN,	  /* two processes in a busy loop */
};

/* "berth-test-<main pid>-<tag>-<pid>": unique, and swept at the end. */
char *tname(const char *tag);
void msleep(int ms);
int64_t now_ms(void);
/* cgroup_detect, narrowed to `force` unless it is CGROUP_MODE_NONE. */
void layout(struct cgroup_layout *l, enum cgroup_mode force);
bool exists(const char *path);
/* A file's first line (all of it when whole is set), or NULL. */
char *slurp_whole(const char *path, bool whole);
char *slurp(const char *path);
char *slurp_at(const char *dir, const char *file);
int count_fds(void);
size_t count_pids(const struct cgroup *cg);
bool wait_pids(const struct cgroup *cg, size_t want, int timeout_ms);
/* Reap everything (the test is a subreaper) until the cgroup is empty. */
bool reap_until_empty(const struct cgroup *cg, int timeout_ms);
/* Fork a child that waits until it is attached (the handshake), then runs b. */
pid_t spawn(const struct cgroup *cg, enum behaviour b);
/* Debug logging, and make the test a subreaper. */
void setup(void);
/* The cgroup path of `hierarchy` (NULL: unified) in /proc/<pid>/cgroup. */
char *proc_cgroup(pid_t pid, const char *hierarchy);
bool ends_with(const char *s, const char *suffix);
/* Run the suite as root (77, or a failure with BERTH_STRICT=1, otherwise),
 * then sweep leftovers: any is a failure.  Returns main's exit status. */
int cgtest_main(Suite *s);

#endif
