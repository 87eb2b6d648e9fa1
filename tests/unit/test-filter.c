/* SPDX-License-Identifier: MIT */
/*
 * The syscall filter: the table's errnos, the describe() output, and the
 * compiled filter on the real kernel (unprivileged: no_new_privs is
 * enough): the probe makes every denied call with bad arguments and must
 * get the filter's errno, not the kernel's EBADF/EFAULT/EINVAL; calls
 * through a foreign ABI (x32, int 0x80) kill it with SIGSYS.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "filter.h"
#include "util.h"

static char *slurp_stream(FILE *f)
{
	struct strbuf sb = {0};
	char buf[4096];
	size_t n;

	rewind(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	return sb.buf ? strbuf_detach(&sb) : xstrdup("");
}

static char *probe_path(void)
{
	const char *top = getenv("TOP_BUILDDIR");
	return xasprintf("%s/tests/helpers/seccomp-probe", top ? top : ".");
}

/* Run the probe with specs under prog (NULL: unfiltered); its stdout in *out. */
static int run_probe(const struct filter_prog *prog, char **specs, size_t n, char **out)
{
	_cleanup_free_ char *path = probe_path();
	char **argv = xcalloc(n + 2, sizeof(char *));
	struct strbuf sb = {0};
	char buf[4096];
	int p[2], status;
	ssize_t k;
	pid_t pid;

	argv[0] = path;
	for (size_t i = 0; i < n; i++)
		argv[i + 1] = specs[i];
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(120);
		if (prog && filter_apply(prog) < 0)
			_exit(121);
		execv(path, argv);
		_exit(122);
	}
	close(p[1]);
	while ((k = read(p[0], buf, sizeof(buf))) > 0)
		strbuf_add(&sb, buf, (size_t)k);
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	free(argv);
	*out = sb.buf ? strbuf_detach(&sb) : xstrdup("");
	return status;
}

/* The errno the probe printed for spec, or -1. */
static int result_of(const char *out, const char *spec)
{
	_cleanup_free_ char *key = xasprintf("%s ", spec);
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, strlen(key)) == 0)
			return atoi(l + strlen(key));
	return -1;
}

static char *spec_of(const struct filter_rule *r)
{
	switch (r->cond) {
	case FILTER_FLAG_SET:
		return xasprintf("clone:%#llx", (unsigned long long)r->value);
	case FILTER_EQ32:
		return xasprintf("ioctl:%#llx", (unsigned long long)r->value);
	case FILTER_EQ:
		return xasprintf("socket:%llu", (unsigned long long)r->value);
	default:
		return xasprintf("%s=%d", r->syscall, seccomp_syscall_resolve_name(r->syscall));
	}
}

START_TEST(test_table)
{
	size_t n;
	const struct filter_rule *r = filter_rules(&n);
	struct filter_opts o = {0}, listen_ok = {.allow_local_listen = true};

	ck_assert_uint_gt(n, 60);
	for (size_t i = 0; i < n; i++) {
		bool fallback = strcmp(r[i].syscall, "clone3") == 0 ||
				str_has_prefix(r[i].syscall, "io_uring_");
		if (fallback)
			ck_assert_int_eq(r[i].err, ENOSYS);
		else if (strcmp(r[i].syscall, "socket") == 0)
			ck_assert_int_eq(r[i].err, EAFNOSUPPORT);
		else
			ck_assert_int_eq(r[i].err, EPERM);
		ck_assert(filter_rule_enabled(&o, &r[i]));
		ck_assert(filter_rule_enabled(&listen_ok, &r[i]) ==
			  (strcmp(r[i].group, "listen") != 0));
	}
}
END_TEST

static json_t *rule_named(json_t *d, const char *name, const char *when)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(d, "rules"), i, v)
	{
		const char *w = json_string_value(json_object_get(v, "when"));
		if (strcmp(json_string_value(json_object_get(v, "syscall")), name) == 0 &&
		    (!when || (w && strstr(w, when))))
			return v;
	}
	return NULL;
}

START_TEST(test_describe)
{
	struct filter_opts o = {0}, ll = {.allow_local_listen = true}, off = {.off = true};
	json_t *d = filter_describe(&o), *v;

	ck_assert(json_is_true(json_object_get(d, "enabled")));
	ck_assert_str_eq(json_string_value(json_object_get(d, "bad_arch")), "kill-process");
	v = rule_named(d, "listen", NULL);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(json_string_value(json_object_get(v, "errno")), "EPERM");
	v = rule_named(d, "io_uring_setup", NULL);
	ck_assert_str_eq(json_string_value(json_object_get(v, "errno")), "ENOSYS");
	ck_assert_ptr_nonnull(rule_named(d, "clone", "CLONE_NEWUSER"));
	ck_assert_ptr_nonnull(rule_named(d, "ioctl", "low 32 bits) == TIOCSTI"));
	ck_assert_ptr_null(rule_named(d, "vm86", NULL)); /* not on this arch */
	json_decref(d);

	d = filter_describe(&ll);
	ck_assert_ptr_null(rule_named(d, "listen", NULL));
	ck_assert_ptr_null(rule_named(d, "accept4", NULL));
	ck_assert_ptr_nonnull(rule_named(d, "io_uring_enter", NULL));
	ck_assert_ptr_nonnull(json_object_get(d, "note"));
	json_decref(d);

	d = filter_describe(&off);
	ck_assert(json_is_false(json_object_get(d, "enabled")));
	ck_assert_ptr_nonnull(json_object_get(d, "warning"));
	json_decref(d);
}
END_TEST

START_TEST(test_compile)
{
	struct filter_opts o = {0}, off = {.off = true};
	struct filter_prog p;
	scmp_filter_ctx ctx;

	ck_assert_int_eq(filter_build(&o, &ctx), 0);
	seccomp_release(ctx);
	ck_assert_int_eq(filter_compile(&o, &p), 0);
	ck_assert_uint_gt(p.len, 20);
	ck_assert_ptr_nonnull(p.insns);
	filter_prog_free(&p);
	filter_prog_free(&p);
	ck_assert_int_eq(filter_compile(&off, &p), 0);
	ck_assert_uint_eq(p.len, 0);
	ck_assert_int_eq(filter_apply(&p), 0); /* empty: a no-op */
}
END_TEST

/* one rule per entry, as in src/filter.c's table */
/* clang-format off */
/*
 * The rules that must be there, written out here and not taken from
 * filter_rules(): a rule deleted from the table is still probed (and
 * denied nowhere), a rule added to it fails test_reference until it is
 * added here too.
 */
#define REF_ANY(name, e) {name, e, FILTER_ANY, 0}
#define REF_CLONE(flag) {"clone", EPERM, FILTER_FLAG_SET, flag}
#define REF_IOCTL(req) {"ioctl", EPERM, FILTER_EQ32, req}
#define REF_SOCKET(fam) {"socket", EAFNOSUPPORT, FILTER_EQ, fam}
static const struct ref_rule {
	const char *syscall;
	int err;
	enum filter_cond cond;
	uint64_t value;
} reference[] = {
	REF_ANY("listen", EPERM), REF_ANY("accept", EPERM), REF_ANY("accept4", EPERM),
	REF_ANY("io_uring_setup", ENOSYS), REF_ANY("io_uring_enter", ENOSYS),
	REF_ANY("io_uring_register", ENOSYS), REF_CLONE(CLONE_NEWNS), REF_CLONE(CLONE_NEWCGROUP),
	REF_CLONE(CLONE_NEWUTS), REF_CLONE(CLONE_NEWIPC), REF_CLONE(CLONE_NEWUSER),
	REF_CLONE(CLONE_NEWPID), REF_CLONE(CLONE_NEWNET), REF_ANY("clone3", ENOSYS),
	REF_ANY("unshare", EPERM), REF_ANY("setns", EPERM), REF_ANY("mount", EPERM),
	REF_ANY("umount", EPERM), REF_ANY("umount2", EPERM), REF_ANY("pivot_root", EPERM),
	REF_ANY("chroot", EPERM), REF_ANY("fsopen", EPERM), REF_ANY("fsconfig", EPERM),
	REF_ANY("fsmount", EPERM), REF_ANY("fspick", EPERM), REF_ANY("open_tree", EPERM),
	REF_ANY("move_mount", EPERM), REF_ANY("mount_setattr", EPERM), REF_ANY("keyctl", EPERM),
	REF_ANY("add_key", EPERM), REF_ANY("request_key", EPERM), REF_ANY("bpf", EPERM),
	REF_ANY("perf_event_open", EPERM), REF_ANY("userfaultfd", EPERM),
	REF_ANY("ptrace", EPERM), REF_ANY("process_vm_readv", EPERM),
	REF_ANY("process_vm_writev", EPERM), REF_ANY("process_madvise", EPERM),
	REF_ANY("pidfd_getfd", EPERM), REF_ANY("kcmp", EPERM), REF_ANY("kexec_load", EPERM),
	REF_ANY("kexec_file_load", EPERM), REF_ANY("init_module", EPERM),
	REF_ANY("finit_module", EPERM), REF_ANY("delete_module", EPERM),
	REF_ANY("reboot", EPERM), REF_ANY("swapon", EPERM), REF_ANY("swapoff", EPERM),
	REF_ANY("acct", EPERM), REF_ANY("quotactl", EPERM), REF_ANY("quotactl_fd", EPERM),
	REF_ANY("lookup_dcookie", EPERM), REF_ANY("syslog", EPERM), REF_ANY("iopl", EPERM),
	REF_ANY("ioperm", EPERM), REF_ANY("settimeofday", EPERM),
	REF_ANY("clock_settime", EPERM), REF_ANY("vhangup", EPERM),
	REF_ANY("nfsservctl", EPERM), REF_ANY("uselib", EPERM), REF_ANY("ustat", EPERM),
	REF_ANY("sysfs", EPERM), REF_ANY("_sysctl", EPERM), REF_ANY("vm86", EPERM),
	REF_ANY("vm86old", EPERM), REF_ANY("open_by_handle_at", EPERM),
	REF_ANY("fanotify_init", EPERM), REF_ANY("sethostname", EPERM),
	REF_ANY("setdomainname", EPERM), REF_IOCTL(TIOCSTI), REF_IOCTL(TIOCLINUX),
	REF_SOCKET(AF_VSOCK), REF_SOCKET(AF_ALG),
};
/* clang-format on */

static char *ref_spec(const struct ref_rule *r)
{
	struct filter_rule fr = {.syscall = r->syscall, .cond = r->cond, .value = r->value};
	return spec_of(&fr);
}

/* The table holds exactly the reference rules, each with its errno. */
START_TEST(test_reference)
{
	size_t n;
	const struct filter_rule *r = filter_rules(&n);

	for (size_t i = 0; i < ARRAY_SIZE(reference); i++) {
		const struct ref_rule *want = &reference[i];
		bool found = false;

		for (size_t j = 0; j < n && !found; j++)
			found = strcmp(r[j].syscall, want->syscall) == 0 &&
				r[j].cond == want->cond && r[j].value == want->value &&
				r[j].err == want->err;
		ck_assert_msg(found, "rule %s (%#llx, errno %d) is missing from the table",
			      want->syscall, (unsigned long long)want->value, want->err);
	}
	ck_assert_msg(n == ARRAY_SIZE(reference),
		      "the table has %zu rules, the reference here %zu: add the new rule here", n,
		      ARRAY_SIZE(reference));
}
END_TEST

/* Every reference rule: the filter's errno under the filter; the kernel's
 * without. */
START_TEST(test_probe_denied)
{
	struct filter_opts o = {0};
	struct filter_prog p;
	size_t n = ARRAY_SIZE(reference), k = 0;
	char **specs = xcalloc(n, sizeof(char *));
	const struct ref_rule **which = xcalloc(n, sizeof(*which));
	_cleanup_free_ char *with = NULL, *without = NULL;
	int status;

	for (size_t i = 0; i < n; i++) {
		if (reference[i].cond == FILTER_ANY &&
		    seccomp_syscall_resolve_name(reference[i].syscall) < 0)
			continue; /* not on this architecture */
		which[k] = &reference[i];
		specs[k++] = ref_spec(&reference[i]);
	}
	ck_assert_uint_gt(k, 60);
	ck_assert_int_eq(filter_compile(&o, &p), 0);
	status = run_probe(&p, specs, k, &with);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "probe status %#x", status);
	status = run_probe(NULL, specs, k, &without);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "probe status %#x", status);
	for (size_t i = 0; i < k; i++) {
		int got = result_of(with, specs[i]), raw = result_of(without, specs[i]);
		ck_assert_msg(got == which[i]->err, "%s: errno %d under the filter, want %d",
			      specs[i], got, which[i]->err);
		/* the call itself must not give the same answer (as root it never does) */
		if (geteuid() == 0)
			ck_assert_msg(raw != got, "%s: errno %d without the filter too", specs[i],
				      raw);
		free(specs[i]);
	}
	free(specs);
	free(which);
	filter_prog_free(&p);
}
END_TEST

/* Neighbours of the denied cases stay allowed: the comparisons are exact. */
START_TEST(test_probe_allowed)
{
	struct filter_opts o = {0}, ll = {.allow_local_listen = true};
	struct filter_prog p;
	_cleanup_free_ char *out = NULL, *out2 = NULL;
	_cleanup_free_ char *clone0 = xstrdup("clone:0"),
			    *tcgets = xasprintf("ioctl:%#x", (unsigned)TCGETS),
			    *unix_ = xasprintf("socket:%d", AF_UNIX),
			    *listen =
				    xasprintf("listen=%d", seccomp_syscall_resolve_name("listen")),
			    *acc = xasprintf("accept4=%d", seccomp_syscall_resolve_name("accept4"));
	char *specs[] = {clone0, tcgets, unix_, listen, acc};

	ck_assert_int_eq(filter_compile(&o, &p), 0);
	ck_assert_int_eq(run_probe(&p, specs, ARRAY_SIZE(specs), &out), 0);
	filter_prog_free(&p);
	ck_assert_int_eq(result_of(out, clone0), EINVAL);
	ck_assert_int_eq(result_of(out, tcgets), EBADF);
	ck_assert_int_eq(result_of(out, unix_), EINVAL);
	ck_assert_int_eq(result_of(out, listen), EPERM);

	/* --allow-local-listen: the kernel answers listen() again */
	ck_assert_int_eq(filter_compile(&ll, &p), 0);
	ck_assert_int_eq(run_probe(&p, specs, ARRAY_SIZE(specs), &out2), 0);
	filter_prog_free(&p);
	ck_assert_int_eq(result_of(out2, listen), EBADF);
	ck_assert_int_ne(result_of(out2, acc), EPERM);
}
END_TEST

static void killed_by_sigsys(const char *abi)
{
	struct filter_opts o = {0};
	struct filter_prog p;
	_cleanup_free_ char *out = NULL, *spec = xstrdup(abi);
	int status;

	ck_assert_int_eq(filter_compile(&o, &p), 0);
	status = run_probe(&p, &spec, 1, &out);
	filter_prog_free(&p);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		      "%s: status %#x, output %s", abi, status, out);
	/* and without the filter the same call works */
	free(out);
	status = run_probe(NULL, &spec, 1, &out);
	ck_assert_int_eq(status, 0);
}

START_TEST(test_x32_killed)
{
	killed_by_sigsys("x32");
}
END_TEST

START_TEST(test_i386_killed)
{
	killed_by_sigsys("i386");
}
END_TEST

/* The syscall numbers a PFC text compares with, sorted, one per line. */
static char *pfc_syscalls(const char *pfc)
{
	struct strbuf sb = {0};
	char line[32];
	bool seen[1024] = {false};

	for (const char *q = strstr(pfc, "$syscall == "); q; q = strstr(q + 1, "$syscall == ")) {
		long nr = strtol(q + strlen("$syscall == "), NULL, 10);
		if (nr >= 0 && nr < (long)ARRAY_SIZE(seen))
			seen[nr] = true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(seen); i++)
		if (seen[i])
			strbuf_add(&sb, line, (size_t)snprintf(line, sizeof(line), "%zu\n", i));
	return sb.buf ? strbuf_detach(&sb) : xstrdup("");
}

/* The filter as libseccomp's pseudo filter code, against the golden file
 * (x86_64): the syscalls it compares with on every libseccomp version, the
 * whole text on 2.5, which wrote the file (others print differently). */
START_TEST(test_golden_pfc)
{
	const struct scmp_version *v = seccomp_version();
	struct filter_opts o = {0};
	scmp_filter_ctx ctx;
	char *got, *want;
	_cleanup_free_ char *got_nr = NULL, *want_nr = NULL;
	FILE *f;

	ck_assert_int_eq(filter_build(&o, &ctx), 0);
	/* libseccomp writes to an fd */
	f = tmpfile();
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(seccomp_export_pfc(ctx, fileno(f)), 0);
	seccomp_release(ctx);
	got = slurp_stream(f);
	fclose(f);
	f = fopen(TEST_DATA_DIR "/seccomp/filter-x86_64.pfc", "re");
	ck_assert_ptr_nonnull(f);
	want = slurp_stream(f);
	fclose(f);
	got_nr = pfc_syscalls(got);
	want_nr = pfc_syscalls(want);
	ck_assert_uint_gt(strlen(want_nr), 100);
	ck_assert_msg(strcmp(got_nr, want_nr) == 0,
		      "the filter's syscalls changed: update tests/data/seccomp/filter-x86_64.pfc "
		      "knowingly (%zu numbers now, %zu in the file)",
		      strlen(got_nr), strlen(want_nr));
	if (v->major == 2 && v->minor == 5)
		ck_assert_msg(strcmp(got, want) == 0,
			      "the filter changed: update tests/data/seccomp/filter-x86_64.pfc "
			      "knowingly:\n%s",
			      got);
	free(got);
	free(want);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("filter");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_reference);
	tcase_add_test(tc, test_describe);
	tcase_add_test(tc, test_compile);
	tcase_add_test(tc, test_probe_denied);
	tcase_add_test(tc, test_probe_allowed);
#if defined(__x86_64__)
	tcase_add_test(tc, test_golden_pfc);
	tcase_add_test(tc, test_x32_killed);
	tcase_add_test(tc, test_i386_killed);
#endif
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
