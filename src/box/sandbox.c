/* SPDX-License-Identifier: MIT */
/*
 * The order of the pre-exec steps (network, privileges, Landlock,
 * filter) around the mount module's, and everything they need prepared
 * in the parent, so that run_worker() only passes sb->steps to spawn.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sandbox.h"
#include "util.h"

void sandbox_opts_free(struct sandbox_opts *o)
{
	net_opts_free(&o->net);
}

static int resolve_user(const char *spec, struct caps_user *u)
{
	const char *msg;
	int r;

	if (!spec)
		return caps_user_default(u);
	r = caps_user_parse(spec, u, &msg);
	if (r < 0)
		log_error("--user %s: %s", spec, msg);
	return r;
}

/* The user, its capability plan, the compiled syscall filter and the
 * Landlock ruleset. */
static int prepare_privileges(const struct sandbox_opts *o, struct sandbox *sb)
{
	int r = resolve_user(o->user, &sb->user);

	if (r < 0)
		return r;
	r = caps_plan_init(&sb->user, &sb->caps);
	if (r < 0)
		return r;
	if (o->filter.off)
		log_warn("--seccomp=off: the worker runs WITHOUT its syscall filter (no listen/"
			 "accept/io_uring/namespace/mount denies); for debugging only");
	else if (o->filter.allow_local_listen)
		log_info("--allow-local-listen: listen, accept and accept4 are allowed; ingress "
			 "is still dropped by the ruleset");
	r = filter_compile(&o->filter, &sb->filter);
	if (r < 0)
		return r;
	/* Always: the domain itself keeps the worker from other processes;
	 * --allow-local-listen only takes the TCP bind denial out of it. */
	return landlock_prepare(&sb->landlock, o->filter.allow_local_listen);
}

/* The pre-exec steps in their order: network namespace, the mounts,
 * user and capabilities, Landlock, the syscall filter, and last the
 * ruleset's gate (--network=none: the box is made while the ruleset goes
 * in; the exec waits until it is verified). */
static void order_steps(const struct sandbox_opts *o, const struct exec_step *mount_steps,
			size_t n_mount_steps, struct sandbox *sb)
{
	if (!o->no_network)
		sb->steps[sb->n_steps++] =
			(struct exec_step){"the network namespace", net_join_step, &sb->net};
	/* the hosts file (sb->hosts.text) is the mount step's: the caller
	 * hands it to the view (view_set_hosts) */
	for (size_t i = 0; i < n_mount_steps; i++)
		sb->steps[sb->n_steps++] = mount_steps[i];
	sb->steps[sb->n_steps++] =
		(struct exec_step){"the user and capabilities", caps_step, &sb->caps};
	if (sb->landlock.fd >= 0)
		sb->steps[sb->n_steps++] =
			(struct exec_step){"the Landlock ruleset", landlock_step, &sb->landlock};
	sb->steps[sb->n_steps++] =
		(struct exec_step){"the syscall filter", filter_step, &sb->filter};
	if (!o->no_network)
		sb->steps[sb->n_steps++] =
			(struct exec_step){"the network ruleset", net_gate_step, &sb->net};
}

int sandbox_start(const struct sandbox_opts *o, bool pid1, struct sandbox *sb)
{
	struct net_egress eg = {o->firewall, o->relationships, o->services, NULL};
	int r;

	memset(sb, 0, sizeof(*sb));
	sb->net.nsfd = sb->net.slirp_pidfd = -1;
	sb->net.gate_rd = sb->net.gate_wr = -1;
	sb->landlock.fd = -1;
	/* before any namespace is joined or child made (CVE-2016-9962) */
	r = caps_set_undumpable();
	if (r < 0)
		return r;
	r = o->no_network ? 0 : net_prepare(&o->net, pid1, &eg, &sb->net);
	if (r < 0) {
		sandbox_release(sb);
		return r;
	}
	return 0;
}

int sandbox_finish(const struct sandbox_opts *o, const struct exec_step *mount_steps,
		   size_t n_mount_steps, struct sandbox *sb)
{
	int r;

	if (n_mount_steps + 5 > SANDBOX_MAX_STEPS) {
		r = log_errno(-E2BIG, "too many pre-exec steps");
		goto fail;
	}
	if (o->relationships && !o->no_network) {
		r = net_hosts_prepare(o->relationships,
				      sb->net.mode == NET_PRIVATE ? sb->net.gateway : NULL,
				      &sb->hosts);
		if (r < 0)
			goto fail;
	}
	r = prepare_privileges(o, sb);
	if (r < 0)
		goto fail;
	order_steps(o, mount_steps, n_mount_steps, sb);
	log_msg(LOG_LVL_INFO, "privileges",
		"the worker runs as %s (uid %u, gid %u), no "
		"capabilities, syscall filter %s",
		sb->user.name ? sb->user.name : "(no passwd entry)", (unsigned)sb->user.uid,
		(unsigned)sb->user.gid, o->filter.off ? "OFF" : "on");
	return 0;
fail:
	sandbox_release(sb);
	return r;
}

int sandbox_prepare(const struct sandbox_opts *o, bool pid1, const struct exec_step *mount_steps,
		    size_t n_mount_steps, struct sandbox *sb)
{
	int r = sandbox_start(o, pid1, sb);

	return r < 0 ? r : sandbox_finish(o, mount_steps, n_mount_steps, sb);
}

void sandbox_release(struct sandbox *sb)
{
	filter_prog_free(&sb->filter);
	landlock_release(&sb->landlock);
	caps_plan_free(&sb->caps);
	caps_user_free(&sb->user);
	net_hosts_release(&sb->hosts);
	net_release(&sb->net);
	sb->n_steps = 0;
}

/* What the worker's Landlock domain holds on this kernel. */
static json_t *landlock_describe(const struct sandbox_opts *o)
{
	struct landlock_plan p;
	json_t *fs = json_array(), *scoped = json_array();
	const char *bind;

	landlock_plan_for(landlock_abi(), o->filter.allow_local_listen, &p);
	if (p.fs & LANDLOCK_FS_MAKE_CHAR)
		json_array_append_new(fs, json_string("no character devices made (EACCES)"));
	if (p.fs & LANDLOCK_FS_MAKE_BLOCK)
		json_array_append_new(fs, json_string("no block devices made (EACCES)"));
	if (p.scoped & LANDLOCK_SCOPE_ABSTRACT_UNIX)
		json_array_append_new(
			scoped, json_string("no abstract UNIX socket outside reached (EPERM)"));
	if (p.scoped & LANDLOCK_SCOPE_SIG)
		json_array_append_new(scoped, json_string("no signal outside sent (EPERM)"));
	if (p.net & LANDLOCK_NET_BIND_TCP)
		bind = "denied (EACCES)";
	else if (o->filter.allow_local_listen || p.abi < 1)
		bind = "allowed";
	else
		bind = "allowed (kernel without Landlock ABI 4)";
	return json_pack("{s:i, s:b, s:o, s:s, s:o}", "abi", p.abi < 0 ? 0 : p.abi, "domain",
			 p.abi >= 1, "fs", fs, "tcp_bind", bind, "scoped", scoped);
}

json_t *sandbox_describe(const struct sandbox_opts *o, bool pid1)
{
	struct net_egress eg = {o->firewall, o->relationships, o->services, NULL};
	struct caps_user u;
	json_t *groups, *root, *net;

	if (resolve_user(o->user, &u) < 0)
		return NULL;
	net = net_describe(&o->net, pid1, &eg);
	if (!net) {
		caps_user_free(&u);
		return NULL;
	}
	groups = json_array();
	for (size_t i = 0; i < u.n_groups; i++)
		json_array_append_new(groups, json_integer(u.groups[i]));
	root = json_pack("{s:o, s:{s:s?, s:I, s:I, s:o, s:b, s:s}, s:o, s:o}", "network", net,
			 "user", "name", u.name, "uid", (json_int_t)u.uid, "gid", (json_int_t)u.gid,
			 "groups", groups, "no_new_privs", 1, "capabilities", "none", "seccomp",
			 filter_describe(&o->filter), "landlock", landlock_describe(o));
	caps_user_free(&u);
	return root;
}
