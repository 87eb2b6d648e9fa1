/* SPDX-License-Identifier: MIT */
/*
 * The `mounts` key: paths relative to the app root normalised and checked
 * (no "..", no control characters, no collisions after normalisation, no
 * hidden names Platform.sh would ignore), the {source, source_path,
 * service} form and the legacy 'shared:files/PATH', no nesting of mounts
 * of different sources.  Pure.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "resolve-internal.h"
#include "resolve.h"

/*
 * Normalise a path relative to the app root or to a storage volume:
 * strip leading and trailing '/', squeeze "//", drop "." components.
 * Returns NULL (with *why) for "..", control characters, or overlong paths.
 */
static char *normalise_relpath(const char *in, bool allow_empty, const char **why)
{
	struct strbuf sb = {0};
	const char *p = in;

	if (strlen(in) >= 4096) {
		*why = "is too long";
		return NULL;
	}
	if (resolve_has_control(in)) {
		*why = "contains a control character";
		return NULL;
	}
	while (*p) {
		size_t n;
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (n == 1 && p[0] == '.') {
			p += n;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			*why = "contains a '..' component";
			strbuf_release(&sb);
			return NULL;
		}
		if (sb.len)
			strbuf_putc(&sb, '/');
		strbuf_add(&sb, p, n);
		p += n;
	}
	if (!sb.len && !allow_empty) {
		*why = "names the app root itself";
		return NULL;
	}
	return strbuf_detach(&sb);
}

/* With a services.yaml, a service mount names one of its services, of a
 * network-storage type (the only kind Platform.sh mounts). */
static int check_storage_service(struct rctx *r, const struct cnode *svc)
{
	const struct app *app = r->app;
	const struct service *s;

	if (!app || !app->have_services)
		return 0;
	s = app_find_service(app, svc->str);
	if (!s) {
		fail(r, svc, "service '%s' is not defined in %s", svc->str,
		     app->services_file ? app->services_file : "services.yaml");
		return -EINVAL;
	}
	if (strncmp(s->type, "network-storage:", 16) != 0 &&
	    strcmp(s->type, "network-storage") != 0) {
		fail(r, svc, "service '%s' is %s, not network storage (network-storage:VERSION)",
		     svc->str, s->type);
		return -EINVAL;
	}
	return 0;
}

/* The legacy form, before 2017.11: 'shared:files/SUBPATH'. */
static int parse_legacy(struct rctx *r, const struct cnode *v, struct mount *m)
{
	const char *why;

	if (strcmp(v->str, "shared:files") != 0 && !str_has_prefix(v->str, "shared:files/")) {
		fail(r, v,
		     "mount must be a mapping {source: local|tmp|service, ...} or "
		     "the legacy 'shared:files/PATH', not '%s'",
		     v->str);
		return -EINVAL;
	}
	m->source = MOUNT_LOCAL;
	m->legacy = true;
	m->source_path = normalise_relpath(v->str + strlen("shared:files"), true, &why);
	if (!m->source_path) {
		fail(r, v, "legacy mount path %s", why);
		return -EINVAL;
	}
	return 0;
}

/* source: local, tmp or service. */
static int parse_source(struct rctx *r, const struct cnode *src, struct mount *m)
{
	if (!resolve_expect_string(r, src, "source"))
		return -EINVAL;
	if (strcmp(src->str, "local") == 0)
		m->source = MOUNT_LOCAL;
	else if (strcmp(src->str, "tmp") == 0)
		m->source = MOUNT_TMP;
	else if (strcmp(src->str, "service") == 0)
		m->source = MOUNT_SERVICE;
	else {
		fail(r, src, "unknown mount source '%s' (expected local, tmp or service)",
		     src->str);
		return -EINVAL;
	}
	return 0;
}

/* source_path: relative and normalised; the mount path when not set. */
static int parse_source_path(struct rctx *r, const struct cnode *sp, const char *path,
			     struct mount *m)
{
	const char *why;

	if (!sp || cnode_is_null(sp)) {
		/* Defaults to the mount path without leading or trailing slashes. */
		m->source_path = xstrdup(path);
		return 0;
	}
	if (!resolve_expect_string(r, sp, "source_path"))
		return -EINVAL;
	if (sp->str[0] == '/') {
		fail(r, sp, "source_path '%s' must be relative", sp->str);
		return -EINVAL;
	}
	m->source_path = normalise_relpath(sp->str, true, &why);
	if (!m->source_path) {
		fail(r, sp, "source_path '%s' %s", sp->str, why);
		return -EINVAL;
	}
	return 0;
}

/* service: the network-storage service of a 'service' mount, refused
 * with any other source. */
static int parse_service(struct rctx *r, const struct cnode *v, const struct cnode *svc,
			 struct mount *m)
{
	const char *why;

	if (m->source != MOUNT_SERVICE) {
		if (!svc || cnode_is_null(svc))
			return 0;
		fail(r, svc, "'service' is only valid with source: service");
		return -EINVAL;
	}
	if (!svc || cnode_is_null(svc)) {
		fail(r, v, "a 'service' mount needs the name of its network-storage service");
		return -EINVAL;
	}
	if (!resolve_expect_string(r, svc, "service"))
		return -EINVAL;
	if (!resolve_name_ok(svc->str, &why)) {
		fail(r, svc, "service name '%s' %s", svc->str, why);
		return -EINVAL;
	}
	if (check_storage_service(r, svc) < 0)
		return -EINVAL;
	m->service = xstrdup(svc->str);
	return 0;
}

static int parse_mount_value(struct rctx *r, const struct cnode *v, const char *path,
			     struct mount *m)
{
	const struct cnode *src = NULL, *sp = NULL, *svc = NULL;

	if (v->kind == CNODE_SCALAR && v->type == SCALAR_STR)
		return parse_legacy(r, v, m);
	if (!resolve_expect_map(r, v, "mount"))
		return -EINVAL;
	for (size_t i = 0; i < v->n; i++) {
		const struct cnode_pair *p = &v->pairs[i];
		if (strcmp(p->key->str, "source") == 0)
			src = p->value;
		else if (strcmp(p->key->str, "source_path") == 0)
			sp = p->value;
		else if (strcmp(p->key->str, "service") == 0)
			svc = p->value;
		else
			fail(r, p->key,
			     "unknown mount key '%s' (expected source, source_path, "
			     "service)",
			     p->key->str);
	}
	if (!src) {
		fail(r, v, "mount has no 'source' (local, tmp or service)");
		return -EINVAL;
	}
	if (parse_source(r, src, m) < 0 || parse_source_path(r, sp, path, m) < 0)
		return -EINVAL;
	return parse_service(r, v, svc, m);
}

static int mount_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mount *)a)->path, ((const struct mount *)b)->path);
}

/* True when b lies beneath a ("var" and "var/cache"). */
static bool path_contains(const char *a, const char *b)
{
	size_t n = strlen(a);
	return strncmp(a, b, n) == 0 && b[n] == '/';
}

/* One mount of the mapping: its path checked and normalised, not the
 * same as an earlier one (v[0..cnt)), its value parsed into *m.
 * -EINVAL when reported. */
static int read_mount(struct rctx *r, const struct cnode_pair *p, const struct mount *v, size_t cnt,
		      struct mount *m)
{
	const char *key = p->key->str, *why;

	if (key[0] == '.' && key[1] && key[1] != '/' && strcmp(key, "..") != 0 &&
	    !str_has_prefix(key, "../")) {
		fail(r, p->key,
		     "mount path starts with '.', which Platform.sh ignores; write '/%s'", key);
		return -EINVAL;
	}
	m->path = normalise_relpath(key, false, &why);
	if (!m->path) {
		fail(r, p->key, "mount path '%s' %s", key, why);
		return -EINVAL;
	}
	for (size_t j = 0; j < cnt; j++) {
		if (strcmp(v[j].path, m->path) == 0) {
			fail(r, p->key, "mount path '%s' is the same as '%s' after normalisation",
			     key, v[j].path);
			resolve_mount_clear(m);
			return -EINVAL;
		}
	}
	if (parse_mount_value(r, p->value, m->path, m) < 0) {
		resolve_mount_clear(m);
		return -EINVAL;
	}
	return 0;
}

/* Mounts of different types may not nest: Platform.sh refuses such an
 * app (doc/mounts.md), so berth does too rather than run what will not
 * deploy. */
static void check_nesting(struct rctx *r, const struct cnode *n, const struct mount *v, size_t cnt)
{
	for (size_t i = 0; i < cnt; i++)
		for (size_t j = 0; j < cnt; j++)
			if (i != j && path_contains(v[i].path, v[j].path) &&
			    v[i].source != v[j].source)
				fail(r, n,
				     "mount '%s' (%s) is nested in mount '%s' (%s) of another type",
				     v[j].path, mount_source_to_string(v[j].source), v[i].path,
				     mount_source_to_string(v[i].source));
}

int resolve_mounts(struct rctx *r, const struct cnode *n, struct mount **out, size_t *nout)
{
	struct mount *v;
	size_t cnt = 0;
	char base[sizeof(r->path)];

	*out = NULL;
	*nout = 0;
	if (!n || cnode_is_null(n))
		return 0;
	if (!resolve_expect_map(r, n, "mounts"))
		return -EINVAL;
	snprintf(base, sizeof(base), "%s", r->path);
	v = xcalloc(n->n, sizeof(*v));
	for (size_t i = 0; i < n->n; i++) {
		struct mount m = {0};

		rctx_path(r, base, n->pairs[i].key->str);
		if (read_mount(r, &n->pairs[i], v, cnt, &m) == 0)
			v[cnt++] = m;
	}
	snprintf(r->path, sizeof(r->path), "%s", base);
	qsort(v, cnt, sizeof(*v), mount_cmp);
	check_nesting(r, n, v, cnt);
	*out = v;
	*nout = cnt;
	return 0;
}
