/* SPDX-License-Identifier: MIT */
/*
 * The mount plan of a worker: storage keys, lexical checks of every path,
 * and the ordered operations (see mountplan.h).  Pure.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "mountplan.h"
#include "safepath.h"
#include "util.h"

static const char *const kind_names[] = {
    [MP_PRIVATE] = "propagation",
    [MP_DISK] = "disk",
    [MP_SCRATCH] = "scratch",
    [MP_READONLY_ROOT] = "readonly-root",
    [MP_APP_RO] = "app-root",
    [MP_BIND] = "bind",
    [MP_MASK] = "mask",
    [MP_TMP] = "tmp",
    [MP_SHM] = "shm",
};

const char *mountplan_kind_name(enum mountplan_kind k)
{
	return (size_t)k < ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

bool mountplan_key_ok(const char *s)
{
	return s && *s && strlen(s) <= 255 && !strchr(s, '/') && safepath_rel_ok(s, false);
}

/* An absolute path, normalised: "//" squeezed, no trailing '/'; NULL when
 * it is relative or has "." or ".." components. */
static char *norm_abs(const char *in)
{
	struct strbuf sb = {0};

	if (!in || in[0] != '/')
		return NULL;
	for (const char *p = in; *p;) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		if (!n)
			break;
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
			strbuf_release(&sb);
			return NULL;
		}
		strbuf_putc(&sb, '/');
		strbuf_add(&sb, p, n);
		p += n;
	}
	if (!sb.len)
		strbuf_putc(&sb, '/');
	return strbuf_detach(&sb);
}

/* Is b equal to a or beneath it (both normalised, absolute)? */
static bool beneath_or_same(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (strcmp(a, "/") == 0)
		return true;
	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

/* Is rel b equal to or inside rel a? */
static bool rel_nested(const char *a, const char *b)
{
	size_t n = strlen(a);

	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

static char *join(const char *a, const char *b)
{
	if (!*a)
		return xstrdup(b);
	if (!*b)
		return xstrdup(a);
	return xasprintf("%s/%s", a, b);
}

static struct mountplan_op *add(struct mountplan *p, size_t *cap, enum mountplan_kind kind)
{
	xgrow(&p->ops, cap, p->n_ops + 1, sizeof(*p->ops));
	struct mountplan_op *op = &p->ops[p->n_ops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->src_dir = xstrdup("");
	op->source = xstrdup("");
	op->target = xstrdup("");
	return op;
}

static void set_str(char **dst, char *s)
{
	free(*dst);
	*dst = s;
}

static int fail(char **err, const char *fmt, ...) ATTR_PRINTF(2, 3);
static int fail(char **err, const char *fmt, ...)
{
	struct strbuf sb = {0};
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	strbuf_puts(&sb, buf);
	*err = strbuf_detach(&sb);
	return -EINVAL;
}

static int check_mounts(const struct worker *w, char **err)
{
	for (size_t i = 0; i < w->n_mounts; i++) {
		const struct mount *m = &w->mounts[i];
		if (!safepath_rel_ok(m->path, false))
			return fail(err, "mount path '%s' is not a clean relative path", m->path);
		if (!safepath_rel_ok(m->source_path ? m->source_path : "", true))
			return fail(err,
				    "source_path '%s' of mount '%s' is not a clean relative path",
				    m->source_path, m->path);
		if (m->source == MOUNT_SERVICE && !mountplan_key_ok(m->service))
			return fail(err, "mount '%s': service name '%s' cannot name a directory",
				    m->path, m->service ? m->service : "");
		for (size_t j = 0; j < w->n_mounts; j++) {
			const struct mount *o = &w->mounts[j];
			if (i == j)
				continue;
			if (strcmp(m->path, o->path) == 0)
				return fail(err, "two mounts on '%s'", m->path);
			if (m->source != o->source && rel_nested(o->path, m->path))
				return fail(err,
					    "mount '%s' is nested in mount '%s' of another kind",
					    m->path, o->path);
		}
	}
	return 0;
}

int mountplan_build(const struct worker *w, const struct mountplan_opts *o, struct mountplan *p,
		    char **err)
{
	const char *instance = o->instance ? o->instance : w->name;
	const char *keys[] = {o->project, o->environment, w->app_name, instance};
	const char *key_names[] = {"project", "environment", "app", "instance"};
	size_t cap = 0, ns = 0;
	int r;

	memset(p, 0, sizeof(*p));
	*err = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!mountplan_key_ok(keys[i]))
			return fail(err, "the %s name '%s' cannot key storage", key_names[i],
				    keys[i] ? keys[i] : "");
	if (w->app_name[0] == '.' || instance[0] == '.')
		return fail(err, "app '%s' or instance '%s' starts with a dot", w->app_name,
			    instance);
	r = check_mounts(w, err);
	if (r < 0)
		return r;

	p->app_root = norm_abs(o->app_root ? o->app_root : w->app_dir);
	p->storage_root = norm_abs(o->storage_root);
	if (!p->app_root || !p->storage_root) {
		r = fail(err, "app root '%s' and storage root '%s' must be absolute and clean",
			 o->app_root ? o->app_root : w->app_dir,
			 o->storage_root ? o->storage_root : "");
		goto fail;
	}
	if (beneath_or_same(p->app_root, p->storage_root) ||
	    beneath_or_same(p->storage_root, p->app_root)) {
		r = fail(err, "the storage root %s and the app root %s must not contain each other",
			 p->storage_root, p->app_root);
		goto fail;
	}
	if (strcmp(p->app_root, "/tmp") == 0 || strcmp(p->app_root, "/") == 0) {
		r = fail(err, "the app root cannot be %s", p->app_root);
		goto fail;
	}
	p->instance_dir =
	    xasprintf("%s/%s/%s/%s", o->project, o->environment, w->app_name, instance);
	p->has_disk = w->has_disk;
	p->disk_mb = w->disk_mb;
	p->readonly_root = !o->writable_root;
	p->service_dirs = xcalloc(w->n_mounts + 1, sizeof(char *));
	p->services = xcalloc(w->n_mounts + 1, sizeof(char *));

	char *local = join(p->instance_dir, MOUNTPLAN_LOCAL_DIR);
	char *scratch = join(p->instance_dir, MOUNTPLAN_SCRATCH_DIR);
	struct mountplan_op *op;

	op = add(p, &cap, MP_PRIVATE);
	op->dst_base = MPB_HOST;
	op->recursive = true;

	if (p->has_disk) {
		op = add(p, &cap, MP_DISK);
		op->src_base = MPB_STORAGE;
		set_str(&op->src_dir, xstrdup(p->instance_dir));
		set_str(&op->source, xstrdup(MOUNTPLAN_DISK_IMAGE));
		op->dst_base = MPB_STORAGE;
		set_str(&op->target, xstrdup(local));
		op->attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	}
	op = add(p, &cap, MP_SCRATCH);
	op->dst_base = MPB_STORAGE;
	set_str(&op->target, xstrdup(scratch));

	if (p->readonly_root) {
		op = add(p, &cap, MP_READONLY_ROOT);
		op->dst_base = MPB_HOST;
		op->attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID;
		op->recursive = true;
	}
	op = add(p, &cap, MP_APP_RO);
	op->src_base = MPB_APP;
	op->dst_base = MPB_APP;
	op->attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	op->recursive = true;

	/* w->mounts is sorted by path: a parent comes before its children. */
	for (size_t i = 0; i < w->n_mounts; i++) {
		const struct mount *m = &w->mounts[i];
		op = add(p, &cap, MP_BIND);
		op->msource = m->source;
		op->src_base = MPB_STORAGE;
		switch (m->source) {
		case MOUNT_LOCAL:
			set_str(&op->src_dir, xstrdup(local));
			break;
		case MOUNT_TMP:
			set_str(&op->src_dir, xstrdup(scratch));
			break;
		case MOUNT_SERVICE: {
			size_t k;
			for (k = 0; k < ns && strcmp(p->services[k], m->service); k++)
				;
			if (k == ns) {
				p->services[ns] = xstrdup(m->service);
				p->service_dirs[ns++] =
				    xasprintf("%s/%s/%s/%s", o->project, o->environment,
					      MOUNTPLAN_SERVICES_DIR, m->service);
			}
			set_str(&op->src_dir, xstrdup(p->service_dirs[k]));
			op->service = p->services[k];
			break;
		}
		}
		set_str(&op->source, xstrdup(m->source_path ? m->source_path : ""));
		op->dst_base = MPB_APP;
		set_str(&op->target, xstrdup(m->path));
		op->attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
		op->attr_clr = MOUNT_ATTR_RDONLY;
	}

	op = add(p, &cap, MP_MASK);
	op->dst_base = MPB_STORAGE;
	op->attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;

	op = add(p, &cap, MP_TMP);
	op->src_base = MPB_STORAGE;
	set_str(&op->src_dir, xstrdup(scratch));
	op->dst_base = MPB_HOST;
	set_str(&op->target, xstrdup("tmp"));
	op->attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	op->attr_clr = MOUNT_ATTR_RDONLY;

	/* An app root beneath /tmp is hidden by the private /tmp: bind it again
	 * at the same path inside it. */
	if (beneath_or_same("/tmp", p->app_root)) {
		op = add(p, &cap, MP_APP_AGAIN);
		op->src_base = MPB_APP;
		op->dst_base = MPB_HOST;
		set_str(&op->target, xstrdup(p->app_root + 1));
		op->attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
		op->recursive = true;
	}
	if (!o->no_shm) {
		op = add(p, &cap, MP_SHM);
		op->dst_base = MPB_HOST;
		set_str(&op->target, xstrdup("dev/shm"));
		op->attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	}
	free(local);
	free(scratch);
	return 0;
fail:
	mountplan_free(p);
	return r;
}

void mountplan_free(struct mountplan *p)
{
	for (size_t i = 0; i < p->n_ops; i++) {
		free(p->ops[i].src_dir);
		free(p->ops[i].source);
		free(p->ops[i].target);
	}
	free(p->ops);
	free(p->app_root);
	free(p->storage_root);
	free(p->instance_dir);
	strv_free(p->service_dirs);
	strv_free(p->services);
	memset(p, 0, sizeof(*p));
}

static const char *base_path(const struct mountplan *p, enum mountplan_base b)
{
	switch (b) {
	case MPB_APP:
		return p->app_root;
	case MPB_STORAGE:
		return p->storage_root;
	case MPB_HOST:
		break;
	}
	return "/";
}

static char *abs_path(const struct mountplan *p, enum mountplan_base b, const char *a,
		      const char *c)
{
	const char *base = base_path(p, b);
	char *rel = join(a, c);
	char *s = !*rel			   ? xstrdup(base)
		  : strcmp(base, "/") == 0 ? xasprintf("/%s", rel)
					   : xasprintf("%s/%s", base, rel);
	free(rel);
	return s;
}

static json_t *flags_json(const struct mountplan_op *op)
{
	json_t *a = json_array();

	switch (op->kind) {
	case MP_PRIVATE:
		json_array_append_new(a, json_string("rprivate"));
		return a;
	case MP_SCRATCH:
		json_array_append_new(a, json_string("emptied"));
		return a;
	case MP_MASK:
	case MP_SHM:
		json_array_append_new(a, json_string("tmpfs"));
		break;
	default:
		break;
	}
	json_array_append_new(a, json_string(op->attr_set & MOUNT_ATTR_RDONLY ? "ro" : "rw"));
	if (op->attr_set & MOUNT_ATTR_NOSUID)
		json_array_append_new(a, json_string("nosuid"));
	if (op->attr_set & MOUNT_ATTR_NODEV)
		json_array_append_new(a, json_string("nodev"));
	if (op->attr_set & MOUNT_ATTR_NOEXEC)
		json_array_append_new(a, json_string("noexec"));
	if (op->recursive)
		json_array_append_new(a, json_string("recursive"));
	return a;
}

json_t *mountplan_to_json(const struct mountplan *p)
{
	json_t *ops = json_array();

	for (size_t i = 0; i < p->n_ops; i++) {
		const struct mountplan_op *op = &p->ops[i];
		json_t *o = json_object();
		json_object_set_new(o, "op", json_string(mountplan_kind_name(op->kind)));
		if (op->kind == MP_BIND) {
			json_object_set_new(o, "kind",
					    json_string(mount_source_to_string(op->msource)));
			if (op->service)
				json_object_set_new(o, "service", json_string(op->service));
		}
		if (op->kind == MP_BIND || op->kind == MP_DISK || op->kind == MP_TMP ||
		    op->kind == MP_APP_RO || op->kind == MP_APP_AGAIN) {
			char *s = abs_path(p, op->src_base, op->src_dir, op->source);
			json_object_set_new(o, "source", json_string(s));
			free(s);
			char *b = abs_path(p, op->src_base, op->src_dir, "");
			json_object_set_new(o, "beneath", json_string(b));
			free(b);
		}
		char *t = abs_path(p, op->dst_base, op->target, "");
		json_object_set_new(o, "target", json_string(t));
		free(t);
		json_object_set_new(o, "flags", flags_json(op));
		json_array_append_new(ops, o);
	}

	json_t *st = json_object();
	json_object_set_new(st, "root", json_string(p->storage_root));
	char *inst = abs_path(p, MPB_STORAGE, p->instance_dir, "");
	json_object_set_new(st, "instance", json_string(inst));
	free(inst);
	json_object_set_new(st, "disk_mb",
			    p->has_disk ? json_integer((json_int_t)p->disk_mb) : json_null());
	json_t *root = json_object();
	json_object_set_new(root, "storage", st);
	json_object_set_new(root, "operations", ops);
	return root;
}
