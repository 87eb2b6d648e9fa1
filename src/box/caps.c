/* SPDX-License-Identifier: MIT */
/*
 * The worker's identity and privilege drop (doc/isolation.md, "Least privilege"):
 * --user parsing and lookup in the parent; in the child, bounding and
 * ambient sets, securebits, inheritable, groups, gid, uid, no_new_privs,
 * then a verification that fails closed.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <linux/securebits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

#define ID_MAX 4294967294ULL /* (uid_t)-1 means "unchanged" to the kernel */

static bool is_number(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

static int parse_id(const char *s, uint32_t *out)
{
	uint64_t v;

	if (!is_number(s) || parse_u64(s, ID_MAX, &v) < 0)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static bool gid_listed(const struct caps_user *u, gid_t g)
{
	for (size_t i = 0; i < u->n_groups; i++)
		if (u->groups[i] == g)
			return true;
	return false;
}

static void add_group(struct caps_user *u, gid_t g)
{
	if (!gid_listed(u, g) && u->n_groups < CAPS_MAX_GROUPS)
		u->groups[u->n_groups++] = g;
}

/*
 * The box's user and group files.  The worker's view shows the host's
 * root read-only (mountplan-root.c), so these are the files the worker
 * sees; berth reads them itself (fgetpwent, fgetgrent), as crun and runc
 * read a container's, never through the host's NSS, which would also
 * name users the box does not show (userdb, LDAP) and load its modules
 * for every miss.  NIS compat lines ("+", "-") are skipped.
 */
#define PASSWD_FILE "/etc/passwd"
#define GROUP_FILE  "/etc/group"

static bool compat_line(const char *name)
{
	return name[0] == '+' || name[0] == '-';
}

/* The entry of name (or, name NULL, of uid): uid, gid and name set. */
static bool files_user(const char *name, uid_t uid, struct caps_user *out)
{
	FILE *f = fopen(PASSWD_FILE, "re");
	struct passwd *pw;
	bool found = false;

	if (!f)
		return false;
	while (!found && (pw = fgetpwent(f)))
		if (!compat_line(pw->pw_name) &&
		    (name ? strcmp(pw->pw_name, name) == 0 : pw->pw_uid == uid)) {
			out->uid = pw->pw_uid;
			out->gid = pw->pw_gid;
			out->name = xstrdup(pw->pw_name);
			found = true;
		}
	fclose(f);
	return found;
}

/* The group named name (gid set), or with member, every group that
 * lists member (added, at most CAPS_MAX_GROUPS: else -E2BIG). */
static int files_groups(const char *name, const char *member, struct caps_user *out)
{
	FILE *f = fopen(GROUP_FILE, "re");
	struct group *gr;
	bool found = false;
	int r = 0;

	while (f && r == 0 && !found && (gr = fgetgrent(f))) {
		if (compat_line(gr->gr_name))
			continue;
		if (name && strcmp(gr->gr_name, name) == 0) {
			out->gid = gr->gr_gid;
			found = true;
		}
		for (char **m = gr->gr_mem; member && *m; m++)
			if (strcmp(*m, member) == 0) {
				if (!gid_listed(out, gr->gr_gid) &&
				    out->n_groups == CAPS_MAX_GROUPS)
					r = -E2BIG;
				add_group(out, gr->gr_gid);
			}
	}
	if (f)
		fclose(f);
	return r < 0 ? r : name && !found ? -ENOENT : 0;
}

/* Whether name has an entry in the passwd file. */
static bool user_known(const char *name)
{
	struct caps_user u = {0};
	bool found = files_user(name, 0, &u);

	caps_user_free(&u);
	return found;
}

const char *caps_user_default_name(void)
{
	return user_known(CAPS_DEFAULT_USER)	? CAPS_DEFAULT_USER
	       : user_known(CAPS_FALLBACK_USER) ? CAPS_FALLBACK_USER
						: CAPS_FALLBACK_ID;
}

/* The user's supplementary groups from the group file. */
static int user_groups(struct caps_user *u, const char **msg)
{
	int r = files_groups(NULL, u->name, u);

	if (r == -E2BIG)
		*msg = "the user is in too many groups";
	return r;
}

/* The user part: a uid (named when the passwd database knows it) or a
 * user name; sets uid, gid and name. */
static int lookup_user(const char *user, struct caps_user *out, const char **msg)
{
	uint32_t id;

	if (strspn(user, "0123456789") > 0 || user[0] == '-' || user[0] == '+' || user[0] == ' ') {
		/* looks numeric: must be a whole, plain number */
		if (parse_id(user, &id) < 0) {
			*msg = "a uid is a decimal number below 4294967295";
			return -EINVAL;
		}
		if (!files_user(NULL, id, out)) {
			out->uid = id;
			out->gid = id;
		}
		return 0;
	}
	if (!files_user(user, 0, out)) {
		*msg = "no such user";
		return -ENOENT;
	}
	return 0;
}

/* The group part: a gid or a group name; sets gid. */
static int lookup_group(const char *group, struct caps_user *out, const char **msg)
{
	uint32_t id;

	if (is_number(group) || strchr("-+ ", group[0])) {
		if (parse_id(group, &id) < 0) {
			*msg = "a gid is a decimal number below 4294967295";
			return -EINVAL;
		}
		out->gid = id;
		return 0;
	}
	if (files_groups(group, NULL, out) < 0) {
		*msg = "no such group";
		return -ENOENT;
	}
	return 0;
}

/* The supplementary groups: the gid, and a named user's own groups
 * unless a GID was given; group 0 only for root. */
static int set_groups(struct caps_user *out, bool explicit_group, const char **msg)
{
	int r;

	add_group(out, out->gid);
	/* an explicit GID means exactly that group; a name brings its groups */
	if (!explicit_group && out->name) {
		r = user_groups(out, msg);
		if (r < 0)
			return r;
	}
	out->root = out->uid == 0;
	if (!out->root)
		for (size_t i = 0; i < out->n_groups; i++)
			if (out->groups[i] == 0) {
				*msg = "group 0 is refused for a worker that is not root";
				return -EINVAL;
			}
	return 0;
}

int caps_user_parse(const char *spec, struct caps_user *out, const char **msg)
{
	_cleanup_free_ char *user = NULL;
	const char *colon = strchr(spec, ':'), *group = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	*msg = NULL;
	user = colon ? xstrndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
	if (colon) {
		group = colon + 1;
		if (strchr(group, ':')) {
			*msg = "expected NAME|UID[:GID]";
			return -EINVAL;
		}
	}
	if (!*user || (group && !*group)) {
		*msg = "empty user or group";
		return -EINVAL;
	}
	r = lookup_user(user, out, msg);
	if (r < 0)
		return r;
	r = group ? lookup_group(group, out, msg) : 0;
	if (r == 0)
		r = set_groups(out, group != NULL, msg);
	if (r < 0) {
		caps_user_free(out);
		return r;
	}
	if (out->root)
		log_warn("the worker runs as uid 0, as asked (--user %s); it still has no "
			 "capabilities",
			 spec);
	return 0;
}

int caps_user_default(struct caps_user *out)
{
	const char *name = caps_user_default_name(), *msg;
	int r;

	if (strcmp(name, CAPS_DEFAULT_USER) == 0) {
		r = caps_user_parse(CAPS_DEFAULT_USER, out, &msg);
	} else if (strcmp(name, CAPS_FALLBACK_USER) == 0) {
		log_info("no user '" CAPS_DEFAULT_USER "' here: the worker runs as "
			 "'" CAPS_FALLBACK_USER "' (--user to choose)");
		r = caps_user_parse(CAPS_FALLBACK_USER, out, &msg);
	} else {
		/* a minimal system (an initramfs, a scratch image): the
		 * kernel's overflow id, which owns nothing */
		log_info("neither '" CAPS_DEFAULT_USER "' nor '" CAPS_FALLBACK_USER "' here: the "
			 "worker runs as uid and gid " CAPS_FALLBACK_ID " (--user to choose)");
		r = caps_user_parse(CAPS_FALLBACK_ID, out, &msg);
	}
	if (r < 0)
		return log_errno(r, "default worker user: %s", msg);
	log_debug("the worker runs as %s (uid %u, gid %u)", out->name ? out->name : "(no name)",
		  (unsigned)out->uid, (unsigned)out->gid);
	return 0;
}

void caps_user_free(struct caps_user *u)
{
	free(u->name);
	memset(u, 0, sizeof(*u));
}

int caps_plan_init(const struct caps_user *u, struct caps_plan *p)
{
	static const cap_value_t need[] = {CAP_SETUID, CAP_SETGID};

	memset(p, 0, sizeof(*p));
	p->user = *u;
	p->user.name = NULL;
	p->last_cap = (int)cap_max_bits() - 1;
	p->none = cap_init();
	p->for_switch = cap_init();
	if (!p->none || !p->for_switch ||
	    cap_set_flag(p->for_switch, CAP_PERMITTED, 2, need, CAP_SET) < 0 ||
	    cap_set_flag(p->for_switch, CAP_EFFECTIVE, 2, need, CAP_SET) < 0) {
		int r = -errno;
		caps_plan_free(p);
		return log_errno(r ? r : -ENOMEM, "libcap");
	}
	return 0;
}

void caps_plan_free(struct caps_plan *p)
{
	if (p->none)
		cap_free(p->none);
	if (p->for_switch)
		cap_free(p->for_switch);
	memset(p, 0, sizeof(*p));
}

int caps_drop(const struct caps_plan *p)
{
	const struct caps_user *u = &p->user;
	pid_t ppid = getppid();
	int pdeath = 0;

	(void)prctl(PR_GET_PDEATHSIG, &pdeath);

	/* bounding (needs CAP_SETPCAP, still effective) and ambient sets */
	for (int c = 0; c <= p->last_cap; c++)
		if (cap_drop_bound(c) < 0 && errno != EINVAL)
			return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	/* No capabilities from a root uid at exec, keep-caps and ambient
	 * raising locked off.  NO_SETUID_FIXUP stays clear, so that the
	 * kernel empties P and E at the 0 -> non-0 switch. */
	if (prctl(PR_SET_SECUREBITS,
		  SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
			  SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
			  SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
		  0, 0, 0) < 0)
		return -errno;
	/* inheritable empty; only what the id switch needs stays */
	if (cap_set_proc(p->for_switch) < 0)
		return -errno;
	if (setgroups(u->n_groups, u->groups) < 0)
		return -errno;
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return -errno;
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return -errno;
	/* the kernel emptied P and E for a non-root uid; a root worker
	 * loses them here */
	if (cap_set_proc(p->none) < 0)
		return -errno;
	/* a credential change clears the parent-death signal; restore it,
	 * then make sure the parent did not die in between */
	if (pdeath && prctl(PR_SET_PDEATHSIG, pdeath) < 0)
		return -errno;
	if (getppid() != ppid)
		return -ESRCH;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return caps_verify(p);
}

static bool has_group(const gid_t *list, int n, gid_t g)
{
	for (int i = 0; i < n; i++)
		if (list[i] == g)
			return true;
	return false;
}

int caps_verify(const struct caps_plan *p)
{
	const struct caps_user *u = &p->user;
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	gid_t groups[CAPS_MAX_GROUPS + 1];
	uid_t r, e, s;
	gid_t rg, eg, sg;
	int n;

	if (getresuid(&r, &e, &s) < 0 || r != u->uid || e != u->uid || s != u->uid)
		return -EPERM;
	if (getresgid(&rg, &eg, &sg) < 0 || rg != u->gid || eg != u->gid || sg != u->gid)
		return -EPERM;
	if (setfsuid((uid_t)-1) != (int)u->uid || setfsgid((gid_t)-1) != (int)u->gid)
		return -EPERM;
	n = getgroups(CAPS_MAX_GROUPS + 1, groups);
	if (n < 0 || (size_t)n != u->n_groups)
		return -EPERM;
	for (size_t i = 0; i < u->n_groups; i++)
		if (!has_group(groups, n, u->groups[i]))
			return -EPERM;
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -EPERM;
	for (int i = 0; i < 2; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return -EPERM;
	for (int c = 0; c <= p->last_cap; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 0 ||
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) != 0)
			return -EPERM;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return -EPERM;
	/* the proof: no way back to another uid */
	if (setuid(u->uid == 0 ? 1 : 0) == 0 || errno != EPERM)
		return -EPERM;
	return 0;
}

int caps_step(void *data)
{
	return caps_drop(data);
}

int caps_set_undumpable(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return log_errno(-errno, "prctl(PR_SET_DUMPABLE, 0)");
	return 0;
}
