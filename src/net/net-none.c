/* SPDX-License-Identifier: MIT */
/*
 * The setup helper's steps (loopback up, the ruleset installed and read
 * back), and for --network=none, whose helper works while berth
 * prepares the rest of the box (net.c: net_ready, net_verified), its
 * start (early: right after the command line, the ruleset sent when
 * the plan exists; or when the box is opened) and the gate where the
 * worker's process waits before its exec until the ruleset is verified.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "egress.h"
#include "log.h"
#include "net.h"
#include "net-internal.h"
#include "util.h"

/* Bring lo up: a new namespace starts with it down. */
static int loopback_up(void)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;

	if (s < 0)
		return log_errno(-errno, "socket");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return log_errno(-errno, "SIOCGIFFLAGS lo");
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return log_errno(-errno, "SIOCSIFFLAGS lo");
	return 0;
}

int net_setup_step(void *plan)
{
	int r = loopback_up();

	return r < 0 ? r : net_rules_install(plan);
}

/* In a namespace berth has just made there is no table to replace: the
 * table alone goes in (a deletion in the same transaction makes closing
 * libnftables' socket wait for the kernel, several ms). */
int net_setup_fresh_step(void *plan)
{
	int r = loopback_up();

	return r < 0 ? r : net_rules_install_fresh(plan);
}

int net_setup_failed(int r, int status)
{
	if (r == -EIO)
		log_error("the network setup helper failed (status %#x): is nf_tables available "
			  "in this kernel (modules nf_tables, nft_ct, nf_conntrack)?",
			  (unsigned)status);
	return r;
}

/* --network=none: the gate, then the helper (net_ready, net_verified). */
int net_none_start(struct net_handle *h)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return log_errno(-errno, "pipe2");
	h->gate_rd = p[0];
	h->gate_wr = p[1];
	return net_in_ns_start(-1, net_setup_fresh_step, h->plan, true, &h->setup);
}

/* The early helper's step, in its new namespace: what needs no plan
 * first, then the message (EOF: berth gave up; it kills the helper). */
static int early_step(void *data)
{
	struct net_early *e = data; /* the helper's copy */
	struct strbuf sb = {0};
	int r;

	close(e->plan_fd);
	r = loopback_up();
	if (r == 0)
		r = net_rules_preload();
	if (r == 0)
		r = strbuf_read_fd(&sb, e->child_fd, SIZE_MAX);
	if (r == 0 && sb.len == 0)
		r = -ECANCELED;
	if (r == 0)
		r = net_rules_install_message(sb.buf);
	strbuf_release(&sb);
	return r;
}

int net_early_start(struct net_early *e)
{
	int sv[2], r;

	e->job.pid = e->job.rd = e->job.go_wr = -1;
	e->plan_fd = e->child_fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return log_errno(-errno, "socketpair");
	e->plan_fd = sv[0];
	e->child_fd = sv[1];
	r = net_in_ns_start(-1, early_step, e, true, &e->job);
	close(e->child_fd);
	e->child_fd = -1;
	if (r < 0) {
		close(e->plan_fd);
		e->plan_fd = -1;
		return r;
	}
	log_debug("network: helper %d started early (the namespace and libnftables first)",
		  (int)e->job.pid);
	return 0;
}

void net_early_cancel(struct net_early *e)
{
	if (e->job.pid > 0)
		log_debug("network: early helper %d cancelled", (int)e->job.pid);
	net_in_ns_cancel(&e->job);
	if (e->plan_fd >= 0)
		close(e->plan_fd);
	e->plan_fd = -1;
}

/* The ruleset (plan) to the early helper, whose job moves to *j. */
static int early_send(struct net_early *e, const struct egress_plan *plan, struct net_job *j)
{
	_cleanup_free_ char *msg = net_rules_message(plan);
	size_t off = 0, len = msg ? strlen(msg) : 0;
	int r;

	if (!msg)
		return log_errno(-ENOMEM, "network: the ruleset message");
	*j = e->job;
	e->job.pid = e->job.rd = e->job.go_wr = -1;
	while (off < len) {
		ssize_t n = send(e->plan_fd, msg + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno != EINTR)
			break;
		off += n > 0 ? (size_t)n : 0;
	}
	r = off < len ? log_errno(-errno, "network: cannot send the ruleset to its helper") : 0;
	close(e->plan_fd); /* EOF: the message is whole */
	e->plan_fd = -1;
	return r;
}

int net_none_take(struct net_handle *h, struct net_early *e)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return log_errno(-errno, "pipe2");
	h->gate_rd = p[0];
	h->gate_wr = p[1];
	return early_send(e, h->plan, &h->setup); /* h owns the helper from here */
}

int net_private_take(const struct net_opts *o, struct net_handle *h, struct net_early *e)
{
	struct net_job j = {.pid = -1, .rd = -1, .go_wr = -1}; /* early_send() fills it */
	int status, r = early_send(e, h->plan, &j);

	if (r == 0)
		r = net_in_ns_open(&j, &h->nsfd);
	if (r < 0) {
		net_in_ns_cancel(&j);
		return net_setup_failed(r, 0);
	}
	/* slirp4netns starts while the ruleset goes in: nothing but the
	 * helper is in the namespace until both are done, and it forwards
	 * nothing in */
	r = net_slirp_start(o, h);
	if (r < 0) {
		net_in_ns_cancel(&j);
		return r;
	}
	return net_setup_failed(net_in_ns_finish(&j, &status), status);
}

/* Open (ok) or close the gate for good. */
void net_gate_done(struct net_handle *h, bool ok)
{
	if (h->gate_wr < 0)
		return;
	if (ok && write(h->gate_wr, "", 1) != 1)
		log_errno(-errno, "network: cannot open the gate"); /* the child fails */
	close(h->gate_rd);
	close(h->gate_wr);
	h->gate_rd = h->gate_wr = -1;
}

int net_gate_step(void *data)
{
	const struct net_handle *h = data;
	ssize_t n;
	char c;

	if (h->gate_rd < 0)
		return 0;
	do
		n = read(h->gate_rd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : n < 0 ? -errno : -ECANCELED; /* closed: not verified */
}
