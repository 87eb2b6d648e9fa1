/* SPDX-License-Identifier: MIT */
/*
 * `berth spec WORKER`: write a complete OCI runtime config.json for the
 * worker (ocispec.c) from the same preparation and box plan as `berth
 * run`: the environment, the limits from size, the user, the storage plan
 * and the syscall filter, with createRuntime/poststop hooks calling `berth
 * hook` (and createContainer when they mount the disk-bounded storage).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boxplan.h"
#include "cleanup.h"
#include "commands.h"
#include "exitcodes.h"
#include "log.h"
#include "ocispec.h"
#include "run-options.h"
#include "spawn.h"
#include "util.h"

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
	"                           [BERTH_USER]\n"
	"  --pass-env NAME          also pass NAME from berth's environment\n"
	"                           [BERTH_PASS_ENV=NAME,NAME]\n"
	"  --seccomp=off            no linux.seccomp [BERTH_SECCOMP]\n"
	"  --allow-local-listen     listen/accept allowed by the filter\n"
	"                           [BERTH_ALLOW_LOCAL_LISTEN=1]\n";

#define NOHOOKS_REASON "--no-hooks: config.json binds plain directories"

/* spec's own options; the rest are run's of the same names
 * (run-options.h), with their environment twins. */
enum { OPT_ROOTFS = 128, OPT_HOOK, OPT_NO_HOOKS, OPT_NO_PREPARE };

static const struct option spec_options[] = {
	{"rootfs", required_argument, NULL, OPT_ROOTFS},
	{"hook", required_argument, NULL, OPT_HOOK},
	{"no-hooks", no_argument, NULL, OPT_NO_HOOKS},
	{"no-prepare", no_argument, NULL, OPT_NO_PREPARE},
	{"output", required_argument, NULL, 'o'},
	{0},
};

struct spec_cli {
	struct run_cli rc;
	const char *rootfs, *hook, *output;
	bool no_hooks, no_prepare;
};

/* One of spec's own options.  CMD_CONTINUE, or the exit status of the
 * usage error. */
static int spec_option(void *data, int opt, const char *arg)
{
	struct spec_cli *sc = data;

	switch (opt) {
	case OPT_ROOTFS:
		sc->rootfs = arg;
		break;
	case OPT_HOOK:
		if (arg[0] != '/')
			return cli_usage_error("spec", "--hook must be an absolute path");
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
	}
	return CMD_CONTINUE;
}

/* spec's options (they may follow WORKER) and their twins; *wi is the
 * worker's index.  CMD_CONTINUE, or an exit status (BERTH_EXIT_OK after
 * --help). */
static int spec_parse(int argc, char **argv, struct spec_cli *sc, int *wi)
{
	const struct cli_own own = {":ho:", spec_options, spec_option, sc};
	int r = run_cli_parse_shared(CLI_SPEC, argc, argv, &own, &sc->rc);

	if (r != CMD_CONTINUE)
		return r;
	if (optind + 1 != argc)
		return cli_usage_error(argv[0], "expected one WORKER");
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

/* The paths the spec names, absolute (spec_abs). */
struct spec_paths {
	char *app_config, *services, *context, *state_dir, *storage_root;
};

static void spec_paths_free(struct spec_paths *sp)
{
	free(sp->app_config);
	free(sp->services);
	free(sp->context);
	free(sp->state_dir);
	free(sp->storage_root);
}

static int spec_paths(const struct cli_global *g, const struct spec_cli *sc, const struct app *app,
		      struct spec_paths *sp)
{
	const char *root = sc->rc.vo.storage_root;

	sp->app_config = spec_abs(app->file);
	sp->services = app->have_services ? spec_abs(app->services_file) : NULL;
	sp->context = spec_abs(g->context);
	sp->state_dir = spec_abs(g->state_dir);
	sp->storage_root = spec_abs(root);
	if ((app->file && !sp->app_config) || (g->context && !sp->context) ||
	    (app->have_services && app->services_file && !sp->services) ||
	    (g->state_dir && !sp->state_dir) || (root && !sp->storage_root))
		return log_errno(-errno, "getcwd: cannot make the spec's paths absolute");
	return 0;
}

/* The storage before the runtime starts.  With a disk, createRuntime
 * mounts the bounded storage (config.json binds none of it); the image is
 * made or resized here already, so the hook has less to do.  Otherwise
 * config.json binds the directories, which the runtime stats before any
 * hook runs: they are made here. */
static int spec_storage(const struct spec_cli *sc, const struct boxplan *bp,
			const struct mountplan *mp, bool by_hook)
{
	if (!sc->no_prepare)
		return boxplan_storage_prepare(bp, mp, by_hook, NOHOOKS_REASON);
	if (mp->has_disk && sc->no_hooks)
		return storage_unbounded(mp, sc->rc.vo.require_quota, NOHOOKS_REASON);
	return 0;
}

/* The berth the runtime calls as a hook: --hook, else this one. */
static int spec_hook_path(struct spec_cli *sc, char *buf, size_t size)
{
	ssize_t n;

	if (sc->no_hooks || sc->hook)
		return 0;
	n = readlink("/proc/self/exe", buf, size - 1);
	if (n < 0)
		return log_errno(-errno, "readlink /proc/self/exe (give --hook PATH)");
	buf[n] = '\0';
	sc->hook = buf;
	return 0;
}

/* The box plan as config.json, checked against the runtime-spec schema. */
static int spec_json(const struct cli_global *g, const struct spec_cli *sc, const struct prep *p,
		     const struct boxplan *bp, const struct spec_paths *sp,
		     const struct mountplan *mp, bool by_hook, json_t **out)
{
	_cleanup_free_ char *script = spawn_script(p->w.start ? p->w.start : "", SIGTERM);
	_cleanup_free_ char *pre = p->w.pre_start ? spawn_script(p->w.pre_start, SIGTERM) : NULL;
	_cleanup_free_ char *err = NULL;
	struct ocispec_input in = {
		.w = &p->w,
		.envp = p->envp,
		.script = script,
		.pre_script = pre,
		.uid = bp->view.uid,
		.gid = bp->view.gid,
		.limits = &bp->limits,
		.filter = &bp->sandbox.filter,
		.plan = mp,
		.storage_by_hook = by_hook,
		.require_quota = sc->rc.vo.require_quota,
		.rootfs = sc->rootfs ? sc->rootfs : "rootfs",
		.hook_path = sc->no_hooks ? NULL : sc->hook,
		.app_config = sp->app_config,
		.app_name = g->app_name,
		.services = sp->services,
		.context_file = sp->context,
		.state_dir = sp->state_dir,
		.storage_root = mp->storage_root,
		.stop_timeout_s = 15,
	};

	*out = ocispec_build(&in);
	if (ocispec_check(*out, &err) < 0) {
		log_error("the generated config.json is not valid: %s", err);
		json_decref(*out);
		*out = NULL;
		return -EINVAL;
	}
	return 0;
}

/* The box plan of spec's options: the view with absolute paths (the
 * runtime runs the hooks elsewhere), the user resolved, the filter. */
static int spec_boxplan(const struct cli_global *g, const struct spec_cli *sc, const struct prep *p,
			const struct spec_paths *sp, struct boxplan *bp, struct caps_user *u)
{
	struct sandbox_opts so = {.user = sc->rc.so.user, .filter = sc->rc.so.filter};
	struct boxplan_request rq = prep_box_request(g, p);
	int r;

	rq.state_dir = sp->state_dir;
	rq.view.storage_root = sp->storage_root;
	rq.view.require_quota = sc->rc.vo.require_quota;
	rq.sandbox = &so;
	r = boxplan_build(&rq, bp);

	if (r == 0 && (r = boxplan_user(bp, u)) < 0)
		boxplan_free(bp);
	return r;
}

static int spec_build(const struct cli_global *g, struct spec_cli *sc, const struct prep *p,
		      json_t **out)
{
	struct spec_paths sp = {0};
	struct caps_user user = {0};
	struct boxplan bp = {0};
	struct mountplan mp = {0};
	char hook[PATH_MAX];
	bool have_mp = false, by_hook;
	int r = BERTH_EXIT_SETUP;

	if (spec_paths(g, sc, &p->app, &sp) < 0) {
		spec_paths_free(&sp);
		return BERTH_EXIT_SETUP;
	}
	if (spec_boxplan(g, sc, p, &sp, &bp, &user) < 0) {
		spec_paths_free(&sp);
		return BERTH_EXIT_USAGE;
	}
	if (view_plan(&p->w, &bp.view, &mp) < 0)
		goto out;
	have_mp = true;
	by_hook = mp.has_disk && !sc->no_hooks;
	if (spec_storage(sc, &bp, &mp, by_hook) < 0 || spec_hook_path(sc, hook, sizeof(hook)) < 0 ||
	    spec_json(g, sc, p, &bp, &sp, &mp, by_hook, out) < 0)
		goto out;
	r = CMD_CONTINUE;
out:
	if (have_mp)
		mountplan_free(&mp);
	boxplan_free(&bp);
	caps_user_free(&user);
	spec_paths_free(&sp);
	return r;
}

int cmd_spec(const struct cli_global *g, int argc, char **argv)
{
	struct spec_cli sc = {0};
	struct prep p = {0};
	json_t *spec = NULL;
	int wi = 0, r;

	run_opts_init(&sc.rc.o);
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
	struct prep_needs n = {
		.worker = argv[wi], .env = true, .pass_env = sc.rc.pass, .user = sc.rc.so.user};
	r = prepare(g, &n, &p);
	if (r == CMD_CONTINUE)
		r = spec_build(g, &sc, &p, &spec);
	if (r == CMD_CONTINUE)
		r = write_out(sc.output, spec) < 0 ? BERTH_EXIT_SETUP : BERTH_EXIT_OK;
	json_decref(spec);
	prep_free(&p);
out:
	strv_free(sc.rc.pass);
	strv_free(sc.rc.ro_binds);
	sandbox_opts_free(&sc.rc.so);
	return r;
}
