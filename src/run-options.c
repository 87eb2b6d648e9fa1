/* SPDX-License-Identifier: MIT */
/*
 * `berth run`'s options (run-options.h): the help text, the table and the
 * parsers that put each value where the run takes it from.
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "exitcodes.h"
#include "podcheck.h"
#include "run-options.h"
#include "signals.h"
#include "util.h"

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
	"                           needs) [BERTH_UNCONFINED=1]\n"
	"  --pod                    pod mode: berth is PID 1 of a container whose box\n"
	"                           the engine built: no cgroup, mount view, network\n"
	"                           namespace or user switch of its own; the\n"
	"                           container's environment reaches the worker;\n"
	"                           refuses to start (125) unless the engine's\n"
	"                           guarantees hold [BERTH_POD=1]\n"
	"  --pod-waive LIST         pod mode: start without these guarantees: caps,\n"
	"                           no_new_privs, seccomp, root, ro_root, memory,\n"
	"                           cpu [BERTH_POD_WAIVE=caps,seccomp]\n"
	"  --network MODE           the worker's network namespace: auto (current as PID 1,\n"
	"                           else private), current, private (slirp4netns), none,\n"
	"                           netns:PATH; inbound traffic is always dropped\n"
	"                           [BERTH_NETWORK]\n"
	"  --user NAME|UID[:GID]    the worker's user (default web, else nobody; uid 0\n"
	"                           only when given, still without capabilities)\n"
	"                           [BERTH_USER]\n"
	"  --allow-local-listen     allow listen/accept and TCP bind (UNIX-socket or\n"
	"                           loopback servers); ingress stays dropped\n"
	"                           [BERTH_ALLOW_LOCAL_LISTEN=1]\n"
	"  --seccomp on|off         off: no syscall filter (debugging only) [BERTH_SECCOMP]\n";

/* One value to parse: who names it in the usage error ("--memory", or the
 * twin's name where the twin's messages say it), env: from the twin. */
struct run_arg {
	const char *who;
	const char *v;
	bool env;
};

/* Put a->v where it goes (off: the field of rc for the generic parsers).
 * CMD_CONTINUE, or the exit status of the usage error printed. */
typedef int run_parse_fn(struct run_cli *rc, size_t off, const struct run_arg *a);

#define FIELD(rc, off, type) ((type *)(void *)((char *)(rc) + (off)))
#define usage(...)	     cli_usage_error(rc->cmd ? rc->cmd : "run", __VA_ARGS__)

static int duration(struct run_cli *rc, size_t off, const struct run_arg *a, bool zero_ok)
{
	uint64_t ms;

	if (parse_duration_ms(a->v, &ms) < 0 || ms > SUPERVISE_MAX_DURATION_MS ||
	    (!zero_ok && ms == 0))
		return usage("%s: '%s' is not a duration%s (e.g. 15s, 300ms, 2m; at most 24h)",
			     a->who, a->v, zero_ok ? "" : " above 0");
	*FIELD(rc, off, uint64_t) = ms;
	return CMD_CONTINUE;
}

static int parse_duration(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	return duration(rc, off, a, true);
}

static int parse_duration_above0(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	return duration(rc, off, a, false);
}

static int parse_flag(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	(void)a;
	*FIELD(rc, off, bool) = true;
	return CMD_CONTINUE;
}

static int parse_string(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	*FIELD(rc, off, const char *) = a->v;
	return CMD_CONTINUE;
}

static int parse_stop_signal(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	int *sig = &rc->o.policy.stop_signal;

	(void)off;
	if (signals_parse(a->v, sig) < 0 || *sig == SIGKILL || *sig == SIGSTOP)
		return usage("%s: '%s' is not a signal berth can send as a stop signal", a->who,
			     a->v);
	return CMD_CONTINUE;
}

static int parse_kill_mode(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	(void)off;
	if (supervise_kill_mode_parse(a->v, &rc->o.policy.kill_mode) < 0)
		return usage("%s must be control-group, mixed or process, not '%s'", a->who, a->v);
	return CMD_CONTINUE;
}

static int parse_leftover(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	(void)off;
	if (supervise_leftover_parse(a->v, &rc->o.policy.leftover) < 0)
		return usage("%s must be kill or restart, not '%s'", a->who, a->v);
	return CMD_CONTINUE;
}

static int parse_max_restarts(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	uint64_t n;

	(void)off;
	if (parse_u64(a->v, SUPERVISE_MAX_BUDGET, &n) < 0)
		return usage("%s: '%s' is not a number from 0 to %d", a->who, a->v,
			     SUPERVISE_MAX_BUDGET);
	rc->o.policy.max_restarts = (int)n;
	return CMD_CONTINUE;
}

static int parse_memory(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	(void)off;
	if (parse_bytes(a->v, &rc->lo.memory_bytes) < 0 || rc->lo.memory_bytes < (4 << 20))
		return usage("%s: '%s' is not a size of at least 4M (e.g. 256M, 1G)", a->who, a->v);
	return CMD_CONTINUE;
}

static int parse_cpus(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	(void)off;
	if (sizelimit_parse_cpus(a->v, &rc->lo.cpu_milli) < 0)
		return usage("%s: '%s' is not a number of CPUs from 0.001 to 1024", a->who, a->v);
	return CMD_CONTINUE;
}

static int parse_pids_max(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	(void)off;
	if (strcmp(a->v, "max") == 0) {
		rc->lo.no_pids_max = true;
		return CMD_CONTINUE;
	}
	if (parse_u64(a->v, 4194304, &rc->lo.pids_max) < 0 || rc->lo.pids_max == 0)
		return usage("%s: '%s' is not 'max' or a number from 1 to 4194304", a->who, a->v);
	return CMD_CONTINUE;
}

static int parse_auto_size(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	(void)off;
	if (size_parse(a->v, &rc->lo.auto_size) < 0 || rc->lo.auto_size == SIZE_AUTO)
		return usage("%s: '%s' is not one of S, M, L, XL, 2XL, 4XL", a->who, a->v);
	rc->lo.have_auto_size = true;
	return CMD_CONTINUE;
}

static int parse_pass_env(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	(void)off;
	commands_pass_env_add(&rc->pass, &rc->npass, a->v);
	return CMD_CONTINUE;
}

static int parse_pod_waive(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	const char *bad = NULL;
	size_t len = 0;

	(void)off;
	if (podcheck_parse_waive(a->v, &rc->pod_waive, &bad, &len) < 0)
		return usage("%s: '%.*s' is not one of caps, no_new_privs, seccomp, root, ro_root, "
			     "memory, cpu",
			     a->who, (int)len, bad);
	return CMD_CONTINUE;
}

static int parse_storage_root(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	(void)off;
	if (a->v[0] != '/')
		return usage("%s must be an absolute path, not '%s'", a->who, a->v);
	rc->vo.storage_root = a->v;
	return CMD_CONTINUE;
}

static int parse_tmp_size(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	(void)off;
	if (view_parse_tmp_size(a->v, &rc->tmp_size) < 0)
		return usage("%s: '%s' is not a size of at least 1M (e.g. 512M, 2G)", a->who, a->v);
	return CMD_CONTINUE;
}

/* --ro-bind PATH, repeatable; its twin is a list, PATH:PATH. */
static int parse_ro_bind(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	(void)off;
	if (view_ro_bind_add(&rc->ro_binds, &rc->n_ro_binds, a->v, a->env) == 0)
		return CMD_CONTINUE;
	if (a->env)
		return usage("%s: '%s' is not a list of absolute paths (PATH:PATH) without . or "
			     ".. components",
			     a->who, a->v);
	return usage("%s: '%s' is not an absolute path without . or .. components", a->who, a->v);
}

static int parse_network(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	const char *msg = NULL;
	struct net_opts n;

	(void)off;
	if (net_parse_mode(a->v, &n, &msg) < 0)
		return usage("%s: %s", a->who, msg ? msg : "invalid value");
	net_opts_free(&rc->so.net);
	rc->so.net = n;
	return CMD_CONTINUE;
}

/* Checked by sandbox_prepare(), with the passwd lookup. */
static int parse_user(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	(void)off;
	if (!*a->v)
		return usage("%s: empty user", a->who);
	rc->so.user = a->v;
	return CMD_CONTINUE;
}

static int parse_seccomp(struct run_cli *rc, size_t off, const struct run_arg *a)
{
	(void)off;
	if (strcmp(a->v, "on") != 0 && strcmp(a->v, "off") != 0)
		return usage("%s: expected on or off", a->who);
	rc->so.filter.off = strcmp(a->v, "off") == 0;
	return CMD_CONTINUE;
}

struct run_option {
	const char *name; /* --name */
	const char *env;  /* its twin, read when the option is not given; NULL: none */
	bool flag;	  /* takes no value; the twin counts when it is "1" */
	bool env_named;	  /* the twin's usage errors name the twin, not --name */
	bool run_only;	  /* the twin is run's alone: show does not read it */
	unsigned also;	  /* the other commands that take it (CLI_EXEC, CLI_SPEC) */
	run_parse_fn *parse;
	size_t off; /* the field, for the generic parsers */
};

#define OFF(field) offsetof(struct run_cli, field)

/* In the order the twins are read (a first bad one is the one reported). */
static const struct run_option run_table[] = {
	{"stop-timeout", "BERTH_STOP_TIMEOUT", .also = CLI_EXEC, .parse = parse_duration,
	 .off = OFF(o.policy.stop_timeout_ms)},
	{"stop-signal", "BERTH_STOP_SIGNAL", .parse = parse_stop_signal},
	{"kill-mode", "BERTH_KILL_MODE", .parse = parse_kill_mode},
	{"stop-on-quit", NULL, .flag = true, .parse = parse_flag, .off = OFF(o.policy.quit_stops)},
	{"restart-min", "BERTH_RESTART_MIN", .parse = parse_duration_above0,
	 .off = OFF(o.policy.restart_min_ms)},
	{"restart-max", "BERTH_RESTART_MAX", .parse = parse_duration,
	 .off = OFF(o.policy.restart_max_ms)},
	{"restart-reset", "BERTH_RESTART_RESET", .parse = parse_duration,
	 .off = OFF(o.policy.restart_reset_ms)},
	{"max-restarts", "BERTH_MAX_RESTARTS", .parse = parse_max_restarts},
	{"restart-window", "BERTH_RESTART_WINDOW", .parse = parse_duration,
	 .off = OFF(o.policy.restart_window_ms)},
	{"leftover", "BERTH_LEFTOVER", .parse = parse_leftover},
	{"no-cgroup", "BERTH_NO_CGROUP", .flag = true, .also = CLI_EXEC, .parse = parse_flag,
	 .off = OFF(o.no_cgroup)},
	{"cgroup-parent", "BERTH_CGROUP_PARENT", .parse = parse_string,
	 .off = OFF(o.cgroup_parent)},
	{"pass-env", "BERTH_PASS_ENV", .run_only = true, .also = CLI_EXEC | CLI_SPEC,
	 .parse = parse_pass_env},
	{"memory", "BERTH_MEMORY", .parse = parse_memory},
	{"cpus", "BERTH_CPUS", .parse = parse_cpus},
	{"pids-max", "BERTH_PIDS_MAX", .parse = parse_pids_max},
	{"auto-size", "BERTH_AUTO_SIZE", .parse = parse_auto_size},
	{"allow-missing-controllers", "BERTH_ALLOW_MISSING_CONTROLLERS", .flag = true,
	 .parse = parse_flag, .off = OFF(lo.allow_missing)},
	{"storage-root", "BERTH_STORAGE_ROOT", .also = CLI_EXEC | CLI_SPEC,
	 .parse = parse_storage_root},
	{"require-disk-quota", "BERTH_REQUIRE_DISK_QUOTA", .flag = true,
	 .also = CLI_EXEC | CLI_SPEC, .parse = parse_flag, .off = OFF(vo.require_quota)},
	{"unconfined", "BERTH_UNCONFINED", .flag = true, .parse = parse_flag,
	 .off = OFF(unconfined)},
	{"pod", "BERTH_POD", .flag = true, .parse = parse_flag, .off = OFF(pod)},
	{"pod-waive", "BERTH_POD_WAIVE", .parse = parse_pod_waive},
	{"tmp-size", "BERTH_TMP_SIZE", .also = CLI_EXEC, .parse = parse_tmp_size},
	{"ro-bind", "BERTH_RO_BIND", .env_named = true, .also = CLI_EXEC, .parse = parse_ro_bind},
	{"network", "BERTH_NETWORK", .env_named = true, .parse = parse_network},
	{"user", "BERTH_USER", .env_named = true, .also = CLI_EXEC | CLI_SPEC, .parse = parse_user},
	{"seccomp", "BERTH_SECCOMP", .env_named = true, .also = CLI_SPEC, .parse = parse_seccomp},
	{"allow-local-listen", "BERTH_ALLOW_LOCAL_LISTEN", .flag = true, .also = CLI_SPEC,
	 .parse = parse_flag, .off = OFF(so.filter.allow_local_listen)},
};

#define N_RUN_OPTIONS ARRAY_SIZE(run_table)
/* getopt's value of run_table[i]: above every short option */
#define RUN_OPT_BASE 256

static int apply(struct run_cli *rc, const struct run_option *t, const char *v, bool env)
{
	char dashed[64];
	struct run_arg a = {.who = dashed, .v = v ? v : "", .env = env};

	snprintf(dashed, sizeof(dashed), "--%s", t->name);
	if (env && t->env_named)
		a.who = t->env;
	return t->parse(rc, t->off, &a);
}

/* cmd (CLI_RUN, CLI_EXEC or CLI_SPEC) takes t. */
static bool takes(const struct run_option *t, unsigned cmd)
{
	return cmd == CLI_RUN || (t->also & cmd);
}

/* The twins of cmd's options not in seen; run: those of run_only too. */
static int apply_twins(struct run_cli *rc, const bool *seen, unsigned cmd, bool run)
{
	for (size_t i = 0; i < N_RUN_OPTIONS; i++) {
		const struct run_option *t = &run_table[i];
		const char *e;
		int r;

		if (!t->env || (seen && seen[i]) || (t->run_only && !run) || !takes(t, cmd))
			continue;
		e = getenv(t->env);
		if (!e || !*e || (t->flag && strcmp(e, "1") != 0))
			continue;
		r = apply(rc, t, e, true);
		if (r != CMD_CONTINUE)
			return r;
	}
	if (cmd == CLI_RUN)
		rc->o.notify_socket = getenv("NOTIFY_SOCKET"); /* a Type=notify service */
	return CMD_CONTINUE;
}

int run_env_twins_apply(struct run_cli *rc, const bool *seen)
{
	return apply_twins(rc, seen, CLI_RUN, false);
}

/* The getopt_long() table of cmd's options of run_table, then own's
 * (NULL: none), then --help: at most N_RUN_OPTIONS + n_own + 2 entries. */
static void getopt_table(unsigned cmd, const struct option *own, struct option *out)
{
	size_t n = 0;

	for (size_t i = 0; i < N_RUN_OPTIONS; i++)
		if (takes(&run_table[i], cmd))
			out[n++] =
				(struct option){run_table[i].name,
						run_table[i].flag ? no_argument : required_argument,
						NULL, RUN_OPT_BASE + (int)i};
	for (; own && own->name; own++)
		out[n++] = *own;
	out[n++] = (struct option){"help", no_argument, NULL, 'h'};
	out[n] = (struct option){0};
}

/* What the getopt walk fills: the options, which were given, and the
 * command's own options' walker. */
struct run_walk {
	struct run_cli *rc;
	bool *seen;
	const struct cli_own *own;
};

static int run_option(void *data, int opt, const char *arg)
{
	struct run_walk *wk = data;
	size_t i = (size_t)(opt - RUN_OPT_BASE);

	if (opt < RUN_OPT_BASE)
		return wk->own->fn(wk->own->data, opt, arg);
	wk->seen[i] = true;
	return apply(wk->rc, &run_table[i], arg, false);
}

static size_t own_count(const struct cli_own *own)
{
	size_t n = 0;

	while (own && own->opts && own->opts[n].name)
		n++;
	return n;
}

/* The command line's options, marking each given in seen. */
static int parse_argv(unsigned cmd, int argc, char **argv, struct run_cli *rc,
		      const struct cli_own *own, bool *seen)
{
	_cleanup_free_ struct option *opts =
		xcalloc(N_RUN_OPTIONS + own_count(own) + 2, sizeof(*opts));
	struct run_walk wk = {.rc = rc, .seen = seen, .own = own};

	getopt_table(cmd, own ? own->opts : NULL, opts);
	return cli_getopt(argc, argv, own ? own->shortopts : ":h", opts, run_option, &wk);
}

int run_cli_parse_shared(unsigned cmd, int argc, char **argv, const struct cli_own *own,
			 struct run_cli *rc)
{
	bool seen[N_RUN_OPTIONS] = {false};
	int r;

	rc->cmd = argv[0];
	r = parse_argv(cmd, argc, argv, rc, own, seen);
	return r == CMD_CONTINUE ? apply_twins(rc, seen, cmd, true) : r;
}

/* Pod mode: the engine built the box, so an option that shapes berth's
 * own box has no meaning; the first one given is named.  NULL: none. */
static const char *pod_conflict(const struct run_cli *rc)
{
	const struct {
		bool set;
		const char *name;
	} box[] = {
		{rc->unconfined, "unconfined"},
		{rc->o.no_cgroup, "no-cgroup"},
		{rc->o.cgroup_parent != NULL, "cgroup-parent"},
		{rc->so.net.mode != NET_AUTO, "network"},
		{rc->so.user != NULL, "user"},
		{rc->so.filter.off, "seccomp"},
		{rc->so.filter.allow_local_listen, "allow-local-listen"},
		{rc->vo.storage_root != NULL, "storage-root"},
		{rc->vo.require_quota, "require-disk-quota"},
		{rc->tmp_size != 0, "tmp-size"},
		{rc->n_ro_binds != 0, "ro-bind"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(box); i++)
		if (box[i].set)
			return box[i].name;
	return NULL;
}

int cmd_run_parse(int argc, char **argv, struct run_cli *rc, int *worker_arg)
{
	const struct supervise_policy *p = &rc->o.policy;
	bool seen[N_RUN_OPTIONS] = {false};
	int r = parse_argv(CLI_RUN, argc, argv, rc, NULL, seen);

	if (r == CMD_CONTINUE)
		r = apply_twins(rc, seen, CLI_RUN, true);
	if (r != CMD_CONTINUE)
		return r;
	if (rc->pod) {
		const char *box = pod_conflict(rc);

		if (box)
			return usage("--%s has no meaning in pod mode (--pod): the engine builds "
				     "the box",
				     box);
		podcheck_env_names(environ, &rc->pass, &rc->npass); /* the pod's env */
	}
	if (p->restart_max_ms < p->restart_min_ms)
		return usage("--restart-max must not be below --restart-min");
	if (argc - optind > 1)
		return usage("expected one worker name, got %d", argc - optind);
	if (argc - optind != 1)
		return usage("expected a worker name");
	*worker_arg = optind;
	return CMD_CONTINUE;
}

int run_cli_set(struct run_cli *rc, const char *name, const char *value)
{
	for (size_t i = 0; i < N_RUN_OPTIONS; i++) {
		if (strcmp(run_table[i].name, name) != 0)
			continue;
		if (!run_table[i].flag && !value)
			return usage("option '--%s' needs a value", name);
		return apply(rc, &run_table[i], value, false);
	}
	return usage("unknown option '--%s'", name);
}

bool run_cli_option(size_t i, const char **name, const char **env)
{
	if (i >= N_RUN_OPTIONS)
		return false;
	*name = run_table[i].name;
	*env = run_table[i].env;
	return true;
}
