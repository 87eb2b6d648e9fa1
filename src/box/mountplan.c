/* SPDX-License-Identifier: MIT */
/*
 * The mount plan of a worker: storage keys, lexical checks of every path,
 * and the ordered operations (see mountplan.h).  Pure.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "mountplan-internal.h"
#include "mountplan.h"
#include "safepath.h"
#include "util.h"

static const char *const kind_names[MP_KIND_COUNT] = {
	[MP_PRIVATE] = "propagation",
	[MP_CGROUPNS] = "cgroup-namespace",
	[MP_DISK] = "disk",
	[MP_NEWROOT] = "new-root",
	[MP_OS] = "os",
	[MP_DEV] = "dev",
	[MP_DEVNODE] = "device",
	[MP_SYMLINK] = "symlink",
	[MP_SHM] = "shm",
	[MP_DEVPTS] = "devpts",
	[MP_MQUEUE] = "mqueue",
	[MP_MASK] = "mask",
	[MP_MASK_FILE] = "mask-file",
	[MP_HOSTS] = "hosts",
	[MP_RUN] = "run",
	[MP_DIR] = "dir",
	[MP_PROC] = "proc",
	[MP_READONLY] = "readonly",
	[MP_SYS] = "sys",
	[MP_CGROUP_TMPFS] = "cgroup-tmpfs",
	[MP_CGROUP] = "cgroup",
	[MP_RO_BIND] = "ro-bind",
	[MP_APP_RO] = "app-root",
	[MP_BIND] = "bind",
	[MP_TMP] = "tmp",
	[MP_APP_AGAIN] = "app-again",
	[MP_PIVOT] = "pivot-root",
};

const char *mountplan_kind_name(enum mountplan_kind k)
{
	return (size_t)k < MP_KIND_COUNT && kind_names[k] ? kind_names[k] : "?";
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

/* The binds of the worker's mounts of the tmp kind (tmp), or of the
 * others; w->mounts is sorted by path: a parent comes before its
 * children (mounts of different kinds never nest). */
static void bind_ops(struct mountplan *p, size_t *cap, const struct worker *w,
		     const struct mountplan_opts *o, bool tmp)
{
	size_t ns = 0;

	while (p->services[ns])
		ns++;
	for (size_t i = 0; i < w->n_mounts; i++) {
		const struct mount *m = &w->mounts[i];
		if ((m->source == MOUNT_TMP) != tmp)
			continue;
		struct mountplan_op *op = mountplan_add(p, cap, MP_BIND);
		op->msource = m->source;
		op->src_base = MPB_STORAGE;
		switch (m->source) {
		case MOUNT_LOCAL:
			mountplan_set(&op->src_dir, join(p->instance_dir, MOUNTPLAN_LOCAL_DIR));
			break;
		case MOUNT_TMP:
			mountplan_set(&op->src_dir, join(p->instance_dir, MOUNTPLAN_SCRATCH_DIR));
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
			mountplan_set(&op->src_dir, xstrdup(p->service_dirs[k]));
			op->service = p->services[k];
			break;
		}
		}
		mountplan_set(&op->source, xstrdup(m->source_path ? m->source_path : ""));
		op->dst_base = MPB_APP;
		mountplan_set(&op->target, xstrdup(m->path));
		op->attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
		op->attr_clr = MOUNT_ATTR_RDONLY;
	}
}

/*
 * The order: namespaces, the disk, the new root's parts (mountplan-root.c),
 * the app root at its path and the storage binds, /tmp and the tmp binds
 * (their sources are in it), the app again when /tmp hides it, the pivot.
 */
static void build_ops(struct mountplan *p, size_t *cap, const struct worker *w,
		      const struct mountplan_opts *o)
{
	struct mountplan_op *op;

	op = mountplan_add(p, cap, MP_PRIVATE);
	op->dst_base = MPB_HOST;
	op->recursive = true;
	mountplan_add(p, cap, MP_CGROUPNS)->dst_base = MPB_HOST;
	if (p->has_disk) {
		op = mountplan_add(p, cap, MP_DISK);
		op->src_base = MPB_STORAGE;
		mountplan_set(&op->src_dir, xstrdup(p->instance_dir));
		mountplan_set(&op->source, xstrdup(MOUNTPLAN_DISK_IMAGE));
		op->dst_base = MPB_STORAGE;
		mountplan_set(&op->target, join(p->instance_dir, MOUNTPLAN_LOCAL_DIR));
		op->attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	}
	mountplan_root_ops(p, cap, o);

	op = mountplan_add(p, cap, MP_APP_RO);
	op->src_base = MPB_APP;
	op->dst_base = MPB_ROOT;
	mountplan_set(&op->target, xstrdup(p->app_root + 1));
	op->attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	op->recursive = true;
	bind_ops(p, cap, w, o, false);

	op = mountplan_add(p, cap, MP_TMP);
	op->dst_base = MPB_ROOT;
	mountplan_set(&op->target, xstrdup("tmp"));
	mountplan_set(&op->data, xasprintf("%" PRIu64, p->tmp_size));
	op->attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	bind_ops(p, cap, w, o, true);

	/* An app root beneath /tmp is hidden by the private /tmp: bind it again
	 * at the same path inside it (with its storage binds). */
	if (mountplan_beneath_or_same("/tmp", p->app_root)) {
		op = mountplan_add(p, cap, MP_APP_AGAIN);
		op->src_base = MPB_APP;
		op->dst_base = MPB_ROOT;
		mountplan_set(&op->target, xstrdup(p->app_root + 1));
		op->attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
		op->recursive = true;
	}
	op = mountplan_add(p, cap, MP_PIVOT);
	op->dst_base = MPB_ROOT;
	op->attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
}

/* The app root and the storage root: absolute, clean, apart, the app
 * root neither / nor /tmp; and each --ro-bind. */
static int check_roots(const struct worker *w, const struct mountplan_opts *o, struct mountplan *p,
		       char **err)
{
	p->app_root = norm_abs(o->app_root ? o->app_root : w->app_dir);
	p->storage_root = norm_abs(o->storage_root);
	if (!p->app_root || !p->storage_root)
		return fail(err, "app root '%s' and storage root '%s' must be absolute and clean",
			    o->app_root ? o->app_root : w->app_dir,
			    o->storage_root ? o->storage_root : "");
	if (mountplan_beneath_or_same(p->app_root, p->storage_root) ||
	    mountplan_beneath_or_same(p->storage_root, p->app_root))
		return fail(err,
			    "the storage root %s and the app root %s must not contain each other",
			    p->storage_root, p->app_root);
	if (strcmp(p->app_root, "/tmp") == 0 || strcmp(p->app_root, "/") == 0)
		return fail(err, "the app root cannot be %s", p->app_root);
	for (size_t i = 0; o->ro_binds && o->ro_binds[i]; i++) {
		char *n = norm_abs(o->ro_binds[i]);
		const char *why = !n || strcmp(n, o->ro_binds[i]) ? "not an absolute, clean path"
								  : mountplan_ro_bind_check(p, n);
		free(n);
		if (why)
			return fail(err, "--ro-bind %s: %s", o->ro_binds[i], why);
	}
	return 0;
}

int mountplan_build(const struct worker *w, const struct mountplan_opts *o, struct mountplan *p,
		    char **err)
{
	const char *instance = o->instance ? o->instance : w->name;
	const char *keys[] = {o->project, o->environment, w->app_name, instance};
	const char *key_names[] = {"project", "environment", "app", "instance"};
	size_t cap = 0;
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
	r = check_roots(w, o, p, err);
	if (r < 0) {
		mountplan_free(p);
		return r;
	}
	p->instance_dir =
		xasprintf("%s/%s/%s/%s", o->project, o->environment, w->app_name, instance);
	p->has_disk = w->has_disk;
	p->disk_mb = w->disk_mb;
	p->tmp_size = o->tmp_size ? o->tmp_size : MOUNTPLAN_TMP_SIZE_DEFAULT;
	p->service_dirs = xcalloc(w->n_mounts + 1, sizeof(char *));
	p->services = xcalloc(w->n_mounts + 1, sizeof(char *));
	build_ops(p, &cap, w, o);
	return 0;
}

void mountplan_free(struct mountplan *p)
{
	for (size_t i = 0; i < p->n_ops; i++) {
		free(p->ops[i].src_dir);
		free(p->ops[i].source);
		free(p->ops[i].target);
		free(p->ops[i].data);
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
	case MPB_TMP:
		return "/tmp";
	case MPB_HOST:
	case MPB_ROOT:
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

/* The filesystem an op mounts fresh, or NULL for a bind. */
static const char *fs_of(const struct mountplan_op *op)
{
	switch (op->kind) {
	case MP_NEWROOT:
	case MP_DEV:
	case MP_SHM:
	case MP_MASK:
	case MP_RUN:
	case MP_CGROUP_TMPFS:
	case MP_TMP:
		return "tmpfs";
	case MP_DEVPTS:
		return "devpts";
	case MP_MQUEUE:
		return "mqueue";
	case MP_PROC:
		return "proc";
	case MP_SYS:
		return "sysfs";
	case MP_CGROUP:
		return op->source;
	default:
		return NULL;
	}
}

static json_t *flags_json(const struct mountplan_op *op)
{
	json_t *a = json_array();
	const char *fs = fs_of(op);

	switch (op->kind) {
	case MP_PRIVATE:
		json_array_append_new(a, json_string("rprivate"));
		return a;
	case MP_CGROUPNS:
	case MP_SYMLINK:
	case MP_DIR:
		return a;
	default:
		break;
	}
	if (fs)
		json_array_append_new(a, json_string(fs));
	json_array_append_new(a, json_string(op->attr_set & MOUNT_ATTR_RDONLY ? "ro" : "rw"));
	if (op->attr_set & MOUNT_ATTR_NOSUID)
		json_array_append_new(a, json_string("nosuid"));
	if (op->attr_set & MOUNT_ATTR_NODEV)
		json_array_append_new(a, json_string("nodev"));
	if (op->attr_set & MOUNT_ATTR_NOEXEC)
		json_array_append_new(a, json_string("noexec"));
	if (op->recursive)
		json_array_append_new(a, json_string("recursive"));
	if (op->kind == MP_TMP)
		json_array_append_new(a, json_pack("s+", "size=", op->data));
	if (op->kind == MP_CGROUP && *op->data)
		json_array_append_new(a, json_string(op->data));
	if (op->optional)
		json_array_append_new(a, json_string("if-present"));
	return a;
}

/* "source" and "beneath" of the ops that take something from a trusted
 * directory. */
static void source_json(const struct mountplan *p, const struct mountplan_op *op, json_t *o)
{
	char *s, *b;

	switch (op->kind) {
	case MP_BIND:
		if (op->msource == MOUNT_TMP) {
			s = abs_path(p, MPB_TMP, op->source, "");
			b = xstrdup("/tmp");
			break;
		}
		/* fall through */
	case MP_DISK:
	case MP_APP_RO:
	case MP_APP_AGAIN:
	case MP_OS:
	case MP_DEVNODE:
	case MP_RO_BIND:
		s = abs_path(p, op->src_base, op->src_dir, op->source);
		b = abs_path(p, op->src_base, op->src_dir, "");
		break;
	case MP_SYMLINK:
		json_object_set_new(o, "source", json_string(op->source));
		return;
	default:
		return;
	}
	json_object_set_new(o, "source", json_string(s));
	json_object_set_new(o, "beneath", json_string(b));
	free(s);
	free(b);
	if (op->kind == MP_DEVNODE)
		json_object_set_new(o, "device", json_sprintf("%u:%u", op->major, op->minor));
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
		source_json(p, op, o);
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
