/* SPDX-License-Identifier: MIT */
/*
 * The ingress ruleset (doc/isolation.md): table inet berth, input policy
 * drop with loopback, established/related and the ICMP/ICMPv6 messages
 * IPv4 and IPv6 need; forward dropped; output accepted.  Installed with
 * libnftables as one transaction, then listed as JSON and compared, rule
 * by rule, in a canonical form that does not depend on nft's spelling.
 * libnftables is dlopen()ed on first use (in the forked rules helper), so
 * berth itself does not map it and its dependencies while it supervises.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "net.h"
#include "util.h"

/* "table; delete table; table {...}" replaces any older copy atomically:
 * the whole buffer is one netlink batch. */
static const char ruleset[] =
	"table inet berth\n"
	"delete table inet berth\n"
	"table inet berth {\n"
	"	chain input {\n"
	"		type filter hook input priority filter; policy drop;\n"
	"		iif \"lo\" accept\n"
	"		ct state established,related accept\n"
	"		ct state invalid drop\n"
	"		icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, "
	"parameter-problem, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept\n"
	"		icmp type { destination-unreachable, time-exceeded, parameter-problem } accept\n"
	"	}\n"
	"	chain forward {\n"
	"		type filter hook forward priority filter; policy drop;\n"
	"	}\n"
	"	chain output {\n"
	"		type filter hook output priority filter; policy accept;\n"
	"	}\n"
	"}\n";

/* What the read-back must say, in canonical form (see canon_rule()). */
static const char *const want_chains[] = {
	"chain input: filter hook input prio 0 policy drop",
	"chain forward: filter hook forward prio 0 policy drop",
	"chain output: filter hook output prio 0 policy accept",
};
static const char *const want_rules[] = {
	"input: meta iif in {lo} accept",
	"input: ct state in {established,related} accept",
	"input: ct state in {invalid} drop",
	"input: icmpv6 type in {destination-unreachable,nd-neighbor-advert,nd-neighbor-solicit,"
	"nd-router-advert,packet-too-big,parameter-problem,time-exceeded} accept",
	"input: icmp type in {destination-unreachable,parameter-problem,time-exceeded} accept",
};

const char *net_rules_text(void)
{
	return ruleset;
}

json_t *net_rules_describe(void)
{
	json_t *a = json_array();

	for (size_t i = 0; i < ARRAY_SIZE(want_chains); i++)
		json_array_append_new(a, json_string(want_chains[i]));
	for (size_t i = 0; i < ARRAY_SIZE(want_rules); i++)
		json_array_append_new(a, json_string(want_rules[i]));
	return a;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void canon_dump(struct strbuf *sb, const json_t *v)
{
	_cleanup_free_ char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	strbuf_puts(sb, s ? s : "?");
}

/* A value as a sorted set: "lo" -> {lo}, ["b","a"] -> {a,b}, {"set": [...]}. */
static void canon_set(struct strbuf *sb, const json_t *v)
{
	const json_t *arr = json_is_object(v) ? json_object_get(v, "set") : v;
	size_t n = json_is_array(arr) ? json_array_size(arr) : 1, i;
	char **items = xcalloc(n, sizeof(char *));

	for (i = 0; i < n; i++) {
		const json_t *e = json_is_array(arr) ? json_array_get(arr, i) : v;
		struct strbuf one = {0};
		if (json_is_string(e))
			strbuf_puts(&one, json_string_value(e));
		else
			canon_dump(&one, e);
		items[i] = strbuf_detach(&one);
	}
	qsort(items, n, sizeof(char *), cmp_str);
	strbuf_putc(sb, '{');
	for (i = 0; i < n; i++) {
		strbuf_printf(sb, "%s%s", i ? "," : "", items[i]);
		free(items[i]);
	}
	strbuf_putc(sb, '}');
	free(items);
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

/* One statement: a match ("LEFT in {SET}" for == and in), a verdict, or
 * (anything else) its JSON, which then matches nothing expected. */
static void canon_stmt(struct strbuf *sb, const json_t *st)
{
	const json_t *m = json_object_get(st, "match");
	const char *op;

	if (json_object_size(st) == 1 && json_object_get(st, "accept")) {
		strbuf_puts(sb, "accept");
	} else if (json_object_size(st) == 1 && json_object_get(st, "drop")) {
		strbuf_puts(sb, "drop");
	} else if (m && json_object_size(st) == 1 && json_object_size(m) == 3 &&
		   (op = json_string_value(json_object_get(m, "op"))) &&
		   (strcmp(op, "==") == 0 || strcmp(op, "in") == 0)) {
		canon_left(sb, json_object_get(m, "left"));
		strbuf_puts(sb, " in ");
		canon_set(sb, json_object_get(m, "right"));
	} else {
		canon_dump(sb, st);
	}
}

/* "meta l4proto icmp" right before an icmp payload match is the match's
 * implicit dependency: nft versions differ on whether they print it. */
static bool implicit_dependency(const json_t *st, const json_t *next)
{
	const json_t *m = json_object_get(st, "match"), *nm = json_object_get(next, "match");
	const json_t *meta = json_object_get(json_object_get(m, "left"), "meta");
	const json_t *pl = json_object_get(json_object_get(nm, "left"), "payload");
	const char *key = json_string_value(json_object_get(meta, "key"));
	const char *proto = json_string_value(json_object_get(m, "right"));
	const char *want = json_string_value(json_object_get(pl, "protocol"));

	if (!key || strcmp(key, "l4proto") != 0 || !proto || !want)
		return false;
	return (strcmp(proto, "icmp") == 0 && strcmp(want, "icmp") == 0) ||
	       (strcmp(proto, "ipv6-icmp") == 0 && strcmp(want, "icmpv6") == 0);
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

#define NFT_LIBRARY "libnftables.so.1"

/* The libnftables entry points this module uses, typed by the header. */
struct nft_lib {
	typeof(nft_ctx_new) *ctx_new;
	typeof(nft_ctx_free) *ctx_free;
	typeof(nft_ctx_buffer_output) *ctx_buffer_output;
	typeof(nft_ctx_buffer_error) *ctx_buffer_error;
	typeof(nft_ctx_get_output_buffer) *ctx_get_output_buffer;
	typeof(nft_ctx_get_error_buffer) *ctx_get_error_buffer;
	typeof(nft_ctx_output_set_flags) *ctx_output_set_flags;
	typeof(nft_run_cmd_from_buffer) *run_cmd_from_buffer;
};

/* Load libnftables and resolve the table, once per process (the library
 * stays loaded): the only file-static state here, private to the module. */
static const struct nft_lib *nft_lib(void)
{
	static struct nft_lib lib;
	static bool loaded;
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
		{ "nft_ctx_new", offsetof(struct nft_lib, ctx_new) },
		{ "nft_ctx_free", offsetof(struct nft_lib, ctx_free) },
		{ "nft_ctx_buffer_output", offsetof(struct nft_lib, ctx_buffer_output) },
		{ "nft_ctx_buffer_error", offsetof(struct nft_lib, ctx_buffer_error) },
		{ "nft_ctx_get_output_buffer", offsetof(struct nft_lib, ctx_get_output_buffer) },
		{ "nft_ctx_get_error_buffer", offsetof(struct nft_lib, ctx_get_error_buffer) },
		{ "nft_ctx_output_set_flags", offsetof(struct nft_lib, ctx_output_set_flags) },
		{ "nft_run_cmd_from_buffer", offsetof(struct nft_lib, run_cmd_from_buffer) },
	};
	void *h;

	if (loaded)
		return &lib;
	h = dlopen(NFT_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		log_error("nftables: cannot load " NFT_LIBRARY ": %s (Debian package libnftables1)",
			  dlerror());
		return NULL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
		void *f = dlsym(h, syms[i].name);
		if (!f) {
			log_error("nftables: " NFT_LIBRARY " has no %s: %s", syms[i].name,
				  dlerror());
			dlclose(h);
			return NULL;
		}
		memcpy((char *)&lib + syms[i].off, &f, sizeof(f));
	}
	loaded = true;
	return &lib;
}

/* A context with buffered output and errors; NULL (logged) on failure. */
static struct nft_ctx *nft_open(const struct nft_lib **lib)
{
	struct nft_ctx *nft;

	*lib = nft_lib();
	if (!*lib)
		return NULL;
	nft = (*lib)->ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		log_error("nftables: nft_ctx_new failed");
		return NULL;
	}
	if ((*lib)->ctx_buffer_output(nft) < 0 || (*lib)->ctx_buffer_error(nft) < 0) {
		log_error("nftables: cannot buffer the output");
		(*lib)->ctx_free(nft);
		return NULL;
	}
	return nft;
}

static int nft_error(const struct nft_lib *lib, struct nft_ctx *nft, const char *what)
{
	const char *e = lib->ctx_get_error_buffer(nft);
	size_t n = e ? strlen(e) : 0;

	while (n && e[n - 1] == '\n')
		n--;
	if (e && strstr(e, "Operation not permitted")) {
		log_error("nftables: %s failed: %.*s (berth needs CAP_NET_ADMIN in the worker's "
			  "network namespace: in a container, e.g. docker run --cap-add NET_ADMIN)",
			  what, (int)n, e);
		return -EPERM;
	}
	log_error("nftables: %s failed: %.*s", what, (int)n, e ? e : "");
	return -EIO;
}

int net_rules_install(void)
{
	const struct nft_lib *lib;
	struct nft_ctx *nft = nft_open(&lib);
	int r;

	if (!nft)
		return -ELIBACC;
	r = lib->run_cmd_from_buffer(nft, ruleset) == 0 ? 0
							: nft_error(lib, nft, "installing the ruleset");
	lib->ctx_free(nft);
	return r < 0 ? r : net_rules_verify();
}

/* The table as JSON, or NULL with *err (-ENOENT: no such table). */
static json_t *list_table(int *err)
{
	const struct nft_lib *lib;
	struct nft_ctx *nft = nft_open(&lib);
	json_t *root = NULL;
	json_error_t je;

	*err = -ELIBACC;
	if (!nft)
		return NULL;
	lib->ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON);
	if (lib->run_cmd_from_buffer(nft, "list table inet " NET_TABLE) != 0) {
		const char *e = lib->ctx_get_error_buffer(nft);
		*err = e && strstr(e, "No such file or directory") ? -ENOENT : -EIO;
		if (*err == -EIO)
			nft_error(lib, nft, "listing table inet " NET_TABLE);
	} else {
		root = json_loads(lib->ctx_get_output_buffer(nft), 0, &je);
		if (!root)
			log_error("nftables: cannot parse the JSON listing: %s", je.text);
		*err = root ? 0 : -EBADMSG;
	}
	lib->ctx_free(nft);
	return root;
}

int net_rules_remove(void)
{
	const struct nft_lib *lib;
	struct nft_ctx *nft;
	int err, r;
	json_t *root = list_table(&err);

	if (!root)
		return err == -ENOENT ? 0 : err;
	/* net_rules_check() logs the difference; the table goes all the same */
	if (net_rules_check(root) < 0)
		log_warn("table inet " NET_TABLE " was changed while berth ran (above): "
			 "deleting it anyway");
	json_decref(root);
	nft = nft_open(&lib);
	if (!nft)
		return -ELIBACC;
	r = lib->run_cmd_from_buffer(nft, "delete table inet " NET_TABLE) == 0
		    ? 1
		    : nft_error(lib, nft, "deleting table inet " NET_TABLE);
	lib->ctx_free(nft);
	return r;
}

int net_rules_present(void)
{
	int err;
	json_t *root = list_table(&err);

	json_decref(root);
	return err == 0 ? 1 : err == -ENOENT ? 0 : err;
}

/* Compare got (n_got canonical strings) with want, logging the first
 * difference. */
static int compare(const char *what, char **got, size_t n_got, const char *const *want,
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

int net_rules_verify(void)
{
	int err, r;
	json_t *root = list_table(&err);

	if (!root)
		return err == -ENOENT ? log_errno(-EBADMSG, "nftables: table inet " NET_TABLE
							    " is missing after the installation")
				      : err;
	r = net_rules_check(root);
	json_decref(root);
	return r;
}

int net_rules_check(const json_t *root)
{
	char *chains[16], *rules[32];
	size_t n_chains = 0, n_rules = 0, i;
	const json_t *item;
	int r = 0;

	json_array_foreach(json_object_get(root, "nftables"), i, item) {
		const json_t *v;
		if (json_object_get(item, "metainfo") || json_object_get(item, "table"))
			continue;
		if ((v = json_object_get(item, "chain")) && n_chains < ARRAY_SIZE(chains)) {
			chains[n_chains++] = canon_chain(v);
		} else if ((v = json_object_get(item, "rule")) && n_rules < ARRAY_SIZE(rules)) {
			rules[n_rules++] = canon_rule(v);
		} else {
			_cleanup_free_ char *s = json_dumps(item, JSON_COMPACT);
			log_error("nftables: unexpected object in table inet " NET_TABLE ": %.200s",
				  s ? s : "?");
			r = -EBADMSG;
			break;
		}
	}
	if (r == 0)
		r = compare("chains", chains, n_chains, want_chains, ARRAY_SIZE(want_chains));
	if (r == 0)
		r = compare("rules", rules, n_rules, want_rules, ARRAY_SIZE(want_rules));
	for (i = 0; i < n_chains; i++)
		free(chains[i]);
	for (i = 0; i < n_rules; i++)
		free(rules[i]);
	return r;
}
