/* SPDX-License-Identifier: MIT */
/*
 * `berth run`: parse the supervision options (each with an environment
 * twin), build the worker's environment and hand everything to
 * run_worker().  Also provides the run part of `berth show`.
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "exitcodes.h"
#include "sizelimit.h"
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
	"                           (repeatable) [BERTH_PASS_ENV=NAME,NAME]\n";

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
	OPT_COUNT,
};

/* Everything `run` takes from its command line and environment. */
struct run_cli {
	struct run_opts o;
	struct sizelimit_overrides lo;
	struct cgroup_limits limits;
	char **pass;
	size_t npass;
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
	{"help", no_argument, NULL, 'h'},
	{0},
};

/* The environment twin of each option that takes a value. */
static const struct {
	int opt;
	const char *env;
} run_env_twins[] = {
	{OPT_STOP_TIMEOUT, "BERTH_STOP_TIMEOUT"},   {OPT_STOP_SIGNAL, "BERTH_STOP_SIGNAL"},
	{OPT_KILL_MODE, "BERTH_KILL_MODE"},         {OPT_RESTART_MIN, "BERTH_RESTART_MIN"},
	{OPT_RESTART_MAX, "BERTH_RESTART_MAX"},     {OPT_RESTART_RESET, "BERTH_RESTART_RESET"},
	{OPT_MAX_RESTARTS, "BERTH_MAX_RESTARTS"},   {OPT_RESTART_WINDOW, "BERTH_RESTART_WINDOW"},
	{OPT_LEFTOVER, "BERTH_LEFTOVER"},           {OPT_CGROUP_PARENT, "BERTH_CGROUP_PARENT"},
	{OPT_MEMORY, "BERTH_MEMORY"},               {OPT_CPUS, "BERTH_CPUS"},
	{OPT_PIDS_MAX, "BERTH_PIDS_MAX"},           {OPT_AUTO_SIZE, "BERTH_AUTO_SIZE"},
};

static const char *opt_name(int opt)
{
	for (const struct option *o = run_options; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

/* Durations are bounded: a stop timeout or backoff of days is a typo. */
#define RUN_MAX_DURATION_MS (24ULL * 3600 * 1000)

static int set_duration(int opt, const char *v, uint64_t *out, bool zero_ok)
{
	uint64_t ms;

	if (parse_duration_ms(v, &ms) < 0 || ms > RUN_MAX_DURATION_MS || (!zero_ok && ms == 0))
		return cli_usage_error("run", "--%s: '%s' is not a duration%s (e.g. 15s, 300ms, 2m; "
					      "at most 24h)", opt_name(opt), v,
				       zero_ok ? "" : " above 0");
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
			return cli_usage_error("run", "--memory: '%s' is not a size of at least 4M "
						      "(e.g. 256M, 1G)", v);
		return -1;
	case OPT_CPUS:
		if (sizelimit_parse_cpus(v, &rc->lo.cpu_milli) < 0)
			return cli_usage_error("run", "--cpus: '%s' is not a number of CPUs from "
						      "0.001 to 1024", v);
		return -1;
	case OPT_PIDS_MAX:
		if (strcmp(v, "max") == 0) {
			rc->lo.no_pids_max = true;
			return -1;
		}
		if (parse_u64(v, 4194304, &rc->lo.pids_max) < 0 || rc->lo.pids_max == 0)
			return cli_usage_error("run", "--pids-max: '%s' is not 'max' or a number "
						      "from 1 to 4194304", v);
		return -1;
	case OPT_AUTO_SIZE:
		if (size_parse(v, &rc->lo.auto_size) < 0 || rc->lo.auto_size == SIZE_AUTO)
			return cli_usage_error("run", "--auto-size: '%s' is not one of S, M, L, XL, "
						      "2XL, 4XL", v);
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
			return cli_usage_error("run", "--stop-signal: '%s' is not a signal berth "
						      "can send as a stop signal", v);
		return -1;
	case OPT_KILL_MODE:
		if (strcmp(v, "control-group") == 0)
			p->kill_mode = SUP_KILL_CONTROL_GROUP;
		else if (strcmp(v, "mixed") == 0)
			p->kill_mode = SUP_KILL_MIXED;
		else if (strcmp(v, "process") == 0)
			p->kill_mode = SUP_KILL_PROCESS;
		else
			return cli_usage_error("run", "--kill-mode must be control-group, mixed or "
						      "process, not '%s'", v);
		return -1;
	case OPT_LEFTOVER:
		if (strcmp(v, "kill") == 0)
			p->leftover = SUP_LEFTOVER_KILL;
		else if (strcmp(v, "restart") == 0)
			p->leftover = SUP_LEFTOVER_RESTART;
		else
			return cli_usage_error("run", "--leftover must be kill or restart, not '%s'",
					       v);
		return -1;
	case OPT_MAX_RESTARTS:
		if (parse_u64(v, SUPERVISE_MAX_BUDGET, &n) < 0)
			return cli_usage_error("run", "--max-restarts: '%s' is not a number from 0 "
						      "to %d", v, SUPERVISE_MAX_BUDGET);
		p->max_restarts = (int)n;
		return -1;
	case OPT_CGROUP_PARENT:
		o->cgroup_parent = v;
		return -1;
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
	return -1;
}

int cmd_run_plan(const struct worker *w, json_t **out)
{
	struct run_cli rc = {0};
	int r;

	run_opts_init(&rc.o);
	r = run_env_twins_apply(&rc, NULL);
	if (r >= 0)
		return r;
	rc.o.worker = w->name;
	rc.o.app_dir = w->app_dir;
	rc.o.start = w->start;
	*out = run_describe(&rc.o);
	sizelimit_for_worker(w, &rc.lo, &rc.limits);
	json_object_set_new(*out, "cgroup", rc.o.no_cgroup ? json_null()
							   : sizelimit_describe(&rc.limits));
	return 0;
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

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", run_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			cli_command_help(cli_find(argv[0]), stdout);
			return BERTH_EXIT_OK;
		case ':':
			return cli_usage_error(argv[0], "option '%s' needs a value", argv[optind - 1]);
		case '?':
			return cli_usage_error(argv[0], "unknown option '%s'", argv[optind - 1]);
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
	if (argc - optind != 1)
		return cli_usage_error(argv[0], "expected a worker name");
	*worker_arg = optind;
	return -1;
}

int cmd_run(const struct cli_global *g, int argc, char **argv)
{
	struct run_cli rc = {0};
	char **envp = NULL;
	struct app app;
	struct worker w;
	int wi = 0, r;

	run_opts_init(&rc.o);
	r = cmd_run_parse(argc, argv, &rc, &wi);
	if (r >= 0)
		goto out;
	log_setup(g->log_format, g->log_level, argv[wi]);
	r = commands_load_worker(g, argv[wi], &app, &w);
	if (r)
		goto out;
	r = commands_worker_env(g, &app, &w, rc.pass, &envp);
	if (r == 0) {
		rc.o.worker = w.name;
		rc.o.app_dir = w.app_dir;
		rc.o.start = w.start;
		rc.o.envp = envp;
		sizelimit_for_worker(&w, &rc.lo, &rc.limits);
		if (rc.o.no_cgroup)
			log_warn("--no-cgroup: no limits (size %s), and processes that leave "
				 "berth's process tree cannot be stopped", size_to_string(w.size));
		else
			rc.o.limits = &rc.limits;
		r = run_worker(&rc.o);
	}
	strv_free(envp);
	worker_free(&w);
	app_free(&app);
out:
	strv_free(rc.pass);
	return r;
}
