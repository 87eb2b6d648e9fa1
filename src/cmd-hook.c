/* SPDX-License-Identifier: MIT */
/*
 * `berth hook STAGE`: called by an OCI runtime with the container's state
 * on stdin.  createRuntime gives the container the worker's box parts a
 * runtime leaves to hooks: limits in its cgroup, the network rules (no
 * ingress, the worker's egress plan) in its network namespace (joined through a verified pidfd),
 * the instance's storage (disk bound) mounted in its root; createContainer checks the storage is
 * there.  poststop and the other stages have nothing to undo.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "boxplan.h"
#include "cleanup.h"
#include "commands.h"
#include "egress.h"
#include "exitcodes.h"
#include "hook.h"
#include "log.h"
#include "net.h"
#include "ocispec.h"
#include "safepath.h"
#include "signals.h"
#include "stopguard.h"
#include "storage.h"
#include "util.h"
#include "view.h"

const char cmd_hook_help_text[] =
	"STAGE is createRuntime, createContainer, startContainer, poststart,\n"
	"poststop or prestart; the OCI state JSON is read from standard input and\n"
	"<bundle>/config.json for the annotations (the state's first):\n"
	"  " OCISPEC_ANN_WORKER "              the worker (required)\n"
	"  " OCISPEC_ANN_APP_CONFIG "          the app config (absolute)\n"
	"  " OCISPEC_ANN_APP "                 the app of .platform/applications.yaml\n"
	"  " OCISPEC_ANN_SERVICES "            services.yaml (absolute)\n"
	"  " OCISPEC_ANN_CONTEXT "             the context file (absolute)\n"
	"  " OCISPEC_ANN_STATE_DIR "           the state directory (absolute)\n"
	"  " OCISPEC_ANN_STORAGE_ROOT "        where instance storage lives (absolute)\n"
	"  " OCISPEC_ANN_REQUIRE_QUOTA "  1: no disk bound is an error\n"
	"  " OCISPEC_ANN_STOP_GUARD "          on (default) or off: the stop guard\n"
	"  " OCISPEC_ANN_STOP_TIMEOUT "        as run's options of the same names\n"
	"  " OCISPEC_ANN_STOP_SIGNAL "         (15s, TERM, control-group)\n"
	"  " OCISPEC_ANN_KILL_MODE "\n"
	"Errors go to standard error and to " HOOK_LOG_FILE ".\n";

/* Read all of fd 0, at most HOOK_STATE_MAX bytes, within the time limit. */
static int read_state(char **out, size_t *len)
{
	struct timespec t0, now;
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = {.fd = 0, .events = POLLIN};
		long left;
		ssize_t k;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = HOOK_STDIN_TIMEOUT_MS -
		       ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			free(buf);
			log_error("no complete state JSON on standard input within %d ms",
				  HOOK_STDIN_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		if (n == cap) {
			if (cap >= HOOK_STATE_MAX) {
				free(buf);
				log_error("state JSON larger than %d bytes", HOOK_STATE_MAX);
				return -E2BIG;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		k = read(0, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = -errno;
			free(buf);
			return log_errno(e, "read the state JSON");
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Every log line also goes to a log the operator can find; when stderr goes
 * nowhere (crun's default) the log becomes stderr.  Returns the log's fd
 * (*copy: to be given to log_copy_to()), 2 when stderr is the log now, or
 * -1 when it cannot be opened. */
static int open_log(bool *copy)
{
	struct stat st, nul;
	int fd;

	*copy = false;
	(void)mkdir(HOOK_LOG_DIR, 0700);
	fd = open(HOOK_LOG_FILE, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (fstat(2, &st) < 0 ||
	    (stat("/dev/null", &nul) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == nul.st_rdev)) {
		dup2(fd, 2);
		close(fd);
		return 2;
	}
	*copy = true;
	return fd;
}

/* fds 0 and 1 point nowhere once the state is read: nothing berth starts
 * keeps the runtime's pipes open. */
static void null_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	close(fd);
}

static char *read_config(const char *bundle)
{
	_cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 65536, n = 0;
	char *buf;

	if (fd < 0) {
		log_errno(-errno, "open %s", path);
		return NULL;
	}
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k < 0) {
				log_errno(-errno, "read %s", path);
				free(buf);
				return NULL;
			}
			break;
		}
		n += (size_t)k;
		if (n == cap) {
			if (cap >= (16 << 20)) {
				log_error("%s: larger than 16 MiB", path);
				free(buf);
				return NULL;
			}
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
	}
	buf[n] = '\0';
	return buf;
}

/* The worker the container runs and where its config lives, from the
 * annotations (berth.worker, berth.app-config, ...) over the global
 * options; logging set up for it.  CMD_CONTINUE, or an exit status. */
static int hook_globals(const struct hook_state *st, const struct hook_bundle *b,
			struct cli_global *g, const char **worker)
{
	const char *v;

	*worker = hook_annotation(st, b, OCISPEC_ANN_WORKER);
	if (!*worker) {
		log_error("container %s: no %s annotation: which worker is it?", st->id,
			  OCISPEC_ANN_WORKER);
		return BERTH_EXIT_USAGE;
	}
	static const char *const paths[] = {OCISPEC_ANN_APP_CONFIG, OCISPEC_ANN_SERVICES,
					    OCISPEC_ANN_CONTEXT, OCISPEC_ANN_STATE_DIR,
					    OCISPEC_ANN_STORAGE_ROOT};
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		v = hook_annotation(st, b, paths[i]);
		if (v && ocispec_check_path_annotation(paths[i], v) < 0) {
			log_error("container %s: annotation %s: '%s' is not an absolute path (the "
				  "hook runs in the bundle %s; write the spec again with this "
				  "berth)",
				  st->id, paths[i], v, st->bundle);
			return BERTH_EXIT_USAGE;
		}
	}
	/* the config as spec loaded it: the same file, app and services */
	if ((v = hook_annotation(st, b, OCISPEC_ANN_APP_CONFIG)))
		g->app_config = v;
	if ((v = hook_annotation(st, b, OCISPEC_ANN_APP)))
		g->app_name = v;
	if ((v = hook_annotation(st, b, OCISPEC_ANN_SERVICES)))
		g->services = v;
	if ((v = hook_annotation(st, b, OCISPEC_ANN_CONTEXT)))
		g->context = v;
	if ((v = hook_annotation(st, b, OCISPEC_ANN_STATE_DIR)))
		g->state_dir = v;
	log_setup(g->log_format, g->log_level, *worker);
	return CMD_CONTINUE;
}

/* The worker and its box plan for the container: the worker of the
 * annotation, its context loaded once, the storage root from the
 * annotation.  CMD_CONTINUE or an exit status. */
static int hook_prepare(const struct cli_global *g, const char *worker, const struct hook_state *st,
			const struct hook_bundle *b, struct prep *p, struct boxplan *bp)
{
	struct prep_needs n = {.worker = worker};
	int r = prepare(g, &n, p);

	if (r != CMD_CONTINUE)
		return r;
	struct boxplan_request rq = prep_box_request(g, p);

	rq.view.storage_root = hook_annotation(st, b, OCISPEC_ANN_STORAGE_ROOT);
	return boxplan_build(&rq, bp) < 0 ? BERTH_EXIT_SETUP : CMD_CONTINUE;
}

/* The container root's etc/resolv.conf, opened without following a
 * symlink anywhere beneath the root (it is the image's); -1 when it is
 * not a plain file there (then no resolver is allowed: logged). */
static int root_resolv_conf(const char *root)
{
	_cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int etc = rootfd < 0 ? -errno : safepath_open(rootfd, "etc", O_PATH, 0);
	int fd = etc < 0 ? etc : openat(etc, "resolv.conf", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		log_info("egress: %s/etc/resolv.conf: %s; no resolver is allowed", root,
			 strerror(etc < 0 ? -etc : errno));
	return fd < 0 ? -1 : fd;
}

/* The worker's egress plan in the container: the box plan's egress inputs
 * (relationships, the services of the app and the context, firewall), the
 * resolvers of the resolv.conf the container sees (a bind of config.json,
 * else its root's); the firewall's domains resolved here, in the hook's
 * namespaces.  0 or -errno (logged). */
static int hook_egress(const struct boxplan *bp, const struct hook_bundle *b,
		       struct egress_plan *plan)
{
	_cleanup_close_ int rfd = b->resolv_conf ? -1 : root_resolv_conf(b->root);
	_cleanup_free_ char *resolv = b->resolv_conf ? xstrdup(b->resolv_conf)
				      : rfd >= 0     ? xasprintf("/proc/self/fd/%d", rfd)
						     : NULL;
	struct net_egress eg = {bp->sandbox.firewall, bp->relationships, bp->services,
				resolv ? resolv : "/dev/null"};
	int r = net_egress_plan(&eg, NET_CURRENT, NULL, plan);

	if (r == 0)
		egress_resolve(plan);
	return r;
}

/* BERTH_REQUIRE_DISK_QUOTA=1 in the hook's environment or the annotation
 * (berth spec --require-disk-quota): no disk bound is an error. */
static bool hook_require_quota(const struct hook_state *st, const struct hook_bundle *b)
{
	const char *a = hook_annotation(st, b, OCISPEC_ANN_REQUIRE_QUOTA);
	const char *e = getenv("BERTH_REQUIRE_DISK_QUOTA");

	return (a && strcmp(a, "1") == 0) || (e && strcmp(e, "1") == 0);
}

/* The instance's storage as `berth run` has it: prepared by storage_open
 * (directories, the disk image made or resized and attached to a loop
 * device with autoclear) and mounted at the worker's mount paths in the
 * container's root.  The loop device keeps the image's shared lock for as
 * long as the container's namespace mounts it, then detaches. */
static int hook_storage(const struct boxplan *bp, const struct hook_state *st,
			const struct hook_bundle *b, int pidfd)
{
	struct storage_opts so = {
		.uid = b->uid, .gid = b->gid, .require_quota = hook_require_quota(st, b)};
	struct mountplan mp;
	struct storage s;
	int r;

	if ((r = view_plan(bp->w, &bp->view, &mp)) < 0)
		return r;
	r = storage_open(&mp, &so, &s);
	if (r == 0) {
		r = hook_mount_storage(pidfd, b, &mp, &s);
		storage_close(&s);
	}
	mountplan_free(&mp);
	return r;
}

/* berth run's stop for a plain bundle: the stop guard (stopguard.h), set
 * up by the annotations, unless berth.stop-guard is "off" (berth spec
 * writes that: its PID 1 keeps the stop). */
/* The stop annotations (timeout, signal, kill mode) into o.  0 or
 * -EINVAL (logged, naming the annotation). */
static int stop_guard_annotations(const struct hook_state *st, const struct hook_bundle *b,
				  struct stopguard_opts *o)
{
	const char *v = hook_annotation(st, b, OCISPEC_ANN_STOP_TIMEOUT);

	if (v && parse_duration_ms(v, &o->timeout_ms) < 0) {
		log_error("annotation %s: '%s' is not a duration (15s, 300ms, 2m)",
			  OCISPEC_ANN_STOP_TIMEOUT, v);
		return -EINVAL;
	}
	v = hook_annotation(st, b, OCISPEC_ANN_STOP_SIGNAL);
	if (v && (signals_parse(v, &o->stop_signal) < 0 || o->stop_signal == SIGKILL ||
		  o->stop_signal == SIGSTOP)) {
		log_error("annotation %s: '%s' is not a signal a worker can handle",
			  OCISPEC_ANN_STOP_SIGNAL, v);
		return -EINVAL;
	}
	if (o->stop_signal != SIGTERM && o->stop_signal != SIGINT)
		o->watch[o->n_watch++] = o->stop_signal; /* the engine's StopSignal, then */
	v = hook_annotation(st, b, OCISPEC_ANN_KILL_MODE);
	if (v && strcmp(v, "mixed") != 0 && strcmp(v, "process") != 0 &&
	    strcmp(v, "control-group") != 0) {
		log_error("annotation %s: '%s' (control-group, mixed or process)",
			  OCISPEC_ANN_KILL_MODE, v);
		return -EINVAL;
	}
	o->relay = !v || strcmp(v, "control-group") == 0;
	return 0;
}

static int hook_stop_guard(const struct hook_state *st, const struct hook_bundle *b, int pidfd)
{
	struct stopguard_opts o = {.id = st->id,
				   .pid = st->pid,
				   .pidfd = pidfd,
				   .watch = {SIGTERM, SIGINT},
				   .n_watch = 2,
				   .stop_signal = SIGTERM,
				   .relay = true,
				   .timeout_ms = 15000,
				   .log_fd = -1};
	const char *v = hook_annotation(st, b, OCISPEC_ANN_STOP_GUARD);
	pid_t guard;
	int r;

	if (v && strcmp(v, "off") == 0) {
		log_info("container %s: %s is off: no stop guard", st->id, OCISPEC_ANN_STOP_GUARD);
		return 0;
	}
	if (v && strcmp(v, "on") != 0) {
		log_error("annotation %s: '%s' is neither on nor off", OCISPEC_ANN_STOP_GUARD, v);
		return -EINVAL;
	}
	r = stop_guard_annotations(st, b, &o);
	if (r < 0)
		return r;
	if (!b->ns_new[HOOK_NS_PID]) {
		log_error("container %s: no pid namespace of its own, so the stop guard cannot end "
			  "its processes at the deadline (annotation %s=off leaves the stop to "
			  "the engine)",
			  st->id, OCISPEC_ANN_STOP_GUARD);
		return -EINVAL;
	}
	o.log_fd = open(HOOK_LOG_FILE, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	r = stopguard_start(&o, &guard);
	if (o.log_fd >= 0)
		close(o.log_fd);
	if (r == 0)
		log_info("container %s: stop guard %d: SIGKILL %llu ms after a stop signal", st->id,
			 (int)guard, (unsigned long long)o.timeout_ms);
	return r;
}

static int create_runtime(const struct cli_global *g0, const struct hook_state *st,
			  const struct hook_bundle *b)
{
	struct cli_global g = *g0;
	struct egress_plan plan = {0};
	_cleanup_close_ int pidfd = -1;
	struct boxplan bp = {0};
	struct prep p = {0};
	const char *worker;
	int r;

	if ((r = hook_globals(st, b, &g, &worker)) != CMD_CONTINUE)
		return r;
	/* Verify the pid first: nothing is touched for a wrong one. */
	if (hook_pid_verify(st->pid, b, &pidfd) < 0)
		return BERTH_EXIT_SETUP;
	r = hook_prepare(&g, worker, st, b, &p, &bp);
	if (r == CMD_CONTINUE &&
	    (hook_apply_limits(st->pid, &bp.limits) < 0 || hook_egress(&bp, b, &plan) < 0 ||
	     hook_net_rules(pidfd, &plan) < 0 || hook_storage(&bp, st, b, pidfd) < 0 ||
	     hook_stop_guard(st, b, pidfd) < 0))
		r = BERTH_EXIT_SETUP;
	if (r == CMD_CONTINUE) {
		log_info("container %s (pid %d): limits, ingress rules, storage and stop in place "
			 "(egress: %zu relationship endpoint(s), %zu other service endpoint(s) "
			 "refused, %s)",
			 st->id, (int)st->pid, plan.n_allow, plan.n_block,
			 plan.all_tcp ? "all TCP" : "firewall.outbound");
		r = BERTH_EXIT_OK;
	}
	egress_plan_free(&plan);
	boxplan_free(&bp);
	prep_free(&p);
	return r;
}

/* createContainer, in the container's mount namespace before pivot_root:
 * every storage mount path is a mount (createRuntime mounted the storage,
 * or config.json binds it).  Nothing is mounted here: this process is in
 * the container's device cgroup, where the disk's loop device is denied. */
static int create_container(const struct cli_global *g0, const struct hook_state *st,
			    const struct hook_bundle *b)
{
	struct cli_global g = *g0;
	const char *worker;
	struct mountplan mp;
	_cleanup_close_ int rootfd = -1;
	struct boxplan bp = {0};
	struct prep p = {0};
	int r;

	if ((r = hook_globals(st, b, &g, &worker)) != CMD_CONTINUE)
		return r;
	if ((r = hook_mntns_is_hosts()) != 0) {
		if (r > 0)
			log_error("createContainer runs in the host's mount namespace: no mounts");
		return BERTH_EXIT_SETUP;
	}
	rootfd = open(b->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return log_errno(-errno, "open the container's root %s", b->root), BERTH_EXIT_SETUP;
	r = hook_prepare(&g, worker, st, b, &p, &bp);
	if (r == CMD_CONTINUE) {
		r = BERTH_EXIT_SETUP;
		if (view_plan(&p.w, &bp.view, &mp) == 0) {
			if (hook_check_storage(rootfd, &mp) == 0) {
				log_info("container %s: the storage is mounted", st->id);
				r = BERTH_EXIT_OK;
			}
			mountplan_free(&mp);
		}
	}
	boxplan_free(&bp);
	prep_free(&p);
	return r;
}

static int hook_run(const struct cli_global *g, enum hook_stage stage, const char **id)
{
	_cleanup_free_ char *text = NULL, *cfg = NULL, *err = NULL;
	struct hook_state st = {0};
	struct hook_bundle b = {0};
	size_t len = 0;
	int r;

	if (read_state(&text, &len) < 0)
		return BERTH_EXIT_USAGE;
	null_stdio();
	if (hook_state_parse(text, len, stage, &st, &err) < 0) {
		log_error("%s", err);
		return BERTH_EXIT_USAGE;
	}
	*id = xstrdup(st.id);
	if (stage == HOOK_POSTSTOP) {
		/* Nothing outlives the container: the rules died with its network
		 * namespace, the runtime removes its cgroup, storage persists.
		 * Idempotent by having nothing to undo. */
		log_info("container %s: poststop, nothing to clean up", st.id);
		hook_state_free(&st);
		return 0;
	}
	if (!(cfg = read_config(st.bundle))) {
		hook_state_free(&st);
		return BERTH_EXIT_SETUP;
	}
	if (hook_bundle_parse(cfg, st.bundle, &b, &err) < 0) {
		log_error("%s", err);
		hook_state_free(&st);
		return BERTH_EXIT_USAGE;
	}
	r = stage == HOOK_CREATE_RUNTIME     ? create_runtime(g, &st, &b)
	    : stage == HOOK_CREATE_CONTAINER ? create_container(g, &st, &b)
					     : 0;
	hook_bundle_free(&b);
	hook_state_free(&st);
	return r;
}

int cmd_hook(const struct cli_global *g, int argc, char **argv)
{
	enum hook_stage stage;
	const char *id = NULL;
	char ts[64];
	int first, r, logfd;
	bool copy;

	r = commands_parse_plain(argc, argv, 1, &first);
	if (r != CMD_CONTINUE)
		return r;
	if (hook_stage_parse(argv[first], &stage) < 0)
		return cli_usage_error(argv[0],
				       "unknown stage '%s' (createRuntime, "
				       "createContainer, startContainer, poststart, "
				       "poststop, prestart)",
				       argv[first]);
	/* Non-dumpable from the start: createContainer runs inside the
	 * container's namespaces, where its processes could otherwise ptrace
	 * berth or open its /proc files (CVE-2016-9962). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return log_errno(-errno, "prctl(PR_SET_DUMPABLE)"), BERTH_EXIT_SETUP;
	logfd = open_log(&copy);
	log_copy_to(copy ? logfd : -1);
	r = hook_run(g, stage, &id);
	log_copy_to(-1);
	if (logfd >= 0) {
		log_timestamp(ts, sizeof(ts));
		dprintf(logfd, "%s berth hook %s container=%s: %s (exit %d)\n", ts, argv[first],
			id ? id : "?", r ? "failed" : "ok", r);
		if (copy)
			close(logfd);
	}
	free((char *)id);
	return r;
}
