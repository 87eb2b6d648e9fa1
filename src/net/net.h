/* SPDX-License-Identifier: MIT */
/*
 * No ingress, egress as Platform.sh draws it: the worker's network
 * namespace (--network=current, private, none or netns:PATH), the
 * nftables ruleset (ingress and the egress plan, egress.h) installed there
 * as one libnftables transaction, read back and compared, and the hosts
 * file that resolves each relationship's host (database.internal).
 * berth never installs rules in the host's initial network namespace.
 */
#ifndef BERTH_NET_H
#define BERTH_NET_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#define NET_SLIRP	     "/usr/bin/slirp4netns" /* Debian's slirp4netns package */
#define NET_SLIRP_TIMEOUT_MS 10000		    /* from its start to its --ready-fd */
/* slirp4netns's gateway in the namespace (its default 10.0.2.0/24), which
 * it maps to this host's loopback */
#define NET_SLIRP_GATEWAY "10.0.2.2"
#define NET_TABLE	  "berth" /* table inet berth */

enum net_mode {
	NET_AUTO,      /* current when berth is PID 1, else private */
	NET_CURRENT,   /* the namespace berth runs in (a container's own) */
	NET_PRIVATE,   /* a new namespace, egress through slirp4netns */
	NET_NONE,      /* a new namespace with loopback only */
	NET_NETNS,     /* a namespace prepared by CNI or ip netns */
	NET_MODE_COUNT /* not a mode: the size of the name table */
};

struct net_early;

struct net_opts {
	enum net_mode mode;
	char *netns_path;	 /* NET_NETNS */
	const char *slirp;	 /* NULL: NET_SLIRP (tests may point elsewhere) */
	struct net_early *early; /* none's or private's helper, started by
				  * net_early_start(); net_prepare() takes it
				  * over (NULL: none, net_prepare() forks it) */
};

/* "auto", "current", "private", "none", "netns:PATH" (PATH absolute).
 * 0, or -EINVAL with *msg. */
int net_parse_mode(const char *s, struct net_opts *o, const char **msg);
void net_opts_free(struct net_opts *o);
enum net_mode net_mode_effective(const struct net_opts *o, bool pid1);
const char *net_mode_name(enum net_mode m);

/* ---- the ruleset (net-rules.c, net-canon.c) ---- */

struct egress_plan;

/* The nft transaction for plan p: (re)creates table inet berth
 * atomically, ingress and egress (egress.h).  New string. */
char *net_rules_text(const struct egress_plan *p);
/* The same for a namespace that cannot hold the table yet (one berth has
 * just made): the table alone, no replacement.  New string. */
char *net_rules_text_fresh(const struct egress_plan *p);

/* The rules in the canonical form net_rules_verify() compares, for berth
 * show: ["chain input: ...", "set fw0_4: ...", "input: meta iif in {lo}
 * accept", ..., "output: ..."].  New reference. */
json_t *net_rules_describe(const struct egress_plan *p);

/* In the calling process's current network namespace: one transaction,
 * then the read-back comparison.  0, or -errno / -EBADMSG (the ruleset read
 * back differs; logged with the difference). */
int net_rules_install(const struct egress_plan *p);
/* The same with net_rules_text_fresh(), in a namespace just made. */
int net_rules_install_fresh(const struct egress_plan *p);
int net_rules_verify(const struct egress_plan *p);
/* Refill the named sets of the firewall's domains from p in one
 * transaction, then verify the whole table.  0 or -errno (logged). */
int net_rules_update_sets(const struct egress_plan *p);

/* The comparison alone: a `list table inet berth` JSON listing against
 * the plan.  0 or -EBADMSG (logged).  Pure. */
int net_rules_check(const json_t *listing, const struct egress_plan *p);
/* The same comparison against net_rules_want()'s {"chains": [...],
 * "sets": [...], "rules": [...]} (the canonical strings of a plan, for a
 * helper forked before the plan existed).  Pure. */
json_t *net_rules_want(const struct egress_plan *p);
int net_rules_check_want(const json_t *listing, const json_t *want);
/* A fresh namespace's ruleset as one message: net_rules_want() with
 * "text": net_rules_text_fresh() (new string; NULL: out of memory), and
 * the helper's side: install it and compare the read-back, as
 * net_rules_install_fresh() does with the plan.  0 or -errno (logged). */
char *net_rules_message(const struct egress_plan *p);
int net_rules_install_message(const char *msg);
/* Load libnftables now (once per process).  0 or -ELIBACC (logged). */
int net_rules_preload(void);

/* In the calling process's current network namespace: delete table inet
 * berth.  A table that differs from the plan (changed while berth ran) is
 * deleted too, with a warning naming the difference.  1 deleted, 0 there
 * was none, or -errno (logged). */
int net_rules_remove(const struct egress_plan *p);

/* Whether table inet berth exists in the current namespace (tests). */
int net_rules_present(void);

/* What the egress plan is made from (egress.h), borrowed. */
struct net_egress {
	const json_t *firewall;	     /* the worker's firewall; NULL: no key */
	const json_t *relationships; /* relationships_build(); NULL: none */
	const json_t *services;	     /* relationships_services(); NULL: none */
	const char *resolv_conf;     /* the worker's resolv.conf; NULL: /etc/resolv.conf */
};

/* The plan for a namespace in mode m (loopback_as: private mode's
 * gateway, else NULL), domains not resolved yet.  0 or -EINVAL (logged). */
int net_egress_plan(const struct net_egress *eg, enum net_mode m, const char *loopback_as,
		    struct egress_plan *out);

/* ---- the namespace (net.c) ---- */

/*
 * Run fn(arg) in the network namespace nsfd (a new one when nsfd < 0)
 * from a forked helper; the caller's namespace never changes.  With
 * new_fd (and nsfd < 0), *new_fd receives the new namespace, opened while
 * the helper waits.  fn's result (>= 0, or -errno that fn logged), or
 * -EIO when the helper died or failed without saying why: then *status
 * (waitpid's) is for the caller's message.  (net-ns.c)
 */
int net_in_ns(int nsfd, int (*fn)(void *arg), void *arg, int *new_fd, int *status);

/* net_in_ns() in parts, so that berth works on while the helper runs:
 * start forks it; with new_ns, open waits until it has made the new
 * namespace, opens it (*new_fd) and lets the helper exit when done (it
 * stays until then); result waits for fn's result (or -EIO); finish also
 * reaps the helper, with net_in_ns()'s result; cancel SIGKILLs and reaps
 * one not finished.  pid <= 0: no helper. */
struct net_job {
	pid_t pid;
	int rd;	   /* the namespace made (new_ns), then fn's result */
	int go_wr; /* closed: the helper may exit */
	bool got;  /* result read: */
	int result;
};
int net_in_ns_start(int nsfd, int (*fn)(void *arg), void *arg, bool new_ns, struct net_job *j);
int net_in_ns_open(struct net_job *j, int *new_fd);
int net_in_ns_result(struct net_job *j);
int net_in_ns_finish(struct net_job *j, int *status);
void net_in_ns_cancel(struct net_job *j);

/*
 * --network=none or private, started early because it is the long
 * pole: right after the command line, before the config, context and
 * user are loaded, a helper makes the namespace, brings lo up and loads
 * libnftables, then waits for the ruleset (which needs the config: the
 * egress plan), which net_prepare() sends it (net_rules_message()); the
 * rest is as without it (none: net_ready() and net_verified(); private:
 * net_prepare() waits for the ruleset, then starts slirp4netns).  Until
 * net_prepare() has taken it over, every way out cancels it:
 * net_early_cancel() kills and reaps the helper (its namespace dies
 * with it); nothing when taken over or never started.
 */
struct net_early {
	struct net_job job;
	int plan_fd;  /* berth's end: the message, then closed */
	int child_fd; /* the helper's end (closed in berth once forked) */
};
int net_early_start(struct net_early *e);
void net_early_cancel(struct net_early *e);

/*
 * 1 if the network namespace nsfd refers to is the host's initial one,
 * 0 if not, -errno.  Detection: on kernels that number the initial
 * namespaces (6.18+: the initial netns inode is 0xEFFFFFF9) by inode alone;
 * on older ones, when berth is in the initial PID namespace (inode 0xEFFFFFFC),
 * by comparing with /proc/1/ns/net (init's), and when that cannot be read,
 * assumed initial (fail closed).  In a container's own PID namespace on an
 * older kernel the host's init is invisible: the namespace is taken as the
 * container's (logged at debug level).
 */
int net_netns_is_initial(int nsfd);

struct net_handle {
	enum net_mode mode; /* effective */
	int nsfd;	    /* the namespace the child joins; -1: stay (current) */
	pid_t slirp_pid;    /* NET_PRIVATE: slirp4netns */
	int slirp_pidfd;
	char gateway[16];  /* NET_PRIVATE: NET_SLIRP_GATEWAY, which slirp4netns
			    * maps to this host's loopback */
	bool remove_table; /* table_nsfd is set: a namespace berth did not
			    * create (current, netns:PATH) where it installed
			    * the table, to remove it from at release (a flag,
			    * so that a zeroed handle owns no fd 0) */
	int table_nsfd;
	struct egress_plan *plan; /* what was installed; owned */
	struct net_job setup;	  /* pid > 0: --network=none's namespace and
				   * ruleset still being made (net_ready()) */
	int gate_rd, gate_wr;	  /* open while the ruleset is not verified:
				   * net_gate_step() waits for a byte */
};

/*
 * In the parent, before the worker is spawned: find or create the
 * worker's namespace, install and verify the ruleset in it (from a forked
 * helper, so that berth's own namespace is never touched), start
 * slirp4netns for private.  Refuses the host's initial namespace, naming the option to
 * use.  0 with *h filled (net_release() it), or -errno (logged).
 */
int net_prepare(const struct net_opts *o, bool pid1, const struct net_egress *eg,
		struct net_handle *h);
/*
 * --network=none: net_prepare() only starts the helper that makes the
 * namespace and installs and verifies the ruleset, and berth goes on
 * with the rest of the box meanwhile.  net_ready() waits until the
 * namespace exists and opens it: call it before the worker's process is
 * cloned (until then net_join_step() fails).  net_verified() waits for
 * the ruleset, installed and read back, and then opens the gate
 * (net_gate_step(), where the worker's process waits before its exec);
 * a failure closes the gate: whatever waits there fails.  Both do
 * nothing for the other modes, or when done.  0 or -errno (logged).
 */
int net_ready(struct net_handle *h);
int net_verified(struct net_handle *h);
/* Before a restart: resolve the firewall's domains again and refill their
 * sets in the worker's namespace (forked helper, one transaction, read
 * back).  Nothing to do without domains.  0 or -errno (logged). */
int net_refresh(struct net_handle *h);
/* Stop slirp4netns, close the namespace, and delete table inet berth from a
 * namespace berth did not create (current, netns:PATH: the namespace
 * outlives berth; one it created dies with it), from a forked helper that
 * joins it, as it was installed.  A changed table is deleted too, and the
 * change logged.  Safe to call twice. */
void net_release(struct net_handle *h);

/* A exec_step run() (data: const struct net_handle *): join h->nsfd.
 * Needs CAP_SYS_ADMIN: before the privilege drop. */
int net_join_step(void *data);
/* A exec_step run() (data: const struct net_handle *): wait until
 * net_verified() opened the gate (at once when it had before this
 * process was cloned); fails when it closed it without, or berth died. */
int net_gate_step(void *data);

/* ---- private mode's helper (net-slirp.c) ---- */

/* Start slirp4netns for h->nsfd and wait until it is ready: h->slirp_pid
 * and h->slirp_pidfd set once it runs.  0 or -errno (logged, with its
 * last line of output). */
int net_slirp_start(const struct net_opts *o, struct net_handle *h);
/* SIGKILL it, not waited for (its tap device goes after berth's stop);
 * safe without one. */
void net_slirp_stop(struct net_handle *h);

/* What berth show prints: {"mode": ..., "rules": [...], "egress": {...}}
 * (new reference); domains are not resolved. */
json_t *net_describe(const struct net_opts *o, bool pid1, const struct net_egress *eg);

/* ---- the hosts file (net-hosts.c) ---- */

/* The worker's /etc/hosts: localhost lines, then "IP<TAB>HOST" for each
 * relationship endpoint ({"rel": [{"host": ..., "ip": ...}]}, as built by
 * relationships_build()); endpoints without both are skipped.  Hosts and
 * addresses are validated (no whitespace, no control characters, an IPv4
 * or IPv6 literal).  loopback_as (or NULL): the address that stands for
 * this host's loopback in the worker's namespace (private mode:
 * NET_SLIRP_GATEWAY), put in place of a loopback address (127.0.0.0/8, ::1), which
 * would otherwise be the worker's own.  Returns 0 and *out (free it), or
 * -EINVAL (logged). */
int net_hosts_render(const json_t *relationships, const char *loopback_as, char **out);

struct net_hosts {
	char *text; /* the rendered file; NULL: no hosts file */
};

/* Render the file (parent) into h->text, which the mount step writes
 * into the worker's new root and binds over its /etc/hosts: nothing of it
 * is on the host.  0 or -errno (logged). */
int net_hosts_prepare(const json_t *relationships, const char *loopback_as, struct net_hosts *h);
void net_hosts_release(struct net_hosts *h);

#endif
