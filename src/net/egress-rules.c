/* SPDX-License-Identifier: MIT */
/*
 * The egress plan rendered (egress.h): each rule of the output chain is
 * described once and written both as nft text and as the canonical string
 * the read-back must show; the named sets of the domains likewise; and
 * the plan for berth show.  Pure.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "egress.h"

enum verdict { V_ACCEPT, V_RESET, V_ICMPX, V_COUNT };

static const char *const verdict_text[] = {"accept", "reject with tcp reset",
					   "reject with icmpx admin-prohibited"};
static const char *const verdict_canon[] = {"accept", "reject tcp reset",
					    "reject icmpx admin-prohibited"};
_Static_assert(ARRAY_SIZE(verdict_text) == V_COUNT && ARRAY_SIZE(verdict_canon) == V_COUNT,
	       "a text for every verdict");

/* One rule: [FAM daddr ADDRS|@SET] [PROTO dport PORTS | meta l4proto PROTO] VERDICT */
struct rspec {
	const char *fam; /* "ip", "ip6", or NULL: any address */
	const char *const *addrs;
	size_t n_addrs;
	const char *set;   /* a named set instead of addrs */
	const char *proto; /* "tcp", "udp", or NULL: any protocol */
	const char *const *ports;
	size_t n_ports; /* 0: every port of proto */
	enum verdict v;
};

typedef void (*emit_fn)(void *ctx, const char *text, const char *canon);

static void list_text(struct strbuf *sb, const char *const *v, size_t n)
{
	strbuf_puts(sb, "{ ");
	for (size_t i = 0; i < n; i++)
		strbuf_printf(sb, "%s%s", i ? ", " : "", v[i]);
	strbuf_puts(sb, " }");
}

static void emit_rule(const struct rspec *r, emit_fn fn, void *ctx)
{
	struct strbuf t = {0}, c = {0};

	strbuf_puts(&c, "output:");
	if (r->fam) {
		strbuf_printf(&t, "%s daddr ", r->fam);
		strbuf_printf(&c, " %s daddr in ", r->fam);
		if (r->set) {
			strbuf_printf(&t, "@%s ", r->set);
			strbuf_printf(&c, "{@%s}", r->set);
		} else {
			char *s = netaddr_canon_set(r->addrs, r->n_addrs);
			list_text(&t, r->addrs, r->n_addrs);
			strbuf_putc(&t, ' ');
			strbuf_puts(&c, s);
			free(s);
		}
	}
	if (r->proto && r->n_ports) {
		char *s = netaddr_canon_set(r->ports, r->n_ports);
		strbuf_printf(&t, "%s dport ", r->proto);
		list_text(&t, r->ports, r->n_ports);
		strbuf_putc(&t, ' ');
		strbuf_printf(&c, " %s dport in %s", r->proto, s);
		free(s);
	} else if (r->proto) {
		strbuf_printf(&t, "meta l4proto %s ", r->proto);
		strbuf_printf(&c, " meta l4proto in {%s}", r->proto);
	}
	strbuf_puts(&t, verdict_text[r->v]);
	strbuf_printf(&c, " %s", verdict_canon[r->v]);
	fn(ctx, t.buf, c.buf);
	strbuf_release(&t);
	strbuf_release(&c);
}

static void emit_endpoints(const struct egress_endpoint *v, size_t n, enum verdict verdict,
			   emit_fn fn, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		char addr[NETADDR_STRLEN], port[8];
		const char *a = addr, *pt = port;

		netaddr_format(&v[i].addr, addr);
		snprintf(port, sizeof(port), "%u", v[i].port);
		struct rspec r = {v[i].addr.family == AF_INET ? "ip" : "ip6",
				  &a,
				  1,
				  NULL,
				  "tcp",
				  &pt,
				  1,
				  verdict};
		emit_rule(&r, fn, ctx);
	}
}

/* The addresses of v of one family (pointers into v). */
static size_t of_family(char *const *v, int family, const char **out)
{
	size_t n = 0;

	for (; v && *v; v++) {
		struct netaddr a;
		if (netaddr_parse_cidr(*v, &a) == 0 && a.family == family)
			out[n++] = *v;
	}
	return n;
}

static size_t count(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static void emit_dns(const struct egress_plan *p, emit_fn fn, void *ctx)
{
	static const char *const port53[] = {"53"};
	const char **v = calloc(count(p->dns) + 1, sizeof(char *));

	for (int f = 0; v && f < 2; f++) {
		size_t n = of_family(p->dns, f ? AF_INET6 : AF_INET, v);
		for (int t = 0; n && t < 2; t++) {
			struct rspec r = {f ? "ip6" : "ip",  v,	     n, NULL,
					  t ? "tcp" : "udp", port53, 1, V_ACCEPT};
			emit_rule(&r, fn, ctx);
		}
	}
	free(v);
}

static void emit_fw_rule(const struct egress_rule *fr, size_t idx, emit_fn fn, void *ctx)
{
	char **ports = calloc(fr->n_ports + 1, sizeof(char *));
	const char **addrs = calloc(count(fr->cidrs) + 1, sizeof(char *));
	struct rspec r = {.proto = "tcp",
			  .ports = (const char *const *)ports,
			  .n_ports = fr->n_ports,
			  .v = V_ACCEPT};

	for (size_t i = 0; ports && i < fr->n_ports; i++)
		ports[i] = xasprintf("%u", fr->ports[i]);
	if (fr->domains) {
		char set[32];
		for (int f = 0; f < 2; f++) {
			snprintf(set, sizeof(set), "fw%zu_%d", idx, f ? 6 : 4);
			r.fam = f ? "ip6" : "ip";
			r.set = set;
			emit_rule(&r, fn, ctx);
		}
	} else if (fr->cidrs) {
		r.addrs = addrs;
		for (int f = 0; addrs && f < 2; f++) {
			r.n_addrs = of_family(fr->cidrs, f ? AF_INET6 : AF_INET, addrs);
			r.fam = f ? "ip6" : "ip";
			if (r.n_addrs)
				emit_rule(&r, fn, ctx);
		}
	} else {
		emit_rule(&r, fn, ctx);
	}
	strv_free(ports);
	free(addrs);
}

/* The output chain, in order. */
static void each_rule(const struct egress_plan *p, emit_fn fn, void *ctx)
{
	static const char *const port25[] = {"25"};
	struct rspec r;

	fn(ctx, "oif \"lo\" accept", "output: meta oif in {lo} accept");
	fn(ctx, "ct state established,related accept",
	   "output: ct state in {established,related} accept");
	/* IPv6 needs neighbour discovery and MLD out, or nothing reaches a
	 * neighbour; they go no further than the link. */
	fn(ctx,
	   "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, "
	   "mld-listener-report, mld2-listener-report } accept",
	   "output: icmpv6 type in {mld-listener-report,mld2-listener-report,nd-neighbor-advert,"
	   "nd-neighbor-solicit,nd-router-solicit} accept");
	r = (struct rspec){NULL, NULL, 0, NULL, "tcp", port25, 1, V_RESET};
	emit_rule(&r, fn, ctx);
	emit_endpoints(p->block, p->n_block, V_RESET, fn, ctx);
	emit_endpoints(p->allow, p->n_allow, V_ACCEPT, fn, ctx);
	emit_dns(p, fn, ctx);
	for (size_t i = 0; i < p->n_rules; i++)
		emit_fw_rule(&p->rules[i], i, fn, ctx);
	if (p->all_tcp) {
		r = (struct rspec){.proto = "tcp", .v = V_ACCEPT};
		emit_rule(&r, fn, ctx);
	}
	r = (struct rspec){.proto = "tcp", .v = V_RESET};
	emit_rule(&r, fn, ctx);
	r = (struct rspec){.v = V_ICMPX};
	emit_rule(&r, fn, ctx);
}

static void add_text(void *ctx, const char *text, const char *canon)
{
	(void)canon;
	strbuf_printf(ctx, "\t\t%s\n", text);
}

void egress_nft_output(const struct egress_plan *p, struct strbuf *sb)
{
	strbuf_puts(sb, "\tchain output {\n"
			"\t\ttype filter hook output priority filter; policy drop;\n");
	each_rule(p, add_text, sb);
	strbuf_puts(sb, "\t}\n");
}

struct vec {
	char ***v;
	size_t *n;
};

static void vec_push(struct vec *o, char *s)
{
	*o->v = realloc(*o->v, (*o->n + 2) * sizeof(char *));
	if (!*o->v)
		abort();
	(*o->v)[(*o->n)++] = s;
	(*o->v)[*o->n] = NULL;
}

static void add_canon(void *ctx, const char *text, const char *canon)
{
	(void)text;
	vec_push(ctx, xstrdup(canon));
}

void egress_want_rules(const struct egress_plan *p, char ***v, size_t *n)
{
	struct vec o = {v, n};

	each_rule(p, add_canon, &o);
}

/* ---- the named sets: fwN_4 and fwN_6 for rule N with domains ---- */

void egress_nft_sets(const struct egress_plan *p, struct strbuf *sb)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		if (!p->rules[i].domains)
			continue;
		for (int f = 0; f < 2; f++) {
			char *const *v = f ? p->rules[i].addrs6 : p->rules[i].addrs4;
			strbuf_printf(sb, "\tset fw%zu_%d {\n\t\ttype %s\n", i, f ? 6 : 4,
				      f ? "ipv6_addr" : "ipv4_addr");
			if (count(v)) {
				strbuf_puts(sb, "\t\telements = ");
				list_text(sb, (const char *const *)v, count(v));
				strbuf_putc(sb, '\n');
			}
			strbuf_puts(sb, "\t}\n");
		}
	}
}

char *egress_nft_update(const struct egress_plan *p)
{
	struct strbuf sb = {0};

	for (size_t i = 0; i < p->n_rules; i++) {
		if (!p->rules[i].domains)
			continue;
		for (int f = 0; f < 2; f++) {
			char *const *v = f ? p->rules[i].addrs6 : p->rules[i].addrs4;
			strbuf_printf(&sb, "flush set inet berth fw%zu_%d\n", i, f ? 6 : 4);
			if (count(v)) {
				strbuf_printf(&sb, "add element inet berth fw%zu_%d ", i,
					      f ? 6 : 4);
				list_text(&sb, (const char *const *)v, count(v));
				strbuf_putc(&sb, '\n');
			}
		}
	}
	return strbuf_detach(&sb);
}

void egress_want_sets(const struct egress_plan *p, char ***v, size_t *n)
{
	struct vec o = {v, n};

	for (size_t i = 0; i < p->n_rules; i++) {
		if (!p->rules[i].domains)
			continue;
		for (int f = 0; f < 2; f++) {
			char *const *a = f ? p->rules[i].addrs6 : p->rules[i].addrs4;
			char *s = netaddr_canon_set((const char *const *)a, count(a));
			vec_push(&o, xasprintf("set fw%zu_%d: %s %s", i, f ? 6 : 4,
					       f ? "ipv6_addr" : "ipv4_addr", s));
			free(s);
		}
	}
}

/* ---- berth show ---- */

static json_t *endpoints_json(const struct egress_endpoint *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		char addr[NETADDR_STRLEN];
		netaddr_format(&v[i].addr, addr);
		json_array_append_new(a, json_pack("{s:s, s:s, s:i}", "name", v[i].name, "address",
						   addr, "port", (int)v[i].port));
	}
	return a;
}

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();

	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *rule_json(const struct egress_rule *r)
{
	json_t *o = json_object(), *ports = json_array();

	if (r->cidrs)
		json_object_set_new(o, "ips", strv_json(r->cidrs));
	if (r->domains) {
		json_object_set_new(o, "domains", strv_json(r->domains));
		json_t *v4 = strv_json(r->addrs4), *v6 = strv_json(r->addrs6);
		json_array_extend(v4, v6);
		json_decref(v6);
		json_object_set_new(o, "resolved", v4);
	}
	if (!r->cidrs && !r->domains)
		json_object_set_new(o, "ips", json_string("any"));
	for (size_t i = 0; i < r->n_ports; i++)
		json_array_append_new(ports, json_integer(r->ports[i]));
	json_object_set_new(o, "ports", r->n_ports ? ports : json_string("all"));
	if (r->n_ports == 0)
		json_decref(ports);
	return o;
}

json_t *egress_describe(const struct egress_plan *p)
{
	json_t *fw;

	if (p->all_tcp) {
		fw = json_string("all TCP (no firewall.outbound)");
	} else {
		fw = json_array();
		for (size_t i = 0; i < p->n_rules; i++)
			json_array_append_new(fw, rule_json(&p->rules[i]));
	}
	return json_pack("{s:o, s:o, s:s, s:o, s:o, s:s}", "relationships",
			 endpoints_json(p->allow, p->n_allow), "blocked",
			 endpoints_json(p->block, p->n_block), "port_25",
			 "rejected (TCP reset), always", "dns", strv_json(p->dns), "firewall", fw,
			 "otherwise",
			 "rejected: TCP with a reset, the rest with ICMP admin-prohibited");
}
