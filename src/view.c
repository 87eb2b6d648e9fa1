/* SPDX-License-Identifier: MIT */
/*
 * The worker's view for the commands (see view.h): default storage root,
 * plan, storage and the child's step tied together.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "view.h"

static char *storage_root(const struct view_opts *o)
{
	if (o->storage_root)
		return xstrdup(o->storage_root);
	return xasprintf("%s/%s", o->state_dir ? o->state_dir : BERTH_STATE_DIR,
			 VIEW_STORAGE_SUBDIR);
}

int view_plan(const struct worker *w, const struct view_opts *o, struct mountplan *p)
{
	char *root = storage_root(o), *err = NULL;
	struct mountplan_opts po = {
	    .storage_root = root,
	    .project = o->project,
	    .environment = o->environment,
	    .instance = o->instance,
	};
	int r = mountplan_build(w, &po, p, &err);

	if (r < 0) {
		log_error("mounts: %s", err);
		free(err);
	}
	free(root);
	return r;
}

json_t *view_describe(const struct worker *w, const struct view_opts *o)
{
	struct mountplan p;

	if (view_plan(w, o, &p) < 0)
		return NULL;
	json_t *j = mountplan_to_json(&p);
	mountplan_free(&p);
	return j;
}

int view_open(const struct worker *w, const struct view_opts *o, struct view *v)
{
	struct storage_opts so = {
	    .uid = o->uid,
	    .gid = o->gid,
	    .require_quota = o->require_quota,
	    .attach = o->attach,
	};
	int r;

	memset(v, 0, sizeof(*v));
	r = view_plan(w, o, &v->plan);
	if (r < 0)
		return r;
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

struct spawn_step view_step(struct view *v)
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
	memset(v, 0, sizeof(*v));
}
