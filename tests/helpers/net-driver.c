/* SPDX-License-Identifier: MIT */
/*
 * Test driver for issue 7's modules, through the real spawn sequence:
 * net_prepare() in the parent, then spawn_worker() with the child's steps
 * in the order berth uses (join the netns, private mount namespace and
 * hosts file, privilege drop, syscall filter last), running SCRIPT with
 * /bin/sh -c.  Exits with the script's status (128+N for a signal).
 *
 *   net-driver [--network MODE] [--hosts FILE.json] [--user SPEC]
 *              [--seccomp on|off] [--allow-local-listen] SCRIPT
 *   net-driver --present     1 if table inet berth is in this namespace
 *   net-driver --is-initial  1 if this is the host's initial namespace
 *   net-driver --verify NS   compare the ruleset in namespace file NS
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "cleanup.h"
#include "filter.h"
#include "log.h"
#include "net.h"
#include "spawn.h"
#include "util.h"

/* Stands in for the mount module's first step: a private mount namespace. */
static int private_mounts(void *data)
{
	(void)data;
	return unshare(CLONE_NEWNS) < 0 ? -errno : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"network", required_argument, NULL, 'n'},
		{"hosts", required_argument, NULL, 'H'},
		{"user", required_argument, NULL, 'u'},
		{"seccomp", required_argument, NULL, 's'},
		{"allow-local-listen", no_argument, NULL, 'l'},
		{"present", no_argument, NULL, 'p'},
		{"is-initial", no_argument, NULL, 'i'},
		{"verify", required_argument, NULL, 'v'},
		{0},
	};
	struct net_opts no = {.mode = NET_NONE};
	struct filter_opts fo = {0};
	struct net_handle nh;
	struct net_hosts hosts = {0};
	struct filter_prog prog = {0};
	struct caps_user user;
	struct caps_plan plan;
	struct spawn_step steps[5];
	struct spawn_result res;
	const char *hosts_file = NULL, *user_spec = NULL, *msg;
	char *env[] = {(char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	size_t n = 0;
	int c, status, cwd;

	log_setup(LOG_FMT_TEXT, LOG_LVL_DEBUG, "net-driver");
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (net_parse_mode(optarg, &no, &msg) < 0) {
				fprintf(stderr, "--network %s: %s\n", optarg, msg);
				return 2;
			}
			break;
		case 'H':
			hosts_file = optarg;
			break;
		case 'u':
			user_spec = optarg;
			break;
		case 's':
			fo.off = strcmp(optarg, "off") == 0;
			break;
		case 'l':
			fo.allow_local_listen = true;
			break;
		case 'p':
			c = net_rules_present();
			printf("%d\n", c);
			return c < 0 ? 1 : 0;
		case 'i':
			cwd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
			printf("%d\n", net_netns_is_initial(cwd));
			return 0;
		case 'v':
			/* the read-back comparison alone, in the namespace at optarg */
			cwd = open(optarg, O_RDONLY | O_CLOEXEC);
			if (cwd < 0 || setns(cwd, CLONE_NEWNET) < 0) {
				perror(optarg);
				return 2;
			}
			return net_rules_verify() == 0 ? 0 : 1;
		default:
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: net-driver [options] SCRIPT\n");
		return 2;
	}

	if (net_prepare(&no, getpid() == 1, &nh) < 0)
		return 125;
	steps[n++] = (struct spawn_step){"network namespace", net_join_step, &nh};
	if (hosts_file) {
		json_error_t je;
		json_t *rels = json_load_file(hosts_file, 0, &je);
		if (!rels || net_hosts_prepare(rels, &hosts) < 0)
			return 125;
		json_decref(rels);
		steps[n++] = (struct spawn_step){"mount namespace", private_mounts, NULL};
		steps[n++] = (struct spawn_step){"hosts file", net_hosts_step, &hosts};
	}
	if (user_spec) {
		if (caps_user_parse(user_spec, &user, &msg) < 0) {
			fprintf(stderr, "--user %s: %s\n", user_spec, msg);
			return 2;
		}
		if (caps_plan_init(&user, &plan) < 0)
			return 125;
		steps[n++] = (struct spawn_step){"user and capabilities", caps_step, &plan};
	}
	if (filter_compile(&fo, &prog) < 0)
		return 125;
	steps[n++] = (struct spawn_step){"syscall filter", filter_step, &prog};

	_cleanup_free_ char *script = spawn_script(argv[optind], SIGTERM);
	cwd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct spawn_opts so = {
		.script = script, .envp = env, .cwd_fd = cwd, .stdin_fd = -1,
		.cg = NULL, .steps = steps, .n_steps = n,
	};
	/* keep the driver's output for the test: stdin of the worker is /dev/null */
	if (spawn_worker(&so, &res) < 0)
		return 125;
	while (waitpid(res.pid, &status, 0) < 0 && errno == EINTR)
		;
	close(res.pidfd);
	net_release(&nh);
	net_hosts_release(&hosts);
	filter_prog_free(&prog);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
