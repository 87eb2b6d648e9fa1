/* SPDX-License-Identifier: MIT */
/*
 * The worker's new root in the mount plan: which parts of the host it
 * sees (the OS read-only), what is masked, and the fresh filesystems
 * (/dev, /run, /proc, /sys, the cgroup hierarchies).  Pure.
 */
#include "config.h"

#include <string.h>
#include <sys/mount.h>

#include "mountplan-internal.h"
#include "util.h"

#define RO_ALL (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)

/* The host's OS: bound read-only, or recreated as the same symlink
 * (merged /usr: /bin -> usr/bin). */
static const char *const os_dirs[] = {"usr", "etc",   "opt",   "bin",	"sbin",
				      "lib", "lib32", "lib64", "libx32"};

/* Host secrets in /etc: files masked with /dev/null, directories with an
 * empty tmpfs.  A worker with --user 0 has no capabilities but the owner's
 * permissions on them. */
static const char *const etc_files[] = {
	"etc/shadow",
	"etc/gshadow",
	"etc/shadow-",
	"etc/gshadow-",
	"etc/security/opasswd",
	"etc/ssh/ssh_host_rsa_key",
	"etc/ssh/ssh_host_ecdsa_key",
	"etc/ssh/ssh_host_ed25519_key",
	"etc/ssh/ssh_host_dsa_key",
};
static const char *const etc_dirs[] = {"etc/ssl/private"};

static const struct {
	const char *name;
	unsigned major, minor;
} dev_nodes[] = {
	{"null", 1, 3},	  {"zero", 1, 5},    {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const char *const dev_links[][2] = {
	{"dev/fd", "/proc/self/fd"},	   {"dev/stdin", "/proc/self/fd/0"},
	{"dev/stdout", "/proc/self/fd/1"}, {"dev/stderr", "/proc/self/fd/2"},
	{"dev/ptmx", "pts/ptmx"},
};

/* What OCI runtimes mask in /proc. */
static const char *const proc_files[] = {
	"proc/kcore",	      "proc/keys",	  "proc/timer_list", "proc/sched_debug",
	"proc/latency_stats", "proc/timer_stats", "proc/interrupts"};
static const char *const proc_dirs[] = {"proc/acpi", "proc/asound", "proc/scsi"};
static const char *const proc_ro[] = {"proc/bus", "proc/fs", "proc/irq", "proc/sys",
				      "proc/sysrq-trigger"};
static const char *const sys_dirs[] = {"sys/firmware", "sys/devices/virtual/powercap"};

static struct mountplan_op *root_op(struct mountplan *p, size_t *cap, enum mountplan_kind k,
				    const char *target, uint64_t attrs)
{
	struct mountplan_op *op = mountplan_add(p, cap, k);

	op->dst_base = MPB_ROOT;
	mountplan_set(&op->target, xstrdup(target));
	op->attr_set = attrs;
	return op;
}

static void masks(struct mountplan *p, size_t *cap, const char *const *files, size_t nf,
		  const char *const *dirs, size_t nd)
{
	for (size_t i = 0; i < nf; i++)
		root_op(p, cap, MP_MASK_FILE, files[i],
			MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC)
			->optional = true;
	for (size_t i = 0; i < nd; i++)
		root_op(p, cap, MP_MASK, dirs[i], RO_ALL)->optional = true;
}

static void dev_ops(struct mountplan *p, size_t *cap, const struct mountplan_opts *o)
{
	struct mountplan_op *op;

	root_op(p, cap, MP_DEV, "dev", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		char *t = xasprintf("dev/%s", dev_nodes[i].name);
		op = root_op(p, cap, MP_DEVNODE, t, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
		free(t);
		op->src_base = MPB_HOST;
		mountplan_set(&op->source, xstrdup(op->target));
		op->major = dev_nodes[i].major;
		op->minor = dev_nodes[i].minor;
	}
	for (size_t i = 0; i < ARRAY_SIZE(dev_links); i++) {
		op = root_op(p, cap, MP_SYMLINK, dev_links[i][0], 0);
		mountplan_set(&op->source, xstrdup(dev_links[i][1]));
	}
	if (!o->no_shm)
		root_op(p, cap, MP_SHM, "dev/shm",
			MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	root_op(p, cap, MP_DEVPTS, "dev/pts", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	root_op(p, cap, MP_MQUEUE, "dev/mqueue",
		MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
}

static void cgroup_ops(struct mountplan *p, size_t *cap, const struct mountplan_opts *o)
{
	struct mountplan_op *op;

	/* several hierarchies (hybrid, v1) sit in a tmpfs of their own */
	if (o->n_cgroups > 1 || (o->n_cgroups == 1 && strcmp(o->cgroups[0].path, "/sys/fs/cgroup")))
		root_op(p, cap, MP_CGROUP_TMPFS, "sys/fs/cgroup", RO_ALL);
	for (size_t i = 0; i < o->n_cgroups; i++) {
		const struct mountplan_cgroup *c = &o->cgroups[i];
		op = root_op(p, cap, MP_CGROUP, c->path + 1, RO_ALL);
		mountplan_set(&op->source, xstrdup(c->fstype));
		mountplan_set(&op->data, xstrdup(c->options ? c->options : ""));
	}
}

void mountplan_root_ops(struct mountplan *p, size_t *cap, const struct mountplan_opts *o)
{
	const uint64_t ro = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	struct mountplan_op *op;

	root_op(p, cap, MP_NEWROOT, "", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	for (size_t i = 0; i < ARRAY_SIZE(os_dirs); i++) {
		op = root_op(p, cap, MP_OS, os_dirs[i], ro);
		op->src_base = MPB_HOST;
		mountplan_set(&op->source, xstrdup(os_dirs[i]));
		op->recursive = op->optional = true;
	}
	/* a storage root inside the OS stays hidden */
	for (size_t i = 0; i < ARRAY_SIZE(os_dirs); i++) {
		char *d = xasprintf("/%s", os_dirs[i]);
		bool in = mountplan_beneath_or_same(d, p->storage_root);
		free(d);
		if (in) {
			root_op(p, cap, MP_MASK, p->storage_root + 1, RO_ALL);
			break;
		}
	}
	dev_ops(p, cap, o);
	masks(p, cap, etc_files, ARRAY_SIZE(etc_files), etc_dirs, ARRAY_SIZE(etc_dirs));
	root_op(p, cap, MP_HOSTS, "etc/hosts",
		MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)
		->optional = true;
	root_op(p, cap, MP_RUN, "run", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	root_op(p, cap, MP_DIR, "var", 0);
	/* /var/tmp is /tmp, unless the app root or a --ro-bind path lives
	 * beneath it */
	bool var_tmp = !mountplan_beneath_or_same("/var/tmp", p->app_root);
	for (size_t i = 0; o->ro_binds && o->ro_binds[i]; i++)
		var_tmp &= !mountplan_beneath_or_same("/var/tmp", o->ro_binds[i]);
	if (var_tmp) {
		op = root_op(p, cap, MP_SYMLINK, "var/tmp", 0);
		mountplan_set(&op->source, xstrdup("/tmp"));
	}
	root_op(p, cap, MP_PROC, "proc", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	masks(p, cap, proc_files, ARRAY_SIZE(proc_files), proc_dirs, ARRAY_SIZE(proc_dirs));
	for (size_t i = 0; i < ARRAY_SIZE(proc_ro); i++)
		root_op(p, cap, MP_READONLY, proc_ro[i], RO_ALL)->optional = true;
	root_op(p, cap, MP_SYS, "sys", RO_ALL);
	masks(p, cap, NULL, 0, sys_dirs, ARRAY_SIZE(sys_dirs));
	cgroup_ops(p, cap, o);
	for (size_t i = 0; o->ro_binds && o->ro_binds[i]; i++) {
		op = root_op(p, cap, MP_RO_BIND, o->ro_binds[i] + 1, ro);
		op->src_base = MPB_HOST;
		mountplan_set(&op->source, xstrdup(o->ro_binds[i] + 1));
		op->recursive = true;
	}
}

const char *mountplan_ro_bind_check(const struct mountplan *p, const char *path)
{
	static const char *const fresh[] = {"/tmp", "/proc", "/sys"};

	if (strcmp(path, "/") == 0)
		return "the host's root cannot be bound";
	if (mountplan_beneath_or_same(p->storage_root, path))
		return "it is inside the storage root";
	if (mountplan_beneath_or_same(path, p->storage_root))
		return "it holds the storage root";
	for (size_t i = 0; i < ARRAY_SIZE(fresh); i++)
		if (mountplan_beneath_or_same(fresh[i], path))
			return "the worker's /tmp, /proc and /sys are its own";
	return NULL;
}
