/* SPDX-License-Identifier: MIT */
/*
 * Pod mode (`berth run --pod`): berth is PID 1 of a container whose box the
 * engine built (Kubernetes, podman).  Before it starts the worker it checks
 * the guarantees it can see from inside (no capabilities, no_new_privs, a
 * seccomp filter, not root, a read-only root, its cgroup's memory and CPU
 * limit against the size's) and says in one line which guarantee is the
 * engine's and which is berth's own; a missing one refuses the start unless
 * the operator waives it.  The verdict, the parsers of what was read and
 * the environment names a pod passes on are pure; podcheck-sys.c reads
 * /proc and the cgroup.
 */
#ifndef BERTH_PODCHECK_H
#define BERTH_PODCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"

/* The guarantees the engine owes; a waiver names them (podcheck_names). */
enum podcheck_item {
	PODCHECK_CAPS,	       /* CapEff, CapPrm and CapBnd all empty */
	PODCHECK_NO_NEW_PRIVS, /* NoNewPrivs: 1 */
	PODCHECK_SECCOMP,      /* Seccomp: 2 (a filter) */
	PODCHECK_ROOT,	       /* no uid 0 (real, effective, saved) */
	PODCHECK_RO_ROOT,      /* / is mounted read-only */
	PODCHECK_MEMORY,       /* the cgroup's memory limit, at most the size's */
	PODCHECK_CPU,	       /* the cgroup's CPU limit, at most the size's */
	PODCHECK_COUNT,
};

/* "caps", "no_new_privs", "seccomp", "root", "ro_root", "memory", "cpu". */
const char *podcheck_name(enum podcheck_item i);

/* What berth saw from inside.  A have_* false: it could not be read. */
struct podcheck_seen {
	bool have_status;
	uint64_t cap_eff, cap_prm, cap_bnd;
	int no_new_privs; /* -1: the kernel does not say */
	int seccomp;	  /* 0 none, 1 strict, 2 filter; -1: not said */
	uid_t uid[3];	  /* real, effective, saved */
	bool have_ro_root;
	bool ro_root;
	bool have_memory;
	uint64_t memory_bytes; /* 0: no limit ("max") */
	bool have_cpu;
	uint64_t cpu_quota_us; /* 0: no limit */
	uint64_t cpu_period_us;
};

/*
 * "caps,seccomp" (--pod-waive, BERTH_POD_WAIVE) -> a mask of
 * 1 << PODCHECK_*.  An empty list is no waiver.  0, or -EINVAL with *bad
 * the first unknown name (a pointer into list, *bad_len its length).
 */
int podcheck_parse_waive(const char *list, unsigned *mask, const char **bad, size_t *bad_len);

/*
 * The verdict on s against want (the size's limits; a zero field is not
 * checked).  *line: the one line for the log, "pod mode: engine: caps
 * none, ...; berth: env, restart, stop 15s, reap" when every guarantee
 * holds or is waived (0), else the refusal naming each missing one and the
 * waiver that would pass it (-EPERM).  stop_ms: berth's stop deadline.
 * *line is freshly allocated either way.
 */
int podcheck_verdict(const struct podcheck_seen *s, const struct cgroup_limits *want,
		     unsigned waive, uint64_t stop_ms, char **line);

/* Parsers of what podcheck_read() reads.  0 or -EINVAL (-ENOENT: a field
 * is missing). */
/* /proc/self/status: CapEff, CapPrm, CapBnd, NoNewPrivs, Seccomp, Uid. */
int podcheck_parse_status(const char *text, struct podcheck_seen *s);
/* v2 memory.max ("max" or bytes); v1 memory.limit_in_bytes (bytes; the
 * kernel's "unlimited", near 2^63, is 0). */
int podcheck_parse_memory(const char *text, uint64_t *bytes);
/* v2 cpu.max ("max 100000" or "50000 100000"). */
int podcheck_parse_cpu_max(const char *text, uint64_t *quota_us, uint64_t *period_us);
/* v1 cpu.cfs_quota_us ("-1" or a number) and cpu.cfs_period_us. */
int podcheck_parse_cfs(const char *quota, const char *period, uint64_t *quota_us,
		       uint64_t *period_us);

/*
 * The names of envv a pod's `env:` gives the worker: every valid name
 * but berth's own settings (BERTH_...), the engine's own additions
 * (KUBERNETES_..., HOSTNAME, container, TERM, NOTIFY_SOCKET) and the login
 * basics berth sets itself (HOME, USER, SHELL, PATH, LANG, TZ, PWD,
 * SHLVL); --pass-env NAME still passes any of them.  Appended to
 * names and n as commands_pass_env_add() does.
 */
void podcheck_env_names(char *const *envv, char ***names, size_t *n);

/* Read s from /proc/self/status, statvfs("/") and the cgroup of berth
 * itself (/proc/self/cgroup, through the mount table; the lowest limit of
 * that cgroup and its ancestors below the mount).  Never fails: what
 * cannot be read is left have_* false (and counts as missing). */
void podcheck_read(struct podcheck_seen *s);

/*
 * Pod mode's start: read, judge, log the line (info) or the refusal
 * (error).  0, or -EPERM when a guarantee is missing and not waived.
 */
int podcheck_run(const struct cgroup_limits *want, unsigned waive, uint64_t stop_ms);

#endif
