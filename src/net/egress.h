/* SPDX-License-Identifier: MIT */
/*
 * The egress plan: what a worker may open connections to, as Platform.sh
 * draws it.  From the worker's `firewall`, its relationships, every
 * service endpoint berth knows of, the address that stands for this
 * host's loopback (private mode), the resolvers and the addresses its
 * `domains` resolved to, a plan; from the plan, the output chain and
 * named sets of table inet berth as nft text, and the canonical strings
 * the read-back must show (net-rules.c).  Order of the output chain:
 *
 *   oif lo accept; ct established,related accept; IPv6 neighbour
 *   discovery accept; TCP 25 reject; other services reject; the worker's
 *   relationships accept; DNS to its resolvers accept; firewall.outbound
 *   (or, without the key, all TCP) accept; TCP reject with a reset;
 *   everything else reject (icmpx admin-prohibited); policy drop.
 *
 * Pure (egress-sys.c reads resolv.conf and resolves the domains).
 */
#ifndef BERTH_EGRESS_H
#define BERTH_EGRESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "netaddr.h"
#include "util.h"

/* A service as the worker reaches it: address and TCP port. */
struct egress_endpoint {
	char *name; /* relationship ("database") or service ("mysqldb") */
	struct netaddr addr;
	unsigned port;
};

/* One firewall.outbound rule. */
struct egress_rule {
	char **cidrs;	/* canonical CIDRs, NULL-terminated; NULL: none */
	char **domains; /* NULL-terminated; NULL: none */
	char **addrs4;	/* what the domains resolved to (egress_set_resolved) */
	char **addrs6;
	unsigned *ports; /* n_ports of them; none: every port */
	size_t n_ports;
};

struct egress_plan {
	struct egress_endpoint *allow; /* the worker's relationships */
	size_t n_allow;
	struct egress_endpoint *block; /* every other service endpoint */
	size_t n_block;
	char **dns;   /* resolver addresses, NULL-terminated */
	bool all_tcp; /* no firewall key (or no outbound) */
	struct egress_rule *rules;
	size_t n_rules;
};

struct egress_input {
	const json_t *firewall;		/* the worker's firewall (checked); NULL: no key */
	const json_t *relationships;	/* relationships_build(); NULL: none */
	const json_t *services;		/* relationships_services(); NULL: none */
	const char *loopback_as;	/* private mode: slirp4netns's gateway; NULL or "" */
	const char *const *host_addrs;	/* private mode: this host's own addresses,
					 * where a service on 0.0.0.0 also listens */
	const char *const *nameservers; /* NULL-terminated, or NULL */
};

/* 0 and *p (egress_plan_free it), or -EINVAL (logged: a firewall value
 * that `berth check` would have refused). */
int egress_plan_build(const struct egress_input *in, struct egress_plan *p);
void egress_plan_free(struct egress_plan *p);

/* The addresses rule i's domains resolved to (copied; NULL: none). */
void egress_set_resolved(struct egress_plan *p, size_t i, const char *const *v4,
			 const char *const *v6);

/* Whether any rule names domains (the plan then has named sets). */
bool egress_has_domains(const struct egress_plan *p);

/* nft text inside `table inet berth { ... }`: the named sets, and the
 * output chain whole. */
void egress_nft_sets(const struct egress_plan *p, struct strbuf *sb);
void egress_nft_output(const struct egress_plan *p, struct strbuf *sb);
/* One transaction that refills every named set (restart). */
char *egress_nft_update(const struct egress_plan *p);

/* The canonical strings the read-back must show (net-rules.c's form):
 * the output chain's rules in order, and the named sets.  Appended to
 * *v (a NULL-terminated string vector, grown). */
void egress_want_rules(const struct egress_plan *p, char ***v, size_t *n);
void egress_want_sets(const struct egress_plan *p, char ***v, size_t *n);
#define EGRESS_CHAIN "chain output: filter hook output prio 0 policy drop"

/* For berth show: {"relationships": [...], "blocked": [...], "port_25": ...,
 * "dns": [...], "firewall": "all TCP" | [...], "otherwise": ...}. */
json_t *egress_describe(const struct egress_plan *p);

/* The nameserver lines of a resolv.conf text (zone suffixes dropped,
 * non-addresses skipped).  New NULL-terminated vector. */
char **egress_parse_resolv(const char *text);

/* ---- egress-sys.c ---- */

/* The nameservers of path (NULL: /etc/resolv.conf), as the worker sees
 * them when it sees this file; an unreadable file gives none (logged). */
char **egress_nameservers(const char *path);
/* Resolve every rule's domains with getaddrinfo() in the calling
 * process's namespaces (/etc/hosts, then DNS per nsswitch).  A domain
 * that does not resolve is warned about and allows nothing. */
void egress_resolve(struct egress_plan *p);
/* This host's own addresses (getifaddrs), loopback left out. */
char **egress_host_addrs(void);

#endif
