/* SPDX-License-Identifier: MIT */
/*
 * The worker's cgroup: detection of the host's hierarchy (pure v2, hybrid
 * = v1 controllers + a cgroup2 mount used for tracking and killing, v1
 * only), creation of one cgroup per instance, placement, emptiness
 * tracking, cgroup-wide signalling and SIGKILL, removal.
 * Limits from `size` are written by cgroup_apply_limits().
 */
#ifndef BERTH_CGROUP_H
#define BERTH_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum cgroup_mode {
	CGROUP_MODE_NONE,   /* no usable hierarchy (or --no-cgroup) */
	CGROUP_MODE_V2,	    /* pure cgroup v2 */
	CGROUP_MODE_HYBRID, /* v1 controllers, cgroup2 for tracking */
	CGROUP_MODE_V1,	    /* v1 only: the freezer for race-free kills */
};

enum cgroup_v1_ctl { CG_V1_FREEZER, CG_V1_MEMORY, CG_V1_CPU, CG_V1_PIDS, CG_V1_COUNT };

struct cgroup_layout {
	enum cgroup_mode mode;
	char *unified_mnt;	   /* cgroup2 mount point, or NULL */
	char *v1_mnt[CG_V1_COUNT]; /* each v1 controller's mount, or NULL */
	/* The cgroup each mount shows at its mount point (mountinfo field 4,
	 * "/" unless a subtree was bind-mounted), to map /proc/self/cgroup
	 * paths onto directories. */
	char *unified_root;
	char *v1_root[CG_V1_COUNT];
	/* Each v1 mount's super options without rw/ro ("cpu,cpuacct"): a
	 * cgroup namespace can mount the hierarchy again only with these. */
	char *v1_opts[CG_V1_COUNT];
};

/* Controllers berth writes limits to (a mask for cgroup_create_opts). */
enum cgroup_ctl {
	CG_CTL_MEMORY = 1 << 0,
	CG_CTL_CPU = 1 << 1,
	CG_CTL_PIDS = 1 << 2,
};
#define CG_CTL_ALL (CG_CTL_MEMORY | CG_CTL_CPU | CG_CTL_PIDS)

/* One instance's cgroup(s).  fds are O_PATH|O_DIRECTORY dirfds, -1 if unused. */
struct cgroup {
	enum cgroup_mode mode;
	int v2_fd;     /* the instance's cgroup2 directory */
	char *v2_path; /* its absolute path */
	int v1_fd[CG_V1_COUNT];
	char *v1_path[CG_V1_COUNT];
	int events_fd;	  /* cgroup.events (poll POLLPRI) or -1 */
	int oom_fd;	  /* the OOM kill counter's file, once read, or -1 */
	int oom_event_fd; /* v1: the eventfd registered for OOM notices, or -1 */
	/* Private to cgroup*.c (kept here so the struct can live on the stack). */
	char *name;	  /* the instance directory's name */
	int v2_parent_fd; /* O_PATH dirfds of the parents, for rmdir */
	int v1_parent_fd[CG_V1_COUNT];
	unsigned ctl_enabled; /* v2: CG_CTL_* this instance enabled in the parent */
	unsigned ctl_usable;  /* CG_CTL_* whose files exist for the instance */
};

/* A process found in the cgroup; comm is "?" when it vanished meanwhile. */
struct cgroup_proc {
	pid_t pid;
	char comm[16];
};

/* Inspect /proc/self/mountinfo.  Returns 0 or -errno. */
int cgroup_detect(struct cgroup_layout *out);
/* The pure part of cgroup_detect: classify a mountinfo text.  0 or -EINVAL. */
int cgroup_parse_mountinfo(const char *text, struct cgroup_layout *out);
/* From a /proc/<pid>/cgroup text, the path of the hierarchy carrying
 * `controller` (a v1 controller name such as "memory"), or of the unified
 * hierarchy (the "0::" line) when controller is NULL.  0, -ENOENT, -EINVAL. */
int cgroup_parse_proc_cgroup(const char *text, const char *controller, char **path);
/* Narrow a detected layout to another mode, dropping the hierarchies that
 * mode does not use (tests exercise the v2 path on a hybrid host's cgroup2
 * mount, and the v1 path without it).  0, or -ENOENT when a hierarchy the
 * mode needs is absent. */
int cgroup_layout_force(struct cgroup_layout *l, enum cgroup_mode mode);
void cgroup_layout_free(struct cgroup_layout *l);
/* A copy of from (one detection per start: the view's, passed on to run). */
void cgroup_layout_copy(const struct cgroup_layout *from, struct cgroup_layout *to);
const char *cgroup_mode_to_string(enum cgroup_mode m);

/*
 * Create the instance cgroup `name` (a single path component) beneath the
 * cgroup berth runs in (or beneath `parent`, a path below each hierarchy's
 * mount point, when not NULL).  Fails with a clear message naming the
 * path when berth may not create cgroups.  Returns 0 or -errno.
 */
int cgroup_create(const struct cgroup_layout *l, const char *parent, const char *name,
		  struct cgroup *cg);
/* At most this many companions (below). */
#define CGROUP_MAX_COMPANIONS 4

/* How cgroup_create_with() makes the instance cgroup. */
struct cgroup_create_opts {
	const char *parent;	 /* as cgroup_create()'s; NULL: berth's own cgroup */
	unsigned controllers;	 /* CG_CTL_* to enable (cgroup_create(): CG_CTL_ALL) */
	const pid_t *companions; /* berth's own helpers (slirp4netns), in berth's cgroup: on
				  * pure v2 they move with berth into its supervisor
				  * leaf and back, else P would still hold processes */
	size_t n_companions;	 /* at most CGROUP_MAX_COMPANIONS (more are left) */
};

/* cgroup_create() with options.  On v2 the `controllers` offered by the
 * parent are enabled in its cgroup.subtree_control (moving berth and its
 * companions into <parent>/<name>-supervisor first if berth itself is in
 * the parent); one that cannot be had is not an error here:
 * cgroup_apply_limits() names it.  The leaf is berth's, not the
 * instance's: while berth sits in it, the parent is still the cgroup berth
 * came from.  cg is initialised even on failure (cgroup_release() is then
 * a no-op). */
int cgroup_create_with(const struct cgroup_layout *l, const char *name,
		       const struct cgroup_create_opts *o, struct cgroup *cg);
/* The fd to pass to clone3(CLONE_INTO_CGROUP): the instance's cgroup2
 * directory (pure v2 and hybrid), or -1 on v1.  It places the child in
 * cgroup2 only: the v1 hierarchies are joined by the child itself
 * (cgroup_join_v1).  The fd stays owned by cg. */
int cgroup_clone_fd(const struct cgroup *cg);
/* True when the instance has directories in v1 hierarchies (hybrid, v1). */
bool cgroup_has_v1(const struct cgroup *cg);
/* For the worker's child, first thing after clone: join the instance's v1
 * hierarchies by writing "0" to their `tasks` files.  A thread that moves
 * itself skips the kernel's global cgroup_threadgroup_rwsem, whose write
 * side waits for an RCU grace period: 10-15 ms on the bench VM when the
 * parent writes the child's pid to cgroup.procs instead (bench/README).
 * Async-signal-safe, no logging.  0 or -errno. */
int cgroup_join_v1(const struct cgroup *cg);
/* Move pid into every hierarchy of the instance (v2 first): the handshake,
 * where CLONE_INTO_CGROUP is not used.  0 or -errno. */
int cgroup_attach(const struct cgroup *cg, pid_t pid);
/* 1 when any process is in the cgroup, 0 when empty, or -errno.  v2:
 * "populated" of cgroup.events (read through events_fd, which re-arms its
 * POLLPRI); v1: cgroup.procs of the tracking hierarchy (the freezer, else
 * any), recursively.  A zombie does not count: the kernel unlinks a task
 * from its cgroups as it exits, before it is reaped. */
int cgroup_populated(const struct cgroup *cg);
/* The pids in the cgroup, recursively (freshly allocated array). */
int cgroup_pids(const struct cgroup *cg, pid_t **pids, size_t *n);
/* The same with each process's name (/proc/<pid>/comm). */
int cgroup_procs(const struct cgroup *cg, struct cgroup_proc **procs, size_t *n);
/* Send sig to every process of the cgroup, frozen while signalled so no
 * new process escapes; thawed on every path.  *count receives how many
 * were signalled. */
int cgroup_signal_all(const struct cgroup *cg, int sig, size_t *count);
/* The same with sigs[0..nsigs) sent in that order to each process (the
 * stop signal and SIGCONT in one sweep), skipping the members of process
 * group pgid when pgid > 0 (the caller signalled that group already, so
 * none gets a signal twice).  *count: the processes signalled here. */
int cgroup_signal_all_except(const struct cgroup *cg, const int *sigs, size_t nsigs, pid_t pgid,
			     size_t *count);
/* SIGKILL everything: cgroup.kill where present, else freeze/kill/thaw
 * until a pass finds no new process.  Does not wait for the cgroup to
 * empty (the caller reaps, then watches cgroup_populated()). */
int cgroup_kill_all(const struct cgroup *cg, size_t *count);
/* The same, returning the processes found just before the kill (for the
 * "killed N processes at the deadline" log); *procs freshly allocated. */
int cgroup_kill_all_procs(const struct cgroup *cg, struct cgroup_proc **procs, size_t *n);
/* Remove the instance cgroup(s), leaves first; once no other instance is
 * left beneath the parent, also berth's supervisor leaf (berth moves back).
 * Idempotent.  -EBUSY (logged, naming the pids) when processes remain. */
int cgroup_destroy(struct cgroup *cg);
/* Does berth sit in its supervisor leaf (pure v2), which cgroup_destroy
 * may remove, so that its own children must be gone first? */
bool cgroup_in_supervisor_leaf(void);
/* The absolute paths of every directory berth created for cg, for the
 * instance record (instance.h): the instance's cgroup in each hierarchy,
 * then berth's supervisor leaf on pure v2 when it sits in one.  A fresh
 * NULL-terminated vector (strv_free). */
char **cgroup_dirs(const struct cgroup *cg);
/* The cgroup directory at path (one of cgroup_dirs() of a berth that died),
 * reopened without following links and checked to be on cgroupfs: every
 * process in it is SIGKILLed (cgroup_kill_all; *killed counts them), the
 * wait for it to empty is bounded by timeout_ms, then it is removed, its
 * children first; for berth's supervisor leaf, the controllers it enabled
 * in the parent are turned off once nothing is left beneath the parent.
 * 1 when removed, 0 when it was gone already, -ETIMEDOUT or -errno
 * (logged, naming the cgroup).  Refused when berth is in it. */
int cgroup_remove_stale(const char *path, unsigned timeout_ms, size_t *killed);
/* Close fds and free paths (does not remove anything). */
void cgroup_release(struct cgroup *cg);
/* An empty handle (every fd -1). */
void cgroup_init(struct cgroup *cg, enum cgroup_mode mode);
/* The cgroup(s) that pid is in, in the hierarchies that carry berth's
 * controllers (v2; else the v1 memory, cpu and pids hierarchies present),
 * for cgroup_apply_limits(): not for listing or killing, and never for
 * cgroup_destroy().  0 or -errno (logged); cg is released on failure. */
int cgroup_open_pid(pid_t pid, struct cgroup *cg);

/* Limits.  A zero field is "not set" and left alone. */
struct cgroup_limits {
	uint64_t memory_bytes;	/* memory.max / memory.limit_in_bytes; swap is then 0 */
	uint64_t cpu_quota_us;	/* cpu.max / cpu.cfs_quota_us */
	uint64_t cpu_period_us; /* 0: 100000 (100 ms) */
	uint64_t pids_max;	/* pids.max */
	bool allow_missing;	/* missing controller: warning instead of error */
};

/*
 * Write the limits, read each back and compare.  With a memory limit:
 * swap 0 (memory.swap.max, or memory.memsw.limit_in_bytes where present)
 * and memory.oom.group = 1 on v2.  A controller that is missing or not
 * delegated is named; -ENOENT unless lim->allow_missing (then a warning).
 */
int cgroup_apply_limits(const struct cgroup *cg, const struct cgroup_limits *lim);
/* OOM kills so far (memory.events "oom_kill" on v2, memory.oom_control
 * "oom_kill" on v1).  -ENOENT when the memory controller is not in use. */
int cgroup_oom_kills(struct cgroup *cg, uint64_t *count);
/* An fd that becomes ready when the OOM killer acts in the cgroup, for the
 * supervisor's epoll set; *events is what to wait for.  v1 (hybrid, v1
 * only): an eventfd registered through cgroup.event_control on
 * memory.oom_control, EPOLLIN, signalled when the memcg OOM killer is
 * invoked (just before it picks its victim).  v2: memory.events itself,
 * EPOLLPRI, signalled (at most every 20 ms) when a counter changes.
 * cgroup_oom_kills() clears the readiness (it drains the eventfd and
 * re-reads memory.events).  The fd stays owned by cg.  -ENOENT when the
 * memory controller is not in use, else 0 or -errno (logged). */
int cgroup_oom_watch(struct cgroup *cg, uint32_t *events);
/* Where the OOM counter lives: the instance's memory cgroup (v1) or its
 * cgroup2 directory; NULL when the memory controller is not in use. */
const char *cgroup_memory_path(const struct cgroup *cg);

#endif
