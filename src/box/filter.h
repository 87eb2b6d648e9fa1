/* SPDX-License-Identifier: MIT */
/*
 * The worker's syscall filter (libseccomp): a deny-list with one errno per
 * call (doc/isolation.md), native architecture only, any other ABI kills
 * the process.  A pure plan, compiled to BPF in the parent, installed in
 * the child right before execve with one async-signal-safe syscall.
 * (Not called seccomp.h: that name is libseccomp's own header.)
 */
#ifndef BERTH_FILTER_H
#define BERTH_FILTER_H

#include <jansson.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct filter_opts {
	bool off;		 /* --seccomp=off: no filter at all (debugging) */
	bool allow_local_listen; /* --allow-local-listen: listen/accept/accept4 allowed */
};

/* What a rule compares; at most one argument per rule (libseccomp). */
enum filter_cond {
	FILTER_ANY,	 /* every call */
	FILTER_FLAG_SET, /* (arg & value) == value: clone namespace flags */
	FILTER_EQ,	 /* arg == value: socket families */
	FILTER_EQ32,	 /* (arg & 0xffffffff) == value: ioctl requests */
};

struct filter_rule {
	const char *syscall;
	int err; /* the errno the call returns */
	enum filter_cond cond;
	unsigned arg; /* argument index for cond != FILTER_ANY */
	uint64_t value;
	const char *value_name; /* "CLONE_NEWUSER", "TIOCSTI", "AF_VSOCK" */
	const char *group;	/* "listen", "io_uring", "namespaces", ... */
};

/* The whole deny table (whatever the options), for tests and docs. */
const struct filter_rule *filter_rules(size_t *n);

/* Whether opts keep the rule (allow_local_listen drops the "listen" group). */
bool filter_rule_enabled(const struct filter_opts *o, const struct filter_rule *r);

/*
 * The libseccomp context for opts: default allow, bad architecture
 * SCMP_ACT_KILL_PROCESS, native arch only, every enabled rule.  Names the
 * architecture lacks are skipped (logged at debug level).  Returns 0 and
 * *out (seccomp_release() it), or -errno (logged).  opts->off is the
 * caller's business: this always builds the filter.
 */
int filter_build(const struct filter_opts *o, scmp_filter_ctx *out);

/* The filter compiled to classic BPF, ready for the child. */
struct filter_prog {
	void *insns; /* struct sock_filter[len] */
	unsigned short len;
};

/* Build and export.  With opts->off, *out is empty (len 0). 0 or -errno. */
int filter_compile(const struct filter_opts *o, struct filter_prog *out);
void filter_prog_free(struct filter_prog *p);

/*
 * Install the compiled filter in the calling process (seccomp(2),
 * SECCOMP_SET_MODE_FILTER).  Async-signal-safe: meant for the forked child,
 * after PR_SET_NO_NEW_PRIVS and the user switch, as the last step before
 * the network ruleset's gate (a read(2)), the fds closed and execve (all
 * stay allowed).  An empty program is
 * a no-op.  Returns 0 or -errno; logs nothing.
 */
int filter_apply(const struct filter_prog *p);

/* A exec_step run(): data is a const struct filter_prog *. */
int filter_step(void *data);

/*
 * The filter as berth show prints it:
 * {"enabled": true, "arch": "x86_64", "default": "allow",
 *  "bad_arch": "kill-process",
 *  "rules": [{"syscall": "listen", "errno": "EPERM", "when": null}, ...]}
 * or {"enabled": false} for --seccomp=off.  New reference.
 */
json_t *filter_describe(const struct filter_opts *o);

#endif
