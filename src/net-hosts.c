/* SPDX-License-Identifier: MIT */
/*
 * The worker's /etc/hosts: each relationship's host (database.internal)
 * resolves to the address the context gives, so the worker's outbound
 * connections find their services.  Rendered in the parent into a sealed
 * file of its own; bound over /etc/hosts in the child's private mount namespace.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "net.h"
#include "util.h"

#define HOSTS_PATH "/etc/hosts"

static bool valid_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* A host name: letters, digits, '-', '.', '_'; 1-253 characters. */
static bool valid_host(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 253 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") == n;
}

static bool is_loopback(const char *ip)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, ip, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, ip, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int net_hosts_render(const json_t *rels, const char *loopback_as, char **out)
{
	struct strbuf sb = {0};
	const char *rel;
	json_t *eps;

	strbuf_puts(&sb, "# written by berth for this worker: its relationships\n"
			 "127.0.0.1\tlocalhost\n"
			 "::1\tlocalhost ip6-localhost ip6-loopback\n");
	json_object_foreach((json_t *)rels, rel, eps) {
		size_t i;
		json_t *ep;

		json_array_foreach(eps, i, ep) {
			const char *host = json_string_value(json_object_get(ep, "host"));
			const char *ip = json_string_value(json_object_get(ep, "ip"));
			if (!host || !ip)
				continue;
			if (!valid_host(host) || !valid_ip(ip)) {
				strbuf_release(&sb);
				log_error("relationship %s: host '%s' / ip '%s' cannot go into the "
					  "worker's hosts file",
					  rel, host, ip);
				return -EINVAL;
			}
			if (loopback_as && *loopback_as && is_loopback(ip)) {
				log_info("relationship %s: %s is this host's loopback, %s in the "
					 "worker's namespace",
					 rel, ip, loopback_as);
				ip = loopback_as;
			}
			strbuf_printf(&sb, "%s\t%s\n", ip, host);
		}
	}
	*out = strbuf_detach(&sb);
	return 0;
}

int net_hosts_prepare(const json_t *rels, const char *loopback_as, struct net_hosts *h)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -1;
	char dir[] = "/tmp/berth-hosts.XXXXXX";
	struct stat st;
	size_t len;
	int r;

	memset(h, 0, sizeof(*h));
	r = net_hosts_render(rels, loopback_as, &text);
	if (r < 0)
		return r;
	if (stat("/proc/self/ns/mnt", &st) < 0)
		return log_errno(-errno, "stat /proc/self/ns/mnt");
	h->mntns_dev = st.st_dev;
	h->mntns_ino = st.st_ino;
	/* a private directory (0700, berth's): nobody else can swap the
	 * file before the child binds it by path (a memfd cannot be bound:
	 * its mount is not in any namespace) */
	if (!mkdtemp(dir))
		return log_errno(-errno, "mkdtemp %s", dir);
	h->dir = xstrdup(dir);
	h->path = xasprintf("%s/hosts", dir);
	fd = open(h->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		r = log_errno(errno ? -errno : -EIO, "write %s", h->path);
		net_hosts_release(h);
		return r;
	}
	return 0;
}

void net_hosts_release(struct net_hosts *h)
{
	if (h->path)
		unlink(h->path);
	if (h->dir)
		rmdir(h->dir);
	free(h->path);
	free(h->dir);
	h->path = h->dir = NULL;
}

int net_hosts_step(void *data)
{
	const struct net_hosts *h = data;
	struct stat st;

	if (!h->path)
		return 0;
	/* only in a mount namespace of the worker's own */
	if (stat("/proc/self/ns/mnt", &st) < 0)
		return -errno;
	if (st.st_dev == h->mntns_dev && st.st_ino == h->mntns_ino)
		return -EPERM;
	/* and nothing propagates back to berth's (a no-op if private already) */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return -errno;
	if (mount(h->path, HOSTS_PATH, NULL, MS_BIND, NULL) < 0)
		return -errno;
	if (mount(NULL, HOSTS_PATH, NULL,
		  MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return 0;
}
