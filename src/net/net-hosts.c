/* SPDX-License-Identifier: MIT */
/*
 * The worker's /etc/hosts: each relationship's host (database.internal)
 * resolves to the address the context gives, so the worker's outbound
 * connections find their services.  Rendered in the parent and kept in
 * memory; the mount step writes it into the worker's new root and binds
 * it over /etc/hosts there.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "net.h"
#include "util.h"

static bool valid_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* A host name: letters, digits, '-', '.', '_'; 1-253 characters. */
static bool valid_host(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 253 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") == n;
}

static bool is_loopback(const char *ip)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, ip, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, ip, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int net_hosts_render(const json_t *rels, const char *loopback_as, char **out)
{
	struct strbuf sb = {0};
	const char *rel;
	json_t *eps;

	strbuf_puts(&sb, "# written by berth for this worker: its relationships\n"
			 "127.0.0.1\tlocalhost\n"
			 "::1\tlocalhost ip6-localhost ip6-loopback\n");
	json_object_foreach((json_t *)rels, rel, eps)
	{
		size_t i;
		json_t *ep;

		json_array_foreach(eps, i, ep)
		{
			const char *host = json_string_value(json_object_get(ep, "host"));
			const char *ip = json_string_value(json_object_get(ep, "ip"));
			if (!host || !ip)
				continue;
			if (!valid_host(host) || !valid_ip(ip)) {
				strbuf_release(&sb);
				log_error("relationship %s: host '%s' / ip '%s' cannot go into the "
					  "worker's hosts file",
					  rel, host, ip);
				return -EINVAL;
			}
			if (loopback_as && *loopback_as && is_loopback(ip)) {
				log_info("relationship %s: %s is this host's loopback, %s in the "
					 "worker's namespace",
					 rel, ip, loopback_as);
				ip = loopback_as;
			}
			strbuf_printf(&sb, "%s\t%s\n", ip, host);
		}
	}
	*out = strbuf_detach(&sb);
	return 0;
}

int net_hosts_prepare(const json_t *rels, const char *loopback_as, struct net_hosts *h)
{
	memset(h, 0, sizeof(*h));
	return net_hosts_render(rels, loopback_as, &h->text);
}

void net_hosts_release(struct net_hosts *h)
{
	free(h->text);
	h->text = NULL;
}
