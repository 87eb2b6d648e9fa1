/* SPDX-License-Identifier: MIT */
/*
 * Setting up and tearing down a `berth run` supervision (run.c drives it):
 * every catchable signal through one signalfd, child subreaper, the app
 * root, epoll with an absolute timerfd, the instance cgroup, created
 * and given the worker's limits before anything runs (fail closed), and
 * berth-init, the init of the worker's namespaces; and what `berth show`
 * prints of it (run_describe).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "log.h"
#include "run-internal.h"
#include "signals.h"
#include "spawn.h"
#include "startcmd.h"
#include "util.h"

/* "berth-WORKER-PID"; as PID 1, where every container's berth has the
 * same pid and may share a cgroup parent, "berth-WORKER-<random>". */
static char *instance_name(const struct run_opts *o)
{
	const char *w = o->worker ? o->worker : "worker";
	uint32_t rnd;

	if (o->instance)
		return xstrdup(o->instance);
	if (getpid() != 1)
		return xasprintf("berth-%s-%ld", w, (long)getpid());
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = (uint32_t)time(NULL) ^ (uint32_t)getppid();
	return xasprintf("berth-%s-%08x", w, rnd);
}

/* OOM kills are seen when they happen, not only when the main process
 * exits: a worker whose child was killed may run on (a shell script goes
 * to its next command).  No memory controller, no OOM killer of the
 * cgroup's own: nothing to watch. */
static int run_watch_oom(struct run_ctx *c)
{
	uint32_t events = 0;
	int fd = cgroup_oom_watch(&c->cg, &events);
	struct epoll_event ee = {.events = events, .data.u32 = TAG_OOM};

	if (fd == -ENOENT)
		return 0;
	if (fd < 0) /* logged; a setup failure (125), whatever the errno */
		return fd == -EINVAL ? -EIO : fd;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ee) < 0)
		return log_errno(-errno, "epoll_ctl(OOM notice)");
	return 0;
}

/* Fills closed fds 0-2 with /dev/null and routes every catchable signal
 * through one signalfd; opens the readiness socket. */
static int setup_signals(struct run_ctx *c)
{
	static const int sync_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};

	/* Started with 0, 1 or 2 closed: fill the gap with /dev/null, or the
	 * signalfd would become the worker's stdin or stdout. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", O_RDWR) < 0) /* lands on fd, kept open */
			return log_errno(-errno, "open /dev/null");
	/* Every catchable signal but the synchronous faults goes through
	 * the signalfd; nothing is ever handled asynchronously. */
	sigfillset(&c->blocked);
	for (size_t i = 0; i < ARRAY_SIZE(sync_sigs); i++)
		sigdelset(&c->blocked, sync_sigs[i]);
	if (sigprocmask(SIG_BLOCK, &c->blocked, &c->oldmask) < 0)
		return log_errno(-errno, "sigprocmask");
	c->masked = true;
	c->sfd = signalfd(-1, &c->blocked, SFD_CLOEXEC | SFD_NONBLOCK);
	if (c->sfd < 0)
		return log_errno(-errno, "signalfd");
	return notify_open(c->o->notify_socket, &c->notify);
}

/* Opens the app root and the epoll set with the signalfd and an absolute
 * timerfd in it. */
static int setup_epoll(struct run_ctx *c)
{
	struct epoll_event ee = {.events = EPOLLIN, .data.u32 = TAG_SIGNAL};

	c->cwd_fd = open(c->o->app_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->cwd_fd < 0)
		return log_errno(-errno, "cannot open the app root %s", c->o->app_dir);

	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0)
		return log_errno(-errno, "epoll_create1");
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->sfd, &ee) < 0)
		return log_errno(-errno, "epoll_ctl");
	/* An absolute CLOCK_MONOTONIC timer: no slack, where an epoll_wait
	 * timeout gets 0.1 % of itself (15 ms at the 15 s stop timeout). */
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (c->tfd < 0)
		return log_errno(-errno, "timerfd_create");
	ee.data.u32 = TAG_TIMER;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->tfd, &ee) < 0)
		return log_errno(-errno, "epoll_ctl(timerfd)");
	return 0;
}

/* Detects the cgroup layout and refuses a forced or missing one. */
static int setup_layout(struct run_ctx *c)
{
	const struct run_opts *o = c->o;
	int r = 0;

	if (o->layout)
		cgroup_layout_copy(o->layout, &c->layout); /* one detection per start */
	else
		r = cgroup_detect(&c->layout);
	if (r < 0)
		return r;
	if (o->force_mode && cgroup_layout_force(&c->layout, o->mode) < 0) {
		log_error("no %s cgroup layout here", cgroup_mode_to_string(o->mode));
		return -ENOENT;
	}
	if (c->layout.mode == CGROUP_MODE_NONE) {
		log_error("no usable cgroup hierarchy: berth cannot track and stop the "
			  "worker's processes; use --no-cgroup to run without one");
		return -ENOTSUP;
	}
	return 0;
}

/* The box's preparation ready for the first clone (run_opts.ready_hook),
 * and on pure v2 finished (spawned_hook), once; any failure is a setup
 * failure (125), never a usage error. */
static int box_ready(struct run_ctx *c, bool *done)
{
	int r;

	if (*done)
		return 0;
	*done = true;
	r = c->o->ready_hook ? c->o->ready_hook(c->o->ready_data) : 0;
	if (r == 0 && c->layout.mode == CGROUP_MODE_V2 && c->o->spawned_hook)
		r = c->o->spawned_hook(c->o->ready_data);
	return r == -EINVAL ? -EIO : r;
}

/* Creates the instance cgroup, gives it the worker's limits (fail closed)
 * and watches its OOM kills and cgroup.events.  On pure v2, where berth
 * may move into a leaf that its helpers would have to follow, the box's
 * preparation is finished first (box_ready). */
static int setup_cgroup(struct run_ctx *c, bool *ready)
{
	const struct run_opts *o = c->o;
	/* berth's helpers (slirp4netns) sit in its cgroup: on pure v2 they follow
	 * berth into its supervisor leaf, or the controllers cannot be enabled */
	struct cgroup_create_opts co = {.parent = o->cgroup_parent,
					.controllers = CG_CTL_ALL,
					.companions = o->helpers,
					.n_companions = o->n_helpers};
	_cleanup_free_ char *name = NULL;
	int r = setup_layout(c);

	if (r == 0 && c->layout.mode == CGROUP_MODE_V2)
		r = box_ready(c, ready);
	if (r < 0)
		return r;
	name = instance_name(o);
	r = cgroup_create_with(&c->layout, name, &co, &c->cg);
	if (r < 0)
		return r; /* logged, naming the path and --no-cgroup */
	c->have_cg = true;
	if (o->cgroups_hook) {
		char **dirs = cgroup_dirs(&c->cg);

		r = o->cgroups_hook(o->cgroups_data, dirs);
		strv_free(dirs);
		if (r < 0)
			return r; /* logged */
	}
	if (o->limits) {
		/* Fail closed: a worker never runs without its limits. */
		r = cgroup_apply_limits(&c->cg, o->limits);
		if (r < 0)
			return r; /* logged */
	}
	if (cgroup_oom_kills(&c->cg, &c->oom_kills) < 0)
		c->oom_kills = 0;
	r = run_watch_oom(c);
	if (r < 0)
		return r;
	if (c->cg.events_fd >= 0) {
		struct epoll_event ce = {.events = EPOLLPRI, .data.u32 = TAG_EVENTS};
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->cg.events_fd, &ce) < 0)
			return log_errno(-errno, "epoll_ctl(cgroup.events)");
	}
	log_debug("cgroup %s (%s)", c->cg.v2_path ? c->cg.v2_path : "v1",
		  cgroup_mode_to_string(c->cg.mode));
	return 0;
}

int run_setup(struct run_ctx *c)
{
	const struct run_opts *o = c->o;
	const char *why;
	bool ready = false;
	int r;

	if (supervise_policy_check(&o->policy, &why) < 0) {
		log_error("%s", why);
		return -EINVAL;
	}
	r = setup_signals(c);
	if (r < 0)
		return r;

	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("cannot become a child subreaper (%s): orphans of the worker will not "
			 "be reaped by berth",
			 strerror(errno));

	r = setup_epoll(c);
	if (r < 0)
		return r;
	if (!o->no_cgroup) {
		r = setup_cgroup(c, &ready);
		if (r < 0)
			return r;
	} else {
		log_info("running without a cgroup (--no-cgroup): processes that leave the "
			 "worker's process tree cannot be stopped");
	}
	/* Now that berth is where it stays (its supervisor leaf on pure v2):
	 * the init lives in berth's cgroup, not the worker's, whose "empty"
	 * and cgroup.kill mean the worker alone. */
	if (o->hostname) {
		r = nsinit_start(&c->ns, o->hostname);
		if (r < 0)
			return r;
	}
	/* the rest of the box's preparation ran meanwhile */
	r = box_ready(c, &ready);
	if (r < 0)
		return r;
	c->script = spawn_script(o->start, o->policy.stop_signal);
	c->argv = startcmd_argv(o->start);
	if (o->pre_start) {
		c->pre_script = spawn_script(o->pre_start, o->policy.stop_signal);
		c->pre_argv = startcmd_argv(o->pre_start);
	}
	return 0;
}

void run_teardown(struct run_ctx *c)
{
	/* berth-init lives in berth's cgroup, never in the worker's: when
	 * nothing of the worker is left, its exit (the PID namespace's
	 * teardown) runs while the worker's cgroups are removed, unless
	 * that removes berth's supervisor leaf, the init's cgroup, too. */
	nsinit_kill(&c->ns);
	/* Its exit waits for an unreaped main process of the namespace. */
	if (!c->quiet || !c->have_cg || cgroup_in_supervisor_leaf())
		nsinit_stop(&c->ns, c->main_pid);
	notify_close(&c->notify);
	run_watch_clear(c);
	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->have_cg) {
		/* Empty unless processes survived SIGKILL (logged); then the
		 * instance record keeps naming them for the next berth. */
		if (cgroup_destroy(&c->cg) == 0 && c->o->cgroups_hook)
			c->o->cgroups_hook(c->o->cgroups_data, NULL);
		cgroup_release(&c->cg);
	}
	nsinit_stop(&c->ns, c->main_pid); /* when not yet */
	cgroup_layout_free(&c->layout);	  /* zeroed when never detected */
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->tfd >= 0)
		close(c->tfd);
	if (c->sfd >= 0)
		close(c->sfd);
	if (c->cwd_fd >= 0)
		close(c->cwd_fd);
	free(c->script);
	free(c->pre_script);
	free(c->argv);
	free(c->pre_argv);
	if (c->masked)
		sigprocmask(SIG_SETMASK, &c->oldmask, NULL);
}

/* The words executed without the shell, or null (startcmd). */
static json_t *direct_json(const char *cmd)
{
	_cleanup_free_ char **argv = startcmd_argv(cmd);
	json_t *a;

	if (!argv)
		return json_null();
	a = json_array();
	for (char **w = argv; *w; w++)
		json_array_append_new(a, json_string(*w));
	return a;
}

json_t *run_describe(const struct run_opts *o)
{
	const struct supervise_policy *p = &o->policy;
	_cleanup_free_ char *script = spawn_script(o->start ? o->start : "", p->stop_signal);
	_cleanup_free_ char *pre = o->pre_start ? spawn_script(o->pre_start, p->stop_signal) : NULL;
	json_t *budget = p->max_restarts == SUPERVISE_UNLIMITED
				 ? json_null()
				 : json_pack("{s:i, s:I}", "max_restarts", p->max_restarts,
					     "window_ms", (json_int_t)p->restart_window_ms);
	/* null: no pre-start command runs */
	json_t *pre_start = !pre ? json_null()
				 : json_pack("{s:[s,s,s], s:o, s:s}", "argv", SPAWN_SHELL, "-c",
					     pre, "direct_argv", direct_json(o->pre_start), "runs",
					     "once per berth run, before the first start");

	return json_pack(
		"{s:[s,s,s], s:o, s:o, s:{s:s, s:I, s:s, s:I, s:b}, "
		"s:{s:I, s:i, s:I, s:I, s:s, s:o}}",
		"argv", SPAWN_SHELL, "-c", script, "direct_argv",
		direct_json(o->start ? o->start : ""), "pre_start", pre_start, "stop", "signal",
		signals_name(p->stop_signal), "timeout_ms", (json_int_t)p->stop_timeout_ms,
		"kill_mode", supervise_kill_mode_name(p->kill_mode), "kill_grace_ms",
		(json_int_t)p->kill_grace_ms, "quit_stops", p->quit_stops, "restart", "min_ms",
		(json_int_t)p->restart_min_ms, "factor", (int)p->restart_factor, "max_ms",
		(json_int_t)p->restart_max_ms, "reset_ms", (json_int_t)p->restart_reset_ms,
		"leftover", supervise_leftover_name(p->leftover), "budget", budget);
}
