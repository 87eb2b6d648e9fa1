/* SPDX-License-Identifier: MIT */
/*
 * The read-back comparison (net.h): a `list table inet berth` JSON
 * listing reduced to canonical strings, one per chain, set and rule, and
 * compared with what the plan says, in order.  The canonical form does
 * not depend on nft's spelling: a match is "LEFT in {SET}" whether nft
 * wrote a value, an anonymous set or a named one, addresses and ports are
 * merged intervals (netaddr_canon_set), and the implicit dependencies some
 * nft versions print are dropped.  Pure.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "egress.h"
#include "log.h"
#include "net.h"
#include "netaddr.h"
#include "util.h"

/* The ingress chains and rules, in canonical form. */
static const char *const want_chains[] = {
	"chain input: filter hook input prio 0 policy drop",
	"chain forward: filter hook forward prio 0 policy drop",
	EGRESS_CHAIN,
};
static const char *const want_input[] = {
	"input: meta iif in {lo} accept",
	"input: ct state in {established,related} accept",
	"input: ct state in {invalid} drop",
	"input: icmpv6 type in {destination-unreachable,nd-neighbor-advert,nd-neighbor-solicit,"
	"nd-router-advert,packet-too-big,parameter-problem,time-exceeded} accept",
	"input: icmp type in {destination-unreachable,parameter-problem,time-exceeded} accept",
};

static void canon_dump(struct strbuf *sb, const json_t *v)
{
	_cleanup_free_ char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	strbuf_puts(sb, s ? s : "?");
}

/* One element as text: "lo", 443, "10.0.0.0/8", "1-1023", or its JSON. */
static char *canon_elem(const json_t *e)
{
	const json_t *p = json_object_get(e, "prefix"), *r = json_object_get(e, "range");
	struct strbuf sb = {0};

	if (json_is_string(e))
		strbuf_puts(&sb, json_string_value(e));
	else if (json_is_integer(e))
		strbuf_printf(&sb, "%lld", (long long)json_integer_value(e));
	else if (p && json_is_string(json_object_get(p, "addr")))
		strbuf_printf(&sb, "%s/%lld", json_string_value(json_object_get(p, "addr")),
			      (long long)json_integer_value(json_object_get(p, "len")));
	else if (json_array_size(r) == 2) {
		char *a = canon_elem(json_array_get(r, 0)), *b = canon_elem(json_array_get(r, 1));
		strbuf_printf(&sb, "%s-%s", a, b);
		free(a);
		free(b);
	} else
		canon_dump(&sb, e);
	return strbuf_detach(&sb);
}

/* A layer-4 protocol as nft names it: without /etc/protocols (a minimal
 * container image) libnftables lists numbers instead of names. */
static const char *proto_name(const json_t *v)
{
	static const struct {
		json_int_t num;
		const char *name;
	} protos[] = {{1, "icmp"}, {6, "tcp"}, {17, "udp"}, {58, "ipv6-icmp"}};

	if (json_is_string(v))
		return json_string_value(v);
	for (size_t i = 0; json_is_integer(v) && i < ARRAY_SIZE(protos); i++)
		if (json_integer_value(v) == protos[i].num)
			return protos[i].name;
	return NULL;
}

/* A value or a list of them as a canonical set: "lo" -> {lo},
 * {"set": [80, 443]} -> {80,443}, "@fw0_4" -> {@fw0_4}. */
static void canon_set(struct strbuf *sb, const json_t *v, bool protos)
{
	const json_t *arr =
		json_is_object(v) && json_object_get(v, "set") ? json_object_get(v, "set") : v;
	size_t n = json_is_array(arr) ? json_array_size(arr) : 1, i;
	char **items = xcalloc(n + 1, sizeof(char *));
	char *s;

	for (i = 0; i < n; i++) {
		const json_t *e = json_is_array(arr) ? json_array_get(arr, i) : arr;
		const char *name = protos ? proto_name(e) : NULL;
		items[i] = name ? xstrdup(name) : canon_elem(e);
	}
	s = netaddr_canon_set((const char *const *)items, n);
	strbuf_puts(sb, s);
	free(s);
	strv_free(items);
}

static void canon_left(struct strbuf *sb, const json_t *l)
{
	const json_t *m;

	if ((m = json_object_get(l, "meta")) && json_object_size(m) == 1)
		strbuf_printf(sb, "meta %s", json_string_value(json_object_get(m, "key")));
	else if ((m = json_object_get(l, "ct")) && json_object_size(m) == 1)
		strbuf_printf(sb, "ct %s", json_string_value(json_object_get(m, "key")));
	else if ((m = json_object_get(l, "payload")) && json_object_size(m) == 2)
		strbuf_printf(sb, "%s %s", json_string_value(json_object_get(m, "protocol")),
			      json_string_value(json_object_get(m, "field")));
	else
		canon_dump(sb, l);
}

/* A reject: "reject tcp reset", "reject icmpx admin-prohibited". */
static bool canon_reject(struct strbuf *sb, const json_t *st)
{
	const json_t *r = json_object_get(st, "reject");
	const char *type = json_string_value(json_object_get(r, "type"));
	const char *expr = json_string_value(json_object_get(r, "expr"));

	if (json_object_size(st) != 1 || !r || (!json_is_object(r) && !json_is_null(r)))
		return false;
	strbuf_puts(sb, "reject");
	if (type)
		strbuf_printf(sb, " %s", type);
	if (expr)
		strbuf_printf(sb, " %s", expr);
	return json_object_size(r) == (size_t)(!!type + !!expr);
}

/* One statement: a match ("LEFT in {SET}" for == and in), a verdict, a
 * reject, or (anything else) its JSON, which then matches nothing
 * expected. */
static void canon_stmt(struct strbuf *sb, const json_t *st)
{
	const json_t *m = json_object_get(st, "match");
	const char *op;
	size_t len = sb->len;

	if (json_object_size(st) == 1 && json_object_get(st, "accept")) {
		strbuf_puts(sb, "accept");
	} else if (json_object_size(st) == 1 && json_object_get(st, "drop")) {
		strbuf_puts(sb, "drop");
	} else if (json_object_get(st, "reject")) {
		if (!canon_reject(sb, st)) {
			sb->len = len;
			sb->buf[len] = '\0';
			canon_dump(sb, st);
		}
	} else if (m && json_object_size(st) == 1 && json_object_size(m) == 3 &&
		   (op = json_string_value(json_object_get(m, "op"))) &&
		   (strcmp(op, "==") == 0 || strcmp(op, "in") == 0)) {
		const json_t *meta = json_object_get(json_object_get(m, "left"), "meta");
		const char *key = json_string_value(json_object_get(meta, "key"));
		canon_left(sb, json_object_get(m, "left"));
		strbuf_puts(sb, " in ");
		canon_set(sb, json_object_get(m, "right"), key && strcmp(key, "l4proto") == 0);
	} else {
		canon_dump(sb, st);
	}
}

/* "meta l4proto P" right before a P payload match, and "meta nfproto F"
 * before an F payload match, are the match's implicit dependencies: nft
 * versions differ on whether they print them. */
static bool implicit_dependency(const json_t *st, const json_t *next)
{
	static const char *const deps[][3] = {
		{"l4proto", "icmp", "icmp"}, {"l4proto", "ipv6-icmp", "icmpv6"},
		{"l4proto", "tcp", "tcp"},   {"l4proto", "udp", "udp"},
		{"nfproto", "ipv4", "ip"},   {"nfproto", "ipv6", "ip6"},
	};
	const json_t *m = json_object_get(st, "match"), *nm = json_object_get(next, "match");
	const json_t *meta = json_object_get(json_object_get(m, "left"), "meta");
	const json_t *pl = json_object_get(json_object_get(nm, "left"), "payload");
	const char *key = json_string_value(json_object_get(meta, "key"));
	const char *val = strcmp(key ? key : "", "l4proto") == 0
				  ? proto_name(json_object_get(m, "right"))
				  : json_string_value(json_object_get(m, "right"));
	const char *want = json_string_value(json_object_get(pl, "protocol"));

	if (!key || !val || !want)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(deps); i++)
		if (strcmp(key, deps[i][0]) == 0 && strcmp(val, deps[i][1]) == 0 &&
		    strcmp(want, deps[i][2]) == 0)
			return true;
	return false;
}

static char *canon_rule(const json_t *rule)
{
	const json_t *expr = json_object_get(rule, "expr");
	struct strbuf sb = {0};
	size_t n = json_array_size(expr);

	strbuf_printf(&sb, "%s:", json_string_value(json_object_get(rule, "chain")));
	for (size_t i = 0; i < n; i++) {
		const json_t *st = json_array_get(expr, i);
		if (i + 1 < n && implicit_dependency(st, json_array_get(expr, i + 1)))
			continue;
		strbuf_putc(&sb, ' ');
		canon_stmt(&sb, st);
	}
	return strbuf_detach(&sb);
}

static char *canon_chain(const json_t *c)
{
	const json_t *prio = json_object_get(c, "prio");

	return xasprintf("chain %s: %s hook %s prio %lld policy %s",
			 json_string_value(json_object_get(c, "name")),
			 json_string_value(json_object_get(c, "type")),
			 json_string_value(json_object_get(c, "hook")),
			 json_is_integer(prio) ? (long long)json_integer_value(prio) : -999999LL,
			 json_string_value(json_object_get(c, "policy")));
}

/* "set NAME: TYPE {ELEMENTS}"; flags other than none are shown, so that
 * they differ. */
static char *canon_named_set(const json_t *s)
{
	struct strbuf sb = {0};
	const json_t *flags = json_object_get(s, "flags");

	strbuf_printf(&sb, "set %s: %s ", json_string_value(json_object_get(s, "name")),
		      json_string_value(json_object_get(s, "type")));
	if (json_object_get(s, "elem"))
		canon_set(&sb, json_object_get(s, "elem"), false);
	else
		strbuf_puts(&sb, "{}");
	if (flags && json_array_size(flags)) {
		strbuf_puts(&sb, " flags ");
		canon_dump(&sb, flags);
	}
	return strbuf_detach(&sb);
}

struct want {
	char **chains, **sets, **rules;
	size_t n_chains, n_sets, n_rules;
};

static void want_free(struct want *w)
{
	strv_free(w->chains);
	strv_free(w->sets);
	strv_free(w->rules);
}

static void push(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(char *));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

static void want_build(const struct egress_plan *p, struct want *w)
{
	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < ARRAY_SIZE(want_chains); i++)
		push(&w->chains, &w->n_chains, xstrdup(want_chains[i]));
	for (size_t i = 0; i < ARRAY_SIZE(want_input); i++)
		push(&w->rules, &w->n_rules, xstrdup(want_input[i]));
	egress_want_rules(p, &w->rules, &w->n_rules);
	egress_want_sets(p, &w->sets, &w->n_sets);
}

json_t *net_rules_describe(const struct egress_plan *p)
{
	json_t *a = json_array();
	struct want w;

	want_build(p, &w);
	for (size_t i = 0; i < w.n_chains; i++)
		json_array_append_new(a, json_string(w.chains[i]));
	for (size_t i = 0; i < w.n_sets; i++)
		json_array_append_new(a, json_string(w.sets[i]));
	for (size_t i = 0; i < w.n_rules; i++)
		json_array_append_new(a, json_string(w.rules[i]));
	want_free(&w);
	return a;
}

/* Compare got with want, logging the first difference. */
static int compare(const char *what, char *const *got, size_t n_got, char *const *want,
		   size_t n_want)
{
	for (size_t i = 0; i < n_got || i < n_want; i++) {
		const char *g = i < n_got ? got[i] : "(nothing)";
		const char *w = i < n_want ? want[i] : "(nothing)";
		if (strcmp(g, w) != 0) {
			log_error("nftables: the %s read back differ from what was installed: "
				  "got '%s', expected '%s'",
				  what, g, w);
			return -EBADMSG;
		}
	}
	return 0;
}

/* What a listing holds, in the canonical form (logged when something
 * else is in the table). */
static int got_build(const json_t *root, struct want *got)
{
	const json_t *item;
	size_t i;

	memset(got, 0, sizeof(*got));
	json_array_foreach(json_object_get(root, "nftables"), i, item)
	{
		const json_t *v;
		if (json_object_get(item, "metainfo") || json_object_get(item, "table"))
			continue;
		if ((v = json_object_get(item, "chain"))) {
			push(&got->chains, &got->n_chains, canon_chain(v));
		} else if ((v = json_object_get(item, "set"))) {
			push(&got->sets, &got->n_sets, canon_named_set(v));
		} else if ((v = json_object_get(item, "rule"))) {
			push(&got->rules, &got->n_rules, canon_rule(v));
		} else {
			_cleanup_free_ char *s = json_dumps(item, JSON_COMPACT);
			log_error("nftables: unexpected object in table inet " NET_TABLE ": %.200s",
				  s ? s : "?");
			return -EBADMSG;
		}
	}
	return 0;
}

static int check(const json_t *root, const struct want *want)
{
	struct want got;
	int r = got_build(root, &got);

	if (r == 0)
		r = compare("chains", got.chains, got.n_chains, want->chains, want->n_chains);
	if (r == 0)
		r = compare("sets", got.sets, got.n_sets, want->sets, want->n_sets);
	if (r == 0)
		r = compare("rules", got.rules, got.n_rules, want->rules, want->n_rules);
	want_free(&got);
	return r;
}

int net_rules_check(const json_t *root, const struct egress_plan *p)
{
	struct want want;
	int r;

	want_build(p, &want);
	r = check(root, &want);
	want_free(&want);
	return r;
}

static json_t *strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *net_rules_want(const struct egress_plan *p)
{
	struct want w;
	json_t *o;

	want_build(p, &w);
	o = json_pack("{s:o, s:o, s:o}", "chains", strv_json(w.chains, w.n_chains), "sets",
		      strv_json(w.sets, w.n_sets), "rules", strv_json(w.rules, w.n_rules));
	want_free(&w);
	return o;
}

/* A net_rules_want() list back as strings; false when it is not one. */
static bool want_list(const json_t *a, char ***v, size_t *n)
{
	const json_t *s;
	size_t i;

	if (!json_is_array(a))
		return false;
	json_array_foreach(a, i, s)
	{
		if (!json_is_string(s))
			return false;
		push(v, n, xstrdup(json_string_value(s)));
	}
	return true;
}

int net_rules_check_want(const json_t *root, const json_t *want_json)
{
	struct want want = {0};
	int r = -EBADMSG;

	if (want_list(json_object_get(want_json, "chains"), &want.chains, &want.n_chains) &&
	    want_list(json_object_get(want_json, "sets"), &want.sets, &want.n_sets) &&
	    want_list(json_object_get(want_json, "rules"), &want.rules, &want.n_rules))
		r = check(root, &want);
	else
		log_error("nftables: the expected ruleset is malformed");
	want_free(&want);
	return r;
}
