/* SPDX-License-Identifier: MIT */
/*
 * The worker's view for the commands (see view.h): default storage root,
 * the cgroup hierarchies the worker sees, plan, storage and the child's
 * step tied together.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "safepath.h"
#include "util.h"
#include "view.h"

#define CGROUP_DIR "/sys/fs/cgroup"

static char *storage_root(const struct view_opts *o)
{
	if (o->storage_root)
		return xstrdup(o->storage_root);
	return xasprintf("%s/%s", o->state_dir ? o->state_dir : BERTH_STATE_DIR,
			 VIEW_STORAGE_SUBDIR);
}

static bool under_cgroup_dir(const char *path)
{
	size_t n = strlen(CGROUP_DIR);

	return path && strncmp(path, CGROUP_DIR, n) == 0 && (path[n] == '\0' || path[n] == '/') &&
	       !strstr(path, "/.");
}

/* The hierarchies of l beneath /sys/fs/cgroup, each once (cpu and cpuacct
 * may share one), for the plan; *out freshly allocated, its strings
 * borrowed from l. */
static size_t cgroup_mounts(const struct cgroup_layout *l, struct mountplan_cgroup **out)
{
	size_t n = 0;

	*out = xcalloc(CG_V1_COUNT + 1, sizeof(**out));
	if (!l)
		return 0;
	if (under_cgroup_dir(l->unified_mnt))
		(*out)[n++] = (struct mountplan_cgroup){"cgroup2", l->unified_mnt, ""};
	for (int i = 0; i < CG_V1_COUNT; i++) {
		bool dup = false;
		if (!under_cgroup_dir(l->v1_mnt[i]) || !l->v1_opts[i] ||
		    strcmp(l->v1_mnt[i], CGROUP_DIR) == 0)
			continue;
		for (size_t k = 0; k < n; k++)
			dup |= strcmp((*out)[k].path, l->v1_mnt[i]) == 0;
		if (!dup)
			(*out)[n++] =
				(struct mountplan_cgroup){"cgroup", l->v1_mnt[i], l->v1_opts[i]};
	}
	return n;
}

static int plan_with(const struct worker *w, const struct view_opts *o,
		     const struct cgroup_layout *l, struct mountplan *p)
{
	char *root = storage_root(o), *err = NULL;
	struct mountplan_cgroup *cg = NULL;
	struct mountplan_opts po = {
		.storage_root = root,
		.project = o->project,
		.environment = o->environment,
		.instance = o->instance,
		.tmp_size = o->tmp_size,
		.ro_binds = o->ro_binds,
	};
	po.n_cgroups = cgroup_mounts(l, &cg);
	po.cgroups = cg;
	int r = mountplan_build(w, &po, p, &err);

	if (r < 0) {
		log_error("mounts: %s", err);
		free(err);
	}
	free(cg);
	free(root);
	return r;
}

int view_plan(const struct worker *w, const struct view_opts *o, struct mountplan *p)
{
	return plan_with(w, o, NULL, p);
}

json_t *view_describe(const struct worker *w, const struct view_opts *o)
{
	struct cgroup_layout l = {0};
	struct mountplan p;
	json_t *j = NULL;

	/* no hierarchy readable: the plan shows none */
	if (cgroup_detect(&l) < 0)
		cgroup_layout_free(&l);
	if (plan_with(w, o, &l, &p) == 0) {
		j = mountplan_to_json(&p);
		mountplan_free(&p);
	}
	cgroup_layout_free(&l);
	return j;
}

int view_open(const struct worker *w, const struct view_opts *o, struct view *v)
{
	struct storage_opts so = {
		.uid = o->uid,
		.gid = o->gid,
		.require_quota = o->require_quota,
		.attach = o->attach,
		.private_tmp = true,
	};
	int r;

	memset(v, 0, sizeof(*v));
	r = cgroup_detect(&v->cgl);
	if (r < 0)
		goto fail;
	r = plan_with(w, o, &v->cgl, &v->plan);
	if (r < 0)
		goto fail;
	v->have_plan = true;
	r = storage_open(&v->plan, &so, &v->st);
	if (r < 0)
		goto fail;
	v->have_st = true;
	r = mount_ctx_init(&v->m, &v->plan, &v->st);
	if (r < 0)
		goto fail;
	v->have_m = true;
	return 0;
fail:
	view_close(v);
	return r;
}

void view_set_hosts(struct view *v, const char *text)
{
	v->m.hosts = text;
}

struct exec_step view_step(struct view *v)
{
	return mount_step(&v->m);
}

void view_sweep(struct view *v)
{
	if (v->have_st)
		storage_sweep(&v->st);
}

void view_close(struct view *v)
{
	if (v->have_m)
		mount_ctx_free(&v->m);
	if (v->have_st)
		storage_close(&v->st);
	if (v->have_plan)
		mountplan_free(&v->plan);
	cgroup_layout_free(&v->cgl);
	memset(v, 0, sizeof(*v));
}

int view_parse_tmp_size(const char *v, uint64_t *out)
{
	return parse_bytes(v, out) < 0 || *out < MOUNTPLAN_TMP_SIZE_MIN ? -EINVAL : 0;
}

uint64_t view_tmp_size(uint64_t given, uint64_t memory_bytes)
{
	if (given)
		return given;
	if (memory_bytes && memory_bytes < MOUNTPLAN_TMP_SIZE_DEFAULT)
		return memory_bytes;
	return MOUNTPLAN_TMP_SIZE_DEFAULT;
}

int view_ro_bind_add(char ***paths, size_t *n, const char *v, bool list)
{
	size_t len;

	for (const char *p = v;; p += len + 1) {
		len = list ? strcspn(p, ":") : strlen(p);
		char *path = xstrndup(p, len);
		bool ok = path[0] == '/' && (len == 1 || safepath_rel_ok(path + 1, false));
		if (!ok) {
			free(path);
			return -EINVAL;
		}
		*paths = xrealloc(*paths, (*n + 2) * sizeof(char *));
		(*paths)[(*n)++] = path;
		(*paths)[*n] = NULL;
		if (!p[len])
			return 0;
	}
}
