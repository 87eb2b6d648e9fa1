/* SPDX-License-Identifier: MIT */
/*
 * The worker's syscall filter: berth's deny table, turned
 * into a libseccomp context (native arch, bad arch = kill process), then
 * into classic BPF in the parent, so that the child installs it with a
 * single seccomp(2) call and no allocation.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cleanup.h"
#include "filter.h"
#include "log.h"
#include "util.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

/* clone's flags are its first argument, but the second on s390. */
#if defined(__s390__) || defined(__s390x__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif

#define ANY(name, e, grp)                                                                          \
	{                                                                                          \
		name, e, FILTER_ANY, 0, 0, NULL, grp                                               \
	}
#define CLONE_NS(flag)                                                                             \
	{                                                                                          \
		"clone", EPERM, FILTER_FLAG_SET, CLONE_FLAGS_ARG, flag, #flag, "namespaces"        \
	}
#define IOCTL(req)                                                                                 \
	{                                                                                          \
		"ioctl", EPERM, FILTER_EQ32, 1, req, #req, "terminal"                              \
	}
#define SOCKET(fam)                                                                                \
	{                                                                                          \
		"socket", EAFNOSUPPORT, FILTER_EQ, 0, fam, #fam, "sockets"                         \
	}

/* The deny table.  ENOSYS where libc or a runtime should fall back
 * (clone3 → clone, io_uring → epoll); EPERM elsewhere, so programs print
 * "Operation not permitted" at the call instead of dying of SIGSYS. */
static const struct filter_rule rules[] = {
	/* no inbound connections: fail at the call rather than hang */
	ANY("listen", EPERM, "listen"),
	ANY("accept", EPERM, "listen"),
	ANY("accept4", EPERM, "listen"),
	/* IORING_OP_ACCEPT/LISTEN bypass seccomp; large attack surface */
	ANY("io_uring_setup", ENOSYS, "io_uring"),
	ANY("io_uring_enter", ENOSYS, "io_uring"),
	ANY("io_uring_register", ENOSYS, "io_uring"),
	/* no new namespaces, above all no user namespace */
	CLONE_NS(CLONE_NEWNS),
	CLONE_NS(CLONE_NEWCGROUP),
	CLONE_NS(CLONE_NEWUTS),
	CLONE_NS(CLONE_NEWIPC),
	CLONE_NS(CLONE_NEWUSER),
	CLONE_NS(CLONE_NEWPID),
	CLONE_NS(CLONE_NEWNET),
	ANY("clone3", ENOSYS, "namespaces"), /* flags behind a pointer */
	ANY("unshare", EPERM, "namespaces"),
	ANY("setns", EPERM, "namespaces"),
	/* the read-only tree stays read-only */
	ANY("mount", EPERM, "mount"),
	ANY("umount", EPERM, "mount"),
	ANY("umount2", EPERM, "mount"),
	ANY("pivot_root", EPERM, "mount"),
	ANY("chroot", EPERM, "mount"),
	ANY("fsopen", EPERM, "mount"),
	ANY("fsconfig", EPERM, "mount"),
	ANY("fsmount", EPERM, "mount"),
	ANY("fspick", EPERM, "mount"),
	ANY("open_tree", EPERM, "mount"),
	ANY("move_mount", EPERM, "mount"),
	ANY("mount_setattr", EPERM, "mount"),
	/* kernel keyrings are not namespaced */
	ANY("keyctl", EPERM, "keyring"),
	ANY("add_key", EPERM, "keyring"),
	ANY("request_key", EPERM, "keyring"),
	/* common exploit primitives */
	ANY("bpf", EPERM, "kernel"),
	ANY("perf_event_open", EPERM, "kernel"),
	ANY("userfaultfd", EPERM, "kernel"),
	/* no cross-process memory or fd access (breaks strace/gdb in the worker) */
	ANY("ptrace", EPERM, "process"),
	ANY("process_vm_readv", EPERM, "process"),
	ANY("process_vm_writev", EPERM, "process"),
	ANY("process_madvise", EPERM, "process"),
	ANY("pidfd_getfd", EPERM, "process"),
	ANY("kcmp", EPERM, "process"),
	/* capability-gated anyway: survives a capability mistake */
	ANY("kexec_load", EPERM, "admin"),
	ANY("kexec_file_load", EPERM, "admin"),
	ANY("init_module", EPERM, "admin"),
	ANY("finit_module", EPERM, "admin"),
	ANY("delete_module", EPERM, "admin"),
	ANY("reboot", EPERM, "admin"),
	ANY("swapon", EPERM, "admin"),
	ANY("swapoff", EPERM, "admin"),
	ANY("acct", EPERM, "admin"),
	ANY("quotactl", EPERM, "admin"),
	ANY("quotactl_fd", EPERM, "admin"),
	ANY("lookup_dcookie", EPERM, "admin"),
	ANY("syslog", EPERM, "admin"),
	ANY("iopl", EPERM, "admin"),
	ANY("ioperm", EPERM, "admin"),
	ANY("settimeofday", EPERM, "admin"),
	ANY("clock_settime", EPERM, "admin"),
	ANY("vhangup", EPERM, "admin"),
	ANY("nfsservctl", EPERM, "admin"),
	ANY("uselib", EPERM, "admin"),
	ANY("ustat", EPERM, "admin"),
	ANY("sysfs", EPERM, "admin"),
	ANY("_sysctl", EPERM, "admin"),
	ANY("vm86", EPERM, "admin"),
	ANY("vm86old", EPERM, "admin"),
	ANY("open_by_handle_at", EPERM, "admin"),
	ANY("fanotify_init", EPERM, "admin"),
	ANY("sethostname", EPERM, "admin"),
	ANY("setdomainname", EPERM, "admin"),
	/* terminal injection (CVE-2017-5226, CVE-2019-10063, CVE-2023-28100);
	 * the request is an unsigned int in the kernel: compare 32 bits */
	IOCTL(TIOCSTI),
	IOCTL(TIOCLINUX),
	/* Docker's socket-family blocks */
	SOCKET(AF_VSOCK),
	SOCKET(AF_ALG),
};

const struct filter_rule *filter_rules(size_t *n)
{
	*n = ARRAY_SIZE(rules);
	return rules;
}

bool filter_rule_enabled(const struct filter_opts *o, const struct filter_rule *r)
{
	return !(o->allow_local_listen && strcmp(r->group, "listen") == 0);
}

static int add_rule(scmp_filter_ctx ctx, const struct filter_rule *r)
{
	int nr = seccomp_syscall_resolve_name(r->syscall);
	struct scmp_arg_cmp cmp;
	int ret;

	/* unknown names give __NR_SCMP_ERROR, names of other
	 * architectures a negative pseudo number */
	if (nr < 0) {
		log_debug("seccomp: no syscall %s on this architecture; skipped", r->syscall);
		return 0;
	}
	switch (r->cond) {
	case FILTER_ANY:
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(r->err), nr, 0);
		break;
	case FILTER_FLAG_SET:
		cmp = SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, r->value, r->value);
		ret = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(r->err), nr, 1, &cmp);
		break;
	case FILTER_EQ:
		cmp = SCMP_CMP(r->arg, SCMP_CMP_EQ, r->value);
		ret = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(r->err), nr, 1, &cmp);
		break;
	case FILTER_EQ32:
		cmp = SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, 0xffffffffULL, r->value);
		ret = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(r->err), nr, 1, &cmp);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret < 0)
		return log_errno(ret, "seccomp: rule for %s%s%s", r->syscall,
				 r->value_name ? " " : "", r->value_name ? r->value_name : "");
	return 0;
}

int filter_build(const struct filter_opts *o, scmp_filter_ctx *out)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;

	if (!ctx)
		return log_errno(-ENOMEM, "seccomp_init");
	/* seccomp_init() holds the native arch only; any other ABI (i386
	 * via int 0x80, x32 via bit 30) kills the whole process. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0) {
		seccomp_release(ctx);
		return log_errno(r, "seccomp: bad-architecture action");
	}
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		if (!filter_rule_enabled(o, &rules[i]))
			continue;
		r = add_rule(ctx, &rules[i]);
		if (r < 0) {
			seccomp_release(ctx);
			return r;
		}
	}
	*out = ctx;
	return 0;
}

int filter_compile(const struct filter_opts *o, struct filter_prog *out)
{
	_cleanup_close_ int fd = -1;
	scmp_filter_ctx ctx;
	struct stat st;
	ssize_t n;
	int r;

	memset(out, 0, sizeof(*out));
	if (o->off)
		return 0;
	r = filter_build(o, &ctx);
	if (r < 0)
		return r;
	/* libseccomp 2.5 exports to an fd only: use an anonymous file. */
	fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		seccomp_release(ctx);
		return log_errno(r, "memfd_create");
	}
	r = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	if (r < 0)
		return log_errno(r, "seccomp_export_bpf");
	if (fstat(fd, &st) < 0)
		return log_errno(-errno, "fstat");
	if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
	    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return log_errno(-EINVAL, "seccomp: exported program of %lld bytes",
				 (long long)st.st_size);
	out->insns = xmalloc((size_t)st.st_size);
	n = pread(fd, out->insns, (size_t)st.st_size, 0);
	if (n != st.st_size) {
		r = n < 0 ? -errno : -EIO;
		filter_prog_free(out);
		return log_errno(r, "read the exported seccomp program");
	}
	out->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	return 0;
}

void filter_prog_free(struct filter_prog *p)
{
	free(p->insns);
	p->insns = NULL;
	p->len = 0;
}

int filter_apply(const struct filter_prog *p)
{
	struct sock_fprog fp = {.len = p->len, .filter = p->insns};

	if (p->len == 0)
		return 0;
	/* No SECCOMP_FILTER_FLAG_SPEC_ALLOW: the kernel keeps its
	 * speculative-store-bypass mitigation for the worker. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
		return -errno;
	return 0;
}

int filter_step(void *data)
{
	return filter_apply(data);
}

static char *rule_when(const struct filter_rule *r)
{
	switch (r->cond) {
	case FILTER_FLAG_SET:
		return xasprintf("arg%u has %s", r->arg, r->value_name);
	case FILTER_EQ:
		return xasprintf("arg%u == %s", r->arg, r->value_name);
	case FILTER_EQ32:
		return xasprintf("arg%u (low 32 bits) == %s", r->arg, r->value_name);
	default:
		return NULL;
	}
}

json_t *filter_describe(const struct filter_opts *o)
{
	struct utsname u;
	json_t *list, *root;

	if (o->off)
		return json_pack("{s:b, s:s}", "enabled", 0, "warning",
				 "--seccomp=off: the worker runs without a syscall filter");
	list = json_array();
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		const struct filter_rule *r = &rules[i];
		_cleanup_free_ char *when = NULL;

		if (!filter_rule_enabled(o, r) || seccomp_syscall_resolve_name(r->syscall) < 0)
			continue;
		when = rule_when(r);
		json_array_append_new(list, json_pack("{s:s, s:s, s:s?, s:s}", "syscall",
						      r->syscall, "errno", strerrorname_np(r->err),
						      "when", when, "group", r->group));
	}
	root = json_pack("{s:b, s:s, s:s, s:s, s:o}", "enabled", 1, "arch",
			 uname(&u) == 0 ? u.machine : "native", "default", "allow", "bad_arch",
			 "kill-process", "rules", list);
	if (o->allow_local_listen)
		json_object_set_new(root, "note",
				    json_string("--allow-local-listen: listen, accept and accept4 "
						"are allowed; the nftables layer still holds"));
	return root;
}
