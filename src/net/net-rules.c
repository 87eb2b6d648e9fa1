/* SPDX-License-Identifier: MIT */
/*
 * The ruleset (doc/isolation.md): table inet berth, input policy drop
 * with loopback, established/related and the ICMP/ICMPv6 messages IPv4
 * and IPv6 need; forward dropped; output as the egress plan says
 * (egress.h).  Installed with libnftables as one transaction, then listed
 * as JSON and compared, rule by rule, in a canonical form that does not
 * depend on nft's spelling (net-canon.c).
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
#include "egress.h"
#include "log.h"
#include "net.h"
#include "util.h"

/* The ingress chains: input drops what is not an answer, forward drops. */
static const char ingress[] =
	"	chain input {\n"
	"		type filter hook input priority filter; policy drop;\n"
	"		iif \"lo\" accept\n"
	"		ct state established,related accept\n"
	"		ct state invalid drop\n"
	"		icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, "
	"parameter-problem, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept\n"
	"		icmp type { destination-unreachable, time-exceeded, parameter-problem } "
	"accept\n"
	"	}\n"
	"	chain forward {\n"
	"		type filter hook forward priority filter; policy drop;\n"
	"	}\n";

/* "table; delete table; table {...}" replaces any older copy atomically:
 * the whole buffer is one netlink batch.  In a namespace berth has just
 * made there is no older copy, and the deletion is not free: the kernel
 * destroys the deleted table after an RCU grace period, which the close
 * of libnftables' netlink socket waits for (4-14 ms here): fresh, the
 * table alone (the read-back still compares the whole table). */
static char *rules_text(const struct egress_plan *p, bool fresh)
{
	struct strbuf sb = {0};

	if (!fresh)
		strbuf_puts(&sb, "table inet " NET_TABLE "\n"
				 "delete table inet " NET_TABLE "\n");
	strbuf_puts(&sb, "table inet " NET_TABLE " {\n");
	egress_nft_sets(p, &sb);
	strbuf_puts(&sb, ingress);
	egress_nft_output(p, &sb);
	strbuf_puts(&sb, "}\n");
	return strbuf_detach(&sb);
}

char *net_rules_text(const struct egress_plan *p)
{
	return rules_text(p, false);
}

char *net_rules_text_fresh(const struct egress_plan *p)
{
	return rules_text(p, true);
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
		{"nft_ctx_new", offsetof(struct nft_lib, ctx_new)},
		{"nft_ctx_free", offsetof(struct nft_lib, ctx_free)},
		{"nft_ctx_buffer_output", offsetof(struct nft_lib, ctx_buffer_output)},
		{"nft_ctx_buffer_error", offsetof(struct nft_lib, ctx_buffer_error)},
		{"nft_ctx_get_output_buffer", offsetof(struct nft_lib, ctx_get_output_buffer)},
		{"nft_ctx_get_error_buffer", offsetof(struct nft_lib, ctx_get_error_buffer)},
		{"nft_ctx_output_set_flags", offsetof(struct nft_lib, ctx_output_set_flags)},
		{"nft_run_cmd_from_buffer", offsetof(struct nft_lib, run_cmd_from_buffer)},
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

/* Run one buffer (one transaction). */
static int nft_run(const char *text, const char *what)
{
	const struct nft_lib *lib;
	struct nft_ctx *nft = nft_open(&lib);
	int r;

	if (!nft)
		return -ELIBACC;
	r = lib->run_cmd_from_buffer(nft, text) == 0 ? 0 : nft_error(lib, nft, what);
	lib->ctx_free(nft);
	return r;
}

int net_rules_install(const struct egress_plan *p)
{
	_cleanup_free_ char *text = net_rules_text(p);
	int r = nft_run(text, "installing the ruleset");

	return r < 0 ? r : net_rules_verify(p);
}

int net_rules_install_fresh(const struct egress_plan *p)
{
	_cleanup_free_ char *text = net_rules_text_fresh(p);
	int r = nft_run(text, "installing the ruleset");

	return r < 0 ? r : net_rules_verify(p);
}

int net_rules_preload(void)
{
	return nft_lib() ? 0 : -ELIBACC;
}

char *net_rules_message(const struct egress_plan *p)
{
	_cleanup_free_ char *text = net_rules_text_fresh(p);
	json_t *o = net_rules_want(p);
	char *s;

	json_object_set_new(o, "text", json_string(text));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s; /* NULL: out of memory */
}

/* below list_table() */
static int verify(const struct egress_plan *p, const json_t *want);

int net_rules_install_message(const char *msg)
{
	json_error_t je;
	json_t *o = json_loads(msg, 0, &je);
	const char *text = json_string_value(json_object_get(o, "text"));
	int r;

	if (!text) {
		json_decref(o);
		return log_errno(-EBADMSG, "nftables: the ruleset message is malformed");
	}
	r = nft_run(text, "installing the ruleset");
	if (r == 0)
		r = verify(NULL, o);
	json_decref(o);
	return r;
}

int net_rules_update_sets(const struct egress_plan *p)
{
	_cleanup_free_ char *text = egress_nft_update(p);
	int r = *text ? nft_run(text, "updating the firewall's domain sets") : 0;

	return r < 0 ? r : net_rules_verify(p);
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

int net_rules_remove(const struct egress_plan *p)
{
	const struct nft_lib *lib;
	struct nft_ctx *nft;
	int err, r;
	json_t *root = list_table(&err);

	if (!root)
		return err == -ENOENT ? 0 : err;
	/* net_rules_check() logs the difference; the table goes all the same */
	if (net_rules_check(root, p) < 0)
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

/* The table read back and compared: against p's plan, or (p NULL) the
 * canonical strings of net_rules_want(). */
static int verify(const struct egress_plan *p, const json_t *want)
{
	int err, r;
	json_t *root = list_table(&err);

	if (!root)
		return err == -ENOENT ? log_errno(-EBADMSG, "nftables: table inet " NET_TABLE
							    " is missing after the installation")
				      : err;
	r = p ? net_rules_check(root, p) : net_rules_check_want(root, want);
	json_decref(root);
	return r;
}

int net_rules_verify(const struct egress_plan *p)
{
	return verify(p, NULL);
}
