/* SPDX-License-Identifier: MIT */
/*
 * `firewall` as Platform.sh writes it: {outbound: [{protocol: tcp, ips:
 * [CIDR...] | domains: [FQDN...], ports: [N...]}]}.  Every form is checked
 * here, with its place, so that `berth check` refuses what the egress
 * plan could not enforce and run never fails on the config.  Pure.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "netaddr.h"
#include "resolve-internal.h"

/* A non-empty sequence at key (under base), or NULL (reported). */
static const struct cnode *rule_list(struct rctx *r, const char *base, const struct cnode *v,
				     const char *key)
{
	rctx_path(r, base, key);
	if (v->kind != CNODE_SEQ) {
		fail(r, v, "%s must be a list, not %s", key, cnode_type_name(v));
		return NULL;
	}
	if (v->n == 0) {
		fail(r, v, "%s must not be empty (leave the key out for %s)", key,
		     strcmp(key, "ports") == 0 ? "every port" : "every address");
		return NULL;
	}
	return v;
}

static void check_ips(struct rctx *r, const char *base, const struct cnode *v)
{
	struct netaddr a;

	if (!rule_list(r, base, v, "ips"))
		return;
	for (size_t i = 0; i < v->n; i++) {
		const struct cnode *e = v->items[i];
		if (!resolve_expect_string(r, e, "each of ips"))
			continue;
		if (netaddr_parse_cidr(e->str, &a) < 0)
			fail(r, e,
			     "'%s' is not an IPv4 or IPv6 address or CIDR (such as "
			     "192.0.2.0/24 or 2001:db8::/32)",
			     e->str);
	}
}

static void check_domains(struct rctx *r, const char *base, const struct cnode *v)
{
	if (!rule_list(r, base, v, "domains"))
		return;
	for (size_t i = 0; i < v->n; i++) {
		const struct cnode *e = v->items[i];
		if (!resolve_expect_string(r, e, "each of domains"))
			continue;
		if (!netaddr_valid_hostname(e->str))
			fail(r, e,
			     "'%s' is not a host name (such as api.example.com; addresses "
			     "go in ips)",
			     e->str);
	}
}

static void check_ports(struct rctx *r, const char *base, const struct cnode *v)
{
	if (!rule_list(r, base, v, "ports"))
		return;
	for (size_t i = 0; i < v->n; i++) {
		const struct cnode *e = v->items[i];
		if (e->kind != CNODE_SCALAR || e->type != SCALAR_INT)
			fail(r, e, "a port must be an integer from 1 to 65535, not %s",
			     e->kind == CNODE_SCALAR && e->type == SCALAR_STR ? "a string"
									      : cnode_type_name(e));
		else if (e->ival < 1 || e->ival > 65535)
			fail(r, e, "port %lld is outside 1-65535", e->ival);
	}
}

static void check_rule(struct rctx *r, const char *base, const struct cnode *rule)
{
	bool ips = false, domains = false;
	const struct cnode *both = NULL;

	snprintf(r->path, sizeof(r->path), "%s", base);
	if (!resolve_expect_map(r, rule, "an outbound rule"))
		return;
	for (size_t i = 0; i < rule->n; i++) {
		const char *k = rule->pairs[i].key->str;
		const struct cnode *v = rule->pairs[i].value;

		rctx_path(r, base, k);
		if (strcmp(k, "protocol") == 0) {
			if (resolve_expect_string(r, v, "protocol") && strcmp(v->str, "tcp") != 0)
				fail(r, v, "protocol '%s' is not supported (only tcp)", v->str);
		} else if (strcmp(k, "ips") == 0) {
			ips = true;
			both = domains ? rule->pairs[i].key : NULL;
			check_ips(r, base, v);
		} else if (strcmp(k, "domains") == 0) {
			domains = true;
			both = ips ? rule->pairs[i].key : NULL;
			check_domains(r, base, v);
		} else if (strcmp(k, "ports") == 0) {
			check_ports(r, base, v);
		} else {
			fail(r, rule->pairs[i].key,
			     "unknown key '%s' in an outbound rule (protocol, ips, domains, ports)",
			     k);
		}
	}
	if (both) {
		snprintf(r->path, sizeof(r->path), "%s", base);
		fail(r, both, "a rule has ips or domains, not both (write two rules)");
	}
}

json_t *resolve_firewall(struct rctx *r, const struct cnode *n)
{
	char base[sizeof(r->path)];
	bool failed = r->failed;

	if (!n || cnode_is_null(n))
		return NULL;
	snprintf(base, sizeof(base), "%s", r->path);
	if (!resolve_expect_map(r, n, "firewall"))
		return NULL;
	r->failed = false;
	for (size_t i = 0; i < n->n; i++) {
		const struct cnode *v = n->pairs[i].value;

		rctx_path(r, base, n->pairs[i].key->str);
		if (strcmp(n->pairs[i].key->str, "outbound") != 0) {
			fail(r, n->pairs[i].key,
			     "unknown firewall key '%s' (firewall has outbound)",
			     n->pairs[i].key->str);
			continue;
		}
		if (cnode_is_null(v))
			continue;
		if (v->kind != CNODE_SEQ) {
			fail(r, v, "outbound must be a list of rules, not %s", cnode_type_name(v));
			continue;
		}
		for (size_t k = 0; k < v->n; k++) {
			char rb[sizeof(r->path)];
			int len = snprintf(rb, sizeof(rb), "%s.outbound[%zu]", base, k);
			if (len >= (int)sizeof(rb) - 16)
				memcpy(rb + sizeof(rb) - 20, "...", 4);
			check_rule(r, rb, v->items[k]);
		}
	}
	snprintf(r->path, sizeof(r->path), "%s", base);
	if (r->failed)
		return NULL;
	r->failed = failed;
	return cnode_to_json(n);
}
