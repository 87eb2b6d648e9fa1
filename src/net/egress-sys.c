/* SPDX-License-Identifier: MIT */
/*
 * What the egress plan needs from the system (egress.h): the resolvers of
 * resolv.conf, the addresses the firewall's domains resolve to, and this
 * host's own addresses.  Resolution runs in berth's own namespaces with
 * getaddrinfo(), so /etc/hosts first, then DNS, as nsswitch.conf says.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "egress.h"
#include "log.h"
#include "util.h"

#define RESOLV_MAX (64 * 1024)

char **egress_nameservers(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path ? path : "/etc/resolv.conf", "re");
	char *text;
	size_t n;
	char **v;

	if (!f) {
		log_info("egress: %s: %s; no resolver is allowed", path ? path : "/etc/resolv.conf",
			 strerror(errno));
		return NULL;
	}
	text = xmalloc(RESOLV_MAX + 1);
	n = fread(text, 1, RESOLV_MAX, f);
	text[n] = '\0';
	v = egress_parse_resolv(text);
	free(text);
	return v;
}

static void push(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return;
	*v = xrealloc(*v, (*n + 2) * sizeof(char *));
	(*v)[(*n)++] = xstrdup(s);
	(*v)[*n] = NULL;
}

/* One domain's addresses appended to v4/v6; 0, or the getaddrinfo error. */
static int resolve_one(const char *domain, char ***v4, size_t *n4, char ***v6, size_t *n6)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int r = getaddrinfo(domain, NULL, &hints, &res);

	if (r != 0)
		return r;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		char buf[NETADDR_STRLEN];
		const void *a =
			ai->ai_family == AF_INET
				? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
				: (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    !inet_ntop(ai->ai_family, a, buf, sizeof(buf)))
			continue;
		if (ai->ai_family == AF_INET)
			push(v4, n4, buf);
		else
			push(v6, n6, buf);
	}
	freeaddrinfo(res);
	return 0;
}

void egress_resolve(struct egress_plan *p)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		char **v4 = NULL, **v6 = NULL;
		size_t n4 = 0, n6 = 0;

		for (char **d = p->rules[i].domains; d && *d; d++) {
			size_t before = n4 + n6;
			int r = resolve_one(*d, &v4, &n4, &v6, &n6);

			if (r != 0)
				log_warn("egress: firewall domain %s does not resolve (%s): the "
					 "rule "
					 "allows no address for it",
					 *d, r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
			else
				log_info("egress: firewall domain %s: %zu address(es)", *d,
					 n4 + n6 - before);
		}
		if (p->rules[i].domains)
			egress_set_resolved(p, i, (const char *const *)v4, (const char *const *)v6);
		strv_free(v4);
		strv_free(v6);
	}
}

char **egress_host_addrs(void)
{
	struct ifaddrs *ifa = NULL;
	char **v = NULL;
	size_t n = 0;

	if (getifaddrs(&ifa) < 0) {
		log_errno(-errno, "getifaddrs");
		return NULL;
	}
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		char buf[NETADDR_STRLEN];
		struct netaddr a;
		const void *p;

		if (!i->ifa_addr ||
		    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		p = i->ifa_addr->sa_family == AF_INET
			    ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
			    : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		if (!inet_ntop(i->ifa_addr->sa_family, p, buf, sizeof(buf)) ||
		    netaddr_parse_ip(buf, &a) < 0 || netaddr_is_loopback(&a))
			continue;
		push(&v, &n, buf);
	}
	freeifaddrs(ifa);
	return v;
}
