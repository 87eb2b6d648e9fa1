/* SPDX-License-Identifier: MIT */
/*
 * The egress plan on the real kernel, as root: two network namespaces
 * made here (the worker's W and a peer P, joined by a veth pair), the
 * ruleset installed in W from a forked helper (this process's namespace
 * is never touched), read back, and real connections from W to listeners
 * in P: a relationship reached, another service refused even where the
 * firewall allows its port, port 25 refused even when allowed, a firewall
 * CIDR and port reached and another port refused at once (ECONNREFUSED,
 * from the TCP reset), IPv6 likewise, UDP refused, a domain set refilled
 * in one transaction moving what is reached; without firewall, all TCP
 * but 25.  A changed set element is seen by the read-back.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "egress.h"
#include "net.h"
#include "util.h"

static pid_t holder_w, holder_p, server;
static char wns[64], pns[64];
static const unsigned ports[] = {25, 80, 443, 3306, 5672, 8443};

/* A child that unshares a network namespace and waits: the namespace
 * lives as long as it does. */
static pid_t ns_holder(void)
{
	int p[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWNET) < 0 || write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
}

static int enter(const char *ns)
{
	int fd = open(ns, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* In P: TCP listeners on every port of every address, accepting and
 * closing; a UDP echo on 9999. */
static pid_t start_server(void)
{
	static const char *const addrs[] = {"10.77.0.2", "10.77.0.3", "fd77::2"};
	int p[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct pollfd pf[32];
		size_t n = 0;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (enter(pns) < 0)
			_exit(1);
		for (size_t a = 0; a < ARRAY_SIZE(addrs); a++) {
			for (size_t i = 0; i <= ARRAY_SIZE(ports); i++) {
				struct sockaddr_storage ss = {0};
				bool v6 = strchr(addrs[a], ':');
				bool udp = i == ARRAY_SIZE(ports);
				int s = socket(v6 ? AF_INET6 : AF_INET,
					       udp ? SOCK_DGRAM : SOCK_STREAM, 0),
				    one = 1;
				socklen_t len;
				if (v6) {
					struct sockaddr_in6 *s6 = (void *)&ss;
					s6->sin6_family = AF_INET6;
					s6->sin6_port = htons(udp ? 9999 : ports[i]);
					inet_pton(AF_INET6, addrs[a], &s6->sin6_addr);
					len = sizeof(*s6);
				} else {
					struct sockaddr_in *s4 = (void *)&ss;
					s4->sin_family = AF_INET;
					s4->sin_port = htons(udp ? 9999 : ports[i]);
					inet_pton(AF_INET, addrs[a], &s4->sin_addr);
					len = sizeof(*s4);
				}
				setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
				if (s < 0 || bind(s, (void *)&ss, len) < 0 ||
				    (!udp && listen(s, 16) < 0))
					_exit(2);
				pf[n++] = (struct pollfd){.fd = s, .events = POLLIN};
			}
		}
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;) {
			if (poll(pf, n, -1) < 0)
				continue;
			for (size_t i = 0; i < n; i++) {
				char buf[64];
				struct sockaddr_storage from;
				socklen_t fl = sizeof(from);
				ssize_t k;
				if (!(pf[i].revents & POLLIN))
					continue;
				k = recvfrom(pf[i].fd, buf, sizeof(buf), MSG_DONTWAIT,
					     (void *)&from, &fl);
				if (k >= 0) {
					sendto(pf[i].fd, buf, (size_t)k, 0, (void *)&from, fl);
					continue;
				}
				int c2 = accept(pf[i].fd, NULL, NULL);
				if (c2 >= 0)
					close(c2);
			}
		}
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

static void setup(void)
{
	pid_t me = getpid();

	holder_w = ns_holder();
	holder_p = ns_holder();
	snprintf(wns, sizeof(wns), "/proc/%d/ns/net", (int)holder_w);
	snprintf(pns, sizeof(pns), "/proc/%d/ns/net", (int)holder_p);
	sh("ip link add bte%d-w netns %d type veth peer name bte%d-p netns %d", (int)me,
	   (int)holder_w, (int)me, (int)holder_p);
	sh("nsenter --net=%s sh -c 'ip link set lo up && ip link set bte%d-w up && "
	   "ip addr add 10.77.0.1/24 dev bte%d-w && ip addr add fd77::1/64 dev bte%d-w nodad'",
	   wns, (int)me, (int)me, (int)me);
	sh("nsenter --net=%s sh -c 'ip link set lo up && ip link set bte%d-p up && "
	   "ip addr add 10.77.0.2/24 dev bte%d-p && ip addr add 10.77.0.3/24 dev bte%d-p && "
	   "ip addr add fd77::2/64 dev bte%d-p nodad'",
	   pns, (int)me, (int)me, (int)me, (int)me);
	server = start_server();
}

static void teardown(void)
{
	pid_t v[] = {server, holder_w, holder_p};

	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		if (v[i] > 0) {
			kill(v[i], SIGKILL);
			waitpid(v[i], NULL, 0);
		}
	server = holder_w = holder_p = 0; /* the veth went with the namespaces */
}

/* Run fn in a child in W; its exit status. */
static int in_w(int (*fn)(const void *), const void *arg)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(enter(wns) < 0 ? 200 : fn(arg));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int do_install(const void *p)
{
	return net_rules_install(p) == 0 ? 0 : 1;
}

static int do_update(const void *p)
{
	return net_rules_update_sets(p) == 0 ? 0 : 1;
}

static int do_verify(const void *p)
{
	return net_rules_verify(p) == 0 ? 0 : 1;
}

struct target {
	const char *addr;
	unsigned port;
	bool udp;
};

/* Connect (or a UDP request) from W: 0 reached, else the errno (110 for
 * no answer within 2 s).  Refusals must come at once: more than 1 s
 * for a refusal is 99. */
static int do_probe(const void *arg)
{
	const struct target *t = arg;
	bool v6 = strchr(t->addr, ':');
	struct sockaddr_storage ss = {0};
	socklen_t len;
	struct timespec t0, t1;
	int s = socket(v6 ? AF_INET6 : AF_INET, (t->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK,
		       0),
	    err = 0;
	struct pollfd pf = {.fd = s};

	if (v6) {
		struct sockaddr_in6 *s6 = (void *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(t->port);
		inet_pton(AF_INET6, t->addr, &s6->sin6_addr);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (void *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(t->port);
		inet_pton(AF_INET, t->addr, &s4->sin_addr);
		len = sizeof(*s4);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (connect(s, (void *)&ss, len) < 0 && errno != EINPROGRESS)
		return errno;
	if (t->udp) {
		char buf[8];
		if (send(s, "ping", 4, 0) < 0)
			return errno;
		pf.events = POLLIN;
		if (poll(&pf, 1, 2000) <= 0)
			return ETIMEDOUT;
		return recv(s, buf, sizeof(buf), 0) == 4 ? 0 : errno;
	}
	pf.events = POLLOUT;
	if (poll(&pf, 1, 2000) <= 0)
		return ETIMEDOUT;
	len = sizeof(err);
	getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (err && (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 > 1000)
		return 99;
	return err;
}

static int probe(const char *addr, unsigned port)
{
	struct target t = {addr, port, false};

	return in_w(do_probe, &t);
}

static json_t *J(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);

	ck_assert_ptr_nonnull(j);
	return j;
}

START_TEST(test_firewall)
{
	json_t *fw = J("{\"outbound\": [{\"ips\": [\"10.77.0.2/32\", \"fd77::/64\"], "
		       "\"ports\": [443, 25, 3306]}, {\"domains\": [\"api.example.test\"], "
		       "\"ports\": [8443]}]}");
	json_t *rels = J("{\"emails\": [{\"ip\": \"10.77.0.2\", \"port\": 5672}]}");
	json_t *svc = J("[{\"name\": \"mysqldb\", \"ip\": \"10.77.0.2\", \"port\": 3306}, "
			"{\"name\": \"rabbitqueue\", \"ip\": \"10.77.0.2\", \"port\": 5672}]");
	struct egress_input in = {fw, rels, svc, NULL, NULL, NULL};
	const char *first[] = {"10.77.0.2", NULL}, *second[] = {"10.77.0.3", NULL};
	struct target udp = {"10.77.0.2", 9999, true};
	struct egress_plan p;

	ck_assert_int_eq(egress_plan_build(&in, &p), 0);
	egress_set_resolved(&p, 1, first, NULL);
	ck_assert_int_eq(in_w(do_install, &p), 0);
	ck_assert_int_eq(in_w(do_verify, &p), 0);

	ck_assert_int_eq(probe("10.77.0.2", 5672), 0);		  /* the relationship */
	ck_assert_int_eq(probe("10.77.0.2", 3306), ECONNREFUSED); /* another service */
	ck_assert_int_eq(probe("10.77.0.2", 25), ECONNREFUSED);	  /* allowed, still 25 */
	ck_assert_int_eq(probe("10.77.0.2", 443), 0);		  /* the CIDR and port */
	ck_assert_int_eq(probe("10.77.0.2", 80), ECONNREFUSED);	  /* a port not named */
	ck_assert_int_eq(probe("10.77.0.3", 443), ECONNREFUSED);  /* an address not named */
	ck_assert_int_eq(probe("fd77::2", 443), 0);		  /* IPv6 CIDR */
	ck_assert_int_eq(probe("fd77::2", 80), ECONNREFUSED);
	ck_assert_int_eq(probe("10.77.0.2", 8443), 0); /* the domain's address */
	ck_assert_int_eq(probe("10.77.0.3", 8443), ECONNREFUSED);
	ck_assert_int_ne(in_w(do_probe, &udp), 0); /* UDP, not DNS */

	/* the domain moved: its set refilled in one transaction, read back */
	egress_set_resolved(&p, 1, second, NULL);
	ck_assert_int_eq(in_w(do_update, &p), 0);
	ck_assert_int_eq(probe("10.77.0.3", 8443), 0);
	ck_assert_int_eq(probe("10.77.0.2", 8443), ECONNREFUSED);
	/* the read-back knows the set's elements: the old plan no longer matches */
	egress_set_resolved(&p, 1, first, NULL);
	ck_assert_int_eq(in_w(do_verify, &p), 1);
	egress_plan_free(&p);

	/* no firewall key: every TCP port but 25; other services still refused */
	in.firewall = NULL;
	ck_assert_int_eq(egress_plan_build(&in, &p), 0);
	ck_assert_int_eq(in_w(do_install, &p), 0);
	ck_assert_int_eq(probe("10.77.0.3", 80), 0);
	ck_assert_int_eq(probe("fd77::2", 8443), 0);
	ck_assert_int_eq(probe("10.77.0.3", 25), ECONNREFUSED);
	ck_assert_int_eq(probe("10.77.0.2", 3306), ECONNREFUSED);
	ck_assert_int_eq(probe("10.77.0.3", 3306), 0); /* not the service's address */
	ck_assert_int_ne(in_w(do_probe, &udp), 0);
	egress_plan_free(&p);

	/* nothing was installed in this process's namespace */
	ck_assert_int_eq(net_rules_present(), 0);
	json_decref(fw);
	json_decref(rels);
	json_decref(svc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("egress");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (geteuid() != 0 || system("command -v ip >/dev/null && command -v nsenter >/dev/null")) {
		fprintf(stderr, "needs root, ip and nsenter\n");
		return getenv("BERTH_STRICT") && strcmp(getenv("BERTH_STRICT"), "1") == 0 ? 1 : 77;
	}
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_firewall);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
