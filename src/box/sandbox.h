/* SPDX-License-Identifier: MIT */
/*
 * The box's parts of the spawn sequence in one place: berth made
 * non-dumpable, the worker's network namespace and ruleset, its hosts
 * file's text, user, capabilities, Landlock domain and syscall filter
 * prepared in the parent, and the child's steps in their fixed order,
 * ready for run_opts.steps.
 */
#ifndef BERTH_SANDBOX_H
#define BERTH_SANDBOX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "caps.h"
#include "filter.h"
#include "landlock.h"
#include "net.h"
#include "execstep.h"

#define SANDBOX_MAX_STEPS 16

struct sandbox_opts {
	struct net_opts net;	     /* net_parse_mode(); NET_AUTO by default */
	const char *user;	     /* NAME|UID[:GID]; NULL: web, else nobody */
	struct filter_opts filter;   /* --seccomp=off, --allow-local-listen */
	const json_t *relationships; /* relationships_build(); NULL: no hosts file */
	const json_t *firewall;	     /* the worker's firewall; NULL: no key (all TCP) */
	const json_t *services;	     /* relationships_services(): refused unless a
				      * relationship; NULL: none */
	bool no_network;	     /* berth exec: stay in berth's network
				      * namespace: no rules, no hosts file */
};

struct sandbox {
	struct net_handle net;
	struct net_hosts hosts;
	struct caps_user user;
	struct caps_plan caps;
	struct filter_prog filter;
	struct landlock_plan landlock;
	struct exec_step steps[SANDBOX_MAX_STEPS];
	size_t n_steps;
};

/* Free what the options own (the network mode's path). */
void sandbox_opts_free(struct sandbox_opts *o);

/*
 * In the parent, once, before the first spawn (and after the cgroup is
 * made): prctl(PR_SET_DUMPABLE, 0); net_prepare (namespace, ruleset with
 * the egress plan of relationships, services and firewall, read back,
 * slirp4netns; with --network=none only started: net_ready() and
 * net_verified() finish it); the hosts file's text (sb->hosts.text, for the mount
 * step: view_set_hosts); the user; the capability plan; the Landlock
 * ruleset; the filter, compiled.  Then sb->steps, in this order:
 *
 *   1. network namespace  setns() into the worker's (not for current;
 *                         nothing of the network with no_network)
 *   2. mount_steps...     the caller's (the mount module: its own mount
 *                         namespace, the new root with the hosts file;
 *                         after 1, so its sysfs shows the worker's network)
 *   3. user, capabilities caps_drop(): bounding/ambient, groups, gid, uid,
 *                         no_new_privs, verified
 *   4. Landlock           the worker's domain (landlock.h) on every kernel
 *                         with Landlock: no device nodes, no signal or
 *                         abstract socket out (ABI >= 6), no explicit TCP
 *                         bind (ABI >= 4, not with --allow-local-listen);
 *                         logged, and skipped, where there is no Landlock
 *   5. syscall filter
 *   6. the ruleset's gate net_gate_step(): waits until net_verified()
 *                         (not with no_network); spawn then closes fds
 *                         >= 3 and execs
 *
 * mount_steps is copied (its data pointers are not owned).  pid1: whether
 * berth is PID 1 (--network=auto).  0, or -errno (logged; everything made
 * so far undone).  Keep sb until berth exits: every restart reuses it.
 */
int sandbox_prepare(const struct sandbox_opts *o, bool pid1, const struct exec_step *mount_steps,
		    size_t n_mount_steps, struct sandbox *sb);
/* sandbox_prepare() in two parts, so that the network's helper starts
 * early: start does PR_SET_DUMPABLE 0 and net_prepare(), finish (the
 * same o) the rest.  0 or -errno (logged; sb released). */
int sandbox_start(const struct sandbox_opts *o, bool pid1, struct sandbox *sb);
int sandbox_finish(const struct sandbox_opts *o, const struct exec_step *mount_steps,
		   size_t n_mount_steps, struct sandbox *sb);
void sandbox_release(struct sandbox *sb);

/* For berth show: {"network": {...}, "user": {...}, "seccomp": {...},
 * "landlock": {...}}.
 * Resolves the user (passwd lookup); new reference, NULL on a bad --user
 * (logged). */
json_t *sandbox_describe(const struct sandbox_opts *o, bool pid1);

#endif
