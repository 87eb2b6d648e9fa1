/* SPDX-License-Identifier: MIT */
/*
 * `berth run`: parse the supervision options (each with an environment
 * twin), prepare (prepare.h), plan and open the box (boxplan.h) and hand
 * everything to run_worker().  Also provides the plan `berth show` prints.
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "boxplan.h"
#include "cleanup.h"
#include "commands.h"
#include "exitcodes.h"
#include "instance.h"
#include "run.h"
#include "signals.h"

const char cmd_run_help_text[] =
	"  --stop-timeout DUR       stop signal -> SIGKILL of the whole cgroup\n"
	"                           (default 15s; 300ms, 2m) [BERTH_STOP_TIMEOUT]\n"
	"  --stop-signal SIG        the stop signal (default TERM) [BERTH_STOP_SIGNAL]\n"
	"  --kill-mode MODE         who gets the stop signal: control-group (default,\n"
	"                           every process of the worker), mixed (the main\n"
	"                           process; the rest is SIGKILLed once it is gone),\n"
	"                           process (the main process only); whatever is\n"
	"                           left is SIGKILLed at the deadline in every mode\n"
	"                           [BERTH_KILL_MODE]\n"
	"  --stop-on-quit           SIGQUIT stops the worker instead of being relayed\n"
	"  --restart-min DUR        first delay before a restart (100ms, above 0)\n"
	"                           [BERTH_RESTART_MIN]\n"
	"  --restart-max DUR        the delay doubles per quick exit up to this (30s)\n"
	"                           [BERTH_RESTART_MAX]\n"
	"  --restart-reset DUR      up this long counts as healthy: the delay resets\n"
	"                           (10s) [BERTH_RESTART_RESET]\n"
	"  --max-restarts N         crash budget: give up after N restarts within\n"
	"  --restart-window DUR     the window (default: unlimited; window 0 = ever)\n"
	"                           [BERTH_MAX_RESTARTS, BERTH_RESTART_WINDOW]\n"
	"  --leftover POLICY        processes left behind when the start command ends:\n"
	"                           kill (default: stop them, then restart) or\n"
	"                           restart (Platform.sh: report, restart anyway)\n"
	"                           [BERTH_LEFTOVER]\n"
	"  --memory SIZE            memory limit instead of size's (256M, 1G)\n"
	"                           [BERTH_MEMORY]\n"
	"  --cpus N                 CPU limit instead of size's (0.4, 2) [BERTH_CPUS]\n"
	"  --pids-max N|max         process limit (default 4096) [BERTH_PIDS_MAX]\n"
	"  --auto-size SIZE         what size AUTO means here (default: no limit)\n"
	"                           [BERTH_AUTO_SIZE]\n"
	"  --allow-missing-controllers\n"
	"                           a cgroup controller that is missing or not\n"
	"                           delegated is a warning, not an error\n"
	"                           [BERTH_ALLOW_MISSING_CONTROLLERS=1]\n"
	"  --no-cgroup              run without a cgroup of its own (no cgroup-wide\n"
	"                           stop: only for hosts where berth may not create\n"
	"                           one) [BERTH_NO_CGROUP=1]\n"
	"  --cgroup-parent PATH     create the instance's cgroup beneath PATH (relative\n"
	"                           to each hierarchy's root) [BERTH_CGROUP_PARENT]\n"
	"  --pass-env NAME          also pass NAME from berth's environment\n"
	"                           (repeatable) [BERTH_PASS_ENV=NAME,NAME]\n"
	"  --storage-root DIR       where instance storage lives (default: <state\n"
	"                           dir>/storage) [BERTH_STORAGE_ROOT]\n"
	"  --require-disk-quota     refuse to run when `disk` cannot be enforced\n"
	"                           [BERTH_REQUIRE_DISK_QUOTA=1]\n"
	"  --tmp-size SIZE          the worker's /tmp, a tmpfs emptied at each start\n"
	"                           (default 1G, or the memory limit when lower;\n"
	"                           it counts against it) [BERTH_TMP_SIZE]\n"
	"  --ro-bind PATH           also show the host's PATH (absolute), read-only,\n"
	"                           at the same path (repeatable)\n"
	"                           [BERTH_RO_BIND=PATH:PATH]\n"
	"  --unconfined             no box: no mount view, network, PID, IPC or UTS\n"
	"                           namespace, user switch or syscall filter\n"
	"                           (debugging only; what an unprivileged berth\n"
	"                           needs) [BERTH_UNCONFINED=1]\n" SANDBOX_HELP;

enum {
	OPT_STOP_TIMEOUT = 256,
	OPT_STOP_SIGNAL,
	OPT_KILL_MODE,
	OPT_STOP_ON_QUIT,
	OPT_RESTART_MIN,
	OPT_RESTART_MAX,
	OPT_RESTART_RESET,
	OPT_MAX_RESTARTS,
	OPT_RESTART_WINDOW,
	OPT_LEFTOVER,
	OPT_NO_CGROUP,
	OPT_CGROUP_PARENT,
	OPT_PASS_ENV,
	OPT_MEMORY,
	OPT_CPUS,
	OPT_PIDS_MAX,
	OPT_AUTO_SIZE,
	OPT_ALLOW_MISSING,
	OPT_STORAGE_ROOT,
	OPT_REQUIRE_QUOTA,
	OPT_UNCONFINED,
	OPT_TMP_SIZE,
	OPT_RO_BIND,
	OPT_NETWORK,
	OPT_USER,
	OPT_SECCOMP,
	OPT_ALLOW_LOCAL_LISTEN,
	OPT_COUNT,
};

/* sandbox_opts_set()'s names, in sandbox_opts_from_env()'s order. */
static const char *const sandbox_names[4] = {"network", "user", "seccomp", "allow-local-listen"};

/* Everything `run` takes from its command line and environment. */
struct run_cli {
	struct run_opts o;
	struct sizelimit_overrides lo;
	char **pass;
	size_t npass;
	struct sandbox_opts so;
	bool so_set[4];
	struct view_opts vo;
	uint64_t tmp_size; /* --tmp-size; 0: view_tmp_size()'s default */
	char **ro_binds;
	size_t n_ro_binds;
	bool unconfined;
};

static const struct option run_options[] = {
	{"stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT},
	{"stop-signal", required_argument, NULL, OPT_STOP_SIGNAL},
	{"kill-mode", required_argument, NULL, OPT_KILL_MODE},
	{"stop-on-quit", no_argument, NULL, OPT_STOP_ON_QUIT},
	{"restart-min", required_argument, NULL, OPT_RESTART_MIN},
	{"restart-max", required_argument, NULL, OPT_RESTART_MAX},
	{"restart-reset", required_argument, NULL, OPT_RESTART_RESET},
	{"max-restarts", required_argument, NULL, OPT_MAX_RESTARTS},
	{"restart-window", required_argument, NULL, OPT_RESTART_WINDOW},
	{"leftover", required_argument, NULL, OPT_LEFTOVER},
	{"no-cgroup", no_argument, NULL, OPT_NO_CGROUP},
	{"cgroup-parent", required_argument, NULL, OPT_CGROUP_PARENT},
	{"pass-env", required_argument, NULL, OPT_PASS_ENV},
	{"memory", required_argument, NULL, OPT_MEMORY},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"pids-max", required_argument, NULL, OPT_PIDS_MAX},
	{"auto-size", required_argument, NULL, OPT_AUTO_SIZE},
	{"allow-missing-controllers", no_argument, NULL, OPT_ALLOW_MISSING},
	{"storage-root", required_argument, NULL, OPT_STORAGE_ROOT},
	{"require-disk-quota", no_argument, NULL, OPT_REQUIRE_QUOTA},
	{"unconfined", no_argument, NULL, OPT_UNCONFINED},
	{"tmp-size", required_argument, NULL, OPT_TMP_SIZE},
	{"ro-bind", required_argument, NULL, OPT_RO_BIND},
	{"network", required_argument, NULL, OPT_NETWORK},
	{"user", required_argument, NULL, OPT_USER},
	{"seccomp", required_argument, NULL, OPT_SECCOMP},
	{"allow-local-listen", no_argument, NULL, OPT_ALLOW_LOCAL_LISTEN},
	{"help", no_argument, NULL, 'h'},
	{0},
};

/* The environment twin of each option that takes a value. */
static const struct {
	int opt;
	const char *env;
} run_env_twins[] = {
	{OPT_STOP_TIMEOUT, "BERTH_STOP_TIMEOUT"},
	{OPT_STOP_SIGNAL, "BERTH_STOP_SIGNAL"},
	{OPT_KILL_MODE, "BERTH_KILL_MODE"},
	{OPT_RESTART_MIN, "BERTH_RESTART_MIN"},
	{OPT_RESTART_MAX, "BERTH_RESTART_MAX"},
	{OPT_RESTART_RESET, "BERTH_RESTART_RESET"},
	{OPT_MAX_RESTARTS, "BERTH_MAX_RESTARTS"},
	{OPT_RESTART_WINDOW, "BERTH_RESTART_WINDOW"},
	{OPT_LEFTOVER, "BERTH_LEFTOVER"},
	{OPT_CGROUP_PARENT, "BERTH_CGROUP_PARENT"},
	{OPT_MEMORY, "BERTH_MEMORY"},
	{OPT_CPUS, "BERTH_CPUS"},
	{OPT_PIDS_MAX, "BERTH_PIDS_MAX"},
	{OPT_AUTO_SIZE, "BERTH_AUTO_SIZE"},
	{OPT_STORAGE_ROOT, "BERTH_STORAGE_ROOT"},
	{OPT_TMP_SIZE, "BERTH_TMP_SIZE"},
};

static const char *opt_name(int opt)
{
	for (const struct option *o = run_options; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

static int set_duration(int opt, const char *v, uint64_t *out, bool zero_ok)
{
	uint64_t ms;

	if (parse_duration_ms(v, &ms) < 0 || ms > SUPERVISE_MAX_DURATION_MS ||
	    (!zero_ok && ms == 0))
		return cli_usage_error("run",
				       "--%s: '%s' is not a duration%s (e.g. 15s, 300ms, 2m; "
				       "at most 24h)",
				       opt_name(opt), v, zero_ok ? "" : " above 0");
	*out = ms;
	return -1;
}

/* Apply one option value.  Returns -1 to go on, or an exit status. */
static int run_apply(struct run_cli *rc, int opt, const char *v)
{
	struct run_opts *o = &rc->o;
	struct supervise_policy *p = &o->policy;
	uint64_t n;

	switch (opt) {
	case OPT_MEMORY:
		if (parse_bytes(v, &rc->lo.memory_bytes) < 0 || rc->lo.memory_bytes < (4 << 20))
			return cli_usage_error("run",
					       "--memory: '%s' is not a size of at least 4M "
					       "(e.g. 256M, 1G)",
					       v);
		return -1;
	case OPT_CPUS:
		if (sizelimit_parse_cpus(v, &rc->lo.cpu_milli) < 0)
			return cli_usage_error("run",
					       "--cpus: '%s' is not a number of CPUs from "
					       "0.001 to 1024",
					       v);
		return -1;
	case OPT_PIDS_MAX:
		if (strcmp(v, "max") == 0) {
			rc->lo.no_pids_max = true;
			return -1;
		}
		if (parse_u64(v, 4194304, &rc->lo.pids_max) < 0 || rc->lo.pids_max == 0)
			return cli_usage_error("run",
					       "--pids-max: '%s' is not 'max' or a number "
					       "from 1 to 4194304",
					       v);
		return -1;
	case OPT_AUTO_SIZE:
		if (size_parse(v, &rc->lo.auto_size) < 0 || rc->lo.auto_size == SIZE_AUTO)
			return cli_usage_error("run",
					       "--auto-size: '%s' is not one of S, M, L, XL, "
					       "2XL, 4XL",
					       v);
		rc->lo.have_auto_size = true;
		return -1;
	case OPT_STOP_TIMEOUT:
		return set_duration(opt, v, &p->stop_timeout_ms, true);
	case OPT_RESTART_MIN:
		return set_duration(opt, v, &p->restart_min_ms, false);
	case OPT_RESTART_MAX:
		return set_duration(opt, v, &p->restart_max_ms, true);
	case OPT_RESTART_RESET:
		return set_duration(opt, v, &p->restart_reset_ms, true);
	case OPT_RESTART_WINDOW:
		return set_duration(opt, v, &p->restart_window_ms, true);
	case OPT_STOP_SIGNAL:
		if (signals_parse(v, &p->stop_signal) < 0 || p->stop_signal == SIGKILL ||
		    p->stop_signal == SIGSTOP)
			return cli_usage_error("run",
					       "--stop-signal: '%s' is not a signal berth "
					       "can send as a stop signal",
					       v);
		return -1;
	case OPT_KILL_MODE:
		if (strcmp(v, "control-group") == 0)
			p->kill_mode = SUP_KILL_CONTROL_GROUP;
		else if (strcmp(v, "mixed") == 0)
			p->kill_mode = SUP_KILL_MIXED;
		else if (strcmp(v, "process") == 0)
			p->kill_mode = SUP_KILL_PROCESS;
		else
			return cli_usage_error("run",
					       "--kill-mode must be control-group, mixed or "
					       "process, not '%s'",
					       v);
		return -1;
	case OPT_LEFTOVER:
		if (strcmp(v, "kill") == 0)
			p->leftover = SUP_LEFTOVER_KILL;
		else if (strcmp(v, "restart") == 0)
			p->leftover = SUP_LEFTOVER_RESTART;
		else
			return cli_usage_error("run",
					       "--leftover must be kill or restart, not '%s'", v);
		return -1;
	case OPT_MAX_RESTARTS:
		if (parse_u64(v, SUPERVISE_MAX_BUDGET, &n) < 0)
			return cli_usage_error("run",
					       "--max-restarts: '%s' is not a number from 0 "
					       "to %d",
					       v, SUPERVISE_MAX_BUDGET);
		p->max_restarts = (int)n;
		return -1;
	case OPT_CGROUP_PARENT:
		o->cgroup_parent = v;
		return -1;
	case OPT_STORAGE_ROOT:
		if (v[0] != '/')
			return cli_usage_error(
				"run", "--storage-root must be an absolute path, not '%s'", v);
		rc->vo.storage_root = v;
		return -1;
	case OPT_TMP_SIZE:
		if (view_parse_tmp_size(v, &rc->tmp_size) < 0)
			return cli_usage_error("run",
					       "--tmp-size: '%s' is not a size of at least 1M "
					       "(e.g. 512M, 2G)",
					       v);
		return -1;
	case OPT_RO_BIND:
		if (view_ro_bind_add(&rc->ro_binds, &rc->n_ro_binds, v, false) < 0)
			return cli_usage_error("run",
					       "--ro-bind: '%s' is not an absolute path "
					       "without . or .. components",
					       v);
		return -1;
	case OPT_NETWORK:
	case OPT_USER:
	case OPT_SECCOMP:
	case OPT_ALLOW_LOCAL_LISTEN: {
		const char *name = sandbox_names[opt - OPT_NETWORK], *msg = NULL;
		rc->so_set[opt - OPT_NETWORK] = true;
		if (sandbox_opts_set(&rc->so, name, v ? v : "", &msg) < 0)
			return cli_usage_error("run", "--%s: %s", name,
					       msg ? msg : "invalid value");
		return -1;
	}
	default:
		return -1;
	}
}

/* Environment twins fill what the command line left unset (seen[opt]).
 * Returns -1 to go on, or an exit status. */
static int run_env_twins_apply(struct run_cli *rc, const bool *seen)
{
	const char *e;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(run_env_twins); i++) {
		if ((seen && seen[run_env_twins[i].opt]) || !(e = getenv(run_env_twins[i].env)) ||
		    !*e)
			continue;
		r = run_apply(rc, run_env_twins[i].opt, e);
		if (r >= 0)
			return r;
	}
	if ((e = getenv("BERTH_NO_CGROUP")) && strcmp(e, "1") == 0)
		rc->o.no_cgroup = true;
	if ((e = getenv("BERTH_ALLOW_MISSING_CONTROLLERS")) && strcmp(e, "1") == 0)
		rc->lo.allow_missing = true;
	if ((e = getenv("BERTH_REQUIRE_DISK_QUOTA")) && strcmp(e, "1") == 0)
		rc->vo.require_quota = true;
	if ((e = getenv("BERTH_UNCONFINED")) && strcmp(e, "1") == 0)
		rc->unconfined = true;
	rc->o.notify_socket = getenv("NOTIFY_SOCKET"); /* a Type=notify service */
	if (!rc->n_ro_binds && (e = getenv("BERTH_RO_BIND")) && *e &&
	    view_ro_bind_add(&rc->ro_binds, &rc->n_ro_binds, e, true) < 0)
		return cli_usage_error("run",
				       "BERTH_RO_BIND: '%s' is not a list of absolute "
				       "paths (PATH:PATH) without . or .. components",
				       e);
	const char *bad = NULL, *msg = NULL;
	if (sandbox_opts_from_env(&rc->so, rc->so_set, &bad, &msg) < 0)
		return cli_usage_error("run", "%s: %s", bad ? bad : "environment",
				       msg ? msg : "invalid value");
	return -1;
}

/*
 * Parse `run`'s options into o (which run_opts_init() prepared) and the
 * --pass-env names.  *worker_arg is the index of the worker name.
 * Returns -1 to go on, or an exit status.
 */
static int cmd_run_parse(int argc, char **argv, struct run_cli *rc, int *worker_arg)
{
	struct run_opts *o = &rc->o;
	bool seen[OPT_COUNT] = {false};
	const char *e;
	int c, r;

	optind = 0; /* 0, not 1: glibc then forgets the global parse */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", run_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			cli_command_help(cli_find(argv[0]), stdout);
			return BERTH_EXIT_OK;
		case ':':
			return cli_usage_error(argv[0], "option '%s' needs a value",
					       argv[optind - 1]);
		case '?':
			return cli_unknown_option(argv[0], argv[optind - 1]);
		case OPT_STOP_ON_QUIT:
			o->policy.quit_stops = true;
			break;
		case OPT_NO_CGROUP:
			o->no_cgroup = true;
			break;
		case OPT_PASS_ENV:
			commands_pass_env_add(&rc->pass, &rc->npass, optarg);
			break;
		case OPT_ALLOW_MISSING:
			rc->lo.allow_missing = true;
			break;
		case OPT_REQUIRE_QUOTA:
			rc->vo.require_quota = true;
			break;
		case OPT_UNCONFINED:
			rc->unconfined = true;
			break;
		case OPT_ALLOW_LOCAL_LISTEN:
			r = run_apply(rc, c, NULL);
			if (r >= 0)
				return r;
			break;
		default:
			seen[c] = true;
			r = run_apply(rc, c, optarg);
			if (r >= 0)
				return r;
		}
	}
	r = run_env_twins_apply(rc, seen);
	if (r >= 0)
		return r;
	if (!rc->npass && (e = getenv("BERTH_PASS_ENV")))
		commands_pass_env_add(&rc->pass, &rc->npass, e);
	if (o->policy.restart_max_ms < o->policy.restart_min_ms)
		return cli_usage_error(argv[0], "--restart-max must not be below --restart-min");
	if (argc - optind > 1)
		return cli_usage_error(argv[0], "expected one worker name, got %d", argc - optind);
	if (argc - optind != 1)
		return cli_usage_error(argv[0], "expected a worker name");
	*worker_arg = optind;
	return -1;
}

/* The box plan of run's options (and of show's, which prints it). */
static int run_boxplan(const struct cli_global *g, const struct run_cli *rc, const struct prep *p,
		       struct boxplan *bp)
{
	struct boxplan_request rq = prep_box_request(g, p);

	rq.limits = rc->lo;
	rq.no_cgroup = rc->o.no_cgroup;
	rq.unconfined = rc->unconfined;
	rq.pid1 = getpid() == 1;
	rq.view = rc->vo;
	rq.sandbox = &rc->so;
	rq.view.tmp_size = rc->tmp_size;
	rq.view.ro_binds = (const char *const *)rc->ro_binds;
	return boxplan_build(&rq, bp) < 0 ? BERTH_EXIT_SETUP : CMD_CONTINUE;
}

int cmd_run_plan(const struct cli_global *g, const struct prep *p, json_t **out)
{
	struct run_cli rc = {0};
	struct boxplan bp;
	int r;

	run_opts_init(&rc.o);
	r = run_env_twins_apply(&rc, NULL);
	if (r == CMD_CONTINUE)
		r = run_boxplan(g, &rc, p, &bp);
	if (r == CMD_CONTINUE) {
		rc.o.start = p->w.start; /* what run_describe() shows */
		rc.o.pre_start = p->w.pre_start;
		*out = run_describe(&rc.o);
		if (boxplan_describe(&bp, *out) < 0) {
			json_decref(*out);
			*out = NULL;
			r = BERTH_EXIT_SETUP;
		}
		boxplan_free(&bp);
	}
	sandbox_opts_free(&rc.so);
	strv_free(rc.ro_binds);
	return r;
}

/* Open the box the plan says (none with --unconfined) and record its disk
 * in the instance record.  CMD_CONTINUE or an exit status. */
static int run_box_open(struct boxplan *bp, struct box *box, struct instance *inst)
{
	if (bp->no_cgroup)
		log_warn("--no-cgroup: no limits (size %s), and processes that leave berth's "
			 "process tree cannot be stopped",
			 size_to_string(bp->w->size));
	if (bp->unconfined) {
		log_warn("--unconfined: the worker runs without its box: no mount view, network "
			 "namespace, user switch, Landlock domain or syscall filter");
		return CMD_CONTINUE;
	}
	if (geteuid() != 0) {
		log_error("berth run builds the worker's box as root (mounts, network namespace, "
			  "user switch); run it as root, or with --unconfined to run the worker "
			  "without a box (debugging only)");
		return BERTH_EXIT_SETUP;
	}
	if (boxplan_open(bp, box) < 0 || instance_record_disk(inst, &box->view.st) < 0)
		return BERTH_EXIT_SETUP;
	return CMD_CONTINUE;
}

/* run_worker()'s options from the preparation, the plan and the open box. */
static void run_opts_fill(struct run_opts *o, const struct prep *p, const struct boxplan *bp,
			  struct box *box, struct instance *inst)
{
	o->worker = p->w.name;
	o->app_dir = p->w.app_dir;
	o->start = p->w.start;
	o->pre_start = p->w.pre_start;
	o->envp = p->envp;
	o->limits = bp->no_cgroup ? NULL : &bp->limits;
	o->steps = box->steps;
	o->n_steps = box->n_steps;
	o->helpers = box->helpers; /* berth's children, not the worker's */
	o->n_helpers = box->n_helpers;
	if (!bp->unconfined) {
		/* before each restart: the firewall's domains resolved again */
		o->restart_hook = boxplan_restart;
		o->restart_data = box;
		o->hostname = bp->hostname; /* PID, IPC and UTS namespaces */
	}
	o->cgroups_hook = instance_cgroups_hook;
	o->cgroups_data = inst;
}

/* Plan the box, take the instance record (before anything is created: a
 * second berth of the instance is refused, what a killed one left is
 * removed), open the box, run, and close everything in reverse. */
static int run_act(const struct cli_global *g, struct run_cli *rc, const struct prep *p)
{
	struct instance inst = {.fd = -1, .dir_fd = -1};
	struct box box = {0};
	struct boxplan bp;
	bool joined;
	int r = run_boxplan(g, rc, p, &bp);

	if (r != CMD_CONTINUE)
		return r;
	r = commands_instance_open(p, false, &inst, &joined);
	if (r == CMD_CONTINUE)
		r = run_box_open(&bp, &box, &inst);
	if (r == CMD_CONTINUE) {
		run_opts_fill(&rc->o, p, &bp, &box, &inst);
		r = run_worker(&rc->o);
	}
	boxplan_close(&box);
	instance_close(&inst); /* after the cgroups and the disk */
	boxplan_free(&bp);
	return r;
}

int cmd_run(const struct cli_global *g, int argc, char **argv)
{
	struct run_cli rc = {0};
	struct prep p = {0};
	int wi = 0, r;

	run_opts_init(&rc.o);
	r = cmd_run_parse(argc, argv, &rc, &wi);
	if (r == CMD_CONTINUE) {
		struct prep_needs n = {.worker = argv[wi],
				       .env = true,
				       .pass_env = rc.pass,
				       .user = rc.so.user,
				       .self_user = rc.unconfined};

		log_setup(g->log_format, g->log_level, argv[wi]);
		log_stderr_nonblocking();
		r = prepare(g, &n, &p);
		if (r == CMD_CONTINUE) {
			r = run_act(g, &rc, &p);
			if (!FREE_BEFORE_EXIT)
				return r; /* main() exits now (cleanup.h) */
		}
	}
	prep_free(&p);
	strv_free(rc.pass);
	strv_free(rc.ro_binds);
	sandbox_opts_free(&rc.so);
	return r;
}
