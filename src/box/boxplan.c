/* SPDX-License-Identifier: MIT */
/*
 * The box plan (boxplan.h): built from a command's options by pure code,
 * printed by `berth show`, opened and closed by `run` and `exec`, read by
 * `spec` and `hook`.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boxplan.h"
#include "log.h"
#include "relationships.h"
#include "util.h"

#define BOXPLAN_HOSTNAME_MAX 63 /* one DNS label */

char *boxplan_hostname(const char *app, const char *worker)
{
	size_t w = strlen(worker), a = strlen(app);

	if (w + 2 >= BOXPLAN_HOSTNAME_MAX)
		return xasprintf("%.*s", BOXPLAN_HOSTNAME_MAX, worker);
	if (a + 2 + w > BOXPLAN_HOSTNAME_MAX)
		a = BOXPLAN_HOSTNAME_MAX - 2 - w;
	return xasprintf("%.*s--%s", (int)a, app, worker);
}

/* The limits: size, the overrides, AUTO as the context says unless
 * --auto-size.  0 or -EINVAL. */
static int plan_limits(const struct boxplan_request *rq, struct boxplan *p)
{
	struct sizelimit_overrides lo = rq->limits;

	p->no_cgroup = rq->no_cgroup;
	p->no_limits = rq->no_limits;
	if (!lo.have_auto_size && rq->ctx->auto_size) {
		if (size_parse(rq->ctx->auto_size, &lo.auto_size) < 0)
			return log_errno(-EINVAL, "context: auto_size '%s' is not a size",
					 rq->ctx->auto_size);
		lo.have_auto_size = true;
	}
	if (!rq->no_limits)
		sizelimit_for_worker(rq->w, &lo, &p->limits);
	return 0;
}

/* The view's options: the instance (the context's project and
 * environment), /tmp's bound (the memory limit when lower than the
 * default); the user's ids are boxplan_user()'s. */
static void plan_view(const struct boxplan_request *rq, struct boxplan *p)
{
	bool limited = !p->no_cgroup && !p->no_limits;

	p->view = rq->view;
	p->view.state_dir = rq->state_dir;
	p->view.project = rq->ctx->project;
	p->view.environment = rq->ctx->environment;
	p->view.uid = (uid_t)-1;
	p->view.gid = (gid_t)-1;
	p->view.tmp_size = view_tmp_size(rq->view.tmp_size, limited ? p->limits.memory_bytes : 0);
}

int boxplan_build(const struct boxplan_request *rq, struct boxplan *p)
{
	int r;

	memset(p, 0, sizeof(*p));
	p->w = rq->w;
	p->unconfined = rq->unconfined;
	p->no_network = rq->no_network;
	p->pid1 = rq->pid1;
	r = plan_limits(rq, p);
	if (r < 0)
		return r;
	plan_view(rq, p);
	if (rq->sandbox)
		p->sandbox = *rq->sandbox;
	p->sandbox.no_network = rq->no_network;
	p->hostname = boxplan_hostname(rq->w->app_name ? rq->w->app_name : "app", rq->w->name);
	if (rq->unconfined || rq->no_network)
		return 0;
	if (relationships_build(rq->app, rq->w, rq->ctx, NULL, NULL, &p->relationships) < 0) {
		boxplan_free(p);
		return -EINVAL;
	}
	p->services = relationships_services(rq->app, rq->ctx);
	p->sandbox.relationships = p->relationships;
	p->sandbox.services = p->services;
	p->sandbox.firewall = rq->w->firewall;
	return 0;
}

void boxplan_free(struct boxplan *p)
{
	json_decref(p->relationships);
	json_decref(p->services);
	free(p->hostname);
	memset(p, 0, sizeof(*p));
}

int boxplan_user(struct boxplan *p, struct caps_user *u)
{
	const char *msg = NULL;
	int r;

	r = p->sandbox.user ? caps_user_parse(p->sandbox.user, u, &msg) : caps_user_default(u);
	if (r < 0) {
		if (msg)
			log_error("--user %s: %s", p->sandbox.user, msg);
		return r;
	}
	p->view.uid = u->uid;
	p->view.gid = u->gid;
	return 0;
}

int boxplan_describe(const struct boxplan *p, json_t *obj)
{
	json_t *mounts = NULL, *box = NULL;

	if (!p->unconfined) {
		mounts = view_describe(p->w, &p->view);
		box = mounts ? sandbox_describe(&p->sandbox, p->pid1) : NULL;
		if (!box) {
			json_decref(mounts);
			return -EINVAL;
		}
	}
	json_object_set_new(obj, "cgroup",
			    p->no_cgroup ? json_null() : sizelimit_describe(&p->limits));
	json_object_set_new(obj, "mounts", mounts ? mounts : json_null());
	json_object_set_new(obj, "sandbox", box ? box : json_null());
	return 0;
}

int boxplan_open(struct boxplan *p, struct box *b)
{
	struct sandbox_opts so;
	struct exec_step ms;
	int r;

	memset(b, 0, sizeof(*b));
	if (p->unconfined)
		return 0;
	r = boxplan_user(p, &b->user);
	if (r < 0)
		return r;
	b->have_user = true;
	/* sandbox_prepare resolves the user again: give it the one found
	 * here (the default is looked up, and logged, once) */
	so = p->sandbox;
	if (!so.user && b->user.name)
		so.user = b->user.name;
	/* first: --network=none's helper works while the view is opened */
	r = sandbox_start(&so, p->pid1, &b->sb);
	if (r < 0)
		goto fail;
	b->have_sb = true;
	r = view_open(p->w, &p->view, &b->view);
	if (r < 0)
		goto fail;
	b->have_view = true;
	ms = view_step(&b->view);
	r = sandbox_finish(&so, &ms, 1, &b->sb);
	if (r < 0) {
		b->have_sb = false; /* released */
		goto fail;
	}
	view_set_hosts(&b->view, b->sb.hosts.text);
	b->steps = b->sb.steps;
	b->n_steps = b->sb.n_steps;
	/* slirp4netns runs in berth's cgroup: on pure v2 it must follow berth into
	 * its supervisor leaf (run_opts.helpers, the cgroup's companions), or
	 * the controllers cannot be enabled */
	if (b->sb.net.slirp_pid > 0) {
		b->helpers = &b->sb.net.slirp_pid;
		b->n_helpers = 1;
	}
	return 0;
fail:
	boxplan_close(b);
	return r;
}

void boxplan_close(struct box *b)
{
	if (b->have_sb)
		sandbox_release(&b->sb);
	if (b->have_view)
		view_close(&b->view);
	if (b->have_user)
		caps_user_free(&b->user);
	memset(b, 0, sizeof(*b));
}

int boxplan_restart(void *data)
{
	struct box *b = data;

	return b->have_sb ? net_refresh(&b->sb.net) : 0;
}

int boxplan_ready(void *data)
{
	struct box *b = data;

	return b->have_sb ? net_ready(&b->sb.net) : 0;
}

int boxplan_spawned(void *data)
{
	struct box *b = data;

	return b->have_sb ? net_verified(&b->sb.net) : 0;
}

int boxplan_storage_prepare(const struct boxplan *p, const struct mountplan *mp, bool by_hook,
			    const char *why)
{
	struct storage_opts so = {.uid = p->view.uid,
				  .gid = p->view.gid,
				  .require_quota = p->view.require_quota,
				  .no_disk_bound = !by_hook,
				  .no_bound_reason = why};
	struct storage s;
	int fd = 0, r;

	r = storage_open(mp, &so, &s);
	if (r < 0)
		return r;
	for (size_t i = 0; !by_hook && fd >= 0 && i < mp->n_ops; i++) {
		const struct mountplan_op *op = &mp->ops[i];

		if (op->kind == MP_BIND && op->src_base == MPB_STORAGE &&
		    (fd = storage_source(&s, op, -1)) >= 0)
			close(fd);
	}
	storage_close(&s);
	return fd < 0 ? fd : 0;
}
