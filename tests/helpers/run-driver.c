/* SPDX-License-Identifier: MIT */
/*
 * A test driver for run_worker() without the YAML layer: the integration
 * tests use it where `berth run` is not wired yet, and to test the
 * supervisor with any start command.
 *   run-driver [options] APP_DIR START_COMMAND
 * The supervision options are `berth run`'s, parsed by its parser
 * (run-options.c): --stop-timeout DUR, --stop-signal SIG, --kill-mode
 * MODE, --restart-min DUR, --restart-max DUR, --restart-reset DUR,
 * --max-restarts N, --restart-window DUR, --leftover P, --quit-stops (its
 * --stop-on-quit); the driver's own: --no-cgroup, --cgroup-parent PATH,
 * --log-format text|json, --debug, --memory BYTES
 * (cgroup limits, with pids.max 512), --hostname NAME (the worker in PID,
 * IPC and UTS namespaces of its own under berth-init, without the rest of
 * the box), and, for tests of the other cgroup layouts, --cgroup-mode
 * v2|hybrid|v1.
 * The worker's environment is the driver's own (tests only).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "run-options.h"
#include "run.h"
#include "signals.h"
#include "util.h"

extern char **environ;

int main(int argc, char **argv)
{
	struct run_cli rc = {0};
	struct run_opts *o = &rc.o;
	struct cgroup_limits limits = {0};
	enum log_format fmt = LOG_FMT_TEXT;
	enum log_level lvl = LOG_LVL_INFO;
	int i;

	run_opts_init(o);
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--no-cgroup") == 0) {
			o->no_cgroup = true;
			continue;
		}
		if (strcmp(a, "--quit-stops") == 0) {
			o->policy.quit_stops = true;
			continue;
		}
		if (strcmp(a, "--debug") == 0) {
			lvl = LOG_LVL_DEBUG;
			continue;
		}
		if (!v) {
			fprintf(stderr, "run-driver: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (strcmp(a, "--cgroup-parent") == 0) {
			o->cgroup_parent = v;
		} else if (strcmp(a, "--hostname") == 0) {
			o->hostname = v;
		} else if (strcmp(a, "--memory") == 0) {
			if (parse_bytes(v, &limits.memory_bytes) < 0)
				return 2;
			limits.pids_max = 512;
			o->limits = &limits;
		} else if (strcmp(a, "--cgroup-mode") == 0) {
			static const enum cgroup_mode modes[] = {CGROUP_MODE_V2, CGROUP_MODE_HYBRID,
								 CGROUP_MODE_V1};
			o->force_mode = true;
			o->mode = CGROUP_MODE_NONE;
			for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++)
				if (strcmp(v, cgroup_mode_to_string(modes[k])) == 0)
					o->mode = modes[k];
			if (o->mode == CGROUP_MODE_NONE)
				return 2;
		} else if (strcmp(a, "--log-format") == 0) {
			if (log_parse_format(v, &fmt) < 0)
				return 2;
		} else {
			if (run_cli_set(&rc, a + 2, v) != CMD_CONTINUE)
				return 2;
		}
	}
	if (argc - i != 2) {
		fprintf(stderr, "usage: run-driver [options] APP_DIR START_COMMAND\n");
		return 2;
	}
	log_setup(fmt, lvl, "test");
	o->worker = "test";
	o->app_dir = argv[i];
	o->start = argv[i + 1];
	o->envp = environ;
	return run_worker(o);
}
