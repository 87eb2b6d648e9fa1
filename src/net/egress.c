/* SPDX-License-Identifier: MIT */
/*
 * The egress plan (egress.h): built from the worker's firewall, its
 * relationships and every known service, then rendered twice from the
 * same rule descriptions, as nft text and as the canonical strings the
 * read-back is compared with, so that the two cannot drift apart.  Pure.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "egress.h"
#include "log.h"

static void strv_push(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(char *));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

static bool strv_has(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

/* ---- building ---- */

static bool same_ep(const struct egress_endpoint *a, const struct netaddr *addr, unsigned port)
{
	return a->port == port && a->addr.family == addr->family &&
	       memcmp(a->addr.addr, addr->addr, sizeof(addr->addr)) == 0;
}

static bool has_ep(const struct egress_endpoint *v, size_t n, const struct netaddr *a,
		   unsigned port)
{
	for (size_t i = 0; i < n; i++)
		if (same_ep(&v[i], a, port))
			return true;
	return false;
}

static void add_ep(struct egress_endpoint **v, size_t *n, const char *name, const struct netaddr *a,
		   unsigned port)
{
	if (has_ep(*v, *n, a, port))
		return;
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n] = (struct egress_endpoint){xstrdup(name), *a, port};
	(*n)++;
}

/* addr as the worker reaches it: this host's loopback is loopback_as in
 * private mode (as in the hosts file). */
static void map_loopback(const struct egress_input *in, struct netaddr *a)
{
	struct netaddr gw;

	if (in->loopback_as && *in->loopback_as && netaddr_is_loopback(a) &&
	    netaddr_parse_ip(in->loopback_as, &gw) == 0)
		*a = gw;
}

/* Every address of one endpoint object: ip and instance_ips. */
static void endpoint_addrs(const json_t *ep, const char **out, size_t max, size_t *n)
{
	const json_t *ips = json_object_get(ep, "instance_ips"), *v;
	const char *ip = json_string_value(json_object_get(ep, "ip"));
	size_t i;

	*n = 0;
	if (ip)
		out[(*n)++] = ip;
	json_array_foreach(ips, i, v) if (json_is_string(v) && *n < max) out[(*n)++] =
		json_string_value(v);
}

static void add_relationships(const struct egress_input *in, struct egress_plan *p)
{
	const char *name;
	json_t *eps;

	json_object_foreach((json_t *)in->relationships, name, eps)
	{
		size_t i;
		json_t *ep;

		json_array_foreach(eps, i, ep)
		{
			const char *addrs[16];
			size_t n;
			json_int_t port = json_integer_value(json_object_get(ep, "port"));

			if (port < 1 || port > 65535)
				continue; /* no port known: relationships_build warned */
			endpoint_addrs(ep, addrs, ARRAY_SIZE(addrs), &n);
			for (size_t k = 0; k < n; k++) {
				struct netaddr a;
				if (netaddr_parse_ip(addrs[k], &a) < 0) {
					log_warn("relationship %s: '%s' is not an address: no rule "
						 "for it",
						 name, addrs[k]);
					continue;
				}
				map_loopback(in, &a);
				add_ep(&p->allow, &p->n_allow, name, &a, (unsigned)port);
			}
		}
	}
}

/* One blocked endpoint; a service on this host's loopback in private mode
 * also listens on the host's other addresses when it binds 0.0.0.0. */
static void block_one(const struct egress_input *in, struct egress_plan *p, const char *name,
		      struct netaddr a, unsigned port)
{
	bool lo = netaddr_is_loopback(&a) && in->loopback_as && *in->loopback_as;

	map_loopback(in, &a);
	/* the same server as a relationship's: reached through it */
	if (has_ep(p->allow, p->n_allow, &a, port))
		return;
	add_ep(&p->block, &p->n_block, name, &a, port);
	for (const char *const *h = in->host_addrs; lo && h && *h; h++) {
		struct netaddr ha;
		if (netaddr_parse_ip(*h, &ha) == 0 && !has_ep(p->allow, p->n_allow, &ha, port))
			add_ep(&p->block, &p->n_block, name, &ha, port);
	}
}

static void add_services(const struct egress_input *in, struct egress_plan *p)
{
	size_t i;
	json_t *s;

	json_array_foreach(in->services, i, s)
	{
		const char *name = json_string_value(json_object_get(s, "name"));
		const char *ip = json_string_value(json_object_get(s, "ip"));
		json_int_t port = json_integer_value(json_object_get(s, "port"));
		struct netaddr a;

		if (!name || !ip || port < 1 || port > 65535 || netaddr_parse_ip(ip, &a) < 0)
			continue;
		block_one(in, p, name, a, (unsigned)port);
	}
}

static int add_rule(struct egress_rule *r, const json_t *rule)
{
	const json_t *v;
	size_t i, n = 0, nd = 0;

	memset(r, 0, sizeof(*r));
	json_array_foreach(json_object_get(rule, "ips"), i, v)
	{
		struct netaddr a;
		char buf[NETADDR_STRLEN];
		if (!json_is_string(v) || netaddr_parse_cidr(json_string_value(v), &a) < 0)
			return log_errno(-EINVAL, "firewall: bad ips entry");
		netaddr_format(&a, buf);
		if (!strv_has(r->cidrs, buf))
			strv_push(&r->cidrs, &n, xstrdup(buf));
	}
	json_array_foreach(json_object_get(rule, "domains"), i, v)
	{
		if (!json_is_string(v) || !netaddr_valid_hostname(json_string_value(v)))
			return log_errno(-EINVAL, "firewall: bad domains entry");
		if (!strv_has(r->domains, json_string_value(v)))
			strv_push(&r->domains, &nd, xstrdup(json_string_value(v)));
	}
	v = json_object_get(rule, "ports");
	r->ports = xcalloc(json_array_size(v) + 1, sizeof(unsigned));
	for (i = 0; i < json_array_size(v); i++) {
		json_int_t port = json_integer_value(json_array_get(v, i));
		if (!json_is_integer(json_array_get(v, i)) || port < 1 || port > 65535)
			return log_errno(-EINVAL, "firewall: bad port");
		r->ports[r->n_ports++] = (unsigned)port;
	}
	if (r->cidrs && r->domains)
		return log_errno(-EINVAL, "firewall: a rule with both ips and domains");
	return 0;
}

int egress_plan_build(const struct egress_input *in, struct egress_plan *p)
{
	const json_t *out = in->firewall ? json_object_get(in->firewall, "outbound") : NULL;
	size_t n_dns = 0;

	memset(p, 0, sizeof(*p));
	add_relationships(in, p);
	add_services(in, p);
	for (const char *const *ns = in->nameservers; ns && *ns; ns++) {
		struct netaddr a;
		char buf[NETADDR_STRLEN];
		if (netaddr_parse_ip(*ns, &a) < 0)
			continue;
		map_loopback(in, &a);
		netaddr_format(&a, buf);
		if (!strv_has(p->dns, buf))
			strv_push(&p->dns, &n_dns, xstrdup(buf));
	}
	p->all_tcp = !json_is_array(out);
	p->rules = xcalloc(json_array_size(out) + 1, sizeof(*p->rules));
	for (size_t i = 0; i < json_array_size(out); i++) {
		p->n_rules++;
		if (add_rule(&p->rules[i], json_array_get(out, i)) < 0) {
			egress_plan_free(p);
			return -EINVAL;
		}
	}
	return 0;
}

static void free_eps(struct egress_endpoint *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

void egress_plan_free(struct egress_plan *p)
{
	free_eps(p->allow, p->n_allow);
	free_eps(p->block, p->n_block);
	strv_free(p->dns);
	for (size_t i = 0; i < p->n_rules; i++) {
		strv_free(p->rules[i].cidrs);
		strv_free(p->rules[i].domains);
		strv_free(p->rules[i].addrs4);
		strv_free(p->rules[i].addrs6);
		free(p->rules[i].ports);
	}
	free(p->rules);
	memset(p, 0, sizeof(*p));
}

static char **strv_copy(const char *const *v)
{
	char **out = NULL;
	size_t n = 0;

	for (; v && *v; v++)
		if (!strv_has(out, *v))
			strv_push(&out, &n, xstrdup(*v));
	return out;
}

void egress_set_resolved(struct egress_plan *p, size_t i, const char *const *v4,
			 const char *const *v6)
{
	strv_free(p->rules[i].addrs4);
	strv_free(p->rules[i].addrs6);
	p->rules[i].addrs4 = strv_copy(v4);
	p->rules[i].addrs6 = strv_copy(v6);
}

bool egress_has_domains(const struct egress_plan *p)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].domains)
			return true;
	return false;
}

char **egress_parse_resolv(const char *text)
{
	char **out = NULL;
	size_t n = 0;

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		char word[16], addr[NETADDR_STRLEN];
		struct netaddr a;

		if (sscanf(l, "%15s %63[^ \t\n%#;]", word, addr) != 2 ||
		    strcmp(word, "nameserver") != 0 || netaddr_parse_ip(addr, &a) < 0)
			continue;
		if (!strv_has(out, addr))
			strv_push(&out, &n, xstrdup(addr));
	}
	return out;
}
