/* SPDX-License-Identifier: MIT */
/*
 * The worker's network namespace: which one (--network), refusing the
 * host's initial namespace, preparing it from a forked helper (new or
 * joined, loopback up, ruleset installed and verified), pasta for private
 * mode, and the child's setns().
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "egress.h"
#include "log.h"
#include "net.h"
#include "net-internal.h"
#include "pidfd.h"
#include "util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* Inode numbers of the initial namespaces (include/linux/proc_ns.h). */
#define NET_INIT_INO 0xEFFFFFF9U /* kernels that number the initial netns (6.18+) */
#define PID_INIT_INO 0xEFFFFFFCU /* since 3.8 */

static const char *const mode_names[NET_MODE_COUNT] = {
	[NET_AUTO] = "auto", [NET_CURRENT] = "current", [NET_PRIVATE] = "private",
	[NET_NONE] = "none", [NET_NETNS] = "netns",
};

const char *net_mode_name(enum net_mode m)
{
	return (size_t)m < NET_MODE_COUNT && mode_names[m] ? mode_names[m] : "?";
}

int net_parse_mode(const char *s, struct net_opts *o, const char **msg)
{
	memset(o, 0, sizeof(*o));
	*msg = NULL;
	for (size_t i = 0; i < NET_MODE_COUNT; i++)
		if (i != NET_NETNS && mode_names[i] && strcmp(s, mode_names[i]) == 0) {
			o->mode = (enum net_mode)i;
			return 0;
		}
	if (str_has_prefix(s, "netns:")) {
		const char *p = s + 6;
		if (p[0] != '/' || strstr(p, "/../") || strlen(p) >= 4096) {
			*msg = "netns:PATH needs an absolute path";
			return -EINVAL;
		}
		o->mode = NET_NETNS;
		o->netns_path = xstrdup(p);
		return 0;
	}
	*msg = "expected auto, current, private, none or netns:PATH";
	return -EINVAL;
}

void net_opts_free(struct net_opts *o)
{
	free(o->netns_path);
	o->netns_path = NULL;
}

enum net_mode net_mode_effective(const struct net_opts *o, bool pid1)
{
	if (o->mode != NET_AUTO)
		return o->mode;
	return pid1 ? NET_CURRENT : NET_PRIVATE;
}

/* Since 6.18 the initial network namespace has a fixed inode number, so
 * any other number is another namespace. */
static bool kernel_numbers_init_netns(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 18);
}

int net_netns_is_initial(int nsfd)
{
	struct stat ns, self_pid, init_net;

	if (fstat(nsfd, &ns) < 0)
		return log_errno(-errno, "fstat network namespace");
	if (ns.st_ino == NET_INIT_INO)
		return 1;
	if (kernel_numbers_init_netns())
		return 0;
	if (stat("/proc/self/ns/pid", &self_pid) < 0)
		return log_errno(-errno, "stat /proc/self/ns/pid");
	if (self_pid.st_ino != PID_INIT_INO) {
		/* a container's PID namespace on a kernel without fixed
		 * numbers: the host's init is out of sight */
		log_debug("network namespace %lu: not known to be the host's (berth is in a "
			  "PID namespace of its own)",
			  (unsigned long)ns.st_ino);
		return 0;
	}
	/* pid 1 here is the host's init: compare with its namespace */
	if (stat("/proc/1/ns/net", &init_net) < 0) {
		log_debug("stat /proc/1/ns/net: %s; taking the namespace as the host's",
			  strerror(errno));
		return 1;
	}
	return ns.st_dev == init_net.st_dev && ns.st_ino == init_net.st_ino;
}

static int refuse_initial(int nsfd, const char *what, const char *hint)
{
	int r = net_netns_is_initial(nsfd);

	if (r < 0)
		return r;
	if (r > 0) {
		log_error("%s is the host's initial network namespace: berth never installs "
			  "firewall rules there; use %s",
			  what, hint);
		return -EPERM;
	}
	return 0;
}

/* Enter nsfd (or a new namespace when nsfd < 0, then *new_fd), bring lo
 * up and install the ruleset, from a helper. */
static int setup_in_helper(int nsfd, int *new_fd, const struct egress_plan *plan)
{
	int status, r = net_in_ns(nsfd, nsfd >= 0 ? net_setup_step : net_setup_fresh_step,
				  (void *)plan, new_fd, &status);

	return net_setup_failed(r, status);
}

static int remove_step(void *plan)
{
	return net_rules_remove(plan);
}

/* Join nsfd and delete table inet berth there, from a helper.  0 or
 * -errno (logged; the helper logs what it found, a changed table
 * included). */
static int remove_in_helper(int nsfd, const struct egress_plan *plan)
{
	int status, r = net_in_ns(nsfd, remove_step, (void *)plan, NULL, &status);

	if (r > 0)
		log_msg(LOG_LVL_INFO, "network",
			"network: table inet " NET_TABLE " removed from the namespace");
	else if (r == 0)
		log_debug("network: table inet " NET_TABLE " was no longer there");
	else {
		log_error("network: the cleanup helper failed (status %#x): table inet " NET_TABLE
			  " may be left in the namespace",
			  (unsigned)status);
		return -EIO;
	}
	return 0;
}

/* pasta: user-mode egress for the new namespace; no port forwarded in
 * either direction (-t/-u/-T/-U none).  berth starts it as a child of its
 * own, in the foreground, in a new session and a new PID namespace (what
 * pasta does for itself when it daemonizes), with SIGKILL as its
 * parent-death signal: pasta ends with berth even when berth is
 * SIGKILLed.  It is ready when it writes its pid file (IN_MODIFY on the
 * file's private directory), which it does once set up; its exit before
 * that is its failure.  As root it would switch to nobody before joining
 * the namespace, and fail: --runas 0:0 (it keeps only
 * CAP_NET_BIND_SERVICE and CAP_SYS_ADMIN and sandboxes itself).  The
 * gateway address maps to the host's loopback (pasta's default), so a
 * worker on a workstation reaches services there. */
static _Noreturn void exec_pasta(const char *pasta, const char *pidfile, int nsfd, int alive_rd)
{
	static const char *const args[] = {
		"--quiet",     "--foreground", "--runas",     "0:0",	 "--config-net",
		"--tcp-ports", "none",	       "--udp-ports", "none",	 "--tcp-ns",
		"none",	       "--udp-ns",     "none",	      "--netns", "/proc/self/fd/3",
		"--pid",
	};
	char *argv[ARRAY_SIZE(args) + 3];
	char *const envp[] = {NULL};
	struct pollfd pf = {.fd = alive_rd, .events = POLLIN};
	sigset_t none;
	/* above 3 first, so that neither fd is lost to the other */
	int ns = fcntl(nsfd, F_DUPFD_CLOEXEC, 10);
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* berth holds the pipe's other end: a hangup means it died before
	 * the parent-death signal was set */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || poll(&pf, 1, 0) != 0)
		_exit(125);
	argv[0] = (char *)pasta;
	for (size_t i = 0; i < ARRAY_SIZE(args); i++)
		argv[i + 1] = (char *)args[i];
	argv[ARRAY_SIZE(args) + 1] = (char *)pidfile;
	argv[ARRAY_SIZE(args) + 2] = NULL;
	/* the namespace as fd 3; 0 and 1 /dev/null; stderr stays; no signal
	 * blocked */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0 || setsid() < 0 || ns < 0 || nul < 0 ||
	    dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(ns, 3) < 0)
		_exit(125);
	execve(pasta, argv, envp);
	_exit(127);
}

/* Wait for pasta's pid file to be written; -errno (logged) when pasta
 * exits first or does not get there within NET_PASTA_TIMEOUT_MS. */
static int wait_pasta(const char *pasta, int in, int pidfd, pid_t pid)
{
	struct pollfd pf[2] = {{.fd = in, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
	uint64_t end = monotonic_ms() + NET_PASTA_TIMEOUT_MS;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int status = 0;

	for (;;) {
		uint64_t now = monotonic_ms();
		int n = now < end ? poll(pf, 2, (int)(end - now)) : 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return log_errno(-errno, "poll");
		if (n == 0)
			return log_errno(-ETIMEDOUT, "%s not ready within %d ms", pasta,
					 NET_PASTA_TIMEOUT_MS);
		if (pf[0].revents) {
			ssize_t len = read(in, buf, sizeof(buf));
			for (ssize_t off = 0; len > 0 && off < len;) {
				const struct inotify_event *ev = (const void *)(buf + off);
				if (ev->len && strcmp(ev->name, "pid") == 0)
					return 0;
				off += (ssize_t)(sizeof(*ev) + ev->len);
			}
		}
		if (pf[1].revents) {
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return log_errno(-EIO, "%s failed (status %#x)", pasta, (unsigned)status);
		}
	}
}

static int start_pasta(const struct net_opts *o, struct net_handle *h)
{
	const char *pasta = o->pasta ? o->pasta : NET_PASTA;
	char dir[] = "/tmp/berth-pasta.XXXXXX";
	_cleanup_free_ char *pidfile = NULL;
	_cleanup_close_ int in = -1;
	int alive[2], pidfd = -1, r;
	pid_t pid;

	if (access(pasta, X_OK) < 0)
		return log_errno(-errno,
				 "--network=private needs %s (Debian package passt); "
				 "or use --network=none",
				 pasta);
	/* pasta cannot write its pid to an inherited fd: a private directory */
	if (!mkdtemp(dir))
		return log_errno(-errno, "mkdtemp %s", dir);
	pidfile = xasprintf("%s/pid", dir);
	in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (in < 0 || inotify_add_watch(in, dir, IN_MODIFY) < 0) {
		r = log_errno(-errno, "inotify on %s", dir);
		rmdir(dir);
		return r;
	}
	if (pipe2(alive, O_CLOEXEC) < 0) {
		r = log_errno(-errno, "pipe2");
		rmdir(dir);
		return r;
	}
	/* fork-like, into a new PID namespace, with a pidfd; without clone3
	 * (a filter's ENOSYS), a fork in berth's own PID namespace */
	pid = pidfd_clone3(CLONE_NEWPID | CLONE_PIDFD, -1, &pidfd);
	if (pid < 0 && errno == ENOSYS) {
		log_debug("clone3: %s; pasta shares berth's PID namespace", strerror(errno));
		pid = fork();
		if (pid > 0)
			pidfd = pidfd_open_pid(pid);
	}
	if (pid == 0) {
		close(alive[1]);
		exec_pasta(pasta, pidfile, h->nsfd, alive[0]);
	}
	close(alive[0]);
	if (pid < 0) {
		r = log_errno(-errno, "clone3(CLONE_NEWPID) or fork for %s", pasta);
	} else if (pidfd < 0) {
		r = log_errno(pidfd, "pidfd_open pasta %d", (int)pid);
		kill(pid, SIGKILL); /* our child, not reaped: the pid is its own */
		waitpid(pid, NULL, 0);
	} else {
		h->pasta_pid = pid;
		h->pasta_pidfd = pidfd;
		r = wait_pasta(pasta, in, pidfd, pid);
	}
	close(alive[1]);
	unlink(pidfile);
	rmdir(dir);
	if (r == 0)
		log_debug("pasta %d serves the worker's network namespace", (int)pid);
	return r;
}

/* The IPv4 default gateway of berth's namespace (the one pasta copies and
 * maps to this host's loopback), from /proc/net/route; "" if none. */
static void default_gateway(char out[16])
{
	_cleanup_fclose_ FILE *f = fopen("/proc/net/route", "re");
	char line[256], ifname[64];
	unsigned dest, gw, flags;

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %x %x %x", ifname, &dest, &gw, &flags) == 4 && dest == 0 &&
		    (flags & 0x2) /* RTF_GATEWAY */) {
			struct in_addr a = {.s_addr = gw}; /* printed as the raw __be32 */
			inet_ntop(AF_INET, &a, out, 16);
			return;
		}
}

/* The plan for h's mode, its domains resolved: h->plan. */
static int prepare_plan(const struct net_egress *eg, struct net_handle *h)
{
	const struct net_egress none = {0};

	/* the gateway pasta will copy from berth's namespace (before pasta
	 * runs: the rules go in first) */
	if (h->mode == NET_PRIVATE)
		default_gateway(h->gateway);
	h->plan = xcalloc(1, sizeof(*h->plan));
	if (net_egress_plan(eg ? eg : &none, h->mode, h->gateway, h->plan) < 0) {
		free(h->plan);
		h->plan = NULL;
		return -EINVAL;
	}
	egress_resolve(h->plan);
	return 0;
}

/* --network=current: berth's own namespace (never the initial one) gets
 * the table. */
static int join_current(struct net_handle *h)
{
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int r;

	if (self < 0)
		return log_errno(-errno, "open /proc/self/ns/net");
	r = refuse_initial(self, "--network=current: berth's namespace",
			   "--network=private (or none, or netns:PATH)");
	if (r < 0)
		return r;
	/* from here on the table may be there: removed at release */
	h->table_nsfd = TAKE_FD(self);
	h->remove_table = true;
	return setup_in_helper(h->table_nsfd, NULL, h->plan);
}

/* --network=netns:PATH: a network namespace (never the initial one)
 * gets the table. */
static int join_netns(const struct net_opts *o, struct net_handle *h)
{
	int r;

	h->nsfd = open(o->netns_path, O_RDONLY | O_CLOEXEC);
	if (h->nsfd < 0)
		return log_errno(-errno, "open %s", o->netns_path);
	r = ioctl(h->nsfd, NS_GET_NSTYPE);
	if (r != CLONE_NEWNET)
		return log_errno(r < 0 ? -errno : -EINVAL, "%s is not a network namespace",
				 o->netns_path);
	r = refuse_initial(h->nsfd, o->netns_path,
			   "another namespace, or --network=private or none");
	if (r < 0)
		return r;
	h->table_nsfd = fcntl(h->nsfd, F_DUPFD_CLOEXEC, 3);
	h->remove_table = h->table_nsfd >= 0;
	if (h->table_nsfd < 0)
		return log_errno(-errno, "dup %s", o->netns_path);
	return setup_in_helper(h->nsfd, NULL, h->plan);
}

static void log_ready(const struct net_handle *h)
{
	log_msg(LOG_LVL_INFO, "network",
		"network: %s, ingress dropped, egress to %zu relationship endpoint(s), %zu other "
		"service endpoint(s) refused, %s (table inet " NET_TABLE
		", read back and verified)",
		net_mode_name(h->mode), h->plan->n_allow, h->plan->n_block,
		h->plan->all_tcp ? "all TCP" : "firewall.outbound");
}

int net_prepare(const struct net_opts *o, bool pid1, const struct net_egress *eg,
		struct net_handle *h)
{
	int r;

	memset(h, 0, sizeof(*h));
	h->setup.pid = h->setup.rd = h->setup.go_wr = -1;
	h->gate_rd = h->gate_wr = -1;
	h->nsfd = -1;
	h->pasta_pidfd = -1;
	h->table_nsfd = -1;
	h->mode = net_mode_effective(o, pid1);
	r = prepare_plan(eg, h);
	if (r < 0)
		return r;
	switch (h->mode) {
	case NET_CURRENT:
		r = join_current(h);
		break;
	case NET_NETNS:
		r = join_netns(o, h);
		break;
	case NET_NONE:
		/* the helper works while berth prepares the rest (net_ready) */
		r = net_none_start(h);
		if (r == 0)
			return 0;
		break;
	case NET_PRIVATE:
		r = setup_in_helper(-1, &h->nsfd, h->plan);
		if (r == 0)
			r = start_pasta(o, h);
		break;
	default:
		r = -EINVAL;
	}
	if (r < 0) {
		net_release(h); /* also when a namespace could not be opened */
		return r;
	}
	log_ready(h);
	return 0;
}

int net_ready(struct net_handle *h)
{
	int r;

	if (h->setup.pid <= 0 || h->nsfd >= 0)
		return 0;
	r = net_in_ns_open(&h->setup, &h->nsfd);
	return r < 0 ? net_setup_failed(r, 0) : 0; /* net_release() closes the rest */
}

int net_verified(struct net_handle *h)
{
	int status, r;

	if (h->setup.pid <= 0)
		return 0;
	r = net_ready(h);
	if (r < 0)
		return r;
	/* verified: the worker's process goes on while the helper exits
	 * (its exit status is checked all the same; a failure then kills
	 * the process as a setup failure) */
	net_gate_done(h, net_in_ns_result(&h->setup) >= 0);
	r = net_in_ns_finish(&h->setup, &status);
	if (r < 0)
		return net_setup_failed(r, status); /* net_release() closes the rest */
	log_ready(h);
	return 0;
}

void net_release(struct net_handle *h)
{
	net_in_ns_cancel(&h->setup); /* never finished: a setup failure */
	net_gate_done(h, false);
	if (h->pasta_pidfd >= 0) {
		siginfo_t si;
		pidfd_signal(h->pasta_pidfd, SIGKILL);
		/* berth's child; through the pidfd, so that a recycled pid is
		 * never waited for (ECHILD when the run loop reaped it).  Not
		 * waited for: its exit closes the tap device, and the kernel
		 * unregisters it after RCU grace periods (20-40 ms here) that
		 * berth's stop would wait for.  SIGKILLed, it ends all the
		 * same, and berth's parent (or init) reaps it after berth. */
		(void)waitid(P_PIDFD, (id_t)h->pasta_pidfd, &si, WEXITED | WNOHANG);
		close(h->pasta_pidfd);
	}
	if (h->remove_table) {
		remove_in_helper(h->table_nsfd, h->plan);
		close(h->table_nsfd);
	}
	if (h->plan) {
		egress_plan_free(h->plan);
		free(h->plan);
		h->plan = NULL;
	}
	if (h->nsfd >= 0)
		close(h->nsfd);
	h->nsfd = h->pasta_pidfd = h->table_nsfd = -1;
	h->remove_table = false;
	h->pasta_pid = 0;
}

int net_join_step(void *data)
{
	const struct net_handle *h = data;

	if (h->nsfd < 0) /* only current stays in berth's namespace */
		return h->mode == NET_CURRENT ? 0 : -ENOENT;
	return setns(h->nsfd, CLONE_NEWNET) < 0 ? -errno : 0;
}

json_t *net_describe(const struct net_opts *o, bool pid1, const struct net_egress *eg)
{
	const struct net_egress none = {0};
	enum net_mode m = net_mode_effective(o, pid1);
	struct egress_plan p;
	char gw[16] = "";
	json_t *j;

	if (m == NET_PRIVATE)
		default_gateway(gw);
	if (net_egress_plan(eg ? eg : &none, m, gw, &p) < 0)
		return NULL;
	j = json_pack("{s:s, s:s?, s:s?, s:s, s:o, s:o}", "mode", net_mode_name(m), "netns",
		      m == NET_NETNS ? o->netns_path : NULL, "loopback_as", *gw ? gw : NULL,
		      "table", "inet " NET_TABLE, "rules", net_rules_describe(&p), "egress",
		      egress_describe(&p));
	egress_plan_free(&p);
	return j;
}
