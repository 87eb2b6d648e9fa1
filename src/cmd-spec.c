/* SPDX-License-Identifier: MIT */
/*
 * `berth spec WORKER`: write a complete OCI runtime config.json for the
 * worker (ocispec.c), built from the same parts as `berth run`: the
 * environment, the limits from size, the user, the storage plan and the
 * syscall filter, with createRuntime/poststop hooks calling `berth hook`
 * (and createContainer when they mount the disk-bounded storage).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "cleanup.h"
#include "commands.h"
#include "context.h"
#include "exitcodes.h"
#include "filter.h"
#include "log.h"
#include "ocispec.h"
#include "sizelimit.h"
#include "spawn.h"
#include "storage.h"
#include "util.h"
#include "view.h"

const char cmd_spec_help_text[] =
	"  --rootfs PATH            root.path of the bundle (default: rootfs)\n"
	"  --hook PATH              the berth binary the runtime calls as a hook\n"
	"                           (default: this berth)\n"
	"  --no-hooks               no hooks: config.json binds the storage\n"
	"                           directories (which must exist), without the\n"
	"                           disk bound\n"
	"  --no-prepare             do not create the instance's storage directories\n"
	"                           (they must exist when the runtime starts)\n"
	"  --output FILE, -o FILE   write there instead of standard output\n"
	"  --storage-root DIR       where instance storage lives [BERTH_STORAGE_ROOT]\n"
	"  --require-disk-quota     refuse when `disk` cannot be enforced\n"
	"                           [BERTH_REQUIRE_DISK_QUOTA=1]\n"
	"  --user NAME|UID[:GID]    the worker's user (default: web, else nobody)\n"
	"  --pass-env NAME          also pass NAME from berth's environment\n"
	"  --seccomp=off            no linux.seccomp\n"
	"  --allow-local-listen     listen/accept allowed by the filter\n";

#define NOHOOKS_REASON "--no-hooks: config.json binds plain directories"

enum {
	OPT_ROOTFS = 256,
	OPT_HOOK,
	OPT_NO_HOOKS,
	OPT_STORAGE_ROOT,
	OPT_USER,
	OPT_PASS_ENV,
	OPT_SECCOMP,
	OPT_LISTEN,
	OPT_NO_PREPARE,
	OPT_REQUIRE_QUOTA
};

static const struct option spec_options[] = {
	{"rootfs", required_argument, NULL, OPT_ROOTFS},
	{"hook", required_argument, NULL, OPT_HOOK},
	{"no-hooks", no_argument, NULL, OPT_NO_HOOKS},
	{"no-prepare", no_argument, NULL, OPT_NO_PREPARE},
	{"output", required_argument, NULL, 'o'},
	{"storage-root", required_argument, NULL, OPT_STORAGE_ROOT},
	{"user", required_argument, NULL, OPT_USER},
	{"pass-env", required_argument, NULL, OPT_PASS_ENV},
	{"seccomp", required_argument, NULL, OPT_SECCOMP},
	{"allow-local-listen", no_argument, NULL, OPT_LISTEN},
	{"require-disk-quota", no_argument, NULL, OPT_REQUIRE_QUOTA},
	{"help", no_argument, NULL, 'h'},
	{0},
};

struct spec_cli {
	const char *rootfs, *hook, *output, *storage_root, *user;
	bool no_hooks, no_prepare, require_quota;
	char **pass;
	size_t npass;
	struct filter_opts fo;
};

/* One of spec's options (cmd: its name, for the usage error).
 * CMD_CONTINUE, or the exit status of the usage error. */
static int spec_option(struct spec_cli *sc, int opt, const char *arg, const char *cmd)
{
	switch (opt) {
	case OPT_ROOTFS:
		sc->rootfs = arg;
		break;
	case OPT_HOOK:
		if (arg[0] != '/')
			return cli_usage_error(cmd, "--hook must be an absolute path");
		sc->hook = arg;
		break;
	case OPT_NO_PREPARE:
		sc->no_prepare = true;
		break;
	case OPT_NO_HOOKS:
		sc->no_hooks = true;
		break;
	case 'o':
		sc->output = arg;
		break;
	case OPT_STORAGE_ROOT:
		if (arg[0] != '/')
			return cli_usage_error(cmd, "--storage-root must be absolute");
		sc->storage_root = arg;
		break;
	case OPT_USER:
		sc->user = arg;
		break;
	case OPT_PASS_ENV:
		commands_pass_env_add(&sc->pass, &sc->npass, arg);
		break;
	case OPT_SECCOMP:
		if (strcmp(arg, "off") != 0 && strcmp(arg, "on") != 0)
			return cli_usage_error(cmd, "--seccomp must be on or off");
		sc->fo.off = strcmp(arg, "off") == 0;
		break;
	case OPT_LISTEN:
		sc->fo.allow_local_listen = true;
		break;
	case OPT_REQUIRE_QUOTA:
		sc->require_quota = true;
		break;
	}
	return CMD_CONTINUE;
}

/* spec's options (they may follow WORKER) and BERTH_REQUIRE_DISK_QUOTA;
 * *wi is the worker's index.  CMD_CONTINUE, or an exit status
 * (BERTH_EXIT_OK after --help). */
static int spec_parse(int argc, char **argv, struct spec_cli *sc, int *wi)
{
	const char *e;
	int c, r;

	optind = 0; /* full re-initialisation: options may follow WORKER */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", spec_options, NULL)) != -1) {
		if (c == 'h') {
			cli_command_help(cli_find(argv[0]), stdout);
			return BERTH_EXIT_OK;
		}
		if (c == ':')
			return cli_usage_error(argv[0], "option '%s' needs a value",
					       argv[optind - 1]);
		if (c == '?')
			return cli_unknown_option(argv[0], argv[optind - 1]);
		r = spec_option(sc, c, optarg, argv[0]);
		if (r != CMD_CONTINUE)
			return r;
	}
	if (optind + 1 != argc)
		return cli_usage_error(argv[0], "expected one WORKER");
	if ((e = getenv("BERTH_REQUIRE_DISK_QUOTA")) && strcmp(e, "1") == 0)
		sc->require_quota = true;
	*wi = optind;
	return CMD_CONTINUE;
}

static int write_out(const char *path, const json_t *spec)
{
	_cleanup_free_ char *text = json_dumps(spec, JSON_INDENT(2) | JSON_SORT_KEYS);
	_cleanup_close_ int fd = -1;
	size_t len = strlen(text), off = 0;

	if (!path) {
		if (fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout))
			return log_errno(-EIO, "write the spec to standard output");
		return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return log_errno(-errno, "open %s", path);
	text[len++] = '\n'; /* json_dumps leaves no newline: overwrite the NUL */
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0)
			return log_errno(-errno, "write %s", path);
		off += (size_t)n;
	}
	return 0;
}

/* p as an absolute path (NULL stays NULL): the runtime runs the hooks in
 * the bundle, so a path relative to where `berth spec` ran would name
 * something else there.  Symlinks resolved when p exists; else joined to
 * the working directory.  Freshly allocated. */
static char *spec_abs(const char *p)
{
	char buf[PATH_MAX], cwd[PATH_MAX];

	if (!p || p[0] == '/')
		return p ? xstrdup(p) : NULL;
	if (realpath(p, buf))
		return xstrdup(buf);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	return xasprintf("%s/%s", strcmp(cwd, "/") ? cwd : "", p);
}

static int spec_build(const struct cli_global *g, struct spec_cli *sc, const struct app *app,
		      const struct worker *w, char **envp, json_t **out)
{
	_cleanup_free_ char *app_config = spec_abs(app->file), *context = spec_abs(g->context);
	_cleanup_free_ char *services = app->have_services ? spec_abs(app->services_file) : NULL;
	_cleanup_free_ char *state_dir = spec_abs(g->state_dir), *storage_root = NULL;
	struct context_options co = {
		.file = context, .state_dir = state_dir, .app_dir = w->app_dir};
	struct sizelimit_overrides lo = {0};
	struct cgroup_limits limits = {0};
	struct caps_user user = {0};
	struct context ctx = {0};
	struct view_opts vo = {0};
	struct mountplan plan = {0};
	char hook[PATH_MAX];
	const char *msg = NULL;
	_cleanup_free_ char *script = NULL, *pre = NULL, *err = NULL;
	bool have_plan = false, by_hook;
	int r = BERTH_EXIT_SETUP;

	if (sc->user ? caps_user_parse(sc->user, &user, &msg) < 0 : caps_user_default(&user) < 0) {
		if (msg)
			log_error("--user %s: %s", sc->user, msg);
		return BERTH_EXIT_USAGE;
	}
	if (context_load(&co, &ctx) < 0)
		goto out;
	vo.storage_root = sc->storage_root ? sc->storage_root : getenv("BERTH_STORAGE_ROOT");
	if (vo.storage_root && !*vo.storage_root)
		vo.storage_root = NULL;
	storage_root = spec_abs(vo.storage_root);
	if ((app->file && !app_config) || (g->context && !context) ||
	    (app->have_services && app->services_file && !services) ||
	    (g->state_dir && !state_dir) || (vo.storage_root && !storage_root)) {
		log_errno(-errno, "getcwd: cannot make the spec's paths absolute");
		goto out;
	}
	vo.storage_root = storage_root;
	vo.state_dir = state_dir;
	vo.project = ctx.project;
	vo.environment = ctx.environment;
	vo.uid = user.uid;
	vo.gid = user.gid;
	if (view_plan(w, &vo, &plan) < 0)
		goto out;
	have_plan = true;
	/* With a disk, createRuntime mounts the bounded storage (config.json
	 * binds none of it); the image is made or resized here already, so the
	 * hook has less to do.  Otherwise config.json binds the directories,
	 * which the runtime stats before any hook runs: they are made here. */
	by_hook = plan.has_disk && !sc->no_hooks;
	if (!sc->no_prepare) {
		struct storage_opts so = {.uid = user.uid,
					  .gid = user.gid,
					  .require_quota = sc->require_quota,
					  .no_disk_bound = !by_hook,
					  .no_bound_reason = NOHOOKS_REASON};
		struct storage s;
		int fd = 0;
		if (storage_open(&plan, &so, &s) < 0)
			goto out;
		/* the bind sources, tmp ones included (berth run makes those at
		 * each start) */
		for (size_t i = 0; !by_hook && fd >= 0 && i < plan.n_ops; i++) {
			const struct mountplan_op *op = &plan.ops[i];
			if (op->kind == MP_BIND && op->src_base == MPB_STORAGE &&
			    (fd = storage_source(&s, op, -1)) >= 0)
				close(fd);
		}
		storage_close(&s);
		if (fd < 0)
			goto out;
	} else if (plan.has_disk && sc->no_hooks) {
		if (sc->require_quota) {
			log_error("disk: cannot bound local storage to %" PRIu64
				  " MB (%s) and --require-disk-quota is set",
				  plan.disk_mb, NOHOOKS_REASON);
			goto out;
		}
		log_msg(LOG_LVL_WARN, "disk-unbounded",
			"disk: cannot bound local storage to %" PRIu64
			" MB (%s); running without the bound",
			plan.disk_mb, NOHOOKS_REASON);
	}
	if (!sc->no_hooks && !sc->hook) {
		ssize_t n = readlink("/proc/self/exe", hook, sizeof(hook) - 1);
		if (n < 0) {
			log_errno(-errno, "readlink /proc/self/exe (give --hook PATH)");
			goto out;
		}
		hook[n] = '\0';
		sc->hook = hook;
	}
	sizelimit_for_worker(w, &lo, &limits);
	script = spawn_script(w->start ? w->start : "", SIGTERM);
	pre = w->pre_start ? spawn_script(w->pre_start, SIGTERM) : NULL;
	struct ocispec_input in = {
		.w = w,
		.envp = envp,
		.script = script,
		.pre_script = pre,
		.uid = user.uid,
		.gid = user.gid,
		.limits = &limits,
		.filter = &sc->fo,
		.plan = &plan,
		.storage_by_hook = by_hook,
		.require_quota = sc->require_quota,
		.rootfs = sc->rootfs ? sc->rootfs : "rootfs",
		.hook_path = sc->no_hooks ? NULL : sc->hook,
		.app_config = app_config,
		.app_name = g->app_name,
		.services = services,
		.context_file = context,
		.state_dir = state_dir,
		.storage_root = plan.storage_root,
		.stop_timeout_s = 15,
	};
	*out = ocispec_build(&in);
	if (ocispec_check(*out, &err) < 0) {
		log_error("the generated config.json is not valid: %s", err);
		json_decref(*out);
		*out = NULL;
		goto out;
	}
	r = 0;
out:
	if (have_plan)
		mountplan_free(&plan);
	context_free(&ctx);
	caps_user_free(&user);
	return r;
}

int cmd_spec(const struct cli_global *g, int argc, char **argv)
{
	struct spec_cli sc = {0};
	char **envp = NULL;
	json_t *spec = NULL;
	struct app app;
	struct worker w;
	int wi = 0, r;

	r = spec_parse(argc, argv, &sc, &wi);
	if (r != CMD_CONTINUE)
		goto out;
	log_setup(g->log_format, g->log_level, argv[wi]);
	if (!sc.no_prepare && geteuid() != 0) {
		log_error("berth spec prepares the instance's storage as root; run it as root, "
			  "or with --no-prepare when the storage directories exist");
		r = BERTH_EXIT_SETUP;
		goto out;
	}
	r = commands_load_worker(g, argv[wi], &app, &w);
	if (r)
		goto out;
	r = commands_worker_env_user(g, &app, &w, sc.pass, sc.user, false, &envp);
	if (r == 0)
		r = spec_build(g, &sc, &app, &w, envp, &spec);
	if (r == 0 && write_out(sc.output, spec) < 0)
		r = BERTH_EXIT_SETUP;
	json_decref(spec);
	strv_free(envp);
	worker_free(&w);
	app_free(&app);
out:
	strv_free(sc.pass);
	return r;
}
