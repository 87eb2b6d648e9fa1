/* SPDX-License-Identifier: MIT */
/*
 * What every part of the resolver reads the tree with (resolve.c,
 * resolve-mounts.c, resolve-firewall.c), below all of them: the key path
 * of messages, typed expectations, the rule for names, the service
 * lookup.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "resolve-internal.h"
#include "resolve.h"

/* Key paths longer than the buffer are cut: they only label messages. */
void rctx_path(struct rctx *r, const char *base, const char *key)
{
	int n;

	if (base && *base)
		n = snprintf(r->path, sizeof(r->path), "%s.%s", base, key);
	else
		n = snprintf(r->path, sizeof(r->path), "%s", key);
	if (n >= (int)sizeof(r->path))
		memcpy(r->path + sizeof(r->path) - 4, "...", 4);
}

bool resolve_name_ok(const char *s, const char **why)
{
	size_t n = strlen(s);

	if (n == 0) {
		*why = "must not be empty";
		return false;
	}
	if (n > 32) {
		*why = "must be at most 32 characters";
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' ||
		      s[i] == '-')) {
			*why = "may only contain lowercase letters, digits, '_' and '-'";
			return false;
		}
	}
	if (!isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1])) {
		*why = "must start and end with a letter or digit";
		return false;
	}
	if (strstr(s, "--")) {
		*why = "must not contain '--'";
		return false;
	}
	return true;
}

bool resolve_has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

bool resolve_expect_string(struct rctx *r, const struct cnode *n, const char *what)
{
	if (n->kind == CNODE_SCALAR && n->type == SCALAR_STR)
		return true;
	fail(r, n, "%s must be a string, not %s", what, cnode_type_name(n));
	return false;
}

bool resolve_expect_map(struct rctx *r, const struct cnode *n, const char *what)
{
	if (n->kind == CNODE_MAP)
		return true;
	fail(r, n, "%s must be a mapping, not %s", what, cnode_type_name(n));
	return false;
}

const struct service *app_find_service(const struct app *app, const char *name)
{
	for (size_t i = 0; i < app->n_services; i++)
		if (strcmp(app->services[i].name, name) == 0)
			return &app->services[i];
	return NULL;
}
