/* SPDX-License-Identifier: MIT */
/*
 * Test driver for the network and sandbox modules, through the real spawn sequence:
 * sandbox_prepare() and net_ready() in the parent, then spawn_worker() with
 * sb.steps (join the netns, the driver's mount step with the hosts file,
 * privilege drop, syscall filter, the ruleset's gate last) and
 * net_verified() once the child exists, running SCRIPT with /bin/sh -c.
 * Exits with the script's status (128+N for a signal).
 *
 *   net-driver [--network MODE] [--hosts FILE.json] [--firewall FILE.json]
 *              [--services FILE.json] [--user SPEC]
 *              [--seccomp on|off] [--allow-local-listen] [--no-clone3] SCRIPT
 *                        (--hosts: the relationships, for the hosts file
 *                        and the egress plan; --firewall: the worker's
 *                        firewall value; --services: every service
 *                        endpoint, as relationships_services() gives)
 *                        (--no-clone3: clone3 fails with ENOSYS in the driver
 *                        and its children, as under some seccomp profiles)
 *   net-driver --present     1 if table inet berth is in this namespace
 *   net-driver --is-initial  1 if this is the host's initial namespace
 *   net-driver --landlock-abi  the kernel's Landlock ABI (< 0: none)
 *   net-driver --verify NS   compare the ruleset in namespace file NS with
 *                            the plan of the options given before it
 *   net-driver --nft NS CMD  run an nft command in namespace file NS
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
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "egress.h"
#include "log.h"
#include "sandbox.h"
#include "spawn.h"

#include <nftables/libnftables.h>
#include <seccomp.h>
#include "util.h"

static json_t *load(const char *file)
{
	json_error_t je;
	json_t *j = json_load_file(file, 0, &je);

	if (!j) {
		fprintf(stderr, "%s: %s\n", file, je.text);
		exit(2);
	}
	return j;
}

/* --verify: the plan the options so far describe, against namespace ns. */
static int driver_verify(const char *ns, const struct net_opts *no, const json_t *rels,
			 const json_t *fw, const json_t *svc)
{
	struct net_egress eg = {fw, rels, svc, NULL};
	struct egress_plan p;
	int fd = open(ns, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		perror(ns);
		return 2;
	}
	if (net_egress_plan(&eg, net_mode_effective(no, false), NULL, &p) < 0)
		return 2;
	r = net_rules_verify(&p) == 0 ? 0 : 1;
	egress_plan_free(&p);
	return r;
}

/* What berth run's mount step does with the hosts file, without the rest
 * of the view: in a mount namespace of the child's own, the text written
 * into a tmpfs over /dev/shm and bound over /etc/hosts, read-only. */
static int hosts_step(void *data)
{
	const char *text = *(const char **)data;
	size_t len = text ? strlen(text) : 0;
	int fd;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	if (!text)
		return 0;
	if (mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return -errno;
	fd = open("/dev/shm/hosts", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return -EIO;
	}
	close(fd);
	if (mount("/dev/shm/hosts", "/etc/hosts", NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, "/etc/hosts", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
		return -errno;
	return 0;
}

static int verified(void *data)
{
	return net_verified(data);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"network", required_argument, NULL, 'n'},
		{"hosts", required_argument, NULL, 'H'},
		{"firewall", required_argument, NULL, 'F'},
		{"services", required_argument, NULL, 'S'},
		{"user", required_argument, NULL, 'u'},
		{"seccomp", required_argument, NULL, 's'},
		{"allow-local-listen", no_argument, NULL, 'l'},
		{"no-clone3", no_argument, NULL, 'C'},
		{"present", no_argument, NULL, 'p'},
		{"is-initial", no_argument, NULL, 'i'},
		{"landlock-abi", no_argument, NULL, 'L'},
		{"verify", required_argument, NULL, 'v'},
		{"nft", required_argument, NULL, 'N'},
		{0},
	};
	_cleanup_(net_opts_free) struct net_opts no = {.mode = NET_NONE};
	struct filter_opts fo = {0};
	struct sandbox sb;
	struct spawn_result res;
	const char *user_spec = NULL, *msg;
	char *env[] = {(char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	_cleanup_(json_decrefp) json_t *rels = NULL, *fw = NULL, *svc = NULL;
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
			rels = load(optarg);
			break;
		case 'F':
			fw = load(optarg);
			break;
		case 'S':
			svc = load(optarg);
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
		case 'C': {
			scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
			int r = f ? seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)
				  : -ENOMEM;
			if (r == 0)
				r = seccomp_load(f);
			seccomp_release(f);
			if (r < 0) {
				fprintf(stderr, "--no-clone3: %s\n", strerror(-r));
				return 2;
			}
			break;
		}
		case 'p':
			c = net_rules_present();
			printf("%d\n", c);
			return c < 0 ? 1 : 0;
		case 'L':
			printf("%d\n", landlock_abi());
			return 0;
		case 'i':
			cwd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
			printf("%d\n", net_netns_is_initial(cwd));
			return 0;
		case 'N':
			/* --nft NS CMD: an nft command through libnftables in NS
			 * (so that the test needs no nft binary) */
			cwd = open(optarg, O_RDONLY | O_CLOEXEC);
			if (cwd < 0 || setns(cwd, CLONE_NEWNET) < 0 || optind >= argc) {
				perror(optarg);
				return 2;
			} else {
				struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
				c = nft && nft_run_cmd_from_buffer(nft, argv[optind]) == 0 ? 0 : 1;
				if (nft)
					nft_ctx_free(nft);
				return c;
			}
		case 'v':
			/* the read-back comparison alone, in the namespace at optarg */
			return driver_verify(optarg, &no, rels, fw, svc);
		default:
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: net-driver [options] SCRIPT\n");
		return 2;
	}

	struct sandbox_opts sbo = {
		.net = no,
		.user = user_spec,
		.filter = fo,
		.relationships = rels,
		.firewall = fw,
		.services = svc,
	};
	const char *hosts = NULL;
	struct exec_step ms = {"the hosts file", hosts_step, &hosts};
	if (sandbox_prepare(&sbo, getpid() == 1, &ms, 1, &sb) < 0 || net_ready(&sb.net) < 0)
		return 125;
	hosts = sb.hosts.text;
	_cleanup_free_ char *script = spawn_script(argv[optind], SIGTERM);
	cwd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct spawn_opts so = {
		.script = script,
		.envp = env,
		.cwd_fd = cwd,
		.stdin_fd = -1,
		.cg = NULL,
		.steps = sb.steps,
		.n_steps = sb.n_steps,
		/* as berth run: the ruleset verified while the child is set up */
		.spawned = verified,
		.spawned_data = &sb.net,
	};
	/* keep the driver's output for the test: stdin of the worker is /dev/null */
	if (spawn_worker(&so, &res) < 0)
		return 125;
	while (waitpid(res.pid, &status, 0) < 0 && errno == EINTR)
		;
	close(res.pidfd);
	sandbox_release(&sb);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
