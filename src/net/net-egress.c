/* SPDX-License-Identifier: MIT */
/*
 * The egress plan for a namespace (what it is made from: the worker's
 * config, the resolvers, in private mode slirp4netns's gateway and this host's
 * addresses) and its refresh before a restart: the firewall's domains
 * resolved again in berth's namespaces, their sets refilled in the
 * worker's namespace from a forked helper, one transaction, read back.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "egress.h"
#include "log.h"
#include "net.h"
#include "util.h"

int net_egress_plan(const struct net_egress *eg, enum net_mode m, const char *loopback_as,
		    struct egress_plan *out)
{
	char **ns = egress_nameservers(eg->resolv_conf);
	char **host = m == NET_PRIVATE ? egress_host_addrs() : NULL;
	struct egress_input in = {
		.firewall = eg->firewall,
		.relationships = eg->relationships,
		.services = eg->services,
		.loopback_as = m == NET_PRIVATE ? loopback_as : NULL,
		.host_addrs = (const char *const *)host,
		.nameservers = (const char *const *)ns,
	};
	int r = egress_plan_build(&in, out);

	strv_free(ns);
	strv_free(host);
	return r;
}

static int refresh_step(void *plan)
{
	return net_rules_update_sets(plan);
}

int net_refresh(struct net_handle *h)
{
	int nsfd = h->nsfd >= 0 ? h->nsfd : h->table_nsfd;
	int status;

	if (!h->plan || !egress_has_domains(h->plan))
		return 0;
	if (nsfd < 0)
		return log_errno(-EBADF, "egress: no namespace to refresh the domain sets in");
	egress_resolve(h->plan);
	if (net_in_ns(nsfd, refresh_step, h->plan, NULL, &status) < 0) {
		log_error("egress: refreshing the firewall's domain sets failed (status %#x)",
			  (unsigned)status);
		return -EIO;
	}
	log_debug("egress: the firewall's domain sets refilled and verified");
	return 0;
}
