/* SPDX-License-Identifier: MIT */
/*
 * Creating the worker process: clone3(CLONE_PIDFD [| CLONE_INTO_CGROUP]),
 * falling back to clone3 + a cgroup handshake, then to fork + pidfd_open;
 * the child's setup up to the exec: the start command's own words when
 * it is a plain list of them and no ./.environment is to be sourced (as
 * dash would: PATH search, PWD, a script without "#!" run by /bin/sh),
 * else execve("/bin/sh", {"sh", "-c", script}).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "exitcodes.h"
#include "log.h"
#include "pidfd.h"
#include "signals.h"
#include "spawn.h"
#include "startcmd.h"
#include "util.h"

/* What the child reports over the error pipe when it cannot go on. */
enum child_step {
	STEP_HANDSHAKE,
	STEP_JOIN_V1,
	STEP_SETSID,
	STEP_PDEATHSIG,
	STEP_NAMESPACES,
	STEP_STDIN,
	STEP_CHDIR,
	STEP_HOOK, /* one of o->steps, index in child_error.index */
	STEP_CLOSE_FDS,
	STEP_EXEC,
	STEP_EXEC_DIRECT, /* o->argv[0] */
	STEP_COUNT	  /* not a step: the size of step_names */
};

/* Not a failure: the child ran the shell although the command was plain,
 * because ./.environment is readable (child_error.step). */
#define NOTE_ENVIRONMENT (-1)

struct child_error {
	int step;
	int index;
	int err;
};

/* In the enum's order, one for each: positional, so that no value can be
 * left without a name unnoticed (the assertion counts them). */
static const char *const step_names[] = {
	"wait for its cgroup",			 /* STEP_HANDSHAKE */
	"join its cgroup in the v1 hierarchies", /* STEP_JOIN_V1 */
	"create a new session",			 /* STEP_SETSID */
	"set the parent-death signal",		 /* STEP_PDEATHSIG */
	"join its IPC and UTS namespaces",	 /* STEP_NAMESPACES */
	"open /dev/null as stdin",		 /* STEP_STDIN */
	"enter the app root",			 /* STEP_CHDIR */
	"set up",				 /* STEP_HOOK */
	"close inherited file descriptors",	 /* STEP_CLOSE_FDS */
	"execute " SPAWN_SHELL,			 /* STEP_EXEC */
	"execute its start command",		 /* STEP_EXEC_DIRECT */
};
_Static_assert(ARRAY_SIZE(step_names) == STEP_COUNT, "a name for every child_step");

char *spawn_script(const char *start, int stop_signal)
{
	static const int relayed[] = {SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH, SIGQUIT};
	struct strbuf sb = {0};

	/* berth relays these to the worker's process group, which includes
	 * this shell: dash does not exec the last command, and would die of
	 * them (default action), making it look as if the start command had
	 * terminated.  A no-op trap keeps it alive; caught signals are reset
	 * by execve, so the programs it runs still get the default action. */
	strbuf_puts(&sb, "trap :");
	for (size_t i = 0; i < ARRAY_SIZE(relayed); i++)
		if (relayed[i] != stop_signal)
			strbuf_printf(&sb, " %s", signals_name(relayed[i]));
	/* Platform.sh sources .environment with dash in the app root when the
	 * container starts, after every variable is set, so it may override
	 * them; the start command then runs in the same shell. */
	strbuf_puts(&sb, "\nif [ -r ./.environment ]; then . ./.environment; fi\n");
	/* A plain command (startcmd) is the program whether the shell runs
	 * or not: exec'd, it gets the signals relayed to the shell's pid too
	 * (an OCI runtime's init script relays to that pid alone). */
	const char *first = start + strspn(start, " \t");
	bool has_exec = strncmp(first, "exec", 4) == 0 && strchr(" \t\n", first[4]);

	if (!startcmd_why_shell(start) && !has_exec)
		strbuf_puts(&sb, "exec ");
	strbuf_puts(&sb, start);
	return strbuf_detach(&sb);
}

static _Noreturn void child_fail(int errfd, enum child_step step, int index, int err)
{
	struct child_error ce = {.step = step, .index = index, .err = err};
	ssize_t n;

	do
		n = write(errfd, &ce, sizeof(ce));
	while (n < 0 && errno == EINTR);
	if (step == STEP_EXEC || step == STEP_EXEC_DIRECT)
		_exit(err == ENOENT ? BERTH_EXIT_NOTFOUND : BERTH_EXIT_NOEXEC);
	_exit(BERTH_EXIT_SETUP);
}

/* Mark every fd >= 3 close-on-exec: those berth was started with too
 * (CVE-2024-21626), and the error pipe closes itself at execve. */
static int cloexec_from_3(void)
{
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			int fd = (int)strtol(e->d_name, NULL, 10);
			if (fd >= 3 && fd != dirfd(d))
				fcntl(fd, F_SETFD, FD_CLOEXEC);
		}
		closedir(d);
		return 0;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	for (rlim_t fd = 3; fd < rl.rlim_cur && fd < (1U << 20); fd++)
		fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

/* glibc refuses to touch the signals it reserves (32, 33), but an ignored
 * one is inherited through execve all the same: reset it with the raw
 * syscall (the kernel's struct sigaction; SIG_DFL needs no restorer). */
static void reset_reserved_signal(int sig)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} ksa = {SIG_DFL, 0, NULL, 0};

	syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof(ksa.mask));
}

/* Waits until the child is in its cgroup: the parent's handshake byte
 * (clone3 placed it), or joins the v1 hierarchies itself. */
static void child_enter_cgroup(const struct spawn_opts *o, int errfd, int hsfd, bool join_v1)
{
	int r;

	/* Not a single instruction of the worker before it is in its cgroup. */
	if (hsfd >= 0) {
		char c;
		ssize_t n;
		do
			n = read(hsfd, &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(BERTH_EXIT_SETUP);
	} else if (join_v1) {
		r = cgroup_join_v1(o->cg);
		if (r < 0)
			child_fail(errfd, STEP_JOIN_V1, 0, -r);
	}
}

/* Default dispositions for every signal; dies with berth. */
static void child_reset_signals(const struct spawn_opts *o, int errfd, pid_t parent)
{
	struct sigaction dfl;

	/* Default dispositions for everything; the mask is emptied last so a
	 * signal sent meanwhile reaches the worker only after execve. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, &dfl, NULL) < 0)
			reset_reserved_signal(sig);

	/* If berth dies, its direct child goes too (the cgroup holds the rest). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(errfd, STEP_PDEATHSIG, 0, errno);
	/* Did berth die before that?  In the worker's PID namespace berth has
	 * no pid (getppid() is 0), but there berth's death already killed
	 * the child: the namespace's init went with it. */
	if (!o->ns && getppid() != parent)
		_exit(BERTH_EXIT_SETUP);
}

/* stdin: the given fd, or /dev/null. */
static void child_stdin(const struct spawn_opts *o, int errfd)
{
	if (o->stdin_fd >= 0) {
		if (o->stdin_fd != STDIN_FILENO && dup2(o->stdin_fd, STDIN_FILENO) < 0)
			child_fail(errfd, STEP_STDIN, 0, errno);
		return;
	}
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		child_fail(errfd, STEP_STDIN, 0, errno);
	if (fd != STDIN_FILENO) {
		if (dup2(fd, STDIN_FILENO) < 0)
			child_fail(errfd, STEP_STDIN, 0, errno);
		close(fd);
	} else if (fcntl(fd, F_SETFD, 0) < 0) {
		child_fail(errfd, STEP_STDIN, 0, errno);
	}
}

/* NAME's value in envp, the last one as dash keeps it, or NULL. */
static const char *env_value(char *const *envp, const char *name)
{
	size_t n = strlen(name);
	const char *v = NULL;

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			v = *envp + n + 1;
	return v;
}

/* Exec o->argv with the environment dash would have given it: o->envp and
 * PWD, kept when it names the cwd, else the cwd's path.  The error. */
static int exec_direct(const struct spawn_opts *o)
{
	const char *pwd = env_value(o->envp, "PWD");
	char pwd_var[PATH_MAX + 4] = "PWD=";
	struct stat a, b;
	size_t n = 0, k = 0;

	while (o->envp && o->envp[n])
		n++;
	char *envp[n + 2];
	bool keep = pwd && pwd[0] == '/' && stat(pwd, &a) == 0 && stat(".", &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	bool have_cwd = !keep && getcwd(pwd_var + 4, sizeof(pwd_var) - 4);

	for (size_t i = 0; i < n; i++)
		if (!have_cwd || strncmp(o->envp[i], "PWD=", 4) != 0)
			envp[k++] = o->envp[i];
	if (have_cwd)
		envp[k++] = pwd_var;
	envp[k] = NULL;
	/* execvpe() searches the PATH of this process's environment, which
	 * is the worker's from here on (the worker's always has one); a file
	 * without "#!" is run by /bin/sh, as dash does */
	environ = envp;
	execvpe(o->argv[0], o->argv, envp);
	return errno;
}

/* The exec: the start command's words unless ./.environment is to be
 * sourced (readable, as the shell's test -r sees it), else the shell. */
static _Noreturn void child_exec(const struct spawn_opts *o, int errfd)
{
	char sh[] = "sh", dash_c[] = "-c";
	char *const argv[] = {sh, dash_c, (char *)o->script, NULL};

	if (o->argv) {
		if (access("./.environment", R_OK) < 0)
			child_fail(errfd, STEP_EXEC_DIRECT, 0, exec_direct(o));
		struct child_error note = {.step = NOTE_ENVIRONMENT};
		if (write(errfd, &note, sizeof(note)) < 0) {
			/* only berth's -v line is missing */
		}
	}
	execve(SPAWN_SHELL, argv, o->envp);
	child_fail(errfd, STEP_EXEC, 0, errno);
}

/* The child, between clone and execve.  Only async-signal-safe calls (the
 * /proc fallback of cloexec_from_3 aside: berth is single-threaded). */
static _Noreturn void child_main(const struct spawn_opts *o, int errfd, int hsfd, bool join_v1,
				 pid_t parent)
{
	sigset_t empty;
	int r;

	child_enter_cgroup(o, errfd, hsfd, join_v1);
	if (setsid() < 0)
		child_fail(errfd, STEP_SETSID, 0, errno);
	child_reset_signals(o, errfd, parent);

	/* First of the pre-exec steps: it needs CAP_SYS_ADMIN. */
	if (o->ns &&
	    (setns(o->ns->ipc_fd, CLONE_NEWIPC) < 0 || setns(o->ns->uts_fd, CLONE_NEWUTS) < 0))
		child_fail(errfd, STEP_NAMESPACES, 0, errno);

	child_stdin(o, errfd);
	if (o->cwd_fd >= 0 && fchdir(o->cwd_fd) < 0)
		child_fail(errfd, STEP_CHDIR, 0, errno);

	for (size_t i = 0; i < o->n_steps; i++) {
		r = o->steps[i].run(o->steps[i].data);
		if (r < 0)
			child_fail(errfd, STEP_HOOK, (int)i, -r);
	}

	r = cloexec_from_3();
	if (r < 0)
		child_fail(errfd, STEP_CLOSE_FDS, 0, -r);

	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);
	child_exec(o, errfd);
}

/* Read the child's reports until its exec (0 bytes): a note, or why it
 * failed. */
static void report_child(int errfd, const struct spawn_opts *o, pid_t pid, struct spawn_result *out)
{
	struct child_error ce;
	const char *what, *verb = "", *cmd = "";
	ssize_t n;

	for (;;) {
		do
			n = read(errfd, &ce, sizeof(ce));
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)sizeof(ce))
			return;
		if (ce.step != NOTE_ENVIRONMENT)
			break;
		out->way = "by " SPAWN_SHELL " -c: ./.environment is readable";
	}
	if (ce.step == STEP_HOOK && ce.index >= 0 && (size_t)ce.index < o->n_steps) {
		what = o->steps[ce.index].name;
		verb = "set up ";
	} else if (ce.step >= 0 && (size_t)ce.step < ARRAY_SIZE(step_names))
		what = step_names[ce.step];
	else
		return;
	if (ce.step == STEP_EXEC_DIRECT)
		cmd = o->argv[0];
	log_event(LOG_LVL_ERROR, "spawn-failed",
		  log_json() ? json_pack("{s:I, s:s, s:s*, s:s}", "worker_pid", (json_int_t)pid,
					 "step", what, "command", *cmd ? cmd : NULL, "error",
					 strerror(ce.err))
			     : NULL,
		  "worker process %ld could not %s%s%s%s: %s", (long)pid, verb, what,
		  *cmd ? " " : "", cmd, strerror(ce.err));
}

/* What spawn_worker() decided about the child's placement. */
struct placement {
	int clone_fd; /* the cgroup2 fd for CLONE_INTO_CGROUP, or -1 */
	bool handshake, join_v1, v2;
};

/* clone3 with a pidfd (into the cgroup when it can), else clone3 and the
 * handshake, else fork + pidfd_open.  Returns what fork returns; p and
 * out->method say how it was placed. */
static pid_t clone_worker(const struct spawn_opts *o, struct placement *p, int *pidfd,
			  struct spawn_result *out)
{
	pid_t pid;
	int r;

	if (p->handshake)
		out->method = "clone3+handshake";
	else if (p->clone_fd >= 0)
		out->method = p->join_v1 ? "clone3+cgroup+tasks" : "clone3+cgroup";
	else
		out->method = p->join_v1 ? "clone3+tasks" : "clone3";
	pid = pidfd_clone3(CLONE_PIDFD | (p->clone_fd >= 0 ? CLONE_INTO_CGROUP : 0), p->clone_fd,
			   pidfd);
	if (pid < 0 && p->clone_fd >= 0 && errno != ENOSYS && errno != EAGAIN && errno != ENOMEM) {
		/* CLONE_INTO_CGROUP unsupported (< 5.7) or refused for this
		 * hierarchy: place the child by hand before it runs anything. */
		log_debug("clone3(CLONE_INTO_CGROUP): %s; using a handshake", strerror(errno));
		p->handshake = true;
		p->join_v1 = false;
		out->method = "clone3+handshake";
		pid = pidfd_clone3(CLONE_PIDFD, -1, pidfd);
	}
	if (pid < 0 && (errno == ENOSYS || errno == E2BIG)) {
		/* clone3 is 5.3+ and may be filtered by an outer seccomp profile. */
		p->handshake = p->v2;
		p->join_v1 = o->cg && !p->v2 && cgroup_has_v1(o->cg);
		out->method = p->join_v1 ? "fork+tasks" : "fork";
		pid = fork();
		if (pid > 0) {
			*pidfd = pidfd_open_pid(pid);
			if (*pidfd < 0) {
				r = *pidfd;
				kill(pid, SIGKILL); /* not reaped yet: the pid is ours */
				waitpid(pid, NULL, 0);
				errno = -r;
				log_errno(r, "pidfd_open");
				return -1;
			}
		}
	}
	if (pid < 0)
		log_errno(-errno, "cannot create the worker process");
	return pid;
}

/* In the worker's PID namespace (o->ns), or berth's own: where berth's
 * next children are created.  0 or -errno (logged). */
static int pid_for_children(const struct spawn_opts *o, bool worker)
{
	if (!o->ns)
		return 0;
	if (setns(worker ? o->ns->pid_fd : o->ns->own_pid_fd, CLONE_NEWPID) < 0)
		return log_errno(-errno, "setns into %s PID namespace",
				 worker ? "the worker's" : "berth's own");
	return 0;
}

/* Kill and reap a child that cannot go on; r passed through. */
static int abandon(pid_t pid, int pidfd, int r)
{
	pidfd_signal(pidfd, SIGKILL);
	waitpid(pid, NULL, 0);
	return r;
}

int spawn_worker(const struct spawn_opts *o, struct spawn_result *out)
{
	_cleanup_close_ int err_rd = -1, err_wr = -1, hs_rd = -1, hs_wr = -1, pidfd = -1;
	struct placement pl = {.clone_fd = -1};
	int p[2], r;
	pid_t parent = getpid(), pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return log_errno(-errno, "pipe2");
	err_rd = p[0];
	err_wr = p[1];
	if (o->cg) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return log_errno(-errno, "pipe2");
		hs_rd = p[0];
		hs_wr = p[1];
		/* cgroup2 by CLONE_INTO_CGROUP, the v1 hierarchies by the child
		 * itself; berth moves the child into all of them while it waits
		 * (the handshake) only where cgroup2 cannot be had by clone3. */
		int v2_fd = cgroup_clone_fd(o->cg);

		pl.v2 = v2_fd >= 0;
		pl.clone_fd = o->no_clone_into ? -1 : v2_fd;
		pl.handshake = pl.v2 && pl.clone_fd < 0;
		pl.join_v1 = !pl.handshake && cgroup_has_v1(o->cg);
	}

	r = pid_for_children(o, true);
	if (r < 0)
		return r;
	pid = clone_worker(o, &pl, &pidfd, out);
	if (pid == 0)
		child_main(o, err_wr, pl.handshake ? hs_rd : -1, pl.join_v1, parent);
	int clone_err = errno;
	r = pid_for_children(o, false);
	if (pid < 0)
		return -clone_err;
	if (r < 0) /* berth's next children would be the worker's: never */
		return abandon(pid, pidfd, r);

	close(TAKE_FD(err_wr));
	close(TAKE_FD(hs_rd));
	if (pl.handshake) {
		r = cgroup_attach(o->cg, pid);
		if (r < 0)
			return abandon(pid, pidfd, r);
		if (write(hs_wr, "", 1) != 1) {
			r = -errno;
			log_errno(r, "cannot release the worker process");
			return abandon(pid, pidfd, r);
		}
	}
	close(TAKE_FD(hs_wr));
	/* what a step waits for (the ruleset's gate), finished meanwhile */
	if (o->spawned && (r = o->spawned(o->spawned_data)) < 0)
		return abandon(pid, pidfd, r);
	out->way = o->argv ? "directly" : "by " SPAWN_SHELL " -c";
	report_child(err_rd, o, pid, out);

	out->pid = pid;
	out->pidfd = TAKE_FD(pidfd);
	return 0;
}
