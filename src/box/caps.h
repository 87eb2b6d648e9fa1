/* SPDX-License-Identifier: MIT */
/*
 * Least privilege for the worker: who it runs as (--user, strictly parsed;
 * default web, else nobody), and the drop in the forked child: bounding and
 * ambient sets cleared, inheritable empty, groups, gid, uid, no_new_privs,
 * then verified.  Also berth's own non-dumpable flag.
 */
#ifndef BERTH_CAPS_H
#define BERTH_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/capability.h>
#include <sys/types.h>

#define CAPS_DEFAULT_USER  "web"
#define CAPS_FALLBACK_USER "nobody"
#define CAPS_FALLBACK_ID   "65534" /* without either: the overflow uid/gid */
#define CAPS_MAX_GROUPS	   64

struct caps_user {
	uid_t uid;
	gid_t gid;
	gid_t groups[CAPS_MAX_GROUPS]; /* supplementary, the gid included */
	size_t n_groups;
	char *name; /* passwd name, or NULL */
	bool root;  /* uid 0, asked for explicitly */
};

/*
 * Parse --user NAME|UID[:GID] (GID a number or a group name).  Numbers are
 * whole strings of digits, no sign or space, below 2^32-1 (CVE-2026-30892:
 * "1" is uid 1).  Names are looked up in /etc/passwd and /etc/group.  A
 * known user brings its primary group and supplementary groups; a bare uid without a passwd entry
 * gets gid = uid and no others. uid 0 ("0", "root") is accepted as an explicit request (logged; the
 * worker still has no capabilities); gid 0 only with uid 0.
 * Returns 0, or -EINVAL/-ENOENT with *msg (static text) saying why.
 */
int caps_user_parse(const char *spec, struct caps_user *out, const char **msg);

/* The default: "web" where it exists, else "nobody", else uid and gid 65534
 * (logged).  0 or -errno. */
int caps_user_default(struct caps_user *out);
/* Users and groups come from the box's /etc/passwd and /etc/group (the
 * files the worker sees), not the host's NSS.  The default's name
 * ("web", "nobody" or "65534"). */
const char *caps_user_default_name(void);
void caps_user_free(struct caps_user *u);

/* What the child needs, prepared in the parent so the child allocates
 * nothing. */
struct caps_plan {
	struct caps_user user; /* copied; name not owned */
	cap_t for_switch;      /* P = E = {SETUID, SETGID}, I empty */
	cap_t none;	       /* every set empty */
	int last_cap;	       /* highest capability the kernel knows */
};

int caps_plan_init(const struct caps_user *u, struct caps_plan *p);
void caps_plan_free(struct caps_plan *p);

/*
 * In the forked child, still root, after mounts and network setup: clear
 * the bounding and ambient sets, lock securebits (no root privileges at
 * exec, no ambient raise), inheritable empty, setgroups, setresgid,
 * setresuid, drop whatever is left (uid 0), restore the parent-death signal
 * (credential changes clear it), PR_SET_NO_NEW_PRIVS, then caps_verify().
 * Async-signal-safe.  Returns 0 or -errno (the step is in neither case
 * logged: the caller is a child before execve).
 */
int caps_drop(const struct caps_plan *p);

/* All ids equal the target, groups as planned, every capability set
 * (P, E, I, bounding, ambient) empty, no_new_privs set, and a change of
 * uid (setuid(0), or setuid(1) for a root worker) fails.  0 or -EPERM. */
int caps_verify(const struct caps_plan *p);

/* A exec_step run(): data is a const struct caps_plan *. */
int caps_step(void *data);

/* prctl(PR_SET_DUMPABLE, 0) for berth itself, before it forks the worker
 * or joins any namespace: the worker cannot ptrace it or open its /proc
 * files (CVE-2016-9962, CVE-2016-8659).  0 or -errno (logged). */
int caps_set_undumpable(void);

#endif
