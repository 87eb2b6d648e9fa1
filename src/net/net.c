/* SPDX-License-Identifier: MIT */
/*
 * The worker's network namespace: which one (--network), refusing the
 * host's initial namespace, preparing it from a forked helper (new or
 * joined, loopback up, ruleset installed and verified), slirp4netns for
 * private mode (net-slirp.c), and the child's setns().
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "egress.h"
#include "log.h"
#include "net.h"
#include "net-internal.h"
#include "pidfd.h"
#include "util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* Inode numbers of the initial namespaces (include/linux/proc_ns.h). */
#define NET_INIT_INO 0xEFFFFFF9U /* kernels that number the initial netns (6.18+) */
#define PID_INIT_INO 0xEFFFFFFCU /* since 3.8 */

static const char *const mode_names[NET_MODE_COUNT] = {
	[NET_AUTO] = "auto", [NET_CURRENT] = "current", [NET_PRIVATE] = "private",
	[NET_NONE] = "none", [NET_NETNS] = "netns",
};

const char *net_mode_name(enum net_mode m)
{
	return (size_t)m < NET_MODE_COUNT && mode_names[m] ? mode_names[m] : "?";
}

int net_parse_mode(const char *s, struct net_opts *o, const char **msg)
{
	memset(o, 0, sizeof(*o));
	*msg = NULL;
	for (size_t i = 0; i < NET_MODE_COUNT; i++)
		if (i != NET_NETNS && mode_names[i] && strcmp(s, mode_names[i]) == 0) {
			o->mode = (enum net_mode)i;
			return 0;
		}
	if (str_has_prefix(s, "netns:")) {
		const char *p = s + 6;
		if (p[0] != '/' || strstr(p, "/../") || strlen(p) >= 4096) {
			*msg = "netns:PATH needs an absolute path";
			return -EINVAL;
		}
		o->mode = NET_NETNS;
		o->netns_path = xstrdup(p);
		return 0;
	}
	*msg = "expected auto, current, private, none or netns:PATH";
	return -EINVAL;
}

void net_opts_free(struct net_opts *o)
{
	free(o->netns_path);
	o->netns_path = NULL;
}

enum net_mode net_mode_effective(const struct net_opts *o, bool pid1)
{
	if (o->mode != NET_AUTO)
		return o->mode;
	return pid1 ? NET_CURRENT : NET_PRIVATE;
}

/* Since 6.18 the initial network namespace has a fixed inode number, so
 * any other number is another namespace. */
static bool kernel_numbers_init_netns(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 18);
}

int net_netns_is_initial(int nsfd)
{
	struct stat ns, self_pid, init_net;

	if (fstat(nsfd, &ns) < 0)
		return log_errno(-errno, "fstat network namespace");
	if (ns.st_ino == NET_INIT_INO)
		return 1;
	if (kernel_numbers_init_netns())
		return 0;
	if (stat("/proc/self/ns/pid", &self_pid) < 0)
		return log_errno(-errno, "stat /proc/self/ns/pid");
	if (self_pid.st_ino != PID_INIT_INO) {
		/* a container's PID namespace on a kernel without fixed
		 * numbers: the host's init is out of sight */
		log_debug("network namespace %lu: not known to be the host's (berth is in a "
			  "PID namespace of its own)",
			  (unsigned long)ns.st_ino);
		return 0;
	}
	/* pid 1 here is the host's init: compare with its namespace */
	if (stat("/proc/1/ns/net", &init_net) < 0) {
		log_debug("stat /proc/1/ns/net: %s; taking the namespace as the host's",
			  strerror(errno));
		return 1;
	}
	return ns.st_dev == init_net.st_dev && ns.st_ino == init_net.st_ino;
}

static int refuse_initial(int nsfd, const char *what, const char *hint)
{
	int r = net_netns_is_initial(nsfd);

	if (r < 0)
		return r;
	if (r > 0) {
		log_error("%s is the host's initial network namespace: berth never installs "
			  "firewall rules there; use %s",
			  what, hint);
		return -EPERM;
	}
	return 0;
}

/* Enter nsfd (or a new namespace when nsfd < 0, then *new_fd), bring lo
 * up and install the ruleset, from a helper. */
static int setup_in_helper(int nsfd, int *new_fd, const struct egress_plan *plan)
{
	int status, r = net_in_ns(nsfd, nsfd >= 0 ? net_setup_step : net_setup_fresh_step,
				  (void *)plan, new_fd, &status);

	return net_setup_failed(r, status);
}

static int remove_step(void *plan)
{
	return net_rules_remove(plan);
}

/* Join nsfd and delete table inet berth there, from a helper.  0 or
 * -errno (logged; the helper logs what it found, a changed table
 * included). */
static int remove_in_helper(int nsfd, const struct egress_plan *plan)
{
	int status, r = net_in_ns(nsfd, remove_step, (void *)plan, NULL, &status);

	if (r > 0)
		log_msg(LOG_LVL_INFO, "network",
			"network: table inet " NET_TABLE " removed from the namespace");
	else if (r == 0)
		log_debug("network: table inet " NET_TABLE " was no longer there");
	else {
		log_error("network: the cleanup helper failed (status %#x): table inet " NET_TABLE
			  " may be left in the namespace",
			  (unsigned)status);
		return -EIO;
	}
	return 0;
}

/* The plan for h's mode, its domains resolved: h->plan. */
static int prepare_plan(const struct net_egress *eg, struct net_handle *h)
{
	const struct net_egress none = {0};

	if (h->mode == NET_PRIVATE)
		snprintf(h->gateway, sizeof(h->gateway), "%s", NET_SLIRP_GATEWAY);
	h->plan = xcalloc(1, sizeof(*h->plan));
	if (net_egress_plan(eg ? eg : &none, h->mode, h->gateway, h->plan) < 0) {
		free(h->plan);
		h->plan = NULL;
		return -EINVAL;
	}
	egress_resolve(h->plan);
	return 0;
}

/* --network=current: berth's own namespace (never the initial one) gets
 * the table. */
static int join_current(struct net_handle *h)
{
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int r;

	if (self < 0)
		return log_errno(-errno, "open /proc/self/ns/net");
	r = refuse_initial(self, "--network=current: berth's namespace",
			   "--network=private (or none, or netns:PATH)");
	if (r < 0)
		return r;
	/* from here on the table may be there: removed at release */
	h->table_nsfd = TAKE_FD(self);
	h->remove_table = true;
	return setup_in_helper(h->table_nsfd, NULL, h->plan);
}

/* --network=netns:PATH: a network namespace (never the initial one)
 * gets the table. */
static int join_netns(const struct net_opts *o, struct net_handle *h)
{
	int r;

	h->nsfd = open(o->netns_path, O_RDONLY | O_CLOEXEC);
	if (h->nsfd < 0)
		return log_errno(-errno, "open %s", o->netns_path);
	r = ioctl(h->nsfd, NS_GET_NSTYPE);
	if (r != CLONE_NEWNET)
		return log_errno(r < 0 ? -errno : -EINVAL, "%s is not a network namespace",
				 o->netns_path);
	r = refuse_initial(h->nsfd, o->netns_path,
			   "another namespace, or --network=private or none");
	if (r < 0)
		return r;
	h->table_nsfd = fcntl(h->nsfd, F_DUPFD_CLOEXEC, 3);
	h->remove_table = h->table_nsfd >= 0;
	if (h->table_nsfd < 0)
		return log_errno(-errno, "dup %s", o->netns_path);
	return setup_in_helper(h->nsfd, NULL, h->plan);
}

static void log_ready(const struct net_handle *h)
{
	log_msg(LOG_LVL_INFO, "network",
		"network: %s, ingress dropped, egress to %zu relationship endpoint(s), %zu other "
		"service endpoint(s) refused, %s (table inet " NET_TABLE
		", read back and verified)",
		net_mode_name(h->mode), h->plan->n_allow, h->plan->n_block,
		h->plan->all_tcp ? "all TCP" : "firewall.outbound");
}

int net_prepare(const struct net_opts *o, bool pid1, const struct net_egress *eg,
		struct net_handle *h)
{
	int r;

	memset(h, 0, sizeof(*h));
	h->setup.pid = h->setup.rd = h->setup.go_wr = -1;
	h->gate_rd = h->gate_wr = -1;
	h->nsfd = -1;
	h->slirp_pidfd = -1;
	h->table_nsfd = -1;
	h->mode = net_mode_effective(o, pid1);
	r = prepare_plan(eg, h);
	if (r < 0)
		return r;
	switch (h->mode) {
	case NET_CURRENT:
		r = join_current(h);
		break;
	case NET_NETNS:
		r = join_netns(o, h);
		break;
	case NET_NONE:
		/* the helper works while berth prepares the rest (net_ready) */
		r = o->early && o->early->job.pid > 0 ? net_none_take(h, o->early)
						      : net_none_start(h);
		if (r == 0)
			return 0;
		break;
	case NET_PRIVATE:
		if (o->early && o->early->job.pid > 0) {
			r = net_private_take(o, h, o->early); /* slirp4netns too */
			break;
		}
		r = setup_in_helper(-1, &h->nsfd, h->plan);
		if (r == 0 && h->mode == NET_PRIVATE)
			r = net_slirp_start(o, h);
		break;
	default:
		r = -EINVAL;
	}
	if (r < 0) {
		net_release(h); /* also when a namespace could not be opened */
		return r;
	}
	log_ready(h);
	return 0;
}

int net_ready(struct net_handle *h)
{
	int r;

	if (h->setup.pid <= 0 || h->nsfd >= 0)
		return 0;
	r = net_in_ns_open(&h->setup, &h->nsfd);
	return r < 0 ? net_setup_failed(r, 0) : 0; /* net_release() closes the rest */
}

int net_verified(struct net_handle *h)
{
	int status, r;

	if (h->setup.pid <= 0)
		return 0;
	r = net_ready(h);
	if (r < 0)
		return r;
	/* verified: the worker's process goes on while the helper exits
	 * (its exit status is checked all the same; a failure then kills
	 * the process as a setup failure) */
	net_gate_done(h, net_in_ns_result(&h->setup) >= 0);
	r = net_in_ns_finish(&h->setup, &status);
	if (r < 0)
		return net_setup_failed(r, status); /* net_release() closes the rest */
	log_ready(h);
	return 0;
}

void net_release(struct net_handle *h)
{
	net_in_ns_cancel(&h->setup); /* never finished: a setup failure */
	net_gate_done(h, false);
	net_slirp_stop(h);
	if (h->remove_table) {
		remove_in_helper(h->table_nsfd, h->plan);
		close(h->table_nsfd);
	}
	if (h->plan) {
		egress_plan_free(h->plan);
		free(h->plan);
		h->plan = NULL;
	}
	if (h->nsfd >= 0)
		close(h->nsfd);
	h->nsfd = h->table_nsfd = -1;
	h->remove_table = false;
}

int net_join_step(void *data)
{
	const struct net_handle *h = data;

	if (h->nsfd < 0) /* only current stays in berth's namespace */
		return h->mode == NET_CURRENT ? 0 : -ENOENT;
	return setns(h->nsfd, CLONE_NEWNET) < 0 ? -errno : 0;
}

json_t *net_describe(const struct net_opts *o, bool pid1, const struct net_egress *eg)
{
	const struct net_egress none = {0};
	enum net_mode m = net_mode_effective(o, pid1);
	struct egress_plan p;
	const char *gw = m == NET_PRIVATE ? NET_SLIRP_GATEWAY : "";
	json_t *j;

	if (net_egress_plan(eg ? eg : &none, m, gw, &p) < 0)
		return NULL;
	j = json_pack("{s:s, s:s?, s:s?, s:s, s:o, s:o}", "mode", net_mode_name(m), "netns",
		      m == NET_NETNS ? o->netns_path : NULL, "loopback_as", *gw ? gw : NULL,
		      "table", "inet " NET_TABLE, "rules", net_rules_describe(&p), "egress",
		      egress_describe(&p));
	egress_plan_free(&p);
	return j;
}
